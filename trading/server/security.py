"""Wiring of identity: the merged role→permission table and the actor resolver.

Packages declare permissions and grants; this module merges them and installs the resolver that
turns a cookie session or bearer token into an :class:`Actor`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from litestar import Litestar, Request

from trading.kernel.api.errors import is_api_path
from trading.kernel.auth.guards import ActorResolver, current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import Grants
from trading.kernel.ratelimit import client_address
from trading.parties.credentials import SESSION_COOKIE
from trading.parties.models import SessionKind
from trading.parties.sessions import SessionActors, broadcast_forgotten_actors, listen_for_forgotten_actors

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

    from trading.kernel.settings import Settings


def build_actor_resolver(settings: Settings, grants: Grants) -> ActorResolver:
    """Cookie session on pages, bearer token on the API, anonymous otherwise.

    Under ``/api/`` only ``Authorization: Bearer`` counts and the session cookie is ignored: the
    API is exempt from CSRF, so honouring the browser's ambient cookie there would let any site
    make requests as the user. Pages read only the cookie. The session, user and memberships
    come from one query in a short session of their own, cached for a couple of seconds
    (``trading.parties.sessions``).
    """
    proxies = settings.web.trusted_proxies
    actors = SessionActors(grants)

    async def resolve(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
        ip = client_address(connection, proxies)
        if is_api_path(connection.scope["path"]):
            token, kind = _bearer(connection.headers.get("authorization")), SessionKind.API
        else:
            token, kind = connection.cookies.get(SESSION_COOKIE), SessionKind.WEB
        if not token:
            return Actor.anonymous(ip)
        actor = await actors.actor_for(connection.app.state.session_maker, token, kind, client_ip=ip)
        return actor or Actor.anonymous(ip)

    return resolve


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return await current_actor(request)


def actor_cache_lifespan(settings: Settings) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """With Redis configured, keep this process's actor cache in step with the other processes:
    publish committed changes, and listen for theirs, for the life of the app.
    """

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        if not settings.redis_url:
            yield
            return
        broadcast_forgotten_actors(settings.redis_url)
        listener = asyncio.create_task(listen_for_forgotten_actors(settings.redis_url))
        try:
            yield
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            broadcast_forgotten_actors(None)

    return lifespan
