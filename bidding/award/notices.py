"""The award's notices as signed documents (中标通知书 and 中标结果通知书, 招标投标法 Art. 45).

* **Drafts** (`prepare_drafts`): once the winner is confirmed (``awarded``; the state machine's rule
  ``notices_after_award`` refuses earlier), the tenderee or its agency has the platform draft the
  notices: the award notice (``award``) to the winner and a result notice (``result``) to every
  other organisation with a submitted bid in the tender, each a Chinese PDF rendered with the
  kernel renderer from the tender's data (project, code, the winner's name and USCC, the price as
  awarded, the dates, the recipient). The drafts are stored content-addressed (namespace
  ``award-notice-drafts``) so the bytes the tenderee signs never change; a draft naming a winner
  passed over since is void and drafted again.
* **Signing** (`sign_notice`): the tenderee downloads a draft, appends one incremental PAdES
  signature with its certificate and an e-seal appearance (``ggzy bid sign-notice``) and uploads
  it. Accepted only when the upload is the draft plus exactly one signature covering the whole
  file that verifies under the trust list (`bidding.signed_revisions.check_signed_revision`), and
  the signing certificate is bound (live `CertificateBinding`) to an active member of the
  uploading organisation (the tenderee or its agency; else ``notice_signer``). The input is the
  signed PDF bytes, whoever made them (the client command, or a page signing in the browser).
  Stored content-addressed (namespace ``award-notices``); ``award.notice_signed`` records it.
* **Issuing** (`_issue`, when every live draft of the award is signed): the ``issue_notices``
  transition through the state machine (an `AwardStep`), one `AwardNotice` per draft, the ledger's
  ``award.notice_issued`` per notice (its PDF's SHA-256: the archive takes it, registered with
  `register_published_pdf`) and ``award.notices_issued`` for the award, a checkpoint asked for,
  and an inbox message (served, ``legal``) to each recipient organisation.
* **Reading** (`open_notice`): a user of the recipient organisation opens the PDF; the first open
  records the read receipt (``read_at``, ``read_by``, ``award.notice_read``), once. The tender's
  owners open it too (no receipt). Anyone else: not found.

Services only flush; the request or job owns the transaction. Refusals name field and rule before
anything is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import announcement, publicity, securities
from bidding.award import award as decisions
from bidding.award.archive.builder import PublishedPdf, register_published_pdf
from bidding.award.errors import AwardRefused
from bidding.award.models import Award, AwardNotice, AwardNoticeDraft, NoticeKind
from bidding.award.rules import Sector
from bidding.award.states import AwardEvent, transition
from bidding.evaluation.models import Evaluation
from bidding.models import Bid, BidStatus, Tender
from bidding.signed_revisions import check_signed_revision
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.kernel.errors import Conflict, NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.ledger.service import append_entry, request_checkpoint
from trading.notifications import service as notifications
from trading.parties.models import CertificateBinding, Membership, MembershipStatus, Organisation

DRAFTS_NAMESPACE: Final = "award-notice-drafts"
NAMESPACE: Final = "award-notices"
ARCHIVE_KIND: Final = "award-notice"
MAX_PDF_BYTES: Final = 16 * 1024 * 1024
SUBJECT: Final = "award.award"
NOTICE_SUBJECT: Final = "award.notice"
ISSUED_TEMPLATE: Final = "award.notice_issued"
CHINA: Final = ZoneInfo("Asia/Shanghai")
TITLES: Final = {NoticeKind.AWARD: "中标通知书", NoticeKind.RESULT: "中标结果通知书"}
TEMPLATE: Final = "award/notice_pdf.html"

register_published_pdf("award.notice_issued", PublishedPdf(ARCHIVE_KIND, NAMESPACE))

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Delivered:
    """One notice as the recipient's list shows it."""

    notice: AwardNotice
    tender: Tender
    title: str


# --- reading the rows ------------------------------------------------------------------------------


