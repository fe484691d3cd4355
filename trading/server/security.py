"""Wiring of identity: the merged role→permission table and the actor resolver.

Packages declare permissions and grants; this module merges them and installs the resolver that
turns a cookie session or bearer token into an :class:`Actor`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Request

from trading.kernel.auth.guards import ActorResolver, current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import Grants

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

    from trading.kernel.settings import Settings


def client_ip(connection: ASGIConnection[Any, Any, Any, Any], trusted_proxies: list[str]) -> str | None:
    """The client's address; ``X-Forwarded-For`` is believed only from a trusted proxy."""
    peer = connection.client.host if connection.client else None
    forwarded = connection.headers.get("x-forwarded-for")
    if forwarded and peer in trusted_proxies:
        return forwarded.split(",")[0].strip()
    return peer


def build_actor_resolver(settings: Settings, grants: Grants) -> ActorResolver:
    del grants

    async def resolve(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
        return Actor.anonymous(client_ip(connection, settings.web.trusted_proxies))

    return resolve


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return await current_actor(request)
