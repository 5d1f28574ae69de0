"""The configuration errors every layer may raise: the command line prints them and exits 2."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file and every bad key."""


class ListenError(ConfigError):
    """A configured address that cannot be listened on (taken, or not this machine's)."""
