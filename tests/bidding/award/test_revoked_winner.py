"""A winner who revokes its bid (撤销, issue 17): the owners' award pages tell the tenderee in Chinese
and link to the choices the law leaves to it (依次确定其他中标候选人, 重新招标); nothing is reassigned
by itself. Before confirmation the revoked first candidate is not offered, the next one is; after it,
the confirmed winner stays until the tenderee passes it over or re-tenders.

The revocation itself (signed, receipted, refused out of time) is `tests/bidding/test_revocation.py`;
here the bid's status is set as the revocation leaves it, which is all the award stage reads.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import award as decisions
from bidding.award.models import Award
from bidding.models import Bid, BidStatus
from bidding.opening.models import OpeningBid
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_decisions import FIRST, SECOND, _closed_publicity, _signed
from tests.bidding.award.world import (
    award_hook,
    award_of,
    db_now,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    settings,
    signed_report,
    store,
)
from tests.bidding.factories import tenderee_party
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import api_token, bearer
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]
pytestmark = pytest.mark.usefixtures("dev_lists")
CHOICE = "依次确定其他中标候选人"


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def _revoke(session_maker: async_sessionmaker[AsyncSession], opening_bid: str) -> None:
    """The bid behind the candidate as a revocation leaves it (status ``revoked``, at the database's now)."""
    now = await db_now(session_maker)
    async with session_maker() as session:
        row = await session.get_one(OpeningBid, uuid.UUID(opening_bid))
        await session.execute(
            sa.update(Bid).where(Bid.id == row.bid_id).values(status=BidStatus.REVOKED, updated_at=now)
        )
        await session.commit()


async def test_the_tenderee_is_told_the_winner_revoked_and_chooses(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    award = await award_of(session_maker, world)
    await _closed_publicity(session_maker, settings, award, owner)
    code, first, second = world.project_code, str(world.bids[0]), str(world.bids[1])
    await log_in(browser, owner)
    publicity_page = f"/bidding/manage/tenders/{code}/publicity"
    decisions_page = f"/bidding/manage/tenders/{code}/decisions"

    # Nobody revoked: no prompt.
    page = await browser.get(publicity_page)
    assert page.status_code == 200, page.text
    assert "data-revoked-winner" not in page.text

    # The first candidate revokes before the award: told, and the next one is offered, not the first.
    await _revoke(session_maker, first)
    page = await browser.get(publicity_page)
    assert page.status_code == 200, page.text
    assert f'data-revoked-winner="{first}" data-confirmed="false"' in page.text
    assert "撤销" in page.text
    assert CHOICE in page.text
    assert FIRST in page.text
    assert f'name="bid" value="{second}"' in page.text
    assert f'name="bid" value="{first}"' not in page.text
    assert f'href="{publicity_page}#confirm-{award.id}"' in page.text
    assert f'id="confirm-{award.id}"' in page.text
    assert f'href="{decisions_page}#re-tender-{award.id}"' in page.text
    assert (await _chosen(session_maker, award)) is None  # nothing decided for the tenderee

    # The tenderee confirms the second; then the second revokes: told on both pages, still the winner.
    token = await api_token(client, owner.account)
    signature = await _signed(client, token, code, owner, award=str(award.id), decision="confirm", bid=second)
    confirmed = await client.post(
        f"/api/v1/award/tenders/{code}/decisions/confirm",
        json={"award": str(award.id), "bid": second, "signature": signature},
        headers=bearer(token),
    )
    assert confirmed.status_code == 200, confirmed.text
    page = await browser.get(publicity_page)
    assert "data-revoked-winner" not in page.text
    await _revoke(session_maker, second)
    for url in (publicity_page, decisions_page):
        page = await browser.get(url)
        assert page.status_code == 200, page.text
        assert f'data-revoked-winner="{second}" data-confirmed="true"' in page.text, url
        assert "已确定的中标人" in page.text
        assert SECOND in page.text
        assert CHOICE in page.text
        assert "重新招标" in page.text
        assert f'href="{decisions_page}#pass-over-{award.id}"' in page.text
        assert f'href="{decisions_page}#re-tender-{award.id}"' in page.text
    assert f'id="pass-over-{award.id}"' in page.text  # the decisions page holds both forms
    assert f'id="re-tender-{award.id}"' in page.text
    assert str(await _chosen(session_maker, award)) == second  # not reassigned by itself
    async with session_maker() as session:
        revoked = await decisions.revoked_winner(session, await session.get_one(Award, award.id))
    assert revoked is not None
    assert (revoked.bid, revoked.confirmed) == (second, True)


async def _chosen(session_maker: async_sessionmaker[AsyncSession], award: Award) -> object:
    async with session_maker() as session:
        return (await session.get_one(Award, award.id)).chosen_bid_id
