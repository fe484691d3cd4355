"""Operational endpoints: liveness/readiness and Prometheus metrics.

``/healthz`` is public: it says only whether the database answers. ``/metrics`` is open to the
client networks in ``GGZY_METRICS_ALLOW`` (loopback by default) and to whoever presents
``GGZY_METRICS_TOKEN`` as a bearer token; everyone else gets 403. Its labels are coarse on the
trading surfaces (`trading.server.observability.route_label`), so even a scraper learns nothing
per tender, but request counts are still operational data and stay off the public internet.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Sequence
from typing import Any

import structlog
from litestar import MediaType, Request, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from sqlalchemy import text

from trading.kernel.ratelimit import UNIX_SOCKET_PEER, client_address
from trading.kernel.settings import Settings

log = structlog.get_logger(__name__)

HTTP_FORBIDDEN = 403
# Headers a reverse proxy adds. From a peer that is not a trusted proxy they mean the peer address
# is the proxy's, not the client's: a proxy on loopback would otherwise open /metrics to the world.
_FORWARDING_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")


@get("/healthz", name="system.healthz", media_type=MediaType.JSON, include_in_schema=False)
async def healthz(state: State) -> Response[dict[str, Any]]:
    """Ready when the database answers."""
    try:
        async with state.session_maker() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported by type only
        return Response({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return Response({"status": "ok", "database": "ok"})


@get("/metrics", name="system.metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any], state: State) -> Response[bytes]:
    """Prometheus text exposition, for allowed addresses or the metrics token only."""
    settings: Settings = state.settings
    if not metrics_allowed(request, settings):
        log.info("system.metrics_refused", client=request.client.host if request.client else None)
        return Response(
            b"metrics are not available to this client\n", status_code=HTTP_FORBIDDEN, media_type=MediaType.TEXT
        )
    return Response(_exposition(), media_type=CONTENT_TYPE_LATEST)


MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""Set by ``ggzy serve --workers N``: every worker writes its counters there and a scrape, which
reaches any one worker, reports the sum over all of them (not one worker's share)."""


def _exposition() -> bytes:
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


def metrics_allowed(request: Request[Any, Any, Any], settings: Settings) -> bool:
    """The metrics token (constant-time compare), or a client address inside an allowed network."""
    token = settings.metrics.token
    if token is not None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        expected = token.get_secret_value().encode()
        if scheme.lower() == "bearer" and expected and hmac.compare_digest(presented.strip().encode(), expected):
            return True
    proxies = settings.web.trusted_proxies
    peer = request.client.host if request.client else None
    if (peer or UNIX_SOCKET_PEER) not in proxies and any(name in request.headers for name in _FORWARDING_HEADERS):
        return False
    return _in_networks(client_address(request, proxies), settings.metrics.allow)


def _in_networks(address: str | None, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)  # parsed and checked at start-up (settings)
