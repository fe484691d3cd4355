"""Contributions to the draw through the intermediary's workspace: committed at registration,
revealed after the close, refused with the rule when the secret does not match.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intermediary_market.models import AnnouncementStatus
from intermediary_market.selection import SelectionMethod
from intermediary_market.service import MarketService
from tests.intermediary_market.factories import announcement_form
from tests.intermediary_market.test_web import ITEM, ensure_item, log_in, qualify
from tests.intermediary_market.test_web_pages import actor_of
from tests.trading.parties.factories import api_token, bearer, create_account, csrf_token
from trading.kernel import draws
from trading.kernel.auth.roles import Role
from trading.kernel.bounds import InputRefused
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings


async def test_a_registrant_commits_and_reveals_its_contribution_in_the_workspace(
    app: Litestar, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await ensure_item(session_maker)
    owner = await create_account(session_maker, settings, Role.TENDEREE)
    accounts = [await create_account(session_maker, settings, Role.INTERMEDIARY) for _ in range(3)]
    for account in accounts:
        await qualify(session_maker, account)
    async with session_maker() as session:
        form = await announcement_form(session, SelectionMethod.RANDOM, window=timedelta(minutes=5))
        form.item_code = ITEM
        announcement = await MarketService(session).announce(form, actor=actor_of(owner, Role.TENDEREE))
        await session.commit()
    secret = draws.new_secret()
    base = f"/market/intermediary/announcements/{announcement.id}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as own:
        await log_in(own, accounts[0])
        workspace = await own.get("/market/intermediary")
        assert 'name="contribution_sha256"' in workspace.text
        bad = await own.post(
            f"{base}/registrations", data={"_csrf_token": csrf_token(workspace.text), "contribution_sha256": "xyz"}
        )
        assert bad.status_code == 422
        assert "contribution_commitment" in bad.text
        registered = await own.post(
            f"{base}/registrations",
            data={"_csrf_token": csrf_token(workspace.text), "contribution_sha256": draws.commitment(secret)},
        )
        assert registered.status_code == 303, registered.text
        for other in accounts[1:]:
            async with session_maker() as session:
                await MarketService(session).register(
                    announcement.id, price=None, actor=actor_of(other, Role.INTERMEDIARY)
                )
                await session.commit()
        with use_clock(ShiftedClock(timedelta(minutes=10))):
            workspace = await own.get("/market/intermediary")
            assert f'id="reveal-{announcement.id}"' in workspace.text
            token = csrf_token(workspace.text)
            wrong = await own.post(f"{base}/contribution", data={"_csrf_token": token, "contribution": "guess"})
            assert wrong.status_code == 422
            assert "contribution_mismatch" in wrong.text
            revealed = await own.post(f"{base}/contribution", data={"_csrf_token": token, "contribution": secret})
            assert revealed.status_code == 303, revealed.text
            async with session_maker() as session:  # everyone who committed revealed: the draw may run
                result = await MarketService(session).draw(announcement.id, actor=actor_of(owner, Role.TENDEREE))
                await session.commit()
    assert result.status is AnnouncementStatus.SELECTED
    assert result.computation is not None
    assert result.computation["contributions"][str(accounts[0].organisation_id)] == secret


async def test_contribution_reveal_and_revocation_over_the_api(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    base = "/api/v1/intermediary"
    await ensure_item(session_maker)
    admin = bearer(await api_token(client, await create_account(session_maker, settings, Role.ADMIN)))
    owner_account = await create_account(session_maker, settings, Role.TENDEREE)
    account = await create_account(session_maker, settings, Role.INTERMEDIARY)
    await qualify(session_maker, account)
    intermediary = bearer(await api_token(client, account))
    async with session_maker() as session:
        form = await announcement_form(session, SelectionMethod.RANDOM, window=timedelta(minutes=5))
        form.item_code = ITEM
        announcement = await MarketService(session).announce(form, actor=actor_of(owner_account, Role.TENDEREE))
        await session.commit()
    url = f"{base}/announcements/{announcement.id}"
    secret = draws.new_secret()
    registered = await client.post(
        f"{url}/registrations", json={"contribution_sha256": draws.commitment(secret)}, headers=intermediary
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["contribution_sha256"] == draws.commitment(secret)
    early = await client.post(f"{url}/contribution", json={"contribution": secret}, headers=intermediary)
    assert early.status_code == 409
    assert early.json()["errors"][0]["rule"] == "reveal_window"
    with use_clock(ShiftedClock(timedelta(minutes=10))):
        wrong = await client.post(f"{url}/contribution", json={"contribution": "guess"}, headers=intermediary)
        assert wrong.status_code == 422
        assert wrong.headers["content-type"].startswith("application/problem+json")
        assert wrong.json()["errors"][0] == {
            "field": "contribution",
            "rule": "contribution_mismatch",
            "message": wrong.json()["errors"][0]["message"],
        }
        revealed = await client.post(f"{url}/contribution", json={"contribution": secret}, headers=intermediary)
        assert revealed.status_code == 200, revealed.text
        public = (await client.get(f"{base}/results", params={"announcement_id": str(announcement.id)})).json()
        assert public["closed_list"]["registrants"] == [
            {"organisation_id": str(account.organisation_id), "contribution_sha256": draws.commitment(secret)}
        ]
        assert public["computation"] is None  # the secret stays unpublished until the draw

    revocation = {"organisation_id": str(account.organisation_id), "item_code": ITEM, "reason": "资质证书被注销"}
    refused = await client.post(f"{base}/qualifications/revocations", json=revocation, headers=intermediary)
    assert refused.status_code == 403
    revoked = await client.post(f"{base}/qualifications/revocations", json=revocation, headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    again = await client.post(f"{base}/qualifications/revocations", json=revocation, headers=admin)
    assert again.status_code == 409
    assert again.json()["errors"][0]["rule"] == "already_revoked"


async def test_a_secret_longer_than_its_column_is_422_max_length_on_reveal(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """Its SHA-256 registers fine; revealing it used to be a StringDataRightTruncation 500."""
    base = "/api/v1/intermediary"
    await ensure_item(session_maker)
    owner_account = await create_account(session_maker, settings, Role.TENDEREE)
    account = await create_account(session_maker, settings, Role.INTERMEDIARY)
    await qualify(session_maker, account)
    intermediary = bearer(await api_token(client, account))
    async with session_maker() as session:
        form = await announcement_form(session, SelectionMethod.RANDOM, window=timedelta(minutes=5))
        form.item_code = ITEM
        announcement = await MarketService(session).announce(form, actor=actor_of(owner_account, Role.TENDEREE))
        await session.commit()
    url = f"{base}/announcements/{announcement.id}"
    secret = "s" * 65
    registered = await client.post(
        f"{url}/registrations", json={"contribution_sha256": draws.commitment(secret)}, headers=intermediary
    )
    assert registered.status_code == 201, registered.text
    with use_clock(ShiftedClock(timedelta(minutes=10))):
        refused = await client.post(f"{url}/contribution", json={"contribution": secret}, headers=intermediary)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "contribution"
        assert refused.json()["errors"][0]["rule"] == "max-length"
        async with session_maker() as session:
            with pytest.raises(InputRefused) as raised:  # the page's form reaches the service unchecked
                await MarketService(session).reveal(announcement.id, secret, actor=actor_of(account, Role.INTERMEDIARY))
        assert (raised.value.field, raised.value.rule) == ("contribution", "max-length")
