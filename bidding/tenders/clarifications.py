"""A published tender changes only in the open: signed clarifications (answering questions, moving
the deadline as the rules require), extensions, cancellation; questions from bidders who
downloaded the tender document.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

from bidding.errors import TenderRuleViolated, TenderStateConflict
from bidding.models import (
    DocumentKind,
    Question,
    Tender,
    TenderDocument,
    TenderStatus,
)
from bidding.rules import TenderRules
from bidding.tenders.base import ANSWER_MAX, QUESTION_MAX, RuleErrors
from bidding.tenders.documents import TenderDocuments
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.kernel.errors import PermissionDenied, ValidationFailed


class TenderClarifications(TenderDocuments):
    """After publication: clarify, extend, cancel; questions and their answers."""

    async def clarify(  # noqa: PLR0917 - the parts of a signed clarification, in the order of the form
        self,
        actor: Actor,
        tender: Tender,
        title: str,
        filename: str,
        data: bytes,
        signature: bytes,
        answers: Mapping[uuid.UUID, str] | None = None,
        new_deadline: datetime | None = None,
        media_type: str = "application/pdf",
    ) -> TenderDocument:
        """Publish a signed clarification at once, answering questions. A clarification later than
        the rule set's days before the deadline moves the deadline to at least that many days from
        now (实施条例 Art. 21, 87号令 Art. 27); ``new_deadline`` may move it further.
        """
        tender = await self._locked(tender)
        self._assert_owner(actor, tender)
        now = await clock.now(self.session)
        before = self._open(tender, now)
        rules = TenderRules.from_dict(tender.rules or {})
        earliest = now + timedelta(days=rules.clarification_days_before_deadline)
        after = before
        if earliest > before:
            if new_deadline is not None and new_deadline < earliest:
                raise TenderRuleViolated(
                    f"a clarification this late moves the deadline to at least {earliest.isoformat()}",
                    field="deadline",
                    rule="clarification_days_before_deadline",
                )
            after = max(new_deadline or earliest, earliest)
        elif new_deadline is not None:
            if new_deadline < before:
                raise TenderRuleViolated("the deadline can only move later", field="deadline", rule="later_deadline")
            after = new_deadline
        questions = await self._answerable(tender, answers or {})
        document = await self._store_document(
            actor,
            tender,
            kind=DocumentKind.CLARIFICATION,
            title=title,
            filename=filename,
            media_type=media_type,
            data=data,
            signature=signature,
            now=now,
            published=True,
        )
        if after != before:
            document.deadline_before, document.deadline_after = before, after
            tender.deadline = after
            tender.next_check = after
            tender.extensions += 1
            if (
                tender.documents_until is not None and tender.documents_until > after
            ):  # pragma: no cover - after > before
                tender.documents_until = after
        for question, answer in questions:
            question.answer = answer
            question.answered_in = document.id
            question.answered_at = now
        tender.updated_at = now
        await self.session.flush()
        await self._record(
            actor,
            "tender_clarified",
            tender,
            summary={
                "document_id": str(document.id),
                "sha256": document.sha256,
                "deadline_before": before,
                "deadline_after": after,
                "answered": len(questions),
            },
            data={"answers": {str(question.id): answer for question, answer in questions}},
        )
        return document

    async def _answerable(self, tender: Tender, answers: Mapping[uuid.UUID, str]) -> list[tuple[Question, str]]:
        found = []
        errors = RuleErrors()
        for question_id, answer in answers.items():
            question = await self.repo.question_for_answer(tender.id, question_id)
            if question is None:
                errors.add("answers", "question_exists", f"no question {question_id} on this tender")
                continue
            text = answer.strip()
            if not text or len(text) > ANSWER_MAX:
                errors.add("answers", "answer_length", f"an answer has 1–{ANSWER_MAX} characters")
                continue
            found.append((question, text))
        errors.raise_if_any()
        return found

    async def extend(self, actor: Actor, tender: Tender, new_deadline: datetime, reason: str) -> Tender:
        """Move the deadline later (only later), with a reason; recorded and counted."""
        tender = await self._locked(tender)
        self._assert_owner(actor, tender)
        now = await clock.now(self.session)
        before = self._open(tender, now)
        errors = RuleErrors()
        if new_deadline <= before:
            errors.add("deadline", "later_deadline", "an extension moves the deadline later")
        if not reason.strip():
            errors.add("reason", "required", "say why the deadline moves")
        errors.raise_if_any()
        tender.deadline = new_deadline
        tender.next_check = new_deadline
        tender.extensions += 1
        tender.updated_at = now
        await self.session.flush()
        await self._record(
            actor,
            "deadline_extended",
            tender,
            summary={"deadline_before": before, "deadline_after": new_deadline},
            data={"reason": reason.strip()},
        )
        return tender

    async def cancel(self, actor: Actor, tender: Tender, reason: str) -> Tender:
        """Cancel a draft or a tender still open for bids."""
        tender = await self._locked(tender)
        self._assert_owner(actor, tender)
        if tender.status not in {TenderStatus.DRAFT, TenderStatus.PUBLISHED}:
            raise TenderStateConflict(
                "only a draft or an open tender can be cancelled", field="status", rule="cancellable"
            )
        if not reason.strip():
            raise ValidationFailed("say why the tender is cancelled", field="reason", rule="required")
        now = await clock.now(self.session)
        previous = tender.status
        tender.status = TenderStatus.CANCELLED
        tender.next_check = None
        tender.updated_at = now
        await self.session.flush()
        await self._record(
            actor,
            "tender_cancelled",
            tender,
            summary={"status_before": previous.value},
            data={"reason": reason.strip()},
        )
        return tender

    # --- questions -------------------------------------------------------------------------------

    async def ask(self, actor: Actor, tender: Tender, text: str) -> Question:
        """A question from a bidder who downloaded the tender document, before the deadline."""
        if actor.organisation_id is None or actor.user_id is None:
            raise PermissionDenied("a question is asked for an organisation", rule="organisation")
        now = await clock.now(self.session)
        self._open(tender, now)
        text = text.strip()
        if not text or len(text) > QUESTION_MAX:
            raise ValidationFailed(f"a question has 1–{QUESTION_MAX} characters", field="text", rule="length")
        if not await self.repo.has_downloaded_tender_document(tender.id, actor.organisation_id):
            raise PermissionDenied(
                "download the tender document before asking", field="code", rule="tender_document_downloaded"
            )
        question = Question(
            id=uuid7(),
            tender_id=tender.id,
            organisation_id=actor.organisation_id,
            asked_by=actor.user_id,
            text=text,
            asked_at=now,
        )
        self.session.add(question)
        await self.session.flush()
        # Sealed: the asker is a prospective bidder.
        await self._record(
            actor,
            "question_asked",
            tender,
            summary={"question_id": str(question.id)},
            data={"text": text, "organisation_id": str(actor.organisation_id)},
            sealed=True,
        )
        return question

    async def my_questions(self, actor: Actor, tender: Tender) -> list[Question]:
        if actor.organisation_id is None:
            return []
        return await self.repo.questions(tender.id, actor.organisation_id)

    async def questions_for_owner(self, actor: Actor, tender: Tender) -> list[Question]:
        """Every question of the tender, for the tenderee and its agency (who must answer them);
        the schema they are shown in leaves out who asked.
        """
        self._assert_owner(actor, tender)
        return await self.repo.questions(tender.id)
