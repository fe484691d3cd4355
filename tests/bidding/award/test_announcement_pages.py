"""The GP result announcement's pages and the 质疑 client path through the application: the
purchaser's page shows the exact statement, refuses another organisation's signature (422 naming
the rule, nothing stored) and publishes with its own; the public page then shows the winner and
the evaluators; a bidder's 我的异议 page offers the 质疑 form; ``ggzy bid object --stage
announcement``'s path (fetch, sign locally, file) stores a signed 质疑, while ``--stage publicity``
finds nothing to object to in a GP tender.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import announcement
from bidding.award.models import Award
from bidding.client import format as fmt
from bidding.client.cli_inputs import load_signer
from bidding.client.hall import file_signed_publicity_objection
from bidding.client.problems import LocalRefusal
from bidding.client.transport import BidClient
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import GROUNDS, award_of, confirm_winner, gp_report, make_bidder
from tests.bidding.factories import bidder_party, sign_document, tenderee_party
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import api_token, csrf_token
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")

STATEMENT = re.compile(r"data-announcement-statement><code>(.*?)</code></pre>", re.DOTALL)
PASSWORD = "p12-password"


@pytest.fixture
async def other_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def test_the_purchaser_publishes_in_the_page_and_a_bidder_questions_through_the_client(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    purchaser = await tenderee_party(session_maker, settings, dev_pki)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    world = await gp_report(session_maker, settings, store, dev_tsa, dev_pki, purchaser)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await confirm_winner(
        session_maker, settings, await award_of(session_maker, world), purchaser, str(world.bids[0])
    )
    code = world.project_code
    manage = f"/bidding/manage/tenders/{code}/result"
    public = f"/bidding/tenders/{code}/result"

    # A bidder may not use the purchaser's page.
    await log_in(other_browser, bidder)
    assert (await other_browser.get(manage)).status_code == 403

    await log_in(client, purchaser)
    # The owners' publicity page links the announcement page in GP.
    assert 'id="result-manage-link"' in (await client.get(f"/bidding/manage/tenders/{code}/publicity")).text
    page = await client.get(manage)
    assert page.status_code == 200, page.text
    match = STATEMENT.search(page.text)
    assert match is not None, page.text
    statement = html.unescape(match.group(1)).encode()
    assert b'"kind":"result"' in statement

    forged = base64.b64encode(await sign_document(bidder.sign, statement)).decode()
    form = {"_csrf_token": csrf_token(page.text), "award": str(award.id)}
    refused = await client.post(manage, data={**form, "signature": forged})
    assert refused.status_code == 422, refused.text
    assert "announcement_signer" in refused.text
    async with session_maker() as session:
        assert not await announcement.announced(session, award.id)

    signature = base64.b64encode(await sign_document(purchaser.sign, statement)).decode()
    published = await client.post(manage, data={**form, "signature": signature})
    assert published.status_code == 303, published.text
    async with session_maker() as session:
        row = await announcement.announcement_of(session, award.id)
        assert row is not None
        content = row.content

    shown = await other_browser.get(public)
    assert shown.status_code == 200
    assert content["winner"]["bidder"] in shown.text
    for name in content["evaluators"]:
        assert name in shown.text
    assert 'id="my-objections-link"' in shown.text  # the bidder finds its 质疑 page

    mine = await other_browser.get(f"/bidding/tenders/{code}/publicity/objections")
    assert mine.status_code == 200, mine.text
    assert "data-objection-form" in mine.text
    assert "7" in mine.text

    # The client: --stage publicity finds nothing in GP; --stage announcement files a signed 质疑.
    p12 = tmp_path / "sign.p12"
    p12.write_bytes(bidder.sign.pkcs12(PASSWORD.encode(), "sign"))
    signer = load_signer(p12, PASSWORD)
    base = str(client.base_url).rstrip("/")
    token = await api_token(client, bidder.account)
    async with BidClient(base, token, http=client) as bid_client:
        with pytest.raises(LocalRefusal) as wrong_stage:
            await file_signed_publicity_objection(bid_client, code, bidder.uscc, GROUNDS, signer)
        assert wrong_stage.value.rule == "objection_period"
        answer = await file_signed_publicity_objection(
            bid_client, code, bidder.uscc, GROUNDS, signer, stage="announcement"
        )
        [listed] = await bid_client.publicities(code)
        assert listed["stage"] == "announcement"
        filed = fmt.award_objection_statement(code, listed["lotGroup"], bidder.uscc, row.content_sha256, GROUNDS)
        assert answer["statementSha256"] == hashlib.sha256(filed).hexdigest()
    async with session_maker() as session:
        assert (await session.get_one(Award, award.id)).objections_pending == 1
