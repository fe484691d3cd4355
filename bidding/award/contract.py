"""The online contract (合同, issue 16 item 5): drafted after the award notice from the contract
template and the winning bid, signed on the same PDF by the winner, then the tenderee (two
incremental PAdES signatures), published, and the bid securities released by an event.

* **Draft** (`draft_contract`): the tenderee (or its agency) drafts once the notices are issued
  (state ``notices_issued``). The data come from the award only (`draft_data`): the parties with
  their USCC (甲方 the tenderee, 乙方 the awarded organisation), the price exactly as awarded (the
  chosen candidate's price in the published result; another price is refused ``contract_price``),
  the lots, the duration from the winning bid's price summary (``durationDays``), the signing
  deadline, the performance security the tender requires (stated by the tenderee when drafting,
  at most ``performance_security_max_ratio`` of the price). Tenders carry no contract template of
  their own today: the platform's default Chinese template (`templates/award/contract_pdf.html`)
  is used, with the tender's own terms (``special_terms``, the text of the tender documents'
  contract chapter) printed in its 专用条款 section. Rendered as a Chinese PDF (kernel renderer),
  stored (namespace ``award-contracts``), ``award.contract_drafted`` on the tender's chain.
* **Signing** (`sign_contract`): the uploaded PDF is the current revision plus one incremental
  PAdES signature (`bidding.signed_revisions.check_signed_revision`), every signature verifies,
  the new signer's certificate names an organisation (USCC, by its CA's identity rule) that
  `contract_rules.check_signature` accepts (the winner first, then the tenderee, each once, after
  the notice, the draft repeating the award: parties, exact price, lots), and it is the uploader's
  own organisation (the tenderee's agency uploads for the tenderee). The tenderee's signature is
  refused while a required performance security is not recorded. The winner's signature is
  ``award.contract_winner_signed``; the tenderee's completes the contract: the state machine's
  ``sign_contract`` (journal and ``award.contract_signed``, archived as the published contract),
  the contract published (public page with its signing date), and the bid-security release event.
* **Performance security** (履约担保, `record_performance_security`): the winner records the amount,
  form and reference (the electronic-guarantee issue will verify it); refused below the required
  amount, in a form not listed, or once the tenderee signed.
* **Bid-security release** (`RELEASE_TASK`): after the tenderee's signature, a task message naming
  the tender and every bidder with a submitted bid (engineering: every bidder, 实施条例 Art. 57)
  is enqueued on the session (`trading.kernel.tasks`): it leaves only after the commit, once, for
  the guarantees service to consume (that service does not exist yet: the message waits in the
  broker for it).
* **Deadline** (`check_contract_due`, the sweep's `jobs.ContractDue`): 30 days from the award
  notice (`contract_rules.contract_deadline`); each reminder before it goes once to the winner and
  the tenderee (inbox ``award.contract_reminder``); after it the supervisory departments are warned
  once (inbox ``award.contract_overdue``, ledger ``award.contract_overdue``); `overdue_contracts`
  lists them for the supervisor's page.

Services take the caller's session and only flush; refusals are `AwardRefused` (field and rule),
`PermissionDenied` or `NotFound`, raised before anything is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bidding.award import publicity, securities
from bidding.award.archive.builder import PublishedPdf, register_published_pdf
from bidding.award.award import order_of
from bidding.award.contract_rules import (
    AwardTerms,
    ContractDraft,
    DeadlineState,
    Signature,
    check_draft,
    check_performance_security,
    check_signature,
    contract_deadline,
)
from bidding.award.errors import AwardRefused, refuse
from bidding.award.models import Award, AwardNotice, AwardStep, Contract, NoticeKind
from bidding.award.rules import PeriodKey
from bidding.award.states import AwardEvent, transition
from bidding.models import Bid, BidStatus, Lot, Tender
from bidding.signed_revisions import check_signed_revision, signer_party_of
from trading.kernel import clock, tasks
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar import CalendarYearMissing
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.db.types import JSONData, uuid7
from trading.kernel.errors import NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.kernel.web.money import amount_in_words
from trading.ledger.service import append_entry, request_checkpoint
from trading.notifications import service as notifications
from trading.parties.models import Organisation

SUBJECT: Final = "award.award"
NAMESPACE: Final = "award-contracts"
ARCHIVE_KIND: Final = "contract"
RELEASE_TASK: Final = "guarantees.release_bid_securities"
"""The bid-security release event, consumed by the guarantees service (not built yet)."""
REMINDER_TEMPLATE: Final = "award.contract_reminder"
OVERDUE_TEMPLATE: Final = "award.contract_overdue"
MAX_CONTRACT_BYTES: Final = 64 * 1024 * 1024
TERMS_MAX: Final = 8000
REFERENCE_MAX: Final = 200
SECURITY_FORMS: Final = ("bank_guarantee", "guarantee_insurance", "guarantee", "cash")
"""履约担保 forms: 银行保函, 保证保险, 担保机构保函, 现金 (实施条例 Art. 58)."""
SECURITY_FORM_LABELS: Final = {
    "bank_guarantee": "银行保函",
    "guarantee_insurance": "保证保险",
    "guarantee": "担保机构保函",
    "cash": "现金",
}
CHINA: Final = timezone(timedelta(hours=8))
TEMPLATE: Final = "award/contract_pdf.html"

_OPENING_BIDS = sa.table(
    "bidding_opening_bids",
    sa.column("id", sa.Uuid()),
    sa.column("lot_id", sa.Uuid()),
    sa.column("price_summary", JSONData),
)
"""The opening's bids, read as a table (the opening is not imported by later stages: import contract)."""

