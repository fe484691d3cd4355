"""``/metrics``: only for allowed networks or the metrics token, and with labels that reveal
nothing per tender (issue 11, finding 6: download and submission counts before the deadline)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from pydantic import SecretStr

from trading.kernel.settings import Settings

METRICS_TOKEN = "scrape-" + uuid.uuid4().hex
OUTSIDE = ("203.0.113.7", 40_000)
# Routes whose request counts would tell how many downloaded a tender's documents or bid on it.
PARTICIPATION_ROUTES = (
    ("GET", "/api/v1/bidding/tenders/T-NONE/documents/" + str(uuid.uuid4())),
    ("GET", "/bidding/tenders/T-NONE/documents/" + str(uuid.uuid4())),
    ("POST", "/api/v1/bidding/tenders/T-NONE/lots/1/uploads"),
    ("POST", "/api/v1/bidding/uploads/" + str(uuid.uuid4()) + "/submission"),
    ("GET", "/api/v1/bidding/tenders/T-NONE/downloads"),
)
_LABELS = re.compile(r'^ggzy_http_requests_total\{method="([^"]*)",route="([^"]*)",status="([^"]*)"\}', re.MULTILINE)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.metrics.token = SecretStr(METRICS_TOKEN)
    return settings


@pytest.fixture
async def outsider(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client on an address outside the default allow list (loopback)."""
    transport = httpx.ASGITransport(app=app, client=OUTSIDE)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client


async def test_metrics_refused_to_an_address_outside_the_allow_list(outsider: httpx.AsyncClient) -> None:
    response = await outsider.get("/metrics")
    assert response.status_code == 403
    assert "ggzy_http_requests_total" not in response.text


async def test_metrics_refused_with_a_wrong_token(outsider: httpx.AsyncClient) -> None:
    response = await outsider.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert response.status_code == 403


async def test_metrics_refused_through_a_proxy_that_is_not_trusted(client: httpx.AsyncClient) -> None:
    """A reverse proxy on loopback makes every visitor's peer address 127.0.0.1; its forwarding
    header shows the request came from elsewhere."""
    response = await client.get("/metrics", headers={"X-Forwarded-For": OUTSIDE[0]})
    assert response.status_code == 403


async def test_metrics_open_to_loopback_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "ggzy_http_requests_total" in response.text


async def test_metrics_open_to_the_token_from_any_address(outsider: httpx.AsyncClient) -> None:
    response = await outsider.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert "ggzy_http_requests_total" in response.text


async def test_metrics_open_to_a_configured_network(settings: Settings, outsider: httpx.AsyncClient) -> None:
    settings.metrics.allow = ["203.0.113.0/24"]
    assert (await outsider.get("/metrics")).status_code == 200
    settings.metrics.allow = []
    assert (await outsider.get("/metrics")).status_code == 403


async def test_healthz_stays_public(outsider: httpx.AsyncClient) -> None:
    assert (await outsider.get("/healthz")).status_code == 200


async def test_metrics_labels_reveal_no_download_or_submission_counts(client: httpx.AsyncClient) -> None:
    for method, path in PARTICIPATION_ROUTES:
        await client.request(method, path)
    await client.get("/healthz")
    scraped = (await client.get("/metrics")).text
    labels = _LABELS.findall(scraped)
    routes = {route for _, route, _ in labels}
    # The platform's own routes are still counted by name...
    assert ("GET", "/healthz", "200") in labels
    # ...but no label names a tender-scoped route, and the trading surfaces are one bucket each,
    # with the method folded and the status as a class.
    for leaky in ("documents", "uploads", "submission", "downloads", "tenders", "bidding/"):
        assert not [route for route in routes if leaky in route], (leaky, sorted(routes))
    assert {route for route in routes if "bidding" in route} <= {"api:bidding", "web:bidding"}
    for method, route, status in labels:
        if route.startswith(("api:", "web:")):
            assert method == "*"
            assert re.fullmatch(r"[1-5]xx", status)


async def test_metrics_refused_when_the_client_claims_loopback_through_a_trusted_proxy(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    """The proxy (on loopback, trusted) appends the address it saw to the client's own claim."""
    settings.web.trusted_proxies = ["127.0.0.1"]
    response = await client.get("/metrics", headers={"X-Forwarded-For": f"127.0.0.1, {OUTSIDE[0]}"})
    assert response.status_code == 403
    assert (await client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})).status_code == 200