async def drafts_of(session: AsyncSession, award_id: uuid.UUID) -> Sequence[AwardNoticeDraft]:
    """The live drafts of an award: the winner's first, then by recipient."""
    rows = await session.scalars(
        sa.select(AwardNoticeDraft)
        .where(AwardNoticeDraft.award_id == award_id, AwardNoticeDraft.voided_at.is_(None))
        .order_by(AwardNoticeDraft.kind, AwardNoticeDraft.created_at, AwardNoticeDraft.id)
    )
    return rows.all()


async def notices_of(session: AsyncSession, award_id: uuid.UUID) -> Sequence[AwardNotice]:
    rows = await session.scalars(
        sa.select(AwardNotice)
        .where(AwardNotice.award_id == award_id, AwardNotice.voided_at.is_(None))
        .order_by(AwardNotice.kind, AwardNotice.issued_at, AwardNotice.id)
    )
    return rows.all()


async def delivered_to(session: AsyncSession, organisation_id: uuid.UUID | None) -> list[Delivered]:
    """The notices issued to an organisation, across tenders, newest first (我的通知)."""
    if organisation_id is None:
        return []
    rows = await session.execute(
        sa.select(AwardNotice, Tender)
        .join(Award, Award.id == AwardNotice.award_id)
        .join(Tender, Tender.id == Award.tender_id)
        .where(AwardNotice.recipient_organisation_id == organisation_id, AwardNotice.voided_at.is_(None))
        .order_by(AwardNotice.issued_at.desc(), AwardNotice.id)
    )
    return [Delivered(notice, tender, TITLES[notice.kind]) for notice, tender in rows.all()]


async def _owned(session: AsyncSession, actor: Actor, award_id: uuid.UUID, *, lock: bool) -> tuple[Award, Tender]:
    award = await publicity.locked(session, award_id) if lock else await session.get(Award, award_id)
    if award is None:
        raise NotFound("no such award", field="award", rule="exists")
    tender = await session.get_one(Tender, award.tender_id)
    if not publicity.is_tenderee(actor, tender) or actor.user_id is None:
        raise PermissionDenied("only the tenderee or its agency issues the notices", field="actor", rule="owner")
    return award, tender


def _check_may_issue(award: Award) -> None:
    """The state machine's answer for ``issue_notices`` (``notices_after_award`` before the award)."""
    transition(publicity.position_of(award), AwardEvent.ISSUE_NOTICES, award.sector, publicity.rules_of(award))


# --- the drafts ------------------------------------------------------------------------------------


async def _recipients(session: AsyncSession, award: Award) -> list[Organisation]:
    """Every organisation with a submitted bid in the award's lots (the tender's, for ``all``)."""
    query = sa.select(Bid.organisation_id).where(Bid.tender_id == award.tender_id, Bid.status == BidStatus.SUBMITTED)
    evaluation = await session.get_one(Evaluation, award.evaluation_id)
    lots = [uuid.UUID(str(lot)) for lot in (evaluation.lot_ids or {}).get("lots", [])]
    if lots:
        query = query.where(Bid.lot_id.in_(lots))
    ids = set((await session.scalars(query)).all())
    if not ids:
        return []
    rows = await session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.uscc))
    return list(rows.all())


def _local(moment: datetime) -> str:
    local = moment.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日"


async def _content(  # noqa: PLR0917 - what a notice says
    session: AsyncSession,
    award: Award,
    tender: Tender,
    kind: NoticeKind,
    recipient: Organisation,
    now: datetime,
) -> dict[str, Any]:
    order = await decisions.order_of(session, award)
    winner = order.candidate(str(award.chosen_bid_id))
    if winner is None or award.awarded_at is None:  # pragma: no cover - an awarded award has its winner
        raise AwardRefused("no candidate is awarded", field="award", rule="notices_after_award")
    tenderee = await session.get_one(Organisation, tender.tenderee_organisation_id)
    agency = await session.get(Organisation, tender.agency_organisation_id) if tender.agency_organisation_id else None
    return {
        "kind": kind.value,
        "title": TITLES[kind],
        "tender": {"code": tender.project_code, "title": tender.title},
        "lotGroup": award.lot_group,
        "tenderee": {"name": tenderee.name, "uscc": tenderee.uscc},
        "agency": {"name": agency.name, "uscc": agency.uscc} if agency is not None else None,
        "winner": {
            "bid": winner.bid,
            "name": winner.name,
            "uscc": winner.uscc,
            "price": None if winner.price is None else str(winner.price),
        },
        "recipient": {"name": recipient.name, "uscc": recipient.uscc},
        "reportSha256": award.report_sha256,
        "awardedAt": award.awarded_at.isoformat(),
        "awardedOn": _local(award.awarded_at),
        "draftedAt": now.isoformat(),
        "draftedOn": _local(now),
    }


