"""Prometheus metrics for quoter: a collector that reads the engine's state at scrape time, the
loopback `/metrics` server, and the bucket counts the hot path keeps."""
