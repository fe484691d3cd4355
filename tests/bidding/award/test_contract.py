"""The online contract (合同) on PostgreSQL, real certificates and real PDFs: drafted after the
award notice from the award only; the winner signs first, then the tenderee, on the same PDF (two
incremental PAdES signatures, both verified by pyHanko and poppler's ``pdfsig``); the performance
security the tender requires is recorded by the winner before the tenderee may sign; the bid
securities' release event leaves once, after the commit; each bad signature is refused with the
rule named and nothing stored; the sweep reminds both parties once per reminder and warns the
supervisor once after the deadline.

The award notices are the real ones (`issue_notices`: drafted, signed by the tenderee, issued by
`bidding.award.notices`).
"""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import contract as contracts
from bidding.award import notices, publicity
from bidding.award.errors import AwardRefused
from bidding.award.jobs import AwardDue, ContractDue
from bidding.award.models import Award, Contract
from bidding.award.states import AwardEvent, AwardState
from bidding.client.sdk import sign_contract as client_sign
from bidding.client.sdk import sign_notice as client_sign_notice
from bidding.evaluation.report.service import report_pdf
from bidding.models import Bid
from certs.devpki.pki import DevPki
from certs.sign.pades import sign_pdf, verify_pdf
from certs.trustlist.model import Usage
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_notices import bind_certificate
from tests.bidding.award.world import (
    award_hook,
    award_of,
    confirm_winner,
    db_now,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    open_publicity,
    settings,
    signed_report,
    store,
)
from tests.bidding.evaluation.report.test_report_signing import pdf_text, pdfsig
from tests.bidding.evaluation.report.world import World
from tests.bidding.factories import Party, bidder_party, issue_certificate, ledger_entries, party, tenderee_party
from tests.trading.parties.factories import PASSWORD, Account, new_username
from trading.kernel import clock, tasks
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.uow import transaction
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import RecordingPublisher
from trading.ledger.service import chain_for
from trading.notifications.models import Notice
from trading.parties.certificates.trust import trust_context
from trading.parties.models import Organisation, OrganisationKind
from trading.parties.schemas import UserCreate
from trading.parties.service import PartiesService

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]


SPECIAL_TERMS = "第十条 工程质量标准：合格。\n第十一条 预付款：合同价款的10%，签约后14日内支付。"


async def issue_notices(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    tsa: LocalTsa,
    award: Award,
    owner: Party,
) -> None:
    """The real notices (`bidding.award.notices`): the tenderee's certificate bound to its user, the
    drafts made, each signed as ``ggzy bid sign-notice`` signs it and uploaded; the last one issues.
    """
    await bind_certificate(session_maker, owner)
    async with transaction(session_maker, lock=True) as session:
        draft_ids = [d.id for d in await notices.prepare_drafts(session, store, owner.actor(), award.id)]
    for draft_id in draft_ids:
        async with session_maker() as session:
            draft = await notices.draft_pdf(session, store, owner.actor(), draft_id)
        signed = await client_sign_notice(draft, owner.sign.signing(), tsa=tsa)
        async with transaction(session_maker, lock=True) as session:
            await notices.sign_notice(session, settings, store, owner.actor(), draft_id, signed)


async def winner_party(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, pki: DevPki, award: Award
) -> Party:
    """A user in the awarded organisation (the world's bidders have none) and a certificate naming it."""
    async with session_maker() as session:
        organisation = await session.get_one(Organisation, award.chosen_organisation_id)
        user, membership = await PartiesService(session, settings).create_user(
            UserCreate(
                username=new_username("bidder"),
                display_name="中标人经办人",
                password=PASSWORD,
                organisation_id=organisation.id,
                role=Role.BIDDER,
            ),
            actor=Actor.system(),
        )
        await session.commit()
        account = Account(user.id, organisation.id, membership.id, user.username)
        return Party(
            account,
            Role.BIDDER,
            organisation.uscc,
            organisation.name,
            issue_certificate(pki, organisation.name, organisation.uscc),
        )


async def awarded(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    tsa: LocalTsa,
    pki: DevPki,
    owner: Party,
) -> tuple[World, Award]:
    """A signed report, the publicity opened and closed by the sweep, the first candidate confirmed."""
    world = await signed_report(session_maker, settings, store, tsa, pki, owner)
    award = await award_of(session_maker, world)
    opened = await open_publicity(session_maker, settings, award, owner, owner)
    now = await db_now(session_maker)
    with use_clock(ShiftedClock(opened.closes_at - now + timedelta(seconds=1))):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1
    award = await confirm_winner(session_maker, settings, award, owner, str(world.bids[0]))
    assert award.state is AwardState.AWARDED
    return world, award


