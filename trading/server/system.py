"""Operational endpoints: liveness/readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text


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
async def metrics() -> Response[bytes]:
    """Prometheus text exposition. Restrict it at the proxy in production."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
