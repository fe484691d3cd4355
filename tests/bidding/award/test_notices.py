"""The award's notices as signed documents on PostgreSQL: refused before the award; drafted in
Chinese for the winner and every other bidder; each signed by the tenderee's certificate with an
e-seal (``ggzy bid sign-notice``'s code), verified by poppler's ``pdfsig`` and by pyHanko; the last
signature issues them (the state machine, ledger, inbox); the recipient's first open records the
read receipt, once; refusals (another organisation's certificate, an altered draft, two
signatures, another organisation's notice) store nothing.
"""

from __future__ import annotations

import asyncio
import io
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from asn1crypto import x509 as asn1_x509
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import notices, publicity
from bidding.award.errors import AwardRefused
from bidding.award.jobs import AwardDue
from bidding.award.models import Award, AwardNotice, AwardNoticeDraft, NoticeKind
from bidding.award.states import AwardEvent, AwardState
from bidding.client import cli_hall
from bidding.client.cli import bid
from bidding.client.sdk import sign_notice
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
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
from tests.bidding.factories import Party, ledger_entries, tenderee_party
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.uow import transaction
from trading.kernel.errors import NotFound
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.service import chain_for
from trading.notifications.models import Notice
from trading.parties.models import CertificateBinding, Organisation, PartyKind
from trading.parties.schemas import UserCreate
from trading.parties.service import PartiesService

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]

pytestmark = pytest.mark.usefixtures("dev_lists")


@dataclass(frozen=True)
class Awarded:
    world: World
    award: Award
    owner: Party


async def bind_certificate(session_maker: async_sessionmaker[AsyncSession], holder: Party) -> None:
    """The holder's signing certificate bound to its account (as the binding page does)."""
    cert = holder.sign.certificate
    async with session_maker() as session:
        session.add(
            CertificateBinding(
                id=uuid.uuid4(),
                user_id=holder.account.user_id,
                certificate_sha256=cert.fingerprint(hashes.SHA256()).hex(),
                certificate=cert.public_bytes(serialization.Encoding.DER),
                subject=cert.subject.rfc4514_string(),
                issuer=cert.issuer.rfc4514_string(),
                serial_number=format(cert.serial_number, "x"),
                not_after=cert.not_valid_after_utc,
                ca_name="jiangsu",
                party_kind=PartyKind.ORGANISATION,
                organisation_id=holder.organisation_id,
                bound_at=await clock.now(session),
            )
        )
        await session.commit()


async def member_of(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, organisation_id: uuid.UUID
) -> Actor:
    """A user of an existing (bidder) organisation, as the service layer sees it."""
    async with session_maker() as session:
        user, _ = await PartiesService(session, settings).create_user(
            UserCreate(
                username=f"bidder-{uuid.uuid4().hex[:8]}",
                display_name="投标人用户",
                password="Correct-Horse-Battery-9",
                organisation_id=organisation_id,
                role=Role.BIDDER,
            ),
            actor=Actor.system(),
        )
        await session.commit()
    return Actor(
        kind=ActorKind.USER,
        user_id=user.id,
        username=user.username,
        organisation_id=organisation_id,
        roles=frozenset({Role.BIDDER}),
    )


async def awarded(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    tsa: LocalTsa,
    pki: DevPki,
    *,
    confirm: bool = True,
) -> Awarded:
    """A tender whose publicity closed and (``confirm``) whose first candidate is confirmed."""
    owner = await tenderee_party(session_maker, settings, pki)
    await bind_certificate(session_maker, owner)
    world = await signed_report(session_maker, settings, store, tsa, pki, owner)
    award = await award_of(session_maker, world)
    opened = await open_publicity(session_maker, settings, award, owner, owner)
    now = await db_now(session_maker)
    with use_clock(ShiftedClock(opened.closes_at - now + timedelta(seconds=1))):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1
    if confirm:
        award = await confirm_winner(session_maker, settings, award, owner, str(world.bids[0]))
    return Awarded(world, award, owner)


