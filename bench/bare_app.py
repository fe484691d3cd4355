"""The floor for HTTP benchmarks: a bare Litestar app with one JSON endpoint and nothing else."""

from __future__ import annotations

from litestar import Litestar, get


@get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[ping])