register_published_pdf("award.contract_signed", PublishedPdf(ARCHIVE_KIND, NAMESPACE))

_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# --- reading ----------------------------------------------------------------------------------------


async def contract_of(session: AsyncSession, award_id: uuid.UUID, *, lock: bool = False) -> Contract | None:
    """The award's contract (not voided), if drafted."""
    query = sa.select(Contract).where(Contract.award_id == award_id, Contract.voided_at.is_(None))
    return await session.scalar(query.with_for_update() if lock else query)


async def notice_issued_at(session: AsyncSession, award: Award) -> datetime | None:
    """When the award notice was issued: the notice's own row, else the ``issue_notices`` step."""
    issued = await session.scalar(
        sa.select(sa.func.min(AwardNotice.issued_at)).where(
            AwardNotice.award_id == award.id, AwardNotice.kind == NoticeKind.AWARD, AwardNotice.voided_at.is_(None)
        )
    )
    if issued is not None:
        return issued
    return await session.scalar(
        sa.select(sa.func.max(AwardStep.at)).where(
            AwardStep.award_id == award.id,
            AwardStep.event == AwardEvent.ISSUE_NOTICES,
            AwardStep.voided_at.is_(None),
        )
    )


@dataclass(frozen=True, slots=True)
class Winning:
    """What the award fixed, with the rows it came from."""

    terms: AwardTerms
    tenderee: Organisation
    winner: Organisation
    lots: tuple[Lot, ...]
    summary: Mapping[str, Any]
    """The winning bid's opened price summary (开标一览表)."""


async def winning(session: AsyncSession, award: Award) -> Winning:
    """The award's terms (`contract_rules.AwardTerms`): parties, the awarded price, lots, the notice."""
    if award.chosen_bid_id is None or award.chosen_organisation_id is None:
        raise AwardRefused("no organisation is awarded", field="award", rule="contract_after_notice")
    tender = await session.get_one(Tender, award.tender_id)
    candidate = (await order_of(session, award)).candidate(str(award.chosen_bid_id))
    opening_bid = (
        await session.execute(
            sa.select(_OPENING_BIDS.c.lot_id, _OPENING_BIDS.c.price_summary).where(
                _OPENING_BIDS.c.id == award.chosen_bid_id
            )
        )
    ).one()
    lot = await session.get_one(Lot, opening_bid.lot_id)
    tenderee = await session.get_one(Organisation, tender.tenderee_organisation_id)
    winner = await session.get_one(Organisation, award.chosen_organisation_id)
    price = candidate.price if candidate is not None else None
    if price is None:  # pragma: no cover - an awarded candidate has its price in the result
        raise AwardRefused("the awarded price is unknown", field="price", rule="contract_price")
    terms = AwardTerms(
        tenderee_uscc=tenderee.uscc,
        winner_uscc=winner.uscc,
        price=Decimal(price),
        lots=frozenset({lot.code}),
        notice_issued_at=await notice_issued_at(session, award),
    )
    return Winning(terms, tenderee, winner, (lot,), dict(opening_bid.price_summary or {}))


