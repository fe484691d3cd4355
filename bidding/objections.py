"""Objections to the tender documents (异议, 实施条例 Art. 22; Order 20 Art. 39: through the platform).

* **Filed** by an organisation that downloaded the tender document, signed with its certificate
  (CAdES over `format.document_objection_statement`, the signer's USCC must be the organisation's),
  at least ``rules["document_objection_days_before_deadline"]`` (10) days before the bid deadline.
  Who objected is a prospective bidder: the filing goes on the project's *sealed* ledger chain, and
  the owners' list of objections never names the objector.
* **Answered** by the tenderee or its agency, within ``rules["document_objection_answer_days"]`` (3)
  days; the answer is recorded on the project chain.
* **Suspended meanwhile**: the tender does not close over an unanswered objection (the deadline
  sweep defers), and the answer moves the deadline later by the time the objection was pending, so
  bidders lose no time to the suspension.
* **The answer limit** is watched by the sweep (`DocumentObjectionAnswerDue`): an objection still
  unanswered at its limit is recorded as overdue (``bidding.document_objection_overdue``), once.

Services only flush; the request or job owns the transaction.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client import format as fmt
from bidding.errors import TenderStateConflict
from bidding.models import DocumentObjection, Tender, TenderStatus
from bidding.repository import TenderRepository
from certs.errors import Refused
from certs.sign.cades import verify_detached
from certs.trustlist.model import Usage
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry
from trading.notifications import service as notifications
from trading.parties.certificates.trust import signer_party
from trading.parties.models import Organisation

TEXT_MAX: Final = 4000
ANSWER_MAX: Final = 8000
OBJECTION_DAYS_BEFORE_DEADLINE: Final = 10
ANSWER_DAYS: Final = 3
RECHECK_SUSPENDED: Final = timedelta(hours=1)
"""How often the deadline sweep looks again at a tender held by an unanswered objection."""


def objection_days(tender: Tender) -> int:
    return int((tender.rules or {}).get("document_objection_days_before_deadline", OBJECTION_DAYS_BEFORE_DEADLINE))


def answer_days(tender: Tender) -> int:
    return int((tender.rules or {}).get("document_objection_answer_days", ANSWER_DAYS))


class DocumentObjections:
    """File, answer and list objections to one tender's documents."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.repo = TenderRepository(session)

    async def file(self, actor: Actor, tender: Tender, text: str, signature: str) -> DocumentObjection:
        if actor.organisation_id is None or actor.user_id is None:
            raise PermissionDenied("an objection is filed for an organisation", rule="organisation")
        tender = await self._locked(tender)
        now = await clock.now(self.session)
        if tender.status is not TenderStatus.PUBLISHED or tender.deadline is None:
            raise TenderStateConflict("the tender is not open", field="status", rule="published_only")
        days = objection_days(tender)
        if now > tender.deadline - timedelta(days=days):
            raise TenderStateConflict(
                f"objections to the tender documents are filed at least {days} days before the deadline "
                "(实施条例 Art. 22)",
                field="deadline",
                rule="objection_days_before_deadline",
            )
        if not text.strip() or len(text) > TEXT_MAX:
            raise ValidationFailed(f"an objection has 1–{TEXT_MAX} characters", field="text", rule="length")
        if not await self.repo.has_downloaded_tender_document(tender.id, actor.organisation_id):
            raise PermissionDenied(
                "download the tender document before objecting to it", field="code", rule="tender_document_downloaded"
            )
        organisation = await self.session.get_one(Organisation, actor.organisation_id)
        signer = await self._verify(
            fmt.document_objection_statement(tender.project_code, organisation.uscc, text),
            signature,
            organisation.uscc,
            now,
        )
        answer_due = now + timedelta(days=answer_days(tender))
        objection = DocumentObjection(
            id=uuid7(),
            tender_id=tender.id,
            organisation_id=organisation.id,
            filed_by=actor.user_id,
            text=text,
            signature=_decode(signature),
            signer_sha256=signer,
            filed_at=now,
            answer_due=answer_due,
            next_check=answer_due,
        )
        self.session.add(objection)
        await self.session.flush()
        # Sealed: the objector is a prospective bidder (Order 20 Art. 21).
        await append_entry(
            self.session,
            actor=actor,
            action="bidding.document_objection_filed",
            subject_type="bidding.document_objection",
            subject_id=str(objection.id),
            summary={"answer_due": answer_due.isoformat(), "signer_sha256": signer},
            data={"text": text, "organisation_id": str(organisation.id)},
            project_code=tender.project_code,
            sealed=True,
        )
        return objection

    async def answer(self, actor: Actor, tender: Tender, objection_id: uuid.UUID, answer: str) -> DocumentObjection:
        _assert_owner(actor, tender)
        if actor.user_id is None:
            raise PermissionDenied("an answer is given by a user", rule="user")
        tender = await self._locked(tender)
        objection = await self.session.scalar(
            sa.select(DocumentObjection)
            .where(DocumentObjection.id == objection_id, DocumentObjection.tender_id == tender.id)
            .with_for_update()
        )
        if objection is None:
            raise NotFound("no such objection", field="objection_id", rule="exists")
        if objection.answered_at is not None:
            raise TenderStateConflict("the objection is answered already", field="objection_id", rule="answer_once")
        answer = answer.strip()
        if not answer or len(answer) > ANSWER_MAX:
            raise ValidationFailed(f"an answer has 1–{ANSWER_MAX} characters", field="answer", rule="length")
        now = await clock.now(self.session)
        objection.answer = answer
        objection.answered_by = actor.user_id
        objection.answered_at = now
        objection.next_check = None
        summary: dict[str, object] = {
            "objection_id": str(objection.id),
            "within_limit": now <= objection.answer_due,
        }
        if tender.status is TenderStatus.PUBLISHED and tender.deadline is not None:
            # The activity was suspended while the objection was pending: the deadline moves by as much.
            before = tender.deadline
            tender.deadline = before + (now - objection.filed_at)
            tender.next_check = tender.deadline
            tender.updated_at = now
            summary |= {"deadline_before": before.isoformat(), "deadline_after": tender.deadline.isoformat()}
        await self.session.flush()
        await append_entry(
            self.session,
            actor=actor,
            action="bidding.document_objection_answered",
            subject_type="bidding.document_objection",
            subject_id=str(objection.id),
            summary=summary,
            data={"answer": answer},
            project_code=tender.project_code,
        )
        # Served on the objector (sealed chain: it names a prospective bidder).
        await notifications.publish(
            self.session,
            recipient=notifications.Recipient.organisation(objection.organisation_id),
            template="bidding.objection_answered",
            key=f"bidding.document_objection_answered:{objection.id}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "answer": answer,
                "answered_at": now.isoformat(),
            },
            legal=True,
            project_code=tender.project_code,
            sealed=True,
            actor=actor,
        )
        return objection

    async def for_owner(self, actor: Actor, tender: Tender) -> Sequence[DocumentObjection]:
        _assert_owner(actor, tender)
        return await self._list(tender.id)

    async def mine(self, actor: Actor, tender: Tender) -> Sequence[DocumentObjection]:
        if actor.organisation_id is None:
            return []
        return await self._list(tender.id, actor.organisation_id)

    async def _list(
        self, tender_id: uuid.UUID, organisation_id: uuid.UUID | None = None
    ) -> Sequence[DocumentObjection]:
        statement = sa.select(DocumentObjection).where(DocumentObjection.tender_id == tender_id)
        if organisation_id is not None:
            statement = statement.where(DocumentObjection.organisation_id == organisation_id)
        return list(await self.session.scalars(statement.order_by(DocumentObjection.filed_at)))

    async def _locked(self, tender: Tender) -> Tender:
        locked = await self.repo.by_code(tender.project_code, lock=True)
        if locked is None:  # pragma: no cover - the caller just read it
            raise NotFound("no such tender", field="code", rule="exists")
        return locked

    async def _verify(self, statement: bytes, signature: str, uscc: str, now: datetime) -> str:
        try:
            signed = verify_detached(statement, _decode(signature))
        except Refused as refusal:
            raise ValidationFailed(
                f"the signature does not verify: {refusal.text}", field="signature", rule=refusal.reason.value
            ) from None
        try:
            party = await signer_party(self.session, self.settings, signed, usage=Usage.BID_SIGNATURE, at=now)
        except Refused as refusal:
            raise ValidationFailed(
                f"the signing certificate is not accepted: {refusal.text}", field="signature", rule=refusal.reason.value
            ) from None
        if party.identifier != uscc:
            raise ValidationFailed(
                f"signed by {party.name} ({party.identifier}), not by the objecting organisation",
                field="signature",
                rule="signer-not-objector",
            )
        return signed.signer_certificate.fingerprint(hashes.SHA256()).hex()