async def _draft(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    award: Award,
    **kwargs: object,
) -> Contract:
    async with transaction(session_maker, lock=True) as session:
        return await contracts.draft_contract(session, store, owner.actor(), award.id, **kwargs)  # type: ignore[arg-type]


async def current(
    session_maker: async_sessionmaker[AsyncSession], store: FileStore, actor: Party, award: Award
) -> bytes:
    async with session_maker() as session:
        return await contracts.contract_pdf(session, store, actor.actor(), award.id)


async def _sign(  # noqa: PLR0917 - who uploads, with whose certificate, on what
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    tsa: LocalTsa,
    award: Award,
    uploader: Party,
    signer: Party | None = None,
    pdf: bytes | None = None,
) -> Contract:
    """Download the current revision, sign it as ``ggzy bid sign-contract`` does, upload it."""
    base = pdf if pdf is not None else await current(session_maker, store, uploader, award)
    signed = await client_sign(base, (signer or uploader).sign.signing(), tsa=tsa)
    async with transaction(session_maker, lock=True) as session:
        return await contracts.sign_contract(
            session, settings, store=store, actor=uploader.actor(), award_id=award.id, pdf=signed
        )


async def report(session_maker: async_sessionmaker[AsyncSession], store: FileStore, world: World) -> bytes:
    """Some real PDF to sign (the signed evaluation report), for an upload before any contract exists."""
    async with session_maker() as session:
        return await report_pdf(session, store, world.signers[0].actor, world.evaluation_id)


async def _contract_row(session_maker: async_sessionmaker[AsyncSession], award: Award) -> Contract | None:
    async with session_maker() as session:
        return await contracts.contract_of(session, award.id)