def draft_of(contract: Contract) -> ContractDraft:
    return ContractDraft(
        tenderee_uscc=str(contract.draft["tenderee"]["uscc"]),
        supplier_uscc=str(contract.draft["winner"]["uscc"]),
        price=Decimal(contract.price),
        lots=frozenset(str(lot["code"]) for lot in contract.draft["lots"]),
    )


def signatures_of(contract: Contract) -> list[Signature]:
    found = []
    if contract.winner_signed_at is not None:
        found.append(Signature(str(contract.draft["winner"]["uscc"]), contract.winner_signed_at))
    if contract.tenderee_signed_at is not None:
        found.append(Signature(str(contract.draft["tenderee"]["uscc"]), contract.tenderee_signed_at))
    return found


def is_party(actor: Actor, tender: Tender, contract: Contract | Award) -> bool:
    """The tenderee (or its agency) or the awarded organisation."""
    winner = contract.winner_organisation_id if isinstance(contract, Contract) else contract.chosen_organisation_id
    return publicity.is_tenderee(actor, tender) or (
        actor.organisation_id is not None and actor.organisation_id == winner
    )


async def contract_pdf(session: AsyncSession, store: Store, actor: Actor, award_id: uuid.UUID) -> bytes:
    """The current revision: for the two parties, for everyone once published."""
    award = await session.get(Award, award_id)
    contract = await contract_of(session, award_id) if award is not None else None
    if award is None or contract is None or contract.storage_key is None:
        raise NotFound("no contract has been drafted", field="contract", rule="exists")
    tender = await session.get_one(Tender, award.tender_id)
    if contract.published_at is None and not is_party(actor, tender, contract):
        raise PermissionDenied(
            "only the two parties see the contract before it is signed", field="actor", rule="contract_party"
        )
    return await store.read_bytes(contract.storage_key)


# --- drafting ----------------------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _local(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def draft_data(  # noqa: PLR0917 - everything the contract states
    tender: Tender,
    award: Award,
    won: Winning,
    due: datetime,
    security: Decimal | None,
    special_terms: str,
) -> dict[str, Any]:
    """What the contract states (stored as `Contract.draft` and printed in the PDF)."""
    duration = won.summary.get("durationDays")
    return {
        "tender": {"code": tender.project_code, "title": tender.title, "lotGroup": award.lot_group},
        "tenderee": {"name": won.tenderee.name, "uscc": won.tenderee.uscc},
        "winner": {"name": won.winner.name, "uscc": won.winner.uscc},
        "lots": [{"code": lot.code, "name": lot.name} for lot in won.lots],
        "price": str(won.terms.price),
        "durationDays": int(duration) if duration is not None else None,
        "noticeIssuedAt": won.terms.notice_issued_at.isoformat() if won.terms.notice_issued_at else None,
        "dueAt": due.isoformat(),
        "performanceSecurity": str(security) if security is not None else None,
        "specialTerms": special_terms,
        "template": "platform-default/1",
    }


def render_contract_html(data: Mapping[str, Any], *, generated_at: datetime) -> str:
    price = Decimal(str(data["price"]))
    security = data["performanceSecurity"]
    return _env.get_template(TEMPLATE).render(
        contract=data,
        price=_money(price),
        price_words=amount_in_words(price),
        security=_money(Decimal(security)) if security else None,
        security_words=amount_in_words(Decimal(security)) if security else "",
        notice_at=_local(datetime.fromisoformat(data["noticeIssuedAt"])) if data["noticeIssuedAt"] else "—",
        due_at=_local(datetime.fromisoformat(data["dueAt"])),
        generated_at=_local(generated_at),
    )


def render_contract(data: Mapping[str, Any], *, generated_at: datetime) -> bytes:
    """The unsigned PDF (blocking: call it in a thread)."""
    from trading.kernel.pdf.render import render_pdf  # noqa: PLC0415 - WeasyPrint is heavy

    return render_pdf(render_contract_html(data, generated_at=generated_at))


def _decimal(value: Decimal | str | None, field: str, rule: str) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise AwardRefused(f"{value!r} is not an amount", field=field, rule=rule) from None
    if not number.is_finite():
        raise AwardRefused(f"{value!r} is not an amount", field=field, rule=rule)
    return number