def _decode(signature: str) -> bytes:
    try:
        return base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed("the signature is base64 (DER)", field="signature", rule="base64") from exc


def _assert_owner(actor: Actor, tender: Tender) -> None:
    if actor.organisation_id is None or actor.organisation_id not in {
        tender.tenderee_organisation_id,
        tender.agency_organisation_id,
    }:
        raise PermissionDenied("only the tenderee and its agency answer objections", field="code", rule="owner")


async def has_unanswered(session: AsyncSession, tender_id: uuid.UUID) -> bool:
    """Whether an objection holds the tender (its deadline sweep defers while one is unanswered)."""
    found = await session.scalar(
        sa.select(DocumentObjection.id)
        .where(DocumentObjection.tender_id == tender_id, DocumentObjection.answered_at.is_(None))
        .limit(1)
    )
    return found is not None


async def record_overdue_if_due(session: AsyncSession, objection_id: uuid.UUID, now: datetime) -> bool:
    """The answer limit passed unanswered: record it once (lock, re-check, act)."""
    objection = await session.scalar(
        sa.select(DocumentObjection)
        .where(DocumentObjection.id == objection_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if objection is None or objection.next_check is None or objection.next_check > now:
        return False
    objection.next_check = None
    if objection.answered_at is not None:
        await session.flush()
        return False
    objection.overdue_at = now
    tender = await session.get_one(Tender, objection.tender_id)
    await session.flush()
    await append_entry(
        session,
        actor=Actor.system(),
        action="bidding.document_objection_overdue",
        subject_type="bidding.document_objection",
        subject_id=str(objection.id),
        summary={"answer_due": objection.answer_due.isoformat()},
        project_code=tender.project_code,
    )
    return True
