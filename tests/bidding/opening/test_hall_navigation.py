"""Navigation that follows the tender's life (issue 14 item 4): 交易公告 lists a tender at every
public stage with the stage shown and filterable, the tender page leads to the hall (the bidder's
seat, the host's desk), a closed hall no longer says 开标中, and before the deadline the hall page
is a countdown page instead of the API's 409."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.opening_stage import Stage
from certs.devpki.pki import DevPki
from tests.bidding.factories import Party, draft_tender, published_tender
from tests.bidding.opening.hall_support import three_bids_at_sign_in
from tests.bidding.visibility_world import set_stage
from tests.trading.parties.factories import PASSWORD, csrf_token
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A browser with its own cookie jar over the same app."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


@pytest.fixture
async def host_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The host's browser, beside the bidder's."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def _log_in(browser: httpx.AsyncClient, party: Party) -> None:
    form = await browser.get("/login")
    response = await browser.post(
        "/login",
        data={"_csrf_token": csrf_token(form.text), "username": party.account.username, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text


def _row(listing: str, code: str) -> str:
    found = re.search(rf'<tr data-tender="{re.escape(code)}">(.*?)</tr>', listing, re.DOTALL)
    assert found, f"{code} is not listed"
    return found.group(1)


async def test_the_list_shows_each_stage_filters_by_it_and_the_pages_lead_to_the_hall(
    *,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    host_browser: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    owner: Party,
    tmp_path: Path,
) -> None:
    setup = await three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    open_tender = await published_tender(session_maker, settings, store, owner, lots=1)
    draft = await draft_tender(session_maker, settings, store, owner)

    listing = (await client.get("/bidding/tenders")).text
    assert "开标中 · 签到" in _row(listing, setup.code)
    assert 'data-status="opening" data-stage="sign-in"' in _row(listing, setup.code)
    assert "正在接受投标" in _row(listing, open_tender.project_code)
    assert draft.project_code not in listing
    # The stage filter offers 已截止 and 开标中 and keeps to the chosen stage.
    assert '<option value="closed"' in listing
    assert '<option value="opening"' in listing
    opening_only = (await client.get("/bidding/tenders", params={"status": "opening"})).text
    assert setup.code in opening_only
    assert open_tender.project_code not in opening_only
    assert '<option value="opening" selected' in opening_only
    searched = (await client.get("/bidding/tenders", params={"q": setup.code})).text
    assert setup.code in searched

    # The tender page leads to the public hall and says what comes next.
    detail = (await client.get(f"/bidding/tenders/{setup.code}")).text
    assert f'href="/bidding/opening/{setup.code}"' in detail
    assert "开标中 → 前往开标大厅。" in detail
    assert f'href="/bidding/opening/{setup.code}/bidder"' not in detail
    # A bidder of the tender gets its seat, and 我的投标 leads there too.
    await _log_in(browser, setup.bidders["A"])
    assert f'href="/bidding/opening/{setup.code}/bidder"' in (await browser.get(f"/bidding/tenders/{setup.code}")).text
    assert f'href="/bidding/opening/{setup.code}/bidder"' in (await browser.get("/bidding/bids")).text
    # The host's management page leads to its desk.
    await _log_in(host_browser, setup.tenderee)
    desk = f'href="/bidding/opening/{setup.code}/host"'
    assert desk in (await host_browser.get(f"/bidding/tenders/{setup.code}")).text
    assert desk in (await host_browser.get(f"/bidding/manage/tenders/{setup.code}")).text
    assert desk in (await host_browser.get("/bidding/manage/")).text

    # A closed hall no longer says 开标中.
    await set_stage(session_maker, setup.code, Stage.CLOSED)
    detail = (await client.get(f"/bidding/tenders/{setup.code}")).text
    status = re.search(r'<span id="tender-status"[^>]*>(.*?)</span>\s*</p>', detail, re.DOTALL)
    assert status
    assert "开标已结束" in status.group(1)
    assert "开标中" not in status.group(1)
    assert "开标已结束 → 结果见开标大厅。" in detail
    assert "开标已结束" in _row((await client.get("/bidding/tenders")).text, setup.code)


async def test_before_the_deadline_the_hall_is_a_countdown_page(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
) -> None:
    tender = await published_tender(session_maker, settings, store, owner, lots=1)
    assert tender.deadline is not None
    hall = await client.get(f"/bidding/opening/{tender.project_code}")
    assert hall.status_code == 200, hall.text
    assert "开标大厅将于投标截止时开放。" in hall.text
    assert "距投标截止剩余" in hall.text
    assert f'data-deadline="{tender.deadline.isoformat()}"' in hall.text
    assert "<script>" not in hall.text
    # The API keeps its answer.
    api = await client.get(f"/api/v1/bidding/opening/{tender.project_code}")
    assert api.status_code == 409
    assert api.json()["errors"][0]["rule"] == "opening-exists"
    # A draft stays unknown.
    draft = await draft_tender(session_maker, settings, store, owner)
    assert (await client.get(f"/bidding/opening/{draft.project_code}")).status_code == 404
