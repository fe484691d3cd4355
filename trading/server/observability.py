"""Request ids, structured access logs and Prometheus metrics."""

from __future__ import annotations

import re
import time
import uuid
from typing import TYPE_CHECKING

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from prometheus_client import Counter, Histogram

from trading.kernel.logging import bind_correlation_id

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("ggzy.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

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


def metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Count and time requests by route template (never by raw path: ids would explode labels)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await app(scope, receive, capture)
        finally:
            route = scope.get("path_template") or "unmatched"
            method = str(scope.get("method", "-"))
            elapsed = time.perf_counter() - start
            REQUESTS.labels(method, route, str(status["code"])).inc()
            LATENCY.labels(method, route).observe(elapsed)
            log.info("request", method=method, route=route, status=status["code"], ms=round(elapsed * 1000, 1))

    return middleware
