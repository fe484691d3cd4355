"""Request ids, structured access logs and Prometheus metrics.

Metric labels are chosen so that a scrape says nothing about who takes part in a procedure: the
number of requests to a tender's document download or to the bid upload routes would tell how
many downloaded the documents or submitted bids before the deadline (Order 20 Art. 21). Only
routes of the platform's own surfaces (system, sign-in and account, ledger, API docs, static
files) are counted by their route template; every other route — the trading domains and anything
added later — is counted in one bucket per surface with its method folded (`route_label`). The
access log keeps the exact route: logs are for operators, not scrapers.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from prometheus_client import Counter, Histogram

from trading.kernel.errors import DomainError
from trading.kernel.logging import bind_correlation_id

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("ggzy.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

API_PREFIX = "/api/v1"
HTTP_SERVER_ERROR = 500
# Route templates (and the templates below them) counted by name. Fail closed: a route missing
# here is bucketed, so a new tender-scoped route cannot leak its count by being forgotten.
COUNTED_BY_ROUTE: tuple[str, ...] = (
    "/",
    "/healthz",
    "/metrics",
    "/static",
    "/locale",
    "/login",
    "/logout",
    "/register",
    "/account",
    "/dashboard",
    "/trust-list",
    "/ledger",
    f"{API_PREFIX}/auth",
    f"{API_PREFIX}/parties",
    f"{API_PREFIX}/certs",
    f"{API_PREFIX}/tsa",
    f"{API_PREFIX}/ledger",
    f"{API_PREFIX}/docs",
)
FOLDED_METHOD = "*"

REQUESTS = Counter("ggzy_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("ggzy_http_request_seconds", "HTTP request latency", ["method", "route"])


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    """Bind a request id (the client's ``X-Request-ID`` when well-formed) to every log line and
    echo it in the response.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        bind_correlation_id(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)["x-request-id"] = request_id
            await send(message)

        await app(scope, receive, send_with_id)

    return middleware


def route_label(template: str | None) -> tuple[str, bool]:
    """The ``route`` label for a matched route template, and whether it is a surface bucket.

    Counted by name: the templates under `COUNTED_BY_ROUTE`. Bucketed: everything else, as
    ``api:<first segment>`` or ``web:<first segment>`` (``web:bidding``, ``api:intermediary``).
    """
    if not template:
        return "unmatched", False
    for prefix in COUNTED_BY_ROUTE:
        if template == prefix or (prefix != "/" and template.startswith(prefix + "/")):
            return template, False
    surface, rest = ("api", template[len(API_PREFIX) :]) if template.startswith(API_PREFIX + "/") else ("web", template)
    segment = rest.strip("/").split("/", 1)[0] or "-"
    return f"{surface}:{segment}", True


def status_of(exc: BaseException) -> int:
    """The status the exception handlers will answer for ``exc`` (a refused CSRF token is 403)."""
    if isinstance(exc, (HTTPException, DomainError)):
        return exc.status_code
    return HTTP_SERVER_ERROR


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Count and time requests by route label (never by raw path: ids would explode labels, and
    per-route counts on the trading surfaces would reveal participation; see `route_label`).

    An exception passing through here is answered further out by the exception handlers; it is
    counted and logged with the status they will give it (a 4xx stays a 4xx).
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}
        started = {"yes": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                started["yes"] = True
            await send(message)

        try:
            await app(scope, receive, capture)
        except BaseException as exc:
            if not started["yes"]:  # a response already under way keeps the status it sent
                status["code"] = status_of(exc)
            raise
        finally:
            template = scope.get("path_template")
            method = str(scope.get("method", "-"))
            elapsed = time.perf_counter() - start
            route, bucketed = route_label(template)
            label_method = FOLDED_METHOD if bucketed else method
            label_status = f"{status['code'] // 100}xx" if bucketed else str(status["code"])
            REQUESTS.labels(label_method, route, label_status).inc()
            LATENCY.labels(label_method, route).observe(elapsed)
            log.info(
                "request",
                method=method,
                route=template or "unmatched",
                status=status["code"],
                ms=round(elapsed * 1000, 1),
            )

    return middleware
