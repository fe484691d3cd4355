"""The clarifications' API bodies and answers (camelCase JSON)."""

from __future__ import annotations

import uuid

import msgspec

from bidding.evaluation.clarifications.service import ClarificationView
from trading.kernel.bounds import Input


class ClarificationAsk(Input, rename="camel"):
    """A member's request to one bidder (an opened bid of the tender); ``minutes`` to answer,
    default and range in `bidding.evaluation.clarifications.rules`.
    """

    opening_bid_id: uuid.UUID
    question: str
    minutes: int | None = None


class ClarificationAnswer(Input, rename="camel"):
    """The bidder's answer and a detached CAdES signature (base64 DER) over
    `bidding.client.format.clarification_answer_statement`.
    """

    answer: str
    signature: str


class ClarificationRead(msgspec.Struct, rename="camel"):
    id: str
    evaluation_id: str
    tender: str
    title: str
    opening_bid_id: str
    bidder: str | None
    bidder_name: str | None
    question: str
    asked_at: str
    due_at: str
    status: str
    answer: str | None
    answered_at: str | None
    signer_sha256: str | None
    statement_sha256: str | None
    asked_by_me: bool

    @classmethod
    def of(cls, view: ClarificationView) -> ClarificationRead:
        row = view.clarification
        return cls(
            id=str(row.id),
            evaluation_id=str(row.evaluation_id),
            tender=view.tender_code,
            title=view.tender_title,
            opening_bid_id=str(row.opening_bid_id),
            bidder=view.bidder.uscc if view.bidder else None,
            bidder_name=view.bidder.name if view.bidder else None,
            question=row.question,
            asked_at=row.asked_at.isoformat(),
            due_at=row.due_at.isoformat(),
            status=view.status.value,
            answer=row.answer,
            answered_at=row.answered_at.isoformat() if row.answered_at else None,
            signer_sha256=row.signer_sha256,
            statement_sha256=view.statement_sha256,
            asked_by_me=view.asked_by_me,
        )