async def test_the_winner_then_the_tenderee_sign_and_both_signatures_verify(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
    publisher: RecordingPublisher,
    tmp_path: Path,
) -> None:
    del dev_lists
    owner = await tenderee_party(session_maker, settings, dev_pki)
    outsider = await bidder_party(session_maker, settings, dev_pki)
    world, award = await awarded(session_maker, settings, store, dev_tsa, dev_pki, owner)
    winner = await winner_party(session_maker, settings, dev_pki, award)
    chain = chain_for(world.project_code)

    # Before the award notice: neither drafting nor signing (the state machine's rule).
    with pytest.raises(AwardRefused) as early_draft:
        await _draft(session_maker, settings, store, owner, award)
    assert (early_draft.value.field, early_draft.value.rule) == ("event", "contract_after_notice")
    with pytest.raises(AwardRefused) as early_sign:
        await _sign(
            session_maker, settings, store, dev_tsa, award, winner, pdf=await report(session_maker, store, world)
        )
    assert early_sign.value.rule == "contract_after_notice"

    await issue_notices(session_maker, settings, store, dev_tsa, award, owner)

    # Only the tenderee drafts; a price other than the award's is refused, nothing stored.
    with pytest.raises(PermissionDenied):
        await _draft(session_maker, settings, store, winner, award)
    with pytest.raises(AwardRefused) as cheaper:
        await _draft(session_maker, settings, store, owner, award, price="1179999.99")
    assert (cheaper.value.field, cheaper.value.rule) == ("price", "contract_price")
    with pytest.raises(AwardRefused) as greedy:
        await _draft(session_maker, settings, store, owner, award, performance_security="200000")
    assert greedy.value.rule == "performance_security_ratio"
    assert await _contract_row(session_maker, award) is None

    drafted = await _draft(
        session_maker, settings, store, owner, award, performance_security="59000", special_terms=SPECIAL_TERMS
    )
    assert drafted.price == Decimal("1180000.00")
    assert drafted.draft["winner"]["uscc"] == winner.uscc
    assert drafted.draft["tenderee"]["uscc"] == owner.uscc
    assert drafted.draft["lots"] == [{"code": "01", "name": "第一标段"}]
    with pytest.raises(AwardRefused) as twice:
        await _draft(session_maker, settings, store, owner, award)
    assert twice.value.rule == "contract_drafted_once"
    text = pdf_text(await current(session_maker, store, winner, award), tmp_path)
    for expected in (
        "合同",
        owner.name,
        owner.uscc,
        winner.name,
        winner.uscc,
        "1,180,000.00",
        "壹佰壹拾捌万元整",
        "第十条工程质量标准",
        "59,000.00",
    ):
        assert expected in text, expected
    # Someone else may not read it before it is signed.
    with pytest.raises(PermissionDenied):
        await current(session_maker, store, outsider, award)

    # The tenderee may not sign first; another organisation's certificate is refused; an altered
    # PDF is refused; a contract whose price no longer matches the award is refused.
    with pytest.raises(AwardRefused) as first:
        await _sign(session_maker, settings, store, dev_tsa, award, owner)
    assert (first.value.field, first.value.rule) == ("signer", "winner_signs_first")
    with pytest.raises(AwardRefused) as stranger:
        await _sign(session_maker, settings, store, dev_tsa, award, winner, signer=outsider)
    assert (stranger.value.field, stranger.value.rule) == ("signer", "contract_signer")
    original = await current(session_maker, store, winner, award)
    at = original.index(b"stream\n") + 20  # a byte of the first page's content, the structure intact
    altered = original[:at] + bytes([original[at] ^ 0x01]) + original[at + 1 :]
    assert altered != original
    with pytest.raises(AwardRefused) as changed:
        await _sign(session_maker, settings, store, dev_tsa, award, winner, pdf=altered)
    assert (changed.value.field, changed.value.rule) == ("pdf", "incremental-update-only")
    async with session_maker() as session:
        row = await session.get_one(Contract, drafted.id)
        row.price = Decimal("1180000.01")
        await session.commit()
    with pytest.raises(AwardRefused) as price:
        await _sign(session_maker, settings, store, dev_tsa, award, winner)
    assert (price.value.field, price.value.rule) == ("price", "contract_price")
    async with session_maker() as session:
        row = await session.get_one(Contract, drafted.id)
        row.price = Decimal("1180000.00")
        await session.commit()
    untouched = await _contract_row(session_maker, award)
    assert untouched is not None
    assert untouched.sha256 == drafted.sha256
    assert untouched.winner_signed_at is None
    async with session_maker() as session:
        assert await ledger_entries(session, chain, "award.contract_winner_signed") == []

    # The winner signs.
    signed_once = await _sign(session_maker, settings, store, dev_tsa, award, winner)
    assert signed_once.winner_signed_at is not None
    assert signed_once.tenderee_signed_at is None
    twice_signed = await sign_pdf(
        await current(session_maker, store, winner, award),
        winner.sign.signing(),
        tsa=dev_tsa,
        field_name="Again",
        lta=False,
    )
    with pytest.raises(AwardRefused) as again:
        async with transaction(session_maker, lock=True) as session:
            await contracts.sign_contract(
                session, settings, store=store, actor=winner.actor(), award_id=award.id, pdf=twice_signed
            )
    assert again.value.rule == "contract_signs_once"

    # The tender requires a performance security: the tenderee may not sign before it is recorded.
    with pytest.raises(AwardRefused) as no_security:
        await _sign(session_maker, settings, store, dev_tsa, award, owner)
    assert (no_security.value.field, no_security.value.rule) == (
        "performance_security",
        "performance_security_required",
    )
    async with transaction(session_maker, lock=True) as session:
        with pytest.raises(AwardRefused) as short:
            await contracts.record_performance_security(
                session, winner.actor(), award.id, amount="58999.99", form="bank_guarantee", reference="BG-1"
            )
        assert short.value.rule == "performance_security_amount"
    async with transaction(session_maker, lock=True) as session:
        await contracts.record_performance_security(
            session,
            winner.actor(),
            award.id,
            amount="59000",
            form="bank_guarantee",
            reference="中国银行保函 BG-2026-001",
        )
    assert [m for m in publisher.published if m.name == contracts.RELEASE_TASK] == []

    # The tenderee signs: the contract is complete, published, and the release event leaves after the commit.
    base = await current(session_maker, store, owner, award)
    final_upload = await client_sign(base, owner.sign.signing(), tsa=dev_tsa)
    async with transaction(session_maker, lock=True) as session:
        done = await contracts.sign_contract(
            session, settings, store=store, actor=owner.actor(), award_id=award.id, pdf=final_upload
        )
        held = [m for m in tasks.pending(session) if m.name == contracts.RELEASE_TASK]
        assert len(held) == 1
        assert [m for m in publisher.published if m.name == contracts.RELEASE_TASK] == []
    released = [m for m in publisher.published if m.name == contracts.RELEASE_TASK]
    assert len(released) == 1
    event = released[0].kwargs
    assert event["tender"] == world.project_code
    assert event["contract_sha256"] == done.sha256
    async with session_maker() as session:
        usccs = sorted(
            (
                await session.scalars(
                    sa.select(Organisation.uscc)
                    .join(Bid, Bid.organisation_id == Organisation.id)
                    .where(Bid.tender_id == world.tender_id)
                )
            ).all()
        )
    assert sorted(b["uscc"] for b in event["bidders"]) == usccs
    assert len(usccs) == 3
    assert winner.uscc in usccs

    assert done.published_at is not None
    assert done.tenderee_signed_at == done.published_at
    assert done.deadline_state == "signed_on_time"
    async with session_maker() as session:
        row_award = await session.get_one(Award, award.id)
        assert row_award.state is AwardState.CONTRACT_SIGNED
        steps = [s.event for s in await publicity.steps_of(session, award.id)]
        assert steps[-2:] == [AwardEvent.ISSUE_NOTICES, AwardEvent.SIGN_CONTRACT]
        [signed_entry] = await ledger_entries(session, chain, "award.contract_signed")
        assert signed_entry.summary["pdfSha256"] == done.sha256
        assert len(await ledger_entries(session, chain, "award.contract_winner_signed")) == 1
        assert len(await ledger_entries(session, chain, "award.bid_securities_released")) == 1
        assert len(await ledger_entries(session, chain, "award.performance_security_recorded")) == 1

    # Both signatures verify, the first not invalidated by the second: pyHanko and pdfsig.
    final = await current(session_maker, store, outsider, award)  # published: anyone reads it
    assert final == final_upload
    assert len(PdfFileReader(io.BytesIO(final)).embedded_regular_signatures) == 2
    async with session_maker() as session:
        context = await trust_context(session, settings, await clock.now(session))
        reports = await verify_pdf(final, context.validator, usage=Usage.SEAL)
    assert [r.passed for r in reports] == [True, True]
    assert [r.signer_certificate_sha256 for r in reports] == [done.winner_signer_sha256, done.tenderee_signer_sha256]
    out = pdfsig(final, tmp_path, dev_pki)
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 2, out
    assert "Signature #3" not in out


