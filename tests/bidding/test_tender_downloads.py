"""Downloads, questions, their secrecy until the deadline, and the deadline sweep: TenderService
against the real database, PKI and trust list.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.errors import SealedUntilDeadline, TenderStateConflict
from bidding.jobs import SWEEP_HANDLERS
from bidding.models import DocumentDownload, Tender, TenderStatus
from bidding.opening.jobs import SWEEP_HANDLERS as OPENING_SWEEP_HANDLERS
from bidding.opening.jobs import TenderDeadline
from bidding.tenders.service import TenderService
from certs.devpki.pki import DevPki
from tests.bidding.factories import (
    TENDER_DOCUMENT,
    Party,
    agency_party,
    bidder_party,
    draft_tender,
    ledger_entries,
    published_tender,
)
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.service import (
    chain_for,
    create_checkpoint,
    platform_private_key,
    platform_public_keys,
    published_checkpoint,
    verify_ledger,
)

pytestmark = pytest.mark.usefixtures("dev_lists")


# --- downloads, questions, secrecy and the deadline sweep ----------------------------------------


async def test_downloads_are_secret_until_the_sweep_closes_the_tender(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    bidder: Party,
    dev_pki: DevPki,
) -> None:
    tender = await published_tender(session_maker, settings, store, owner)
    other = await bidder_party(session_maker, settings, dev_pki, ca="anhui")
    async with session_maker() as session:
        tenders = TenderService(session, settings, store)
        [document] = (await tenders.detail(tender.project_code, Actor.anonymous())).documents
        download_row, served = await tenders.download(bidder.actor(), tender, document)
        assert served.path.read_bytes() == TENDER_DOCUMENT
        assert download_row.organisation_id == bidder.organisation_id
        await tenders.download(bidder.actor(), tender, document)
        await tenders.download(other.actor(), tender, document)
        await tenders.ask(other.actor(), tender, "请问资格要求？")
        await session.commit()

    supervisor = Actor(kind=ActorKind.USER, username="supervisor", roles=frozenset({Role.SUPERVISOR}))
    admin = Actor(kind=ActorKind.USER, username="admin", roles=frozenset({Role.ADMIN}))
    agency = await agency_party(session_maker, settings, dev_pki)
    for who in (owner.actor(), supervisor, admin):
        async with session_maker() as session:
            refusal = await TenderService(session, settings, store).downloads(who, tender)
            assert isinstance(refusal, SealedUntilDeadline)
            assert (refusal.status_code, refusal.rule) == (403, "sealed_until_deadline")
            await session.commit()  # what the request does: the refusal's record commits
    async with session_maker() as session:
        with pytest.raises(PermissionDenied):  # not this tender's agency
            await TenderService(session, settings, store).downloads(agency.actor(), tender)

    async with session_maker() as session:
        chain = chain_for(tender.project_code)
        refused = await ledger_entries(session, chain, "bidding.downloads_list_refused")
        assert sorted(entry.actor_label for entry in refused) == sorted(["admin", "supervisor", owner.account.username])
        # Sealed: no reader sees who downloaded or asked, the supervisor neither.
        assert await ledger_entries(session, chain_for(tender.project_code, sealed=True)) == []
        owner_view = await TenderService(session, settings, store).questions_for_owner(owner.actor(), tender)
        assert [q.text for q in owner_view] == ["请问资格要求？"]

    with use_clock(ShiftedClock(timedelta(days=21, minutes=1))):
        first = await run_sweep(session_maker, [TenderDeadline(store)])
        second = await run_sweep(session_maker, [*SWEEP_HANDLERS, *OPENING_SWEEP_HANDLERS])
        async with session_maker() as session:
            row = await session.get_one(Tender, tender.id)
            listing = await TenderService(session, settings, store).downloads(owner.actor(), row)
            sealed = await ledger_entries(session, chain_for(tender.project_code, sealed=True))
            [closed] = await ledger_entries(session, chain_for(tender.project_code), "bidding.tender_closed")
    assert first.changed == {"bidding.tender_deadline": 1}
    assert second.changed == {}
    assert second.failed == {}
    assert row.status is TenderStatus.FAILED  # closed, then 流标: no bids (bidding.opening)
    assert row.next_check is None
    assert row.closed_at is not None
    assert closed.summary == {"bids": 0, "downloads": 3, "downloaders": 2, "abandoned_uploads": 0}
    assert isinstance(listing, list)
    counts = {line.organisation_id: line.downloads for line in listing}
    assert counts == {bidder.organisation_id: 2, other.organisation_id: 1}
    assert sorted(entry.action for entry in sealed) == [
        "bidding.document_downloaded",
        "bidding.document_downloaded",
        "bidding.document_downloaded",
        "bidding.question_asked",
    ]
    assert {entry.actor_label for entry in sealed} == {bidder.account.username, other.account.username}


async def test_questions_need_a_download_and_an_open_tender(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    bidder: Party,
) -> None:
    tender = await published_tender(session_maker, settings, store, owner)
    async with session_maker() as session:
        with pytest.raises(PermissionDenied) as refused:
            await TenderService(session, settings, store).ask(bidder.actor(), tender, "能否延期？")
        assert refused.value.rule == "tender_document_downloaded"
    with use_clock(ShiftedClock(timedelta(days=22))):
        async with session_maker() as session:
            with pytest.raises(TenderStateConflict):
                await TenderService(session, settings, store).ask(bidder.actor(), tender, "还来得及吗？")


async def test_drafts_are_neither_downloadable_nor_visible(
    *,
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    bidder: Party,
) -> None:
    tender = await draft_tender(session_maker, settings, store, owner)
    tenders = TenderService(session, settings, store)
    own = await tenders.detail(tender.project_code, owner.actor())
    [document] = own.documents
    assert document.published_at is None
    with pytest.raises(TenderStateConflict):
        await tenders.download(bidder.actor(), tender, document)
    page = await tenders.search(bidder.actor(), q=tender.project_code)
    assert page.items == []
    assert [t.id for t in (await tenders.search(owner.actor(), q=tender.project_code)).items] == [tender.id]
    assert await session.scalar(sa.select(sa.func.count(DocumentDownload.id))) == 0


async def test_a_drafts_project_code_stays_out_of_public_checkpoints_until_published(
    *,
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
) -> None:
    """A draft answers 404 to non-owners; the public checkpoint must not reveal it either."""
    tender = await draft_tender(session_maker, settings, store, owner)
    key = platform_private_key(settings)
    while_draft = await create_checkpoint(session, private_key=key)
    assert while_draft is not None
    draft_copy = json.loads(json.dumps(published_checkpoint(while_draft)))
    assert tender.project_code not in json.dumps(draft_copy)
    assert while_draft.sealed_heads is not None
    assert while_draft.sealed_heads[chain_for(tender.project_code)]["seq"] == 2  # drafted, document added
    await session.commit()

    published = await TenderService(session, settings, store).publish(owner.actor(), tender)
    await session.commit()
    after = await create_checkpoint(session, private_key=key)
    assert after is not None
    after_copy = json.loads(json.dumps(published_checkpoint(after)))
    head = after_copy["heads"][chain_for(published.project_code)]
    assert (head["from"], head["seq"]) == (1, 3)  # the draft's history too, now the tender is public
    report = await verify_ledger(session, public_keys=platform_public_keys(settings), against=[draft_copy, after_copy])
    assert report.ok, report.summary()


async def test_cancelled_tender_is_not_closed_by_the_sweep(
    *, session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore, owner: Party
) -> None:
    tender = await published_tender(session_maker, settings, store, owner)
    async with session_maker() as session:
        cancelled = await TenderService(session, settings, store).cancel(owner.actor(), tender, "项目取消")
        await session.commit()
    assert cancelled.status is TenderStatus.CANCELLED
    assert cancelled.next_check is None
    with use_clock(ShiftedClock(timedelta(days=22))):
        report = await run_sweep(session_maker, [TenderDeadline(store)])
    assert report.changed == {}