def render_notice_html(content: dict[str, Any]) -> str:
    return _env.get_template(TEMPLATE).render(notice=content)


def render_notice(content: dict[str, Any]) -> bytes:
    """The unsigned PDF (blocking: call it in a thread)."""
    # Imported here: WeasyPrint is heavy, and web processes import this module for its routes.
    from trading.kernel.pdf.render import render_pdf  # noqa: PLC0415

    return render_pdf(render_notice_html(content))


async def prepare_drafts(
    session: AsyncSession, store: Store, actor: Actor, award_id: uuid.UUID
) -> Sequence[AwardNoticeDraft]:
    """The award's drafts: the live ones when they name the current winner, else drafted now
    (module docstring). Refused before the award (``notices_after_award``) and after issuing.
    """
    award, tender = await _owned(session, actor, award_id, lock=True)
    _check_may_issue(award)
    if award.sector is Sector.GOVERNMENT_PROCUREMENT and not await announcement.announced(session, award.id):
        # 87号令 Art. 69: the notices go out with the result announcement, never before it.
        raise AwardRefused(
            "publish the result announcement before the notices", field="award", rule="notices_after_announcement"
        )
    if award.chosen_organisation_id is None or award.chosen_bid_id is None:
        raise AwardRefused(
            "the winner has no organisation on the platform to deliver the notice to",
            field="award",
            rule="notice_recipient",
        )
    now = await clock.now(session)
    live = await drafts_of(session, award.id)
    if live and all(d.winner_bid_id == award.chosen_bid_id for d in live):
        return live
    for stale in live:
        stale.voided_at = now
    recipients = await _recipients(session, award)
    if all(r.id != award.chosen_organisation_id for r in recipients):
        recipients.insert(0, await session.get_one(Organisation, award.chosen_organisation_id))
    drafts = []
    for recipient in recipients:
        kind = NoticeKind.AWARD if recipient.id == award.chosen_organisation_id else NoticeKind.RESULT
        content = await _content(session, award, tender, kind, recipient, now)
        pdf = await asyncio.to_thread(render_notice, content)
        digest = hashlib.sha256(pdf).hexdigest()
        key = await asyncio.to_thread(store.put, DRAFTS_NAMESPACE, digest, pdf)
        draft = AwardNoticeDraft(
            id=uuid7(),
            award_id=award.id,
            kind=kind,
            recipient_organisation_id=recipient.id,
            winner_bid_id=award.chosen_bid_id,
            content=content,
            storage_key=key,
            sha256=digest,
            created_by=actor.user_id,
            created_at=now,
        )
        session.add(draft)
        drafts.append(draft)
    await session.flush()
    return await drafts_of(session, award.id)


async def _draft(session: AsyncSession, draft_id: uuid.UUID) -> AwardNoticeDraft:
    draft = await session.get(AwardNoticeDraft, draft_id)
    if draft is None:
        raise NotFound("no such notice draft", field="draft", rule="exists")
    return draft


async def draft_pdf(session: AsyncSession, store: Store, actor: Actor, draft_id: uuid.UUID) -> bytes:
    """The draft (unsigned) or, once signed, the signed revision: the tender's owners only."""
    draft = await _draft(session, draft_id)
    await _owned(session, actor, draft.award_id, lock=False)
    key = draft.signed_storage_key or draft.storage_key
    return await store.read_bytes(key)