async def test_the_sweep_reminds_both_parties_once_and_warns_the_supervisor_once_after_the_deadline(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
) -> None:
    del dev_lists
    owner = await tenderee_party(session_maker, settings, dev_pki)
    department = OrganisationKind.SUPERVISORY_DEPARTMENT
    supervisor = await party(session_maker, settings, dev_pki, Role.SUPERVISOR, kind=department, name="测试监督局")
    world, award = await awarded(session_maker, settings, store, dev_tsa, dev_pki, owner)
    await issue_notices(session_maker, settings, store, dev_tsa, award, owner)
    drafted = await _draft(session_maker, settings, store, owner, award)
    assert drafted.performance_security is None
    now = await db_now(session_maker)
    async with session_maker() as session:
        notice_at = await contracts.notice_issued_at(session, await session.get_one(Award, award.id))
    assert notice_at is not None
    # 30 days from the notice, moved past a rest day (民法典 Art. 203) at most a few days.
    assert timedelta(days=30) <= drafted.due_at - notice_at <= timedelta(days=38)
    assert drafted.next_check == drafted.due_at - timedelta(days=7)

    async def notices(template: str, organisation_id: uuid.UUID) -> int:
        async with session_maker() as session:
            count = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Notice)
                .where(Notice.recipient_id == organisation_id, Notice.template == template)
            )
            return int(count or 0)

    sweep = [ContractDue()]
    with use_clock(ShiftedClock(drafted.due_at - now - timedelta(days=7, seconds=2))):
        assert (await run_sweep(session_maker, sweep)).total_changed == 0
    with use_clock(ShiftedClock(drafted.due_at - now - timedelta(days=7) + timedelta(seconds=1))):
        assert (await run_sweep(session_maker, sweep)).total_changed == 1
        assert (await run_sweep(session_maker, sweep)).total_changed == 0
    assert await notices(contracts.REMINDER_TEMPLATE, drafted.winner_organisation_id) == 1
    assert await notices(contracts.REMINDER_TEMPLATE, drafted.tenderee_organisation_id) == 1
    # The sweep comes late, after the 3- and 1-day points: one reminder (the latest), once.
    with use_clock(ShiftedClock(drafted.due_at - now - timedelta(hours=12))):
        assert (await run_sweep(session_maker, sweep)).total_changed == 1
        assert (await run_sweep(session_maker, sweep)).total_changed == 0
    assert await notices(contracts.REMINDER_TEMPLATE, drafted.winner_organisation_id) == 2
    assert await notices(contracts.REMINDER_TEMPLATE, drafted.tenderee_organisation_id) == 2
    assert await notices(contracts.OVERDUE_TEMPLATE, supervisor.organisation_id) == 0

    later = drafted.due_at - now + timedelta(seconds=1)
    with use_clock(ShiftedClock(later)):
        assert (await run_sweep(session_maker, sweep)).total_changed == 1
        assert (await run_sweep(session_maker, sweep)).total_changed == 0
        async with session_maker() as session:
            overdue = await contracts.overdue_contracts(session, await clock.now(session))
    assert await notices(contracts.OVERDUE_TEMPLATE, supervisor.organisation_id) == 1
    assert [o.tender_code for o in overdue] == [world.project_code]
    async with session_maker() as session:
        row = await session.get_one(Contract, drafted.id)
        assert row.warned_at is not None
        assert row.deadline_state == "overdue"
        assert row.next_check is None
        assert sorted(row.reminders_sent["days_before"]) == [1, 7]
        assert len(await ledger_entries(session, chain_for(world.project_code), "award.contract_overdue")) == 1
