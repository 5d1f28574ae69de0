"""The `quoter` sub-commands: each module here offers `register(subparsers)`."""