async def _owned(session: AsyncSession, actor: Actor, award_id: uuid.UUID) -> tuple[Award, Tender]:
    award = await publicity.locked(session, award_id)
    tender = await session.get_one(Tender, award.tender_id)
    if not publicity.is_tenderee(actor, tender) or actor.user_id is None:
        raise PermissionDenied("only the tenderee or its agency drafts the contract", field="actor", rule="owner")
    return award, tender


async def draft_contract(
    session: AsyncSession,
    store: Store,
    actor: Actor,
    award_id: uuid.UUID,
    *,
    price: Decimal | str | None = None,
    performance_security: Decimal | str | None = None,
    special_terms: str = "",
) -> Contract:
    """Draft the contract once the notices are issued (module docstring); refused twice."""
    award, tender = await _owned(session, actor, award_id)
    rules = publicity.rules_of(award)
    transition(publicity.position_of(award), AwardEvent.SIGN_CONTRACT, award.sector, rules)  # after the notice
    if await contract_of(session, award.id) is not None:
        raise AwardRefused("the contract has already been drafted", field="contract", rule="contract_drafted_once")
    won = await winning(session, award)
    if won.terms.notice_issued_at is None:  # pragma: no cover - notices_issued has its step
        raise AwardRefused("the award notice is not issued", field="at", rule="contract_after_notice")
    special_terms = special_terms.strip()
    if len(special_terms) > TERMS_MAX:
        raise AwardRefused(
            f"the special terms have at most {TERMS_MAX} characters", field="special_terms", rule="length"
        )
    offered = _decimal(price, "price", "contract_price")
    draft = ContractDraft(won.terms.tenderee_uscc, won.terms.winner_uscc, won.terms.price, won.terms.lots)
    if offered is not None:
        draft = ContractDraft(draft.tenderee_uscc, draft.supplier_uscc, offered, draft.lots)
    refuse(check_draft(won.terms, draft))
    security = _decimal(performance_security, "performance_security", "performance_security_ratio")
    if security is not None:
        refuse(check_performance_security(security, won.terms.price, award.sector, rules))
    now = await clock.now(session)
    calendar = await load_calendar(session)
    try:
        deadline = contract_deadline(
            won.terms.notice_issued_at, now, None, sector=award.sector, calendar=calendar, rules=rules
        )
    except CalendarYearMissing as exc:
        raise AwardRefused(str(exc), field="due_at", rule="calendar_year_loaded") from None
    data = draft_data(tender, award, won, deadline.due, security, special_terms)
    pdf = await asyncio.to_thread(render_contract, data, generated_at=now)
    digest = hashlib.sha256(pdf).hexdigest()
    key = await asyncio.to_thread(store.put, NAMESPACE, digest, pdf)
    contract = Contract(
        id=uuid7(),
        award_id=award.id,
        winner_organisation_id=won.winner.id,
        tenderee_organisation_id=won.tenderee.id,
        draft=data,
        price=won.terms.price,
        storage_key=key,
        sha256=digest,
        due_at=deadline.due,
        deadline_state=deadline.state.value,
        reminders_sent={"days_before": []},
        performance_security={"required": str(security), "recorded": None} if security is not None else None,
        next_check=deadline.next_check,
        created_at=now,
        updated_at=now,
    )
    session.add(contract)
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="award.contract_drafted",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={
            "contract_id": str(contract.id),
            "draftSha256": digest,
            "price": str(won.terms.price),
            "winner_uscc": won.winner.uscc,
            "due": deadline.due.isoformat(),
        },
        data={"draft": data},
        project_code=tender.project_code,
    )
    return contract


# --- performance security ------------------------------------------------------------------------------


