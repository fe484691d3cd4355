"""Objections to the tender documents (实施条例 Art. 22, Order 20 Art. 39): signed, through the
platform, ≥ 10 days before the deadline, answered within 3 days, the tender suspended meanwhile."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import sign_statement_async
from bidding.errors import TenderStateConflict
from bidding.jobs import DocumentObjectionAnswerDue
from bidding.models import Tender, TenderStatus
from bidding.objections import DocumentObjections
from bidding.opening.jobs import TenderDeadline
from bidding.tenders.service import TenderService
from certs.devpki.pki import DevPki
from tests.bidding.factories import Party, bidder_party, ledger_reader, published_tender, tenderee_party
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.errors import ValidationFailed
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.repository import EntryFilter, LedgerRepository
from trading.ledger.service import chain_for, unseal_chain

pytestmark = pytest.mark.usefixtures("dev_lists")

TEXT = "招标文件第三章资格条件限定了注册地，排斥潜在投标人，请予修改。"


async def _signed(party: Party, code: str, uscc: str, text: str) -> str:
    signature = await sign_statement_async(fmt.document_objection_statement(code, uscc, text), party.sign.signing())
    return base64.b64encode(signature).decode()


async def _download(session: AsyncSession, settings: Settings, store: FileStore, bidder: Party, tender: Tender) -> None:
    tenders = TenderService(session, settings, store)
    view = await tenders.detail(tender.project_code, Actor.anonymous())
    await tenders.download(bidder.actor(), tender, await tenders.document(tender, view.documents[0].id))


async def _actions(session: AsyncSession, chain: str, action: str) -> int:
    rows = await LedgerRepository(session).list_entries(
        ledger_reader(), EntryFilter(chain=chain, action=action), limit=50
    )
    return len(list(rows))


async def test_document_objections_are_signed_timely_answered_and_suspend_the_tender(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    other = await bidder_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, owner)
    code = tender.project_code
    assert tender.deadline is not None
    original_deadline = tender.deadline

    async with session_maker() as session:
        await _download(session, settings, store, bidder, tender)
        objections = DocumentObjections(session, settings)
        # Signed by another organisation's certificate: refused, naming the field.
        with pytest.raises(ValidationFailed) as forged:
            await objections.file(bidder.actor(), tender, TEXT, await _signed(other, code, bidder.uscc, TEXT))
        assert (forged.value.field, forged.value.rule) == ("signature", "signer-not-objector")
        objection = await objections.file(bidder.actor(), tender, TEXT, await _signed(bidder, code, bidder.uscc, TEXT))
        assert objection.answer_due == objection.filed_at + timedelta(days=3)
        # The filing is on the sealed chain: who objected is a prospective bidder.
        assert await _actions(session, chain_for(code, sealed=True), "bidding.document_objection_filed") == 0
        [listed] = await objections.for_owner(owner.actor(), tender)
        assert listed.text == TEXT
        await session.commit()

    # Four days on: the answer limit passed, the sweep records it once.
    with use_clock(ShiftedClock(timedelta(days=4))):
        await run_sweep(session_maker, [DocumentObjectionAnswerDue()])
        await run_sweep(session_maker, [DocumentObjectionAnswerDue()])
        async with session_maker() as session:
            assert await _actions(session, chain_for(code), "bidding.document_objection_overdue") == 1
    # At the deadline the unanswered objection holds the tender open (suspended, not closed).
    with use_clock(ShiftedClock(timedelta(days=22))):
        await run_sweep(session_maker, [TenderDeadline(store)])
        async with session_maker() as session:
            row = await session.get_one(Tender, tender.id)
            assert row.status is TenderStatus.PUBLISHED
    # The answer moves the deadline by as long as the objection was pending (five days).
    with use_clock(ShiftedClock(timedelta(days=5))):
        async with session_maker() as session:
            objections = DocumentObjections(session, settings)
            answered = await objections.answer(owner.actor(), tender, objection.id, "已发布澄清，删除注册地限制。")
            moved = (answered.answered_at or objection.filed_at) - objection.filed_at
            await session.commit()
            row = await session.get_one(Tender, tender.id)
            assert row.deadline == original_deadline + moved
            assert moved >= timedelta(days=5)
            with pytest.raises(TenderStateConflict, match="answered already"):
                await objections.answer(owner.actor(), tender, objection.id, "再答")
            [mine] = await objections.mine(bidder.actor(), tender)
            assert mine.answer == "已发布澄清，删除注册地限制。"
            assert mine.overdue_at is not None
            # The filing is on the ledger, visible once the chain is unsealed.
            await unseal_chain(session, code, await clock.now(session))
            assert await _actions(session, chain_for(code, sealed=True), "bidding.document_objection_filed") == 1
            await session.rollback()


async def test_document_objections_close_ten_days_before_the_deadline(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
) -> None:
    """实施条例 Art. 22: at least 10 days before the bid deadline."""
    owner = await tenderee_party(session_maker, settings, dev_pki)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, owner)
    async with session_maker() as session:
        await _download(session, settings, store, bidder, tender)
        await session.commit()
    with use_clock(ShiftedClock(timedelta(days=11, hours=1))):
        async with session_maker() as session:
            with pytest.raises(TenderStateConflict) as late:
                await DocumentObjections(session, settings).file(
                    bidder.actor(), tender, TEXT, await _signed(bidder, tender.project_code, bidder.uscc, TEXT)
                )
            assert late.value.rule == "objection_days_before_deadline"