async def prepare(session_maker: async_sessionmaker[AsyncSession], store: FileStore, case: Awarded) -> list[uuid.UUID]:
    async with transaction(session_maker, lock=True) as session:
        drafts = await notices.prepare_drafts(session, store, case.owner.actor(), case.award.id)
        return [d.id for d in drafts]


async def draft_bytes(
    session_maker: async_sessionmaker[AsyncSession], store: FileStore, case: Awarded, draft_id: uuid.UUID
) -> bytes:
    async with session_maker() as session:
        return await notices.draft_pdf(session, store, case.owner.actor(), draft_id)


async def upload(  # noqa: PLR0917 - who uploads what
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    case: Awarded,
    draft_id: uuid.UUID,
    pdf: bytes,
) -> AwardNoticeDraft:
    async with transaction(session_maker, lock=True) as session:
        return await notices.sign_notice(session, settings, store, case.owner.actor(), draft_id, pdf)


async def pyhanko_valid(pdf: bytes, pki: DevPki) -> bool:
    roots = [pki.jiangsu_root.certificate, pki.platform_root.certificate]
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER)) for root in roots],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    [embedded] = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_regular_signatures
    status = await async_validate_pdf_signature(embedded, signer_validation_context=context)
    return bool(status.intact and status.valid and status.trusted and status.coverage is not None)


