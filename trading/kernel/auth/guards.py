"""The one global guard: every route needs a declared permission or a place on the public list.

It resolves the actor once per request (cookie session or bearer token, through the resolver the
composition root installs), keeps it in ``connection.state.actor`` for handlers and templates, and
fails closed: a handler that declares nothing and is not listed as public is refused for everyone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import PERMISSION_OPT

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers import BaseRouteHandler

ActorResolver = Callable[["ASGIConnection[Any, Any, Any, Any]"], Awaitable[Actor]]
ACTOR_STATE_KEY = "actor"


async def current_actor(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The request's actor, resolved on first use and cached on the connection."""
    actor: Actor | None = connection.state.get(ACTOR_STATE_KEY)
    if actor is None:
        resolver: ActorResolver = connection.app.state.actor_resolver
        actor = await resolver(connection)
        connection.state[ACTOR_STATE_KEY] = actor
    return actor


def make_permission_guard(
    public_routes: frozenset[str],
    /,
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    async def enforce_permission(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
        permission = handler.opt.get(PERMISSION_OPT)
        if permission is None:
            path = connection.scope.get("path_template", "")
            if path in public_routes:
                return
            # Fail closed: an undeclared route is a bug, not an open door.
            raise PermissionDeniedException(detail=f"route {path!r} declares no permission")
        actor = await current_actor(connection)
        if not actor.is_authenticated:
            raise NotAuthorizedException(detail="log in to continue")
        if not actor.has(permission):
            raise PermissionDeniedException(detail=f"this needs the permission {permission}")

    return enforce_permission
