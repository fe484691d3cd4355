"""Objections through the pages: the public publicity links 我的异议 for bidders only; the bidder
gets the exact statement, files the signed objection (a forged one refused with the rule, 422,
nothing stored); the tenderee sees it on its page and answers it signed; the bidder sees the answer.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import objections
from bidding.award.models import Award
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import GROUNDS, award_of, make_bidder, open_publicity, signed_report
from tests.bidding.factories import bidder_party, sign_document, tenderee_party
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import csrf_token
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def owner_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def test_a_bidder_objects_in_the_page_and_sees_the_tenderees_signed_answer(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    owner_browser: httpx.AsyncClient,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await award_of(session_maker, world)
    await open_publicity(session_maker, settings, award, owner, owner)
    code = world.project_code
    public = f"/bidding/tenders/{code}/publicity"
    mine = f"/bidding/tenders/{code}/publicity/objections"

    # Anonymous visitors see no link to 我的异议.
    assert 'id="my-objections-link"' not in (await client.get(public)).text
    await log_in(client, bidder)
    assert 'id="my-objections-link"' in (await client.get(public)).text
    page = await client.get(mine)
    assert page.status_code == 200, page.text
    assert "data-objection-form" in page.text
    token = csrf_token(page.text)
    form = {"_csrf_token": token, "award": str(award.id), "objection": GROUNDS}
    got = await client.post(f"/bidding/tenders/{code}/publicity/objection-statement", data=form)
    assert got.status_code == 200, got.text
    statement = got.content
    assert b"ggzy-award-objection/1" in statement

    # Signed with the tenderee's certificate: refused with the rule, nothing stored.
    forged = base64.b64encode(await sign_document(owner.sign, statement)).decode()
    refused = await client.post(mine, data={**form, "signature": forged})
    assert refused.status_code == 422, refused.text
    assert "objection_signer" in refused.text
    async with session_maker() as session:
        assert (await session.get_one(Award, award.id)).objections_pending == 0

    signature = base64.b64encode(await sign_document(bidder.sign, statement)).decode()
    filed = await client.post(mine, data={**form, "signature": signature})
    assert filed.status_code == 303, filed.text
    async with session_maker() as session:
        assert (await session.get_one(Award, award.id)).objections_pending == 1
    page = await client.get(mine)
    assert GROUNDS in page.text
    assert "data-awaiting" in page.text

    # The tenderee answers on its page, signed.
    await log_in(owner_browser, owner)
    manage = await owner_browser.get(f"/bidding/manage/tenders/{code}/publicity")
    assert manage.status_code == 200, manage.text
    assert GROUNDS in manage.text
    async with session_maker() as session:
        [objection] = await objections.objections_of(session, award.id)
    answer = "经核查，异议不成立。"
    answer_form = {
        "_csrf_token": csrf_token(manage.text),
        "award": str(award.id),
        "objection_id": str(objection.id),
        "answer": answer,
    }
    got = await owner_browser.post(f"/bidding/manage/tenders/{code}/publicity/answer-statement", data=answer_form)
    assert got.status_code == 200, got.text
    signed = base64.b64encode(await sign_document(owner.sign, got.content)).decode()
    answered = await owner_browser.post(
        f"/bidding/manage/tenders/{code}/publicity/answer", data={**answer_form, "signature": signed}
    )
    assert answered.status_code == 303, answered.text
    async with session_maker() as session:
        assert (await session.get_one(Award, award.id)).objections_pending == 0

    page = await client.get(mine)
    assert answer in page.text
    assert "data-answer" in page.text
    # The tenderee's page is not the bidder's.
    assert (await client.get(f"/bidding/manage/tenders/{code}/publicity")).status_code == 403
