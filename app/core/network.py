"""Facts about addresses that every layer may ask (plain HTTP is allowed only on loopback, for the server and for
targets alike); here rather than in the server module so that asking does not import uvicorn."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
