"""Fixtures for the web shell: an app whose actor is whoever the test says, and test-only routes.

Logging in for real is engineer P's part (``trading.parties``); the shell only needs *an* actor, so
these tests swap the app's actor resolver for one returning a hand-built :class:`Actor`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from litestar import Litestar, MediaType, get, post
from litestar.exceptions import NotAuthorizedException

from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.permissions import Permission, requires
from trading.kernel.auth.roles import Role
from trading.kernel.errors import Conflict, TooManyRequests, ValidationFailed
from trading.parties.policies import PartiesPermission

PROFILE_READ = PartiesPermission.PROFILE_READ


class ShellTestPermission(Permission):
    PROBE = "shelltest:probe:read"


@get("/_shelltest/conflict", opt=requires(ShellTestPermission.PROBE), media_type=MediaType.HTML)
async def raise_conflict() -> str:
    raise Conflict("该项目已开标，不能再修改。", field="deadline", rule="not_after_opening")


@get("/_shelltest/boom", opt=requires(ShellTestPermission.PROBE), media_type=MediaType.HTML)
async def raise_internal() -> str:
    msg = "secret internals: postgresql://user:pw@db/ggzy"
    raise RuntimeError(msg)


@get("/_shelltest/slow-down", opt=requires(ShellTestPermission.PROBE), media_type=MediaType.HTML)
async def raise_too_many() -> str:
    raise TooManyRequests("Too many requests", extra={"headers": {"Retry-After": "30"}})


@get("/_shelltest/invalid", opt=requires(ShellTestPermission.PROBE), media_type=MediaType.HTML)
async def raise_invalid() -> str:
    raise ValidationFailed("统一社会信用代码校验位错误", field="uscc", rule="gb32100_check")


@get("/_shelltest/login-required", opt=requires(ShellTestPermission.PROBE), media_type=MediaType.HTML)
async def raise_not_authorized() -> str:
    raise NotAuthorizedException


@post("/_shelltest/form", opt=requires(ShellTestPermission.PROBE), media_type=MediaType.HTML)
async def accept_form() -> str:
    return "ok"


TEST_ROUTES = (raise_conflict, raise_internal, raise_too_many, raise_invalid, raise_not_authorized, accept_form)


def make_actor(
    *roles: Role,
    permissions: frozenset[str] | None = None,
    username: str = "bidder1",
    display_name: str | None = "张三",
    organisation_name: str | None = "淮安示例建设工程有限公司",
) -> Actor:
    return Actor(
        kind=ActorKind.USER,
        user_id=uuid.uuid4(),
        username=username,
        display_name=display_name,
        organisation_id=uuid.uuid4(),
        organisation_name=organisation_name,
        roles=frozenset(roles),
        permissions=permissions if permissions is not None else frozenset({PROFILE_READ, ShellTestPermission.PROBE}),
    )


@pytest.fixture
def shell_app(app: Litestar) -> Litestar:
    """The real app plus a few routes that raise each kind of error."""
    for handler in TEST_ROUTES:
        app.register(handler)
    return app


@pytest.fixture
def act_as(app: Litestar) -> Callable[[Actor | Exception], None]:
    """``act_as(actor)``: every request is made by ``actor``; ``act_as(exc)``: resolving fails."""

    def install(who: Actor | Exception) -> None:
        async def resolve(connection: object) -> Actor:
            del connection
            if isinstance(who, Exception):
                raise who
            return who

        app.state.actor_resolver = resolve

    return install