# --- signing and issuing ---------------------------------------------------------------------------


async def _bound_member(session: AsyncSession, certificate_sha256: str, organisation_id: uuid.UUID) -> uuid.UUID | None:
    """The user the certificate is bound to (live binding), when an active member of the organisation."""
    query = (
        sa.select(CertificateBinding.user_id)
        .join(Membership, Membership.user_id == CertificateBinding.user_id)
        .where(
            CertificateBinding.certificate_sha256 == certificate_sha256,
            CertificateBinding.unbound_at.is_(None),
            Membership.organisation_id == organisation_id,
            Membership.status == MembershipStatus.ACTIVE,
        )
        .limit(1)
    )
    return await session.scalar(query)


async def sign_notice(  # noqa: PLR0917 - the act and its document
    session: AsyncSession, settings: Settings, store: Store, actor: Actor, draft_id: uuid.UUID, pdf: bytes
) -> AwardNoticeDraft:
    """Store the tenderee's signed notice (module docstring); the last one issues them all."""
    if not pdf.startswith(b"%PDF-") or len(pdf) > MAX_PDF_BYTES:
        raise AwardRefused(f"send the signed notice as a PDF of at most {MAX_PDF_BYTES} bytes", field="pdf", rule="pdf")
    draft = await _draft(session, draft_id)
    award, tender = await _owned(session, actor, draft.award_id, lock=True)
    _check_may_issue(award)
    if draft.voided_at is not None or draft.winner_bid_id != award.chosen_bid_id:
        raise Conflict("this draft names a winner passed over since; draft again", field="draft", rule="draft_void")
    if draft.signed_at is not None:
        raise Conflict("this notice is signed already", field="draft", rule="notice_signed_once")
    now = await clock.now(session)
    current = await store.read_bytes(draft.storage_key)
    revision = await check_signed_revision(
        session, settings, current=current, uploaded=pdf, signed=0, now=now, refusal=AwardRefused, what="the notice"
    )
    signer = revision.signer_sha256
    assert actor.organisation_id is not None  # noqa: S101 - _owned checked it
    if await _bound_member(session, signer, actor.organisation_id) is None:
        raise AwardRefused(
            "the notice is not signed with a certificate bound to a user of the tenderee or agency issuing it",
            field="signatures[0]",
            rule="notice_signer",
        )
    digest = hashlib.sha256(pdf).hexdigest()
    key = await asyncio.to_thread(store.put, NAMESPACE, digest, pdf)
    draft.signed_storage_key = key
    draft.signed_sha256 = digest
    draft.signer_sha256 = signer
    draft.signed_by = actor.user_id
    draft.signed_at = now
    await session.flush()
    recipient = await session.get_one(Organisation, draft.recipient_organisation_id)
    await append_entry(
        session,
        actor=actor,
        action="award.notice_signed",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={
            "draft_id": str(draft.id),
            "kind": draft.kind.value,
            "recipient_uscc": recipient.uscc,
            "draftSha256": draft.sha256,
            "signedSha256": digest,
            "signer_sha256": signer,
        },
        project_code=tender.project_code,
    )
    drafts = await drafts_of(session, award.id)
    if all(d.signed_at is not None for d in drafts):
        await _issue(session, actor, award, tender, drafts, now)
    return draft


