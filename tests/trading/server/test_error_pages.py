"""Error pages for every status the app can answer, and 4xx logged and counted as 4xx
(issue 11, finding 7: a 405 failed with TemplateNotFound; a refused logout was counted as 500)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

import httpx
import pytest
import structlog
from litestar import Litestar, get
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from trading.kernel.calendar import CalendarYearMissing
from trading.kernel.settings import Settings
from trading.server import observability, routing
from trading.server.errors import exception_handlers

# Redirected to the login page instead of an error page.
_NOT_A_PAGE = {HTTPStatus.UNAUTHORIZED}
ERROR_STATUSES = [status for status in HTTPStatus if status >= 400 and status not in _NOT_A_PAGE]


@get("/fail/{code:int}", sync_to_thread=False)
def fail(code: FromPath[int]) -> None:
    raise HTTPException(status_code=code)


@pytest.fixture
def error_app(settings: Settings) -> Litestar:
    """The platform's error rendering and templates, with a route that fails with any status."""
    return Litestar(
        route_handlers=[fail],
        exception_handlers=exception_handlers(),
        template_config=routing.template_config(settings),
        state={"settings": settings},
    )


@contextmanager
def info_logs_captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[MutableMapping[str, Any]]]:
    """The access log's events at INFO (the suite logs at WARNING)."""
    wrapper = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.INFO))
    try:
        with structlog.testing.capture_logs() as logged:
            # A fresh logger proxy: the module's own was cached with the renderer on first use.
            monkeypatch.setattr(observability, "log", structlog.get_logger("ggzy.access"))
            yield logged
    finally:
        structlog.configure(wrapper_class=wrapper)


def assert_error_page(response: httpx.Response, status: int) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    # The platform's layout, not the static last-resort page that a failed template falls back to.
    assert 'class="error-page"' in response.text, response.text[:300]
    assert f'<p class="error-status">{status}</p>' in response.text


async def test_every_error_status_gets_a_page(error_app: Litestar) -> None:
    transport = httpx.ASGITransport(app=error_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        for status in ERROR_STATUSES:
            assert_error_page(await client.get(f"/fail/{int(status)}"), int(status))


async def test_method_not_allowed_gets_a_page(client: httpx.AsyncClient) -> None:
    response = await client.post("/healthz")
    assert_error_page(response, 405)
    assert "errors/405.html" not in response.text


async def test_a_refused_logout_is_counted_and_logged_as_403(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A logout posted from another origin (no CSRF token) is a 403, not a server error."""
    with info_logs_captured(monkeypatch) as logged:
        response = await client.post("/logout", data={}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    access = [entry for entry in logged if entry["event"] == "request" and entry["route"] == "/logout"]
    assert [entry["status"] for entry in access] == [403]
    assert access[0]["log_level"] == "info"
    metrics = (await client.get("/metrics")).text
    assert re.search(r'ggzy_http_requests_total\{method="POST",route="/logout",status="403"\} [1-9]', metrics)
    assert 'route="/logout",status="500"' not in metrics


@get("/api/v1/calendar-reach", sync_to_thread=False)
def api_reaching_an_unloaded_year() -> None:
    raise CalendarYearMissing(2031)


@get("/calendar-reach", sync_to_thread=False)
def page_reaching_an_unloaded_year() -> None:
    raise CalendarYearMissing(2031)


async def test_a_period_reaching_an_unloaded_year_is_a_409_naming_the_calendar(settings: Settings) -> None:
    """An act whose period ends in a year the administrator has not loaded (late December) is
    refused with the reason, on the API and on the page, never answered with a 500.
    """
    app = Litestar(
        route_handlers=[api_reaching_an_unloaded_year, page_reaching_an_unloaded_year],
        exception_handlers=exception_handlers(),
        template_config=routing.template_config(settings),
        state={"settings": settings},
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as client:
        api = await client.get("/api/v1/calendar-reach")
        page = await client.get("/calendar-reach", headers={"Accept-Language": "zh-CN"})
    assert api.status_code == 409
    problem = api.json()
    assert "2031" in problem["detail"]
    assert (problem["errors"][0]["field"], problem["errors"][0]["rule"]) == ("calendar", "calendar_year_loaded")
    assert_error_page(page, 409)
    assert "该年度的工作日历尚未加载。" in page.text
