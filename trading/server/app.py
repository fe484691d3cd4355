"""``create_app()``: assembles every package into one Litestar application.

Nothing here holds business logic. It wires settings, the database, the global permission guard,
the actor resolver, error rendering per surface, templates, static assets, CSRF, logging and
metrics, then mounts the API routers under ``/api/v1`` and the web pages under ``/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import structlog
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide

from trading.kernel import clock
from trading.kernel.api.bounds import input_bounds_middleware
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.logging import configure_logging
from trading.kernel.settings import Settings, get_settings
from trading.kernel.storage import clean_scratch_at_start
from trading.kernel.tasks import Publisher, set_publisher
from trading.kernel.web.errors import prepare_error_page
from trading.kernel.web.i18n import locale_middleware
from trading.server import guarantee_facts, routing, wiring
from trading.server.database import provide_db_session
from trading.server.errors import exception_handlers
from trading.server.live import live_lifespan
from trading.server.observability import metrics_middleware, request_id_middleware
from trading.server.openapi import ApiContract, openapi_config
from trading.server.security import actor_cache_lifespan, build_actor_resolver, provide_actor
from trading.server.security_headers import security_headers

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


log = structlog.get_logger(__name__)

API_PREFIX = "/api/v1"


def create_app(
    settings: Settings | None = None,
    *,
    session_maker: async_sessionmaker[AsyncSession] | None = None,
    publisher: Publisher | None = None,
) -> Litestar:
    """Build the application. Tests pass their own settings and a session maker bound to a
    rolled-back connection; production passes nothing and reads the environment.
    """
    settings = settings or get_settings()
    wiring.check_settings(settings)
    configure_logging(settings.log_level, json=settings.log_json)
    clock.install_test_clock(settings)
    if publisher is None:
        # Imported here so building an app for tests never touches a broker.
        from trading.server.celery_app import CeleryPublisher, celery  # noqa: PLC0415

        publisher = CeleryPublisher(celery)
    set_publisher(publisher)

    @asynccontextmanager
    async def database_lifespan(app: Litestar) -> AsyncIterator[None]:
        if session_maker is not None:  # injected (tests): already in state, nothing to open
            yield
            return
        engine = create_engine(
            settings.db.url,
            pool_size=settings.db.pool_size,
            echo=settings.db.echo,
            busy_timeout_ms=settings.db.sqlite_busy_timeout_ms,
        )
        app.state.session_maker = create_session_maker(engine)
        try:
            yield
        finally:
            await engine.dispose()

    @asynccontextmanager
    async def scratch_lifespan(_: Litestar) -> AsyncIterator[None]:
        # A process killed mid-request leaves its spool file behind (S3 backend); the next one to
        # start on the node removes it, never a running sibling's.
        removed = await asyncio.to_thread(clean_scratch_at_start, settings)
        if removed:
            log.info("storage.scratch_cleaned", files=removed)
        yield

    wiring.register_evaluation_hooks(settings)
    wiring.use_guarantor_api(settings)
    guarantee_facts.register()  # the guarantees pages read tender facts through it
    grants = wiring.grants()
    return Litestar(
        route_handlers=routing.route_handlers(API_PREFIX),
        guards=[routing.permission_guard()],
        dependencies={"db_session": Provide(provide_db_session), "actor": Provide(provide_actor)},
        lifespan=[database_lifespan, scratch_lifespan, actor_cache_lifespan(settings), live_lifespan(settings)],
        state=State(
            {
                "settings": settings,
                "grants": grants,
                "actor_resolver": build_actor_resolver(settings, grants),
                "session_maker": session_maker,
                "ledger_party_names": wiring.ledger_party_names(),
            }
        ),
        exception_handlers=exception_handlers(),
        middleware=[request_id_middleware, locale_middleware, metrics_middleware, input_bounds_middleware],
        # On every response, the router's own 404/405 included (no route middleware wraps those).
        before_send=[security_headers(settings)],
        # Exception handlers cannot await; this resolves the actor first so error pages show who is
        # logged in even when the request failed before the guard ran (a 404).
        after_exception=[prepare_error_page, wiring.record_evaluation_refusal],
        csrf_config=CSRFConfig(
            secret=settings.secret("secret_key").decode(),
            cookie_name="ggzy_csrf",
            cookie_secure=settings.web.secure_cookies,
            cookie_samesite="strict",
            header_name="x-csrftoken",
            # The API authenticates with bearer tokens only, never cookies, so a forged
            # cross-site request carries no credentials there.
            exclude=[API_PREFIX],
        ),
        template_config=routing.template_config(settings),
        openapi_config=openapi_config(API_PREFIX),
        plugins=[ApiContract(API_PREFIX, routing.PUBLIC_ROUTES)],
        debug=False,
    )