async def record_performance_security(
    session: AsyncSession,
    actor: Actor,
    award_id: uuid.UUID,
    *,
    amount: Decimal | str,
    form: str,
    reference: str,
) -> Contract:
    """The winner records the performance security it gave (module docstring)."""
    award = await publicity.locked(session, award_id)
    tender = await session.get_one(Tender, award.tender_id)
    contract = await contract_of(session, award.id)
    if contract is None:
        raise AwardRefused("the contract has not been drafted yet", field="contract", rule="contract_not_drafted")
    if actor.organisation_id != contract.winner_organisation_id or actor.user_id is None:
        raise PermissionDenied(
            "only the awarded organisation records its performance security", field="actor", rule="contract_party"
        )
    if contract.tenderee_signed_at is not None:
        raise AwardRefused("the contract is already signed", field="contract", rule="contract_signs_once")
    required = Decimal((contract.performance_security or {}).get("required") or "0")
    value = _decimal(amount, "amount", "performance_security_amount")
    if value is None or value <= 0 or value < required:
        raise AwardRefused(
            f"the performance security is at least the required {required}",
            field="amount",
            rule="performance_security_amount",
        )
    if form not in SECURITY_FORMS:
        raise AwardRefused(
            f"the form is one of {', '.join(SECURITY_FORMS)}", field="form", rule="performance_security_form"
        )
    reference = reference.strip()
    if not reference or len(reference) > REFERENCE_MAX:
        raise AwardRefused(f"a reference has 1–{REFERENCE_MAX} characters", field="reference", rule="length")
    now = await clock.now(session)
    recorded = {"amount": str(value), "form": form, "reference": reference, "at": now.isoformat()}
    contract.performance_security = {
        "required": (contract.performance_security or {}).get("required"),
        "recorded": recorded,
    }
    contract.updated_at = now
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="award.performance_security_recorded",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={"contract_id": str(contract.id), "amount": str(value), "form": form, "reference": reference},
        project_code=tender.project_code,
    )
    return contract


def security_missing(contract: Contract) -> bool:
    """A performance security is required and none is recorded."""
    security = contract.performance_security or {}
    return bool(security.get("required")) and not security.get("recorded")


# --- signing ---------------------------------------------------------------------------------------------


async def sign_contract(
    session: AsyncSession,
    settings: Settings,
    *,
    store: Store,
    actor: Actor,
    award_id: uuid.UUID,
    pdf: bytes,
) -> Contract:
    """Store one party's signed revision of the contract (module docstring)."""
    if not pdf.startswith(b"%PDF-") or len(pdf) > MAX_CONTRACT_BYTES:
        raise AwardRefused(
            f"send the signed contract as a PDF of at most {MAX_CONTRACT_BYTES} bytes", field="pdf", rule="pdf"
        )
    award = await publicity.locked(session, award_id)
    tender = await session.get_one(Tender, award.tender_id)
    if actor.user_id is None or not is_party(actor, tender, award):
        raise PermissionDenied(
            "only the tenderee and the awarded organisation sign the contract", field="actor", rule="contract_party"
        )
    rules = publicity.rules_of(award)
    after = transition(publicity.position_of(award), AwardEvent.SIGN_CONTRACT, award.sector, rules)
    contract = await contract_of(session, award.id, lock=True)
    if contract is None or contract.storage_key is None:
        raise AwardRefused("the contract has not been drafted yet", field="contract", rule="contract_not_drafted")
    current = await store.read_bytes(contract.storage_key)
    signed = signatures_of(contract)
    now = await clock.now(session)
    revision = await check_signed_revision(
        session,
        settings,
        current=current,
        uploaded=pdf,
        signed=len(signed),
        now=now,
        refusal=AwardRefused,
        what="the contract",
    )
    party = await signer_party_of(session, settings, revision, refusal=AwardRefused)
    won = await winning(session, award)
    refuse(check_signature(won.terms, draft_of(contract), signed, party.identifier, now))
    winner_signs = party.identifier.strip().upper() == won.winner.uscc.strip().upper()
    uploader_ok = (
        actor.organisation_id == contract.winner_organisation_id
        if winner_signs
        else publicity.is_tenderee(actor, tender)
    )
    if not uploader_ok:
        raise AwardRefused(
            f"the new signature is {party.name}'s ({party.identifier}), not the uploader's organisation's",
            field=f"signatures[{len(signed)}]",
            rule="contract_uploader",
        )
    if not winner_signs and security_missing(contract):
        raise AwardRefused(
            "the tender requires a performance security; the winner has not recorded it",
            field="performance_security",
            rule="performance_security_required",
        )
    digest = hashlib.sha256(pdf).hexdigest()
    key = await asyncio.to_thread(store.put, NAMESPACE, digest, pdf)
    previous = contract.sha256
    contract.storage_key = key
    contract.sha256 = digest
    contract.updated_at = now
    summary: dict[str, Any] = {
        "contract_id": str(contract.id),
        "pdfSha256": digest,
        "previousSha256": previous,
        "signerSha256": revision.signer_sha256,
        "signer_uscc": party.identifier,
        "signatures": len(signed) + 1,
    }
    if winner_signs:
        contract.winner_signed_at = now
        contract.winner_signer_sha256 = revision.signer_sha256
        await session.flush()
        await append_entry(
            session,
            actor=actor,
            action="award.contract_winner_signed",
            subject_type=SUBJECT,
            subject_id=str(award.id),
            summary=summary,
            project_code=tender.project_code,
        )
        return contract
    contract.tenderee_signed_at = now
    contract.tenderee_signer_sha256 = revision.signer_sha256
    contract.published_at = now
    contract.next_check = None
    notice_at = won.terms.notice_issued_at or now
    deadline = contract_deadline(
        notice_at,
        now,
        now,
        sector=award.sector,
        calendar=await load_calendar(session),
        rules=rules,
        due=contract.due_at,
    )
    contract.deadline_state = deadline.state.value
    await publicity.record_step(
        session,
        award,
        AwardEvent.SIGN_CONTRACT,
        after,
        actor=actor,
        now=now,
        signer_sha256=revision.signer_sha256,
        details={"contract_id": str(contract.id), "pdfSha256": digest, "late": deadline.state.value},
    )
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="award.contract_signed",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary=summary | {"signedAt": now.isoformat(), "deadline": deadline.state.value},
        project_code=tender.project_code,
    )
    await _release_bid_securities(session, award, tender, contract, now)
    request_checkpoint(session, milestone="contract", project_code=tender.project_code)
    return contract


