"""Clarification requests (澄清, 实施条例 Art. 52; 87号令 Art. 51) during the evaluation.

- **Ask** (`Clarifications.ask`): a current member of the committee, while the session is in
  qualification review, detailed review or scoring, asks one bidder of the tender a question, with
  a time to answer (``rules.answer_minutes_default``, or the member's within the rules' range). The
  bidder's organisation gets an inbox notice; the ledger records it (no member's name: identities
  stay confidential until the results).
- **Answer** (`Clarifications.answer`): the addressed bidder answers with a detached CAdES signature
  over `bidding.client.format.clarification_answer_statement` (tender, bidder, the request's id,
  the question's and the answer's SHA-256), made in the page (``sign-form.js``) or by
  ``ggzy bid clarification answer``. Refused, with field and rule and nothing stored: another
  organisation (``addressee``), after the due time on the database clock (``answer-due``), a second
  answer (``answered-once``), a signature that does not verify or whose certificate does not name
  the bidder (``signer-not-bidder``).
- **Overdue** (`mark_overdue_if_due`, the sweep on ``next_check``): an unanswered request past its
  due time becomes ``overdue`` once, in the ledger.
- **Who reads**: the committee's current members, the host organisation and overseers see every
  request of the evaluation with the answers; a bidder sees only its own.

The service only flushes; the request (or the sweep's unit of work) owns the transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client import format as fmt
from bidding.evaluation.clarifications.repository import BidderOfEvaluation, ClarificationRepository
from bidding.evaluation.clarifications.rules import ClarificationRules, clarification_rules
from bidding.evaluation.models import Clarification, ClarificationStatus, Evaluation, SessionState
from bidding.models import Tender
from bidding.signers import signer_must_be, verified
from certs.trustlist.model import fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry
from trading.notifications import service as notifications

ASK_STATES: Final = frozenset({SessionState.QUALIFICATION, SessionState.DETAILED, SessionState.SCORING})
"""Clarifications may be asked in qualification review, detailed review and scoring (CONTRACTS15)."""
OVERSEERS: Final = frozenset({Role.SUPERVISOR, Role.ADMIN})
NOTICE_ASKED: Final = "evaluation.clarification_requested"
NOTICE_ANSWERED: Final = "evaluation.clarification_answered"


@dataclass(frozen=True, slots=True)
class ClarificationView:
    """A request as its reader sees it (never the asking member's name)."""

    clarification: Clarification
    tender_code: str
    tender_title: str
    bidder: BidderOfEvaluation | None
    status: ClarificationStatus
    """The status on the database clock: an open request past its due time reads ``overdue``."""
    asked_by_me: bool = False

    @property
    def statement_sha256(self) -> str | None:
        statement = self.clarification.statement
        return hashlib.sha256(statement).hexdigest() if statement is not None else None


def effective_status(row: Clarification, now: datetime) -> ClarificationStatus:
    if row.status is ClarificationStatus.OPEN and row.due_at <= now:
        return ClarificationStatus.OVERDUE
    return row.status


def decode_signature(signature: str) -> bytes:
    try:
        return base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed("the signature is base64 (DER)", field="signature", rule="base64") from exc


def statement_of(tender: Tender, bidder_uscc: str, row: Clarification, answer: str) -> bytes:
    """The exact bytes the bidder signs to give ``answer`` to ``row``."""
    return fmt.clarification_answer_statement(tender.project_code, bidder_uscc, str(row.id), row.question, answer)


class Clarifications:
    def __init__(self, session: AsyncSession, settings: Settings, rules: ClarificationRules | None = None) -> None:
        self.session = session
        self.settings = settings
        self.rules = rules or clarification_rules()
        self.repo = ClarificationRepository(session)

    # --- lookups --------------------------------------------------------------------------------------

    async def _evaluation(self, evaluation_id: uuid.UUID) -> Evaluation:
        evaluation = await self.repo.evaluation(evaluation_id)
        if evaluation is None:
            raise NotFound("no such evaluation", field="evaluation", rule="exists")
        return evaluation

    async def may_read_all(self, actor: Actor, evaluation: Evaluation) -> bool:
        """The committee's current members, the host organisation and overseers read every request."""
        if actor.roles & OVERSEERS:
            return True
        if actor.organisation_id is not None and actor.organisation_id == evaluation.host_organisation_id:
            return True
        return await self.repo.current_member(evaluation.id, actor.user_id) is not None

    # --- asking ---------------------------------------------------------------------------------------

    async def ask(
        self,
        actor: Actor,
        evaluation_id: uuid.UUID,
        *,
        opening_bid_id: uuid.UUID,
        question: str,
        minutes: int | None = None,
    ) -> Clarification:
        evaluation = await self._evaluation(evaluation_id)
        member = await self.repo.current_member(evaluation.id, actor.user_id)
        if member is None:
            raise PermissionDenied(
                "only a current member of the committee asks for a clarification",
                field="actor",
                rule="committee-member",
            )
        if evaluation.state not in ASK_STATES:
            raise Conflict(
                "clarifications are asked during qualification review, detailed review or scoring",
                field="state",
                rule="clarification-state",
            )
        if evaluation.paused_at is not None:
            raise Conflict("the session is paused", field="state", rule="paused")
        question = question.strip()
        if not question or len(question) > self.rules.question_max:
            raise ValidationFailed(
                f"a question of 1–{self.rules.question_max} characters", field="question", rule="length"
            )
        minutes = self.rules.answer_minutes_default if minutes is None else minutes
        if not self.rules.answer_minutes_min <= minutes <= self.rules.answer_minutes_max:
            raise ValidationFailed(
                f"the time to answer is {self.rules.answer_minutes_min}–{self.rules.answer_minutes_max} minutes",
                field="minutes",
                rule="answer-minutes",
            )
        bidder = await self.repo.bidder(evaluation.tender_id, opening_bid_id)
        if bidder is None:
            raise ValidationFailed(
                "the bid is not one of this tender's opened bids", field="openingBidId", rule="bid-of-evaluation"
            )
        tender = await self.repo.tender(evaluation.tender_id)
        now = await clock.now(self.session)
        row = Clarification(
            evaluation_id=evaluation.id,
            opening_bid_id=bidder.opening_bid_id,
            organisation_id=bidder.organisation_id,
            asked_by_member_id=member.id,
            question=question,
            asked_at=now,
            due_at=now + timedelta(minutes=minutes),
            status=ClarificationStatus.OPEN,
        )
        row.next_check = row.due_at
        self.session.add(row)
        await self.session.flush()
        await append_entry(
            self.session,
            actor=actor,
            action="evaluation.clarification_asked",
            subject_type="evaluation.clarification",
            subject_id=str(row.id),
            summary={"bidder": bidder.uscc, "dueAt": row.due_at.isoformat(), "rulesVersion": self.rules.version},
            data={
                "evaluation": str(evaluation.id),
                "questionSha256": hashlib.sha256(question.encode()).hexdigest(),
                "minutes": minutes,
            },
            project_code=tender.project_code,
        )
        await notifications.publish(
            self.session,
            recipient=notifications.Recipient.organisation(bidder.organisation_id),
            template=NOTICE_ASKED,
            key=f"{NOTICE_ASKED}:{row.id}",
            params={
                "project_code": tender.project_code,
                "title": tender.title,
                "question": question,
                "due_at": row.due_at.isoformat(),
                "path": f"/evaluation/clarifications/{row.id}",
            },
            project_code=tender.project_code,
        )
        return row

    # --- answering ------------------------------------------------------------------------------------

    async def _addressed(self, actor: Actor, clarification_id: uuid.UUID, *, lock: bool) -> Clarification:
        row = await self.repo.clarification(clarification_id, lock=lock)
        if row is None:
            raise NotFound("no such clarification request", field="clarification", rule="exists")
        if actor.organisation_id is None or actor.organisation_id != row.organisation_id:
            raise PermissionDenied(
                "the request is addressed to another organisation", field="clarification", rule="addressee"
            )
        return row

    async def statement(self, actor: Actor, clarification_id: uuid.UUID, answer: str) -> bytes:
        """The bytes the addressed bidder signs to give ``answer`` (the answer trimmed as stored)."""
        row = await self._addressed(actor, clarification_id, lock=False)
        evaluation = await self._evaluation(row.evaluation_id)
        tender = await self.repo.tender(evaluation.tender_id)
        bidder = await self.repo.bidder(evaluation.tender_id, row.opening_bid_id)
        if bidder is None:  # pragma: no cover - the request was asked of this tender's bid
            raise NotFound("the bid is gone", field="clarification", rule="exists")
        return statement_of(tender, bidder.uscc, row, answer.strip())

    async def answer(self, actor: Actor, clarification_id: uuid.UUID, *, answer: str, signature: str) -> Clarification:
        row = await self._addressed(actor, clarification_id, lock=True)
        now = await clock.now(self.session)
        if row.status is ClarificationStatus.ANSWERED:
            raise Conflict("the request is already answered", field="clarification", rule="answered-once")
        if row.status is ClarificationStatus.OVERDUE or now >= row.due_at:
            raise Conflict(
                f"the time to answer ended at {row.due_at.isoformat()}", field="clarification", rule="answer-due"
            )
        text = answer.strip()
        if not text or len(text) > self.rules.answer_max:
            raise ValidationFailed(f"an answer of 1–{self.rules.answer_max} characters", field="answer", rule="length")
        evaluation = await self._evaluation(row.evaluation_id)
        tender = await self.repo.tender(evaluation.tender_id)
        bidder = await self.repo.bidder(evaluation.tender_id, row.opening_bid_id)
        if bidder is None:  # pragma: no cover - the request was asked of this tender's bid
            raise NotFound("the bid is gone", field="clarification", rule="exists")
        statement = statement_of(tender, bidder.uscc, row, text)
        raw = decode_signature(signature)
        signed = verified(statement, raw, refusal=ValidationFailed)
        await signer_must_be(
            self.session,
            self.settings,
            signed,
            uscc=bidder.uscc,
            at=now,
            refusal=ValidationFailed,
            signed_what="signed",
            not_by="the bidder the request is addressed to",
            rule="signer-not-bidder",
        )
        row.answer = text
        row.statement = statement
        row.signature = raw
        row.signer_sha256 = fingerprint(signed.signer_certificate)
        row.answered_by = actor.user_id
        row.answered_at = now
        row.status = ClarificationStatus.ANSWERED
        row.next_check = None
        await self.session.flush()
        await append_entry(
            self.session,
            actor=actor,
            action="evaluation.clarification_answered",
            subject_type="evaluation.clarification",
            subject_id=str(row.id),
            summary={
                "bidder": bidder.uscc,
                "statementSha256": hashlib.sha256(statement).hexdigest(),
                "signerSha256": row.signer_sha256,
            },
            data={"evaluation": str(evaluation.id), "answerSha256": hashlib.sha256(text.encode()).hexdigest()},
            project_code=tender.project_code,
        )
        asker = await self.repo.member(row.asked_by_member_id)
        if asker is not None and asker.user_id is not None:
            await notifications.publish(
                self.session,
                recipient=notifications.Recipient.user(asker.user_id),
                template=NOTICE_ANSWERED,
                key=f"{NOTICE_ANSWERED}:{row.id}",
                params={
                    "project_code": tender.project_code,
                    "title": tender.title,
                    "bidder": bidder.name,
                    "path": f"/evaluation/e/{evaluation.id}/clarifications",
                },
            )
        return row

    # --- the sweep ------------------------------------------------------------------------------------

    async def mark_overdue_if_due(self, clarification_id: uuid.UUID, now: datetime) -> bool:
        """Lock, re-check, act once: an open request past its due time becomes overdue."""
        row = await self.repo.clarification(clarification_id, lock=True)
        if row is None or row.status is not ClarificationStatus.OPEN or row.next_check is None:
            return False
        if row.due_at > now:
            row.next_check = row.due_at
            await self.session.flush()
            return False
        row.status = ClarificationStatus.OVERDUE
        row.next_check = None
        await self.session.flush()
        evaluation = await self._evaluation(row.evaluation_id)
        tender = await self.repo.tender(evaluation.tender_id)
        await append_entry(
            self.session,
            actor=Actor.system(),
            action="evaluation.clarification_overdue",
            subject_type="evaluation.clarification",
            subject_id=str(row.id),
            summary={"dueAt": row.due_at.isoformat()},
            project_code=tender.project_code,
        )
        return True

    # --- reading --------------------------------------------------------------------------------------

    async def of_evaluation(self, actor: Actor, evaluation_id: uuid.UUID) -> tuple[Evaluation, list[ClarificationView]]:
        """Every request of the evaluation, for the committee, the host and overseers."""
        evaluation = await self._evaluation(evaluation_id)
        if not await self.may_read_all(actor, evaluation):
            raise PermissionDenied(
                "the evaluation's clarifications are for its committee, its host and the supervisors",
                field="evaluation",
                rule="committee-or-host",
            )
        tender = await self.repo.tender(evaluation.tender_id)
        rows = await self.repo.of_evaluation(evaluation.id)
        bidders = await self.repo.bidders_by_id([r.opening_bid_id for r in rows])
        member = await self.repo.current_member(evaluation.id, actor.user_id)
        now = await clock.now(self.session)
        return evaluation, [
            ClarificationView(
                row,
                tender.project_code,
                tender.title,
                bidders.get(row.opening_bid_id),
                effective_status(row, now),
                asked_by_me=member is not None and row.asked_by_member_id == member.id,
            )
            for row in rows
        ]

    async def bidders(self, evaluation: Evaluation) -> list[BidderOfEvaluation]:
        return await self.repo.bidders(evaluation.tender_id)

    async def is_member(self, actor: Actor, evaluation: Evaluation) -> bool:
        return await self.repo.current_member(evaluation.id, actor.user_id) is not None

    async def mine(self, actor: Actor) -> list[ClarificationView]:
        """The caller's organisation's requests (a bidder sees only its own)."""
        if actor.organisation_id is None:
            return []
        now = await clock.now(self.session)
        rows = await self.repo.of_organisation(actor.organisation_id)
        bidders = await self.repo.bidders_by_id([row.opening_bid_id for row, _ in rows])
        return [
            ClarificationView(
                row, tender.project_code, tender.title, bidders.get(row.opening_bid_id), effective_status(row, now)
            )
            for row, tender in rows
        ]

    async def view(self, row: Clarification, *, asked_by_me: bool = False) -> ClarificationView:
        """One request as the API answers it after a change."""
        evaluation = await self._evaluation(row.evaluation_id)
        tender = await self.repo.tender(evaluation.tender_id)
        bidder = await self.repo.bidder(evaluation.tender_id, row.opening_bid_id)
        now = await clock.now(self.session)
        return ClarificationView(
            row, tender.project_code, tender.title, bidder, effective_status(row, now), asked_by_me
        )

    async def one_of_mine(self, actor: Actor, clarification_id: uuid.UUID) -> ClarificationView:
        row = await self._addressed(actor, clarification_id, lock=False)
        evaluation = await self._evaluation(row.evaluation_id)
        tender = await self.repo.tender(evaluation.tender_id)
        bidder = await self.repo.bidder(evaluation.tender_id, row.opening_bid_id)
        now = await clock.now(self.session)
        return ClarificationView(row, tender.project_code, tender.title, bidder, effective_status(row, now))
