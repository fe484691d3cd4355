"""The hall's pages link only to the pages the caller may open for this tender (issue 14, the
acceptance crawl): an agency's or a bidder's permission is not a desk or a seat at every hall."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from tests.bidding.factories import Party, agency_party, bidder_party
from tests.bidding.opening.hall_support import three_bids_at_sign_in
from tests.trading.parties.factories import PASSWORD, csrf_token
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def _log_in(browser: httpx.AsyncClient, party: Party) -> None:
    browser.cookies.clear()
    form = await browser.get("/login")
    response = await browser.post(
        "/login",
        data={"_csrf_token": csrf_token(form.text), "username": party.account.username, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text


async def test_the_hall_links_only_to_pages_the_caller_may_open(
    *,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    setup = await three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    hall = f"/bidding/opening/{setup.code}"
    desk, seat = f'href="{hall}/host"', f'href="{hall}/bidder"'

    # An agency that does not run this tender: no desk link, and the desk refuses it.
    await _log_in(browser, await agency_party(session_maker, settings, dev_pki))
    page = await browser.get(hall)
    assert page.status_code == 200
    assert desk not in page.text
    assert (await browser.get(f"{hall}/host")).status_code == 403

    # A bidder without a bid here: no seat link.
    await _log_in(browser, await bidder_party(session_maker, settings, dev_pki))
    page = await browser.get(hall)
    assert seat not in page.text

    # The tender's own: the tenderee gets its desk, a bidder with a bid its seat.
    await _log_in(browser, setup.tenderee)
    assert desk in (await browser.get(hall)).text
    await _log_in(browser, setup.bidders["A"])
    assert seat in (await browser.get(hall)).text