async def released_bidders(session: AsyncSession, tender_id: uuid.UUID) -> list[dict[str, str]]:
    """Every bidder with a submitted bid on the tender (whose bid security is released), by USCC."""
    rows = await session.execute(
        sa.select(Bid.id, Organisation.id, Organisation.uscc, Organisation.name)
        .join(Organisation, Organisation.id == Bid.organisation_id)
        .where(Bid.tender_id == tender_id, Bid.status == BidStatus.SUBMITTED)
        .order_by(Organisation.uscc, Bid.id)
    )
    return [
        {"bid_id": str(bid), "organisation_id": str(org), "uscc": uscc, "name": name} for bid, org, uscc, name in rows
    ]


async def _release_bid_securities(
    session: AsyncSession, award: Award, tender: Tender, contract: Contract, now: datetime
) -> None:
    """Enqueue the release event (leaves after the commit) and record it on the tender's chain."""
    bidders = await released_bidders(session, tender.id)
    notice_at = await notice_issued_at(session, award)
    rules = publicity.rules_of(award)
    try:
        due = (
            rules.due(PeriodKey.SECURITY_REFUND, award.sector, now, await load_calendar(session))
            if rules.applies(PeriodKey.SECURITY_REFUND, award.sector)
            else None
        )
    except CalendarYearMissing:
        due = None  # the guarantees service counts it once the year is loaded; never blocks the signing
    event = {
        "tender": tender.project_code,
        "tender_id": str(tender.id),
        "award_id": str(award.id),
        "contract_id": str(contract.id),
        "contract_sha256": contract.sha256,
        "signed_at": now.isoformat(),
        "refund_due": due.isoformat() if due else None,
        "bidders": bidders,
        # For `trading.guarantees.release_jobs` (issue 17): who won, when the losers were told
        # (the cash refunds' cause date, 87号令 Art. 38), and each bid's security.
        "winner_organisation_id": str(award.chosen_organisation_id) if award.chosen_organisation_id else None,
        "notice_issued_at": notice_at.isoformat() if notice_at else None,
        "securities": await securities.bid_securities(session, tender),
    }
    tasks.enqueue(session, RELEASE_TASK, **event)
    await append_entry(
        session,
        actor=Actor.system(),
        action="award.bid_securities_released",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={
            "contract_id": str(contract.id),
            "bidders": [b["uscc"] for b in bidders],
            "refund_due": event["refund_due"],
        },
        project_code=tender.project_code,
    )


# --- the deadline and the sweep ---------------------------------------------------------------------------


async def due_contracts(session: AsyncSession, now: datetime, limit: int) -> Sequence[uuid.UUID]:
    rows = await session.scalars(
        sa.select(Contract.id)
        .where(Contract.next_check.is_not(None), Contract.next_check <= now, Contract.voided_at.is_(None))
        .limit(limit)
    )
    return rows.all()


