"""The quoting engine: watch the venue, price, check, quote, withdraw; the one place that does I/O."""