async def test_notices_are_drafted_signed_by_the_tenderee_verified_issued_and_read_once(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    case = await awarded(session_maker, settings, store, dev_tsa, dev_pki)
    draft_ids = await prepare(session_maker, store, case)
    assert draft_ids == await prepare(session_maker, store, case)  # drafted once
    async with session_maker() as session:
        drafts = [await session.get_one(AwardNoticeDraft, d) for d in draft_ids]
        winner = await session.get_one(Organisation, case.award.chosen_organisation_id)
    assert [d.kind for d in drafts] == [NoticeKind.AWARD, NoticeKind.RESULT, NoticeKind.RESULT]
    assert drafts[0].recipient_organisation_id == winner.id
    assert len({d.recipient_organisation_id for d in drafts}) == 3

    text = pdf_text(await draft_bytes(session_maker, store, case, drafts[0].id), tmp_path)
    for expected in ("中标通知书", winner.name, winner.uscc, "1180000.00", case.world.project_code, "三十日内"):
        assert expected in text, expected
    result_text = pdf_text(await draft_bytes(session_maker, store, case, drafts[1].id), tmp_path)
    assert "中标结果通知书" in result_text
    assert winner.name in result_text

    for index, draft in enumerate(drafts):
        pdf = await sign_notice(
            await draft_bytes(session_maker, store, case, draft.id), case.owner.sign.signing(), tsa=dev_tsa
        )
        stored = await upload(session_maker, settings, store, case, draft.id, pdf)
        assert stored.signed_at is not None
        async with session_maker() as session:
            state = (await session.get_one(Award, case.award.id)).state
        assert state is (AwardState.NOTICES_ISSUED if index == len(drafts) - 1 else AwardState.AWARDED)

    async with session_maker() as session:
        issued = list(await notices.notices_of(session, case.award.id))
        chain = chain_for(case.world.project_code)
        assert len(await ledger_entries(session, chain, "award.notice_signed")) == 3
        per_notice = await ledger_entries(session, chain, "award.notice_issued")
        [all_issued] = await ledger_entries(session, chain, "award.notices_issued")
        steps = [s.event for s in await publicity.steps_of(session, case.award.id)]
        inbox = (await session.scalars(sa.select(Notice).where(Notice.template == notices.ISSUED_TEMPLATE))).all()
    assert steps[-1] is AwardEvent.ISSUE_NOTICES
    assert len(issued) == 3
    assert sorted(e.summary["pdfSha256"] for e in per_notice) == sorted(n.sha256 for n in issued)
    assert sorted(all_issued.summary["notices"]) == sorted(str(n.id) for n in issued)
    assert {n.recipient_id for n in inbox} >= {n.recipient_organisation_id for n in issued}
    owner_sha = case.owner.sign.certificate.fingerprint(hashes.SHA256()).hex()

    # Every notice: the tenderee's one signature, valid for pdfsig and for pyHanko, with the seal.
    for notice in issued:
        assert notice.signer_sha256 == owner_sha
        pdf = await notices.notice_pdf(store, notice)
        folder = tmp_path / str(notice.id)
        folder.mkdir()
        report = pdfsig(pdf, folder, dev_pki)
        assert "Signature Validation: Signature is Valid." in report, report
        assert "Total document signed" in report, report
        assert await pyhanko_valid(pdf, dev_pki)
        assert b"/Subtype /Image" in pdf or b"/Subtype/Image" in pdf  # the e-seal's image

    # The recipient's first open records the receipt; the second changes nothing.
    award_notice = next(n for n in issued if n.kind is NoticeKind.AWARD)
    reader = await member_of(session_maker, settings, award_notice.recipient_organisation_id)
    for _ in range(2):
        async with transaction(session_maker, lock=True) as session:
            opened = await notices.open_notice(session, reader, award_notice.id)
    async with session_maker() as session:
        row = await session.get_one(AwardNotice, award_notice.id)
        receipts = await ledger_entries(session, chain_for(case.world.project_code), "award.notice_read")
        listed = await notices.delivered_to(session, reader.organisation_id)
    assert row.read_by == reader.user_id
    assert row.read_at is not None
    assert opened.read_at == row.read_at
    assert len(receipts) == 1
    assert [d.notice.id for d in listed] == [award_notice.id]
    # The owners open it without a receipt of theirs; another bidder may not open it at all.
    other = next(n for n in issued if n.kind is NoticeKind.RESULT)
    async with transaction(session_maker, lock=True) as session:
        await notices.open_notice(session, case.owner.actor(), other.id)
    stranger = await member_of(session_maker, settings, other.recipient_organisation_id)
    with pytest.raises(NotFound) as foreign:
        async with transaction(session_maker, lock=True) as session:
            await notices.open_notice(session, stranger, award_notice.id)
    assert (foreign.value.field, foreign.value.rule) == ("notice", "exists")
    async with session_maker() as session:
        assert (await session.get_one(AwardNotice, other.id)).read_at is None

    # Issued: drafting again is refused by the state machine.
    with pytest.raises(AwardRefused) as again:
        await prepare(session_maker, store, case)
    assert (again.value.field, again.value.rule) == ("event", "notices_after_award")


async def test_notices_before_the_award_and_bad_uploads_are_refused_with_nothing_stored(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
) -> None:
    case = await awarded(session_maker, settings, store, dev_tsa, dev_pki, confirm=False)
    with pytest.raises(AwardRefused) as early:
        await prepare(session_maker, store, case)
    assert (early.value.field, early.value.rule) == ("event", "notices_after_award")
    async with session_maker() as session:
        assert list(await notices.drafts_of(session, case.award.id)) == []

    case = Awarded(
        case.world,
        await confirm_winner(session_maker, settings, case.award, case.owner, str(case.world.bids[0])),
        case.owner,
    )
    [draft_id, *_] = await prepare(session_maker, store, case)
    draft = await draft_bytes(session_maker, store, case, draft_id)

    # Another organisation's certificate (bound to its own user): notice_signer.
    foreign = await tenderee_party(session_maker, settings, dev_pki)
    await bind_certificate(session_maker, foreign)
    with pytest.raises(AwardRefused) as wrong_signer:
        await upload(
            session_maker,
            settings,
            store,
            case,
            draft_id,
            await sign_notice(draft, foreign.sign.signing(), tsa=dev_tsa),
        )
    assert (wrong_signer.value.field, wrong_signer.value.rule) == ("signatures[0]", "notice_signer")

    # An altered draft, signed: not the draft plus one signature.
    # One byte of the binary comment after the header changed: the same structure, not the draft.
    comment = draft.index(b"\n%") + 2
    altered = draft[:comment] + bytes([draft[comment] ^ 0x01]) + draft[comment + 1 :]
    assert altered != draft
    with pytest.raises(AwardRefused) as changed:
        await upload(
            session_maker,
            settings,
            store,
            case,
            draft_id,
            await sign_notice(altered, case.owner.sign.signing(), tsa=dev_tsa),
        )
    assert (changed.value.field, changed.value.rule) == ("pdf", "incremental-update-only")

    # Two signatures at once: refused.
    once = await sign_notice(draft, case.owner.sign.signing(), tsa=dev_tsa)
    twice = await sign_notice(once, foreign.sign.signing(), tsa=dev_tsa)
    with pytest.raises(AwardRefused) as double:
        await upload(session_maker, settings, store, case, draft_id, twice)
    assert (double.value.field, double.value.rule) == ("pdf", "one-new-signature")

    # Something appended after the signature: refused.
    with pytest.raises(AwardRefused) as appended:
        await upload(session_maker, settings, store, case, draft_id, once + b"\n%%trailing\n")
    assert appended.value.rule in {"signature-covers-file", "one-new-signature", "malformed"}

    # Not a PDF.
    with pytest.raises(AwardRefused) as not_pdf:
        await upload(session_maker, settings, store, case, draft_id, b"hello")
    assert (not_pdf.value.field, not_pdf.value.rule) == ("pdf", "pdf")

    async with session_maker() as session:
        row = await session.get_one(AwardNoticeDraft, draft_id)
        assert row.signed_at is None
        assert row.signed_sha256 is None
        assert (await session.get_one(Award, case.award.id)).state is AwardState.AWARDED
        assert await ledger_entries(session, chain_for(case.world.project_code), "award.notice_signed") == []
        count = await session.scalar(
            sa.select(sa.func.count()).select_from(AwardNotice).where(AwardNotice.award_id == case.award.id)
        )
        assert count == 0

    # The right signature is then accepted.
    stored = await upload(session_maker, settings, store, case, draft_id, once)
    assert stored.signer_sha256 == case.owner.sign.certificate.fingerprint(hashes.SHA256()).hex()
    with pytest.raises(Exception) as signed_twice:  # noqa: PT011 - Conflict, its rule checked below
        await upload(session_maker, settings, store, case, draft_id, once)
    assert getattr(signed_twice.value, "rule", None) == "notice_signed_once"


async def test_ggzy_bid_sign_notice_signs_a_draft_the_platform_accepts(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = await awarded(session_maker, settings, store, dev_tsa, dev_pki)
    [draft_id, *_] = await prepare(session_maker, store, case)
    monkeypatch.setattr(cli_hall, "HttpTsa", lambda _url: dev_tsa)
    (tmp_path / "owner.p12").write_bytes(case.owner.sign.pkcs12(b"owner-p12"))
    (tmp_path / "notice.pdf").write_bytes(await draft_bytes(session_maker, store, case, draft_id))
    args = [
        "sign-notice", "--p12", str(tmp_path / "owner.p12"), "--password", "owner-p12",
        "--in", str(tmp_path / "notice.pdf"), "--out", str(tmp_path / "signed.pdf"),
        "--tsa", "https://ggzy.invalid/api/v1/tsa",
    ]  # fmt: skip
    result = await asyncio.to_thread(CliRunner().invoke, bid, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    stored = await upload(session_maker, settings, store, case, draft_id, (tmp_path / "signed.pdf").read_bytes())
    assert stored.signer_sha256 == case.owner.sign.certificate.fingerprint(hashes.SHA256()).hex()
