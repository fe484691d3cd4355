"""The hall's forms on the kernel's form path (`trading.kernel.web.forms.submit`): a refused host
action re-renders the desk with status 422, naming the field and the rule through the hall's label
table; an accepted one answers 303 back to the desk (its named route)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from tests.bidding.factories import Party
from tests.bidding.opening.hall_support import three_bids_at_sign_in
from tests.trading.parties.factories import PASSWORD, csrf_token
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A browser with its own cookie jar over the same app."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def _log_in(browser: httpx.AsyncClient, party: Party) -> str:
    form = await browser.get("/login")
    response = await browser.post(
        "/login",
        data={"_csrf_token": csrf_token(form.text), "username": party.account.username, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text
    return str(browser.cookies["ggzy_csrf"])


async def test_the_host_desk_refuses_with_422_and_the_rule_and_redirects_when_accepted(
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
    transitions = f"/bidding/opening/{setup.code}/host/transitions"
    with clock.use_clock(setup.shifted):  # logged in on the hall's clock, or the session has expired
        csrf = await _log_in(browser, setup.tenderee)
        desk = await browser.get(f"/bidding/opening/{setup.code}/host")
        assert desk.status_code == 200, desk.text
        assert f'action="{transitions}"' in desk.text  # url_for gives the same path

        unknown = await browser.post(
            transitions, data={"action": "fly", "reason": "原因甲"}, headers={"x-csrftoken": csrf}
        )
        assert unknown.status_code == 422, unknown.text
        assert 'data-rule="enum"' in unknown.text
        assert 'href="#field-action"' in unknown.text
        assert "原因甲" in unknown.text  # the form comes back as it was sent

        paused = await browser.post(
            transitions, data={"action": "pause", "reason": "网络故障"}, headers={"x-csrftoken": csrf}
        )
        assert paused.status_code == 303, paused.text
        assert paused.headers["location"] == f"/bidding/opening/{setup.code}/host"

        again = await browser.post(
            transitions, data={"action": "pause", "reason": "再次"}, headers={"x-csrftoken": csrf}
        )
        assert again.status_code == 422, again.text
        assert 'data-rule="pausable"' in again.text
