"""Who a request comes from, as the limits count it: the TCP peer, never a header the client chose.

An IPv6 client usually holds a whole /64 and can pick any address in it, so limits per source would be
limits per attacker-chosen number. Every limit keyed by source (failure throttle, connection cap, the per-minute
failure tally) therefore counts an IPv6 peer by its /64 and an IPv4 peer (or an IPv4-mapped IPv6 one) by its
address. uvicorn's proxy-header support is off (app/scim/server.py), so ``X-Forwarded-For`` changes nothing.
"""

from __future__ import annotations

import ipaddress

IPV6_PREFIX = 64
UNKNOWN = "unknown"


def source_key(host: str | None) -> str:
    """The address a limit counts ``host`` under: the IPv4 address, or the IPv6 /64 in CIDR form."""
    if not host:
        return UNKNOWN
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return UNKNOWN  # not an address (a Unix socket, a test transport): one shared bucket
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)