async def _issue(  # noqa: PLR0917 - the award and what it issues
    session: AsyncSession,
    actor: Actor,
    award: Award,
    tender: Tender,
    drafts: Sequence[AwardNoticeDraft],
    now: datetime,
) -> list[AwardNotice]:
    after = transition(publicity.position_of(award), AwardEvent.ISSUE_NOTICES, award.sector, publicity.rules_of(award))
    issued = []
    for draft in drafts:
        assert draft.signed_storage_key and draft.signed_sha256 and draft.signer_sha256 and draft.signed_at  # noqa: S101, PT018
        notice = AwardNotice(
            id=uuid7(),
            award_id=award.id,
            kind=draft.kind,
            recipient_organisation_id=draft.recipient_organisation_id,
            storage_key=draft.signed_storage_key,
            sha256=draft.signed_sha256,
            signer_sha256=draft.signer_sha256,
            signed_at=draft.signed_at,
            issued_at=now,
        )
        session.add(notice)
        await session.flush()
        draft.notice_id = notice.id
        issued.append(notice)
    details = {
        "notices": [str(n.id) for n in issued],
        "winner_bid": str(award.chosen_bid_id),
        "signers": sorted({n.signer_sha256 for n in issued}),
    }
    await publicity.record_step(
        session,
        award,
        AwardEvent.ISSUE_NOTICES,
        after,
        actor=actor,
        now=now,
        signer_sha256=drafts[-1].signer_sha256,
        details=details,
    )
    for notice, draft in zip(issued, drafts, strict=True):
        await append_entry(
            session,
            actor=actor,
            action="award.notice_issued",
            subject_type=NOTICE_SUBJECT,
            subject_id=str(notice.id),
            summary={
                "award_id": str(award.id),
                "kind": notice.kind.value,
                "recipient_uscc": draft.content["recipient"]["uscc"],
                "pdfSha256": notice.sha256,
                "signer_sha256": notice.signer_sha256,
            },
            project_code=tender.project_code,
        )
    await append_entry(
        session,
        actor=actor,
        action="award.notices_issued",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary=details | {"pdfSha256": [n.sha256 for n in issued]},
        project_code=tender.project_code,
    )
    request_checkpoint(session, milestone="notices", project_code=tender.project_code)
    for notice, draft in zip(issued, drafts, strict=True):
        await notifications.publish(
            session,
            recipient=notifications.Recipient.organisation(notice.recipient_organisation_id),
            template=ISSUED_TEMPLATE,
            key=f"award.notice_issued:{notice.id}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "kind": notice.kind.value,
                "path": f"/bidding/notices/{notice.id}",
                "winner": draft.content["winner"]["name"],
            },
            legal=True,
            project_code=tender.project_code,
            actor=actor,
        )
    # Issue 17: the losers' bid securities are released once they are told (leaves after commit).
    await securities.release_losers_at_notice(session, award, tender, now)
    return issued


# --- reading ---------------------------------------------------------------------------------------


async def notice_for(session: AsyncSession, actor: Actor, notice_id: uuid.UUID) -> tuple[AwardNotice, Tender, bool]:
    """The notice, its tender and whether the actor is of the recipient organisation; not found for
    anyone but the recipient's users and the tender's owners.
    """
    notice = await session.get(AwardNotice, notice_id)
    if notice is None or notice.voided_at is not None:
        raise NotFound("no such notice", field="notice", rule="exists")
    award = await session.get_one(Award, notice.award_id)
    tender = await session.get_one(Tender, award.tender_id)
    recipient = actor.organisation_id is not None and actor.organisation_id == notice.recipient_organisation_id
    if not recipient and not publicity.is_tenderee(actor, tender):
        raise NotFound("no such notice", field="notice", rule="exists")
    return notice, tender, recipient


async def open_notice(session: AsyncSession, actor: Actor, notice_id: uuid.UUID) -> AwardNotice:
    """The notice for its PDF; the first open by a user of the recipient records the read receipt."""
    notice, tender, recipient = await notice_for(session, actor, notice_id)
    if recipient and actor.user_id is not None and notice.read_at is None:
        locked = await session.scalar(sa.select(AwardNotice).where(AwardNotice.id == notice.id).with_for_update())
        if locked is not None and locked.read_at is None:
            now = await clock.now(session)
            locked.read_at = now
            locked.read_by = actor.user_id
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="award.notice_read",
                subject_type=NOTICE_SUBJECT,
                subject_id=str(notice.id),
                summary={"kind": notice.kind.value, "sha256": notice.sha256, "read_at": now.isoformat()},
                project_code=tender.project_code,
            )
            notice = locked
    return notice


async def notice_pdf(store: Store, notice: AwardNotice) -> bytes:
    return await store.read_bytes(notice.storage_key)
