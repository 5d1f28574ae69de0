from quoter.cli import main

raise SystemExit(main())
