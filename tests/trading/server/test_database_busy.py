"""Every database connection busy is an overload, not a fault: the API answers 503 problem+json
and the pages a 503 page, both with Retry-After, instead of a 500 (found by `bench/guarantees/
apply.py`: 100 logins at once waited out the pool and got 500s)."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from trading.kernel.settings import Settings
from trading.kernel.tasks import RecordingPublisher
from trading.server.app import create_app


async def test_a_request_that_finds_every_connection_busy_is_told_to_retry(
    settings: Settings, publisher: RecordingPublisher, engine: AsyncEngine
) -> None:
    # One connection in the pool, held here, and a short wait: the app's request cannot get one.
    small = create_async_engine(engine.url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    app = create_app(settings, session_maker=async_sessionmaker(small, expire_on_commit=False), publisher=publisher)
    try:
        async with small.connect() as held:
            await held.exec_driver_sql("SELECT 1")
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
                api = await client.get("/api/v1/guarantees/verify/ABCD-EFGH-JKMN-PQRS")
                page = await client.get("/guarantees/verify/ABCD-EFGH-JKMN-PQRS")
        assert api.status_code == 503, api.text
        assert api.headers["content-type"].startswith("application/problem+json")
        assert api.json()["type"] == "urn:ggzy:error:busy"
        assert api.headers["retry-after"] == "2"
        assert page.status_code == 503, page.text
        assert page.headers["retry-after"] == "2"
        assert "text/html" in page.headers["content-type"]
        # Once the connection is free again, the same request is answered normally (404: no such code).
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
            again = await client.get("/api/v1/guarantees/verify/ABCD-EFGH-JKMN-PQRS")
        assert again.status_code == 404, again.text
    finally:
        await small.dispose()
