"""Backtests: an RFQ tape replayed through the production engine on a manual clock against an
in-process simulated venue (issue 7)."""