async def check_contract_due(session: AsyncSession, contract_id: uuid.UUID, now: datetime) -> bool:
    """The sweep's look at one contract (locked, re-checked): send the reminder come due once to
    both parties; warn the supervisors once when the deadline passed unsigned. True when it acted.
    """
    contract = await session.scalar(sa.select(Contract).where(Contract.id == contract_id).with_for_update())
    if contract is None or contract.next_check is None or contract.next_check > now:
        return False
    award = await session.get_one(Award, contract.award_id)
    if contract.tenderee_signed_at is not None or contract.voided_at is not None:
        contract.next_check = None
        return False
    notice_at = await notice_issued_at(session, award)
    if notice_at is None:  # pragma: no cover - drafted after the notice
        contract.next_check = None
        return False
    tender = await session.get_one(Tender, award.tender_id)
    deadline = contract_deadline(
        notice_at,
        now,
        None,
        sector=award.sector,
        calendar=await load_calendar(session),
        rules=publicity.rules_of(award),
        due=contract.due_at,
    )
    changed = False
    sent = list((contract.reminders_sent or {}).get("days_before", []))
    if deadline.reminder is not None and deadline.reminder not in sent and deadline.state is DeadlineState.REMINDER_DUE:
        await _remind(session, contract, tender, deadline.reminder, deadline.due)
        contract.reminders_sent = {"days_before": [*sent, deadline.reminder]}
        changed = True
    if deadline.warn_supervisor and contract.warned_at is None:
        await _warn_overdue(session, contract, award, tender, deadline.due, now)
        changed = True
    contract.deadline_state = deadline.state.value
    contract.next_check = deadline.next_check
    contract.updated_at = now
    await session.flush()
    return changed


def _path(tender: Tender) -> str:
    return f"/bidding/tenders/{tender.project_code}/contract"


async def _remind(session: AsyncSession, contract: Contract, tender: Tender, days: int, due: datetime) -> None:
    for organisation_id in (contract.winner_organisation_id, contract.tenderee_organisation_id):
        await notifications.publish(
            session,
            recipient=notifications.Recipient.organisation(organisation_id),
            template=REMINDER_TEMPLATE,
            key=f"award.contract_reminder:{contract.id}:{days}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "due": due.isoformat(),
                "days": days,
                "path": _path(tender),
            },
            project_code=tender.project_code,
        )


async def _warn_overdue(  # noqa: PLR0917 - what the warning names
    session: AsyncSession, contract: Contract, award: Award, tender: Tender, due: datetime, now: datetime
) -> None:
    contract.warned_at = now
    await session.flush()
    await append_entry(
        session,
        actor=Actor.system(),
        action="award.contract_overdue",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary={
            "contract_id": str(contract.id),
            "due": due.isoformat(),
            "winner_signed": contract.winner_signed_at is not None,
        },
        project_code=tender.project_code,
    )
    for organisation_id in await publicity.supervisors(session):
        await notifications.publish(
            session,
            recipient=notifications.Recipient.organisation(organisation_id),
            template=OVERDUE_TEMPLATE,
            key=f"award.contract_overdue:{contract.id}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "due": due.isoformat(),
                "path": "/supervision/award/contracts/overdue",
            },
            project_code=tender.project_code,
        )


@dataclass(frozen=True, slots=True)
class OverdueContract:
    tender_code: str
    title: str
    winner: str
    tenderee: str
    due_at: datetime
    winner_signed_at: datetime | None
    warned_at: datetime | None


async def overdue_contracts(session: AsyncSession, now: datetime) -> list[OverdueContract]:
    """Contracts not signed by both parties whose deadline passed (the supervisor's list)."""
    winner = aliased(Organisation)
    tenderee = aliased(Organisation)
    rows = await session.execute(
        sa.select(Contract, Tender.project_code, Tender.title, winner.name, tenderee.name)
        .join(Award, Award.id == Contract.award_id)
        .join(Tender, Tender.id == Award.tender_id)
        .join(winner, winner.id == Contract.winner_organisation_id)
        .join(tenderee, tenderee.id == Contract.tenderee_organisation_id)
        .where(Contract.tenderee_signed_at.is_(None), Contract.voided_at.is_(None), Contract.due_at <= now)
        .order_by(Contract.due_at)
    )
    return [
        OverdueContract(code, title, w, t, c.due_at, c.winner_signed_at, c.warned_at) for c, code, title, w, t in rows
    ]
