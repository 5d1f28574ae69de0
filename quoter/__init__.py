"""quoter: an automated quoting bot for entender, the RFQ venue of enmacc."""

__version__ = "0.1.0"
