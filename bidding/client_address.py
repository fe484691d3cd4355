"""The client address the platform records with a bid (issue 19: same-IP evidence).

Core, so that intake and the opening share it. The address is the actor's (`Actor.client_ip`,
resolved behind the trusted proxies by `trading.kernel.ratelimit.client_address`); an
``X-Forwarded-For`` hop is whatever the proxy passed on, so only a real address is kept.
"""

from __future__ import annotations

import ipaddress


def recorded_address(value: str | None) -> str | None:
    """``value`` in canonical form when it is an IP address (IPv4-mapped IPv6 as IPv4), else None."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
