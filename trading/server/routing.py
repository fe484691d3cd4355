"""Every route the platform serves, and the explicit list of routes that need no permission."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from litestar import Router
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from trading.kernel.auth.guards import make_permission_guard
from trading.kernel.web import STATIC_DIR
from trading.kernel.web.templating import build_environment
from trading.server import system

if TYPE_CHECKING:
    from litestar.types import ControllerRouterHandler

    from trading.kernel.settings import Settings

# Routes anyone may call without logging in. Everything else declares a permission
# (`opt=requires(...)`); the global guard refuses a route that does neither, and
# tests/trading/server/test_route_guards.py walks every route to prove it.
# Entries are route path templates as Litestar registers them.
PUBLIC_ROUTES: frozenset[str] = frozenset(
    {
        "/healthz",
        "/metrics",
        "/static/{file_path:path}",
        # OpenAPI document and its viewer: the API's shape is public, its data is not.
        "/api/v1/docs",
        "/api/v1/docs/{path:str}",
        "/api/v1/docs/openapi.json",
        "/api/v1/docs/swagger",
        "/api/v1/docs/oauth2-redirect.html",
    }
)

# Packages whose `templates/` folder joins the Jinja environment.
TEMPLATE_PACKAGES: tuple[str, ...] = ()


def route_handlers(api_prefix: str) -> list[ControllerRouterHandler]:
    api = Router(path=api_prefix, route_handlers=[])
    return [
        api,
        system.healthz,
        system.metrics,
        create_static_files_router(path="/static", directories=[STATIC_DIR], name="static"),
    ]


def permission_guard() -> Any:
    return make_permission_guard(PUBLIC_ROUTES)


def template_config(settings: Settings) -> TemplateConfig[JinjaTemplateEngine]:
    del settings
    environment = build_environment(TEMPLATE_PACKAGES)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment))
