"""Whether a host is this machine: what every listener (sandbox, metrics, admin) and the venue
URL check ask before they accept an address. No aiohttp: configuration loading reads it."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
