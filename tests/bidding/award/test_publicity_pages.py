"""The publicity's pages through the application: nothing public before the tenderee opens it; the
tenderee's page shows the exact statement, accepts the signature and opens the publicity; the public
page then shows the candidates, prices and the committee's names; others may not use the page.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import publicity
from bidding.award.jobs import AwardDue
from bidding.award.models import Award
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import award_of, db_now, signed_report
from tests.bidding.factories import bidder_party, sign_document, tenderee_party
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import csrf_token
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep

pytestmark = pytest.mark.usefixtures("dev_lists")

AWARD_STATEMENT = re.compile(r"data-award-statement><code>(.*?)</code></pre>", re.DOTALL)
STATEMENT = re.compile(r"data-publicity-statement><code>(.*?)</code></pre>", re.DOTALL)


@pytest.fixture
async def other_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def test_the_tenderee_opens_the_publicity_in_the_page_and_the_public_sees_it(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    award = await award_of(session_maker, world)
    public = f"/bidding/tenders/{world.project_code}/publicity"
    manage = f"/bidding/manage/tenders/{world.project_code}/publicity"

    before = await client.get(public)
    assert before.status_code == 200
    assert 'id="no-publicity"' in before.text
    assert "南京甲建设工程有限公司" not in before.text
    assert world.signers[0].name not in before.text

    # A bidder may not use the tenderee's page.
    await log_in(other_browser, bidder)
    assert (await other_browser.get(manage)).status_code == 403

    token = await log_in(client, owner)
    del token
    page = await client.get(manage)
    assert page.status_code == 200, page.text
    match = STATEMENT.search(page.text)
    assert match is not None, page.text
    statement = html.unescape(match.group(1)).encode()
    assert b"ggzy-award-publicity/1" in statement

    # A signature by another organisation's certificate: 422 naming the rule, nothing opened.
    forged = base64.b64encode(await sign_document(bidder.sign, statement)).decode()
    refused = await client.post(
        manage, data={"_csrf_token": csrf_token(page.text), "award": str(award.id), "signature": forged}
    )
    assert refused.status_code == 422, refused.text
    assert 'data-rule="publicity_signer"' in refused.text or "publicity_signer" in refused.text
    async with session_maker() as session:
        assert (await session.get_one(Award, award.id)).state.value == "report_signed"

    signature = base64.b64encode(await sign_document(owner.sign, statement)).decode()
    opened = await client.post(
        manage, data={"_csrf_token": csrf_token(page.text), "award": str(award.id), "signature": signature}
    )
    assert opened.status_code == 303, opened.text

    after = await other_browser.get(public)
    assert after.status_code == 200
    for name in ("南京甲建设工程有限公司", "苏州乙建筑有限公司", "无锡丙工程有限公司", world.signers[0].name):
        assert name in after.text
    assert "1,180,000.00" in after.text or "1180000.00" in after.text
    # The English switch.
    assert "中标候选人公示" in after.text
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state.value == "publicity_open"
        closes_at = (await publicity.current_publicity(session, award.id)).closes_at  # type: ignore[union-attr]

    # The sweep closes it; the page then offers the first candidate to confirm, signed.
    with use_clock(ShiftedClock(closes_at - await db_now(session_maker) + timedelta(seconds=1))):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1
    page = await client.get(manage)
    assert page.status_code == 200, page.text
    decision = AWARD_STATEMENT.search(page.text)
    assert decision is not None, page.text
    assert "南京甲建设工程有限公司" in page.text
    signed = base64.b64encode(await sign_document(owner.sign, html.unescape(decision.group(1)).encode())).decode()
    # Confirming another than the first remaining candidate: 422 naming the rule, nothing stored.
    form = {"_csrf_token": csrf_token(page.text), "award": str(award.id), "signature": signed}
    decide = f"/bidding/manage/tenders/{world.project_code}/award"
    skipped = await client.post(decide, data={**form, "bid": str(world.bids[1])})
    assert skipped.status_code == 422, skipped.text
    assert "first_remaining_candidate" in skipped.text
    confirmed = await client.post(decide, data={**form, "bid": str(world.bids[0])})
    assert confirmed.status_code == 303, confirmed.text
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state.value == "awarded"
        assert row.chosen_bid_id == world.bids[0]
