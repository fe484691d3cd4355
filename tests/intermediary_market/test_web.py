"""Marketplace pages: the public marketplace and result, the owner's and the intermediary's workspaces."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intermediary_market.schemas import QualificationRecord
from intermediary_market.service import MarketService
from tests.intermediary_market.factories import publish_item
from tests.trading.parties.factories import PASSWORD, Account, create_account, csrf_token
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings
from trading.kernel.web.templating import DISPLAY_TZ

ITEM = "WEB-EIA"


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser (its own cookie jar) over the same app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client


async def log_in(client: httpx.AsyncClient, account: Account) -> None:
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text


async def qualify(maker: async_sessionmaker[AsyncSession], account: Account) -> None:
    async with maker() as session:
        now = await clock.now(session)
        await MarketService(session).record_qualification(
            QualificationRecord(
                organisation_id=account.organisation_id,
                item_code=ITEM,
                level=1,
                certificate_no="HP-WEB",
                valid_until=now + timedelta(days=365),
            ),
            actor=Actor.system(),
        )
        await session.commit()


async def ensure_item(maker: async_sessionmaker[AsyncSession]) -> None:
    async with maker() as session:
        if await MarketService(session).repo.current_item(ITEM) is None:
            await publish_item(session, ITEM)
            await session.commit()


async def owner_form(maker: async_sessionmaker[AsyncSession], **changes: str) -> dict[str, str]:
    async with maker() as session:
        now = (await clock.now(session)).astimezone(DISPLAY_TZ).replace(tzinfo=None)
    form = {
        "project_name": "淮安某产业园配套项目",
        "item_code": ITEM,
        "method": "random",
        "funding": "state",
        "budget": "80000",
        "price_min": "",
        "price_max": "",
        "max_level": "3",
        "time_limit_days": "30",
        "registration_opens": (now - timedelta(minutes=5)).isoformat(timespec="seconds"),
        "registration_closes": (now + timedelta(days=3)).isoformat(timespec="seconds"),
    }
    form.update(changes)
    return form


async def test_public_marketplace_renders_without_login(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await ensure_item(session_maker)
    response = await client.get("/market")
    assert response.status_code == 200
    assert ITEM in response.text
    assert (await client.get("/market/selections/00000000-0000-0000-0000-000000000000")).status_code == 404


async def test_workspaces_refuse_the_wrong_role(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    assert (await client.get("/market/owner")).status_code == 303  # anonymous: off to log in
    await log_in(client, await create_account(session_maker, settings, Role.BIDDER))
    assert (await client.get("/market/owner")).status_code == 403
    assert (await client.get("/market/intermediary")).status_code == 403


async def test_owner_form_re_renders_with_the_rule_at_422(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await ensure_item(session_maker)
    await log_in(client, await create_account(session_maker, settings, Role.TENDEREE))
    page = await client.get("/market/owner")
    assert page.status_code == 200
    token = csrf_token(page.text)
    bad_number = await client.post(
        "/market/owner/announcements", data={**await owner_form(session_maker, budget="lots"), "_csrf_token": token}
    )
    assert bad_number.status_code == 422
    assert 'id="error-budget"' in bad_number.text
    assert 'value="淮安某产业园配套项目"' in bad_number.text  # what was typed is kept
    direct_state = await client.post(
        "/market/owner/announcements", data={**await owner_form(session_maker, method="direct"), "_csrf_token": token}
    )
    assert direct_state.status_code == 422
    assert 'id="error-method"' in direct_state.text


async def test_owner_publishes_intermediaries_register_and_the_result_is_public(
    app: Litestar,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await ensure_item(session_maker)
    owner = await create_account(session_maker, settings, Role.TENDEREE)
    await log_in(client, owner)
    token = csrf_token((await client.get("/market/owner")).text)
    async with session_maker() as session:
        closes = (await clock.now(session)).astimezone(DISPLAY_TZ).replace(tzinfo=None) + timedelta(minutes=5)
    form = await owner_form(session_maker, registration_closes=closes.isoformat(timespec="seconds"))
    published = await client.post("/market/owner/announcements", data={**form, "_csrf_token": token})
    assert published.status_code == 303, published.text
    result_url = published.headers["location"]
    announcement_id = result_url.rsplit("/", 1)[1]
    before = await browser.get(result_url)  # public: the commitment, not the seed
    commitment = re.search(r'id="seed-sha256">([0-9a-f]{64})<', before.text)
    assert commitment
    assert 'id="seed"' not in before.text

    intermediaries = [await create_account(session_maker, settings, Role.INTERMEDIARY) for _ in range(3)]
    for account in intermediaries:
        await qualify(session_maker, account)
    unqualified = await create_account(session_maker, settings, Role.INTERMEDIARY)
    action = f"/market/intermediary/announcements/{announcement_id}/registrations"
    for account in [*intermediaries, unqualified]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as own:
            await log_in(own, account)
            workspace = await own.get("/market/intermediary")
            assert workspace.status_code == 200
            assert announcement_id in workspace.text
            registered = await own.post(action, data={"_csrf_token": csrf_token(workspace.text)})
            if account is unqualified:
                assert registered.status_code == 422
                assert "no_qualification" in registered.text  # the rule, next to its Chinese message
            else:
                assert registered.status_code == 303, registered.text

    too_early = await client.post(f"/market/owner/announcements/{announcement_id}/draw", data={"_csrf_token": token})
    assert too_early.status_code == 422
    with use_clock(ShiftedClock(timedelta(minutes=10))):  # within the owner's session lifetime
        drawn = await client.post(f"/market/owner/announcements/{announcement_id}/draw", data={"_csrf_token": token})
    assert drawn.status_code == 303, drawn.text

    result = await browser.get(result_url)
    assert result.status_code == 200
    winner = re.search(r'id="winner" data-organisation="([0-9a-f-]{36})"', result.text)
    assert winner
    assert winner.group(1) in {str(a.organisation_id) for a in intermediaries}
    assert re.search(r'id="seed">[0-9a-f]+<', result.text)
    assert commitment.group(1) in result.text
    marketplace = await browser.get("/market")
    assert result_url in marketplace.text
