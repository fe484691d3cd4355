"""The OpenAPI document, made to tell the truth about the API it describes.

Handlers document their success responses; everything the platform adds around them is derived
here from the same facts the server acts on, so the document cannot drift from the behaviour:

* **Security.** Every operation that declares a permission (``opt=requires(...)``) needs a bearer
  token; the operations on ``PUBLIC_ROUTES`` do not. The guard decides with the same two facts.
* **Errors.** Every error under ``/api`` is RFC 9457 ``application/problem+json``
  (``trading.kernel.api.errors``); each operation lists the statuses it can answer, derived from
  its route: 400 for a request that does not parse, 401/403 where a permission is needed (401 also
  for the public logins), 404 where a parameter names a resource or a write's body refers to one,
  409 for writes and for resources named in the path whose stage forbids the request, 413 for
  write bodies over the limit, 422 for input a domain rule refuses, 429 for the public writers
  that are throttled per address. A handler adds what its shape cannot show with
  ``opt=documents_problems(...)``.
* **Scope.** Only ``/api/v1`` is an API: the HTML pages, static files, ``/healthz`` and
  ``/metrics`` are left out of the document.
"""

from __future__ import annotations

from http import HTTPStatus
from inspect import signature
from typing import TYPE_CHECKING

from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import HTTPRoute

from trading.guarantees import api_guarantor as guarantees_api
from trading.kernel.api.errors import PROBLEM_JSON, PROBLEM_STATUSES_OPT, ProblemDetails
from trading.kernel.auth.permissions import PERMISSION_OPT
from trading.kernel.web.templating import static_url

if TYPE_CHECKING:
    from litestar.handlers import HTTPRouteHandler
    from litestar.routes import BaseRoute

BEARER_SCHEME = "bearer"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Why each status can happen; the description is what a client developer reads in the document.
ERROR_STATUSES: dict[int, str] = {
    400: "The request does not parse: malformed JSON, a parameter of the wrong type, or bytes that are not UTF-8.",
    401: "No bearer token, or one that is unknown, expired or revoked; on the guarantor API, a request signature "
    "that is missing, invalid, expired or replayed, or a certificate that may not be used.",
    403: "The caller's role lacks the permission, or the caller is not a party to this resource.",
    404: "A resource named in the path or the body does not exist (or is not visible to the caller).",
    409: "The resource is at a stage that forbids this request (e.g. after a deadline, before an opening).",
    413: "The request body is larger than this operation accepts.",
    415: "The request body is not of the media type this operation accepts.",
    422: "The input parses but breaks a domain rule; `errors` names each field and rule.",
    429: "Too many requests from this address; retry after the number of seconds in `Retry-After`.",
}


def openapi_config(api_prefix: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="ggzy API",
        version="1",
        path=f"{api_prefix}/docs",
        components=Components(
            security_schemes={
                BEARER_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An API token from `POST /api/v1/auth/tokens`, sent as `Authorization: Bearer …`. "
                    "The API ignores session cookies.",
                ),
                # The guarantor API (trading/guarantees/api_guarantor.py): its operations name this
                # scheme themselves; the signature headers cannot be expressed as an OpenAPI scheme type.
                guarantees_api.SIGNATURE_SCHEME: SecurityScheme(
                    type="apiKey",
                    name="Signature",
                    security_scheme_in="header",
                    description=guarantees_api.SIGNATURE_DESCRIPTION,
                ),
            }
        ),
        # Swagger UI from our own static files: no CDN (DESIGN.md), also for the favicon.
        render_plugins=[
            SwaggerRenderPlugin(
                js_url=static_url("vendor/swagger-ui/swagger-ui-bundle.js"),
                css_url=static_url("vendor/swagger-ui/swagger-ui.css"),
                standalone_preset_js_url=static_url("vendor/swagger-ui/swagger-ui-standalone-preset.js"),
                favicon=f'<link rel="icon" type="image/svg+xml" href="{static_url("img/favicon.svg")}">',
            )
        ],
    )


def error_statuses(
    *, method: str, path_format: str, public: bool, parameters: frozenset[str], api_prefix: str
) -> set[int]:
    """The error statuses an API operation can answer, from the facts its route declares."""
    statuses = {400, 422}  # any request can fail to parse or break a domain rule
    if not public:
        statuses |= {401, 403}
    elif path_format.startswith(f"{api_prefix}/auth/") and method in UNSAFE_METHODS:
        statuses.add(401)  # the public logins: refused credentials
    if "{" in path_format:
        # The path names a resource: it may not exist, or be at a stage that does not allow this
        # yet (an opening's record before the deadline).
        statuses |= {404, 409}
    if any(name == "code" or name.endswith("_id") for name in parameters):
        statuses.add(404)  # a parameter names a resource that may not exist
    if method in UNSAFE_METHODS:
        # Writes refer to other resources in their bodies and meet states that forbid them.
        statuses |= {404, 409, 413}
        if public:
            statuses.add(429)  # public writers are throttled per address (trading.kernel.ratelimit)
    return statuses


def problem_response(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=ProblemDetails,
        media_type=PROBLEM_JSON,
        description=f"{HTTPStatus(status).phrase}. {ERROR_STATUSES[status]}",
        generate_examples=False,
    )


class ApiContract(ReceiveRoutePlugin):
    """Adds security and error responses to API operations as their routes register (before the
    OpenAPI plugin reads them: Litestar appends it after the application's own plugins, and it
    resolves both lazily when it builds the document).
    """

    def __init__(self, api_prefix: str, public_routes: frozenset[str]) -> None:
        self.api_prefix = api_prefix
        self.public_routes = public_routes

    def is_api(self, path_format: str) -> bool:
        return path_format.startswith(f"{self.api_prefix}/") and not path_format.startswith(f"{self.api_prefix}/docs")

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        if not self.is_api(route.path_format):
            return  # pages are kept out of the document by their router (trading.server.routing)
        for handler in route.route_handlers:
            self.document(handler, route.path_format)

    def document(self, handler: HTTPRouteHandler, path_format: str) -> None:
        public = handler.opt.get(PERMISSION_OPT) is None and path_format in self.public_routes
        if not public:
            handler.security = [*(handler.security or []), {BEARER_SCHEME: []}]
        parameters = frozenset(signature(handler.fn).parameters)
        declared: frozenset[int] = handler.opt.get(PROBLEM_STATUSES_OPT, frozenset())
        derived: dict[int, ResponseSpec] = {}
        for method in handler.http_methods:
            statuses = error_statuses(
                method=method,
                path_format=path_format,
                public=public,
                parameters=parameters,
                api_prefix=self.api_prefix,
            )
            for status in sorted(statuses | declared):
                derived[status] = problem_response(status)
        # What a handler documents itself (a richer body for one status) wins over the derived default.
        handler.responses = {**derived, **(handler.responses or {})}
