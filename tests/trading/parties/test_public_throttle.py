"""Public endpoints that write rows or spend signatures are throttled per client address."""

from __future__ import annotations

import httpx
import pytest

from trading.kernel.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.auth.public_requests_per_window = 2
    settings.auth.public_window_seconds = 60
    return settings


async def test_registration_api_answers_429_after_the_limit(client: httpx.AsyncClient) -> None:
    statuses = [(await client.post("/api/v1/parties/registrations", json={})).status_code for _ in range(2)]
    assert 429 not in statuses  # counted, then refused for the bad body as usual
    refused = await client.post("/api/v1/parties/registrations", json={})
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 0 < int(refused.headers["retry-after"]) <= 60


async def test_tsa_is_throttled_separately_from_registration(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await client.post("/api/v1/parties/registrations", json={})
    # Another scope has its own counter: the TSA still answers (a malformed query is a 400, not 429).
    tsa = await client.post(
        "/api/v1/tsa", content=b"not a query", headers={"content-type": "application/timestamp-query"}
    )
    assert tsa.status_code != 429
    for _ in range(2):
        await client.post("/api/v1/tsa", content=b"x", headers={"content-type": "application/timestamp-query"})
    assert (await client.post("/api/v1/tsa", content=b"x")).status_code == 429
