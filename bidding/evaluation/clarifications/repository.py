"""All SQL of the clarifications.

The opening's tables are read through light table clauses (``bidding.evaluation`` may not import
``bidding.opening``: the opening depends on bidding's core, never the reverse).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Clarification, ClarificationStatus, Evaluation, Member, MemberStatus
from bidding.models import Tender

CURRENT_STATUSES = (MemberStatus.CONFIRMED, MemberStatus.SIGNED_IN)
"""A member is current when not voided and confirmed or signed in (CONTRACTS15)."""

_OPENING_BIDS = sa.table(
    "bidding_opening_bids",
    sa.column("id", sa.Uuid()),
    sa.column("session_id", sa.Uuid()),
    sa.column("organisation_id", sa.Uuid()),
    sa.column("bidder_uscc", sa.String()),
    sa.column("bidder_name", sa.String()),
)
_OPENING_SESSIONS = sa.table(
    "bidding_opening_sessions",
    sa.column("id", sa.Uuid()),
    sa.column("tender_id", sa.Uuid()),
)


@dataclass(frozen=True, slots=True)
class BidderOfEvaluation:
    """A bid at the tender's opening, as the clarification addresses it."""

    opening_bid_id: uuid.UUID
    organisation_id: uuid.UUID
    uscc: str
    name: str


def _bidder(row: Any) -> BidderOfEvaluation:
    return BidderOfEvaluation(row.id, row.organisation_id, row.bidder_uscc, row.bidder_name)


class ClarificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def evaluation(self, evaluation_id: uuid.UUID) -> Evaluation | None:
        return await self.session.get(Evaluation, evaluation_id)

    async def tender(self, tender_id: uuid.UUID) -> Tender:
        return await self.session.get_one(Tender, tender_id)

    async def current_member(self, evaluation_id: uuid.UUID, user_id: uuid.UUID | None) -> Member | None:
        if user_id is None:
            return None
        return await self.session.scalar(
            sa.select(Member).where(
                Member.evaluation_id == evaluation_id,
                Member.user_id == user_id,
                Member.voided_at.is_(None),
                Member.status.in_(CURRENT_STATUSES),
            )
        )

    async def member(self, member_id: uuid.UUID) -> Member | None:
        return await self.session.get(Member, member_id)

    def _bidders(self) -> sa.Select[Any]:
        return sa.select(
            _OPENING_BIDS.c.id,
            _OPENING_BIDS.c.organisation_id,
            _OPENING_BIDS.c.bidder_uscc,
            _OPENING_BIDS.c.bidder_name,
        ).join(_OPENING_SESSIONS, _OPENING_SESSIONS.c.id == _OPENING_BIDS.c.session_id)

    async def bidders(self, tender_id: uuid.UUID) -> list[BidderOfEvaluation]:
        """Every bid at the tender's opening (a clarification goes to one of them)."""
        rows = await self.session.execute(
            self._bidders()
            .where(_OPENING_SESSIONS.c.tender_id == tender_id)
            .order_by(_OPENING_BIDS.c.bidder_name, _OPENING_BIDS.c.id)
        )
        return [_bidder(row) for row in rows]

    async def bidder(self, tender_id: uuid.UUID, opening_bid_id: uuid.UUID) -> BidderOfEvaluation | None:
        row = (
            await self.session.execute(
                self._bidders().where(_OPENING_SESSIONS.c.tender_id == tender_id, _OPENING_BIDS.c.id == opening_bid_id)
            )
        ).first()
        return None if row is None else _bidder(row)

    async def bidders_by_id(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, BidderOfEvaluation]:
        if not ids:
            return {}
        rows = await self.session.execute(self._bidders().where(_OPENING_BIDS.c.id.in_(set(ids))))
        return {row.id: _bidder(row) for row in rows}

    async def of_evaluation(self, evaluation_id: uuid.UUID) -> list[Clarification]:
        return list(
            (
                await self.session.scalars(
                    sa.select(Clarification)
                    .where(Clarification.evaluation_id == evaluation_id)
                    .order_by(Clarification.asked_at, Clarification.id)
                )
            ).all()
        )

    async def of_organisation(self, organisation_id: uuid.UUID) -> list[tuple[Clarification, Tender]]:
        rows = await self.session.execute(
            sa.select(Clarification, Tender)
            .join(Evaluation, Evaluation.id == Clarification.evaluation_id)
            .join(Tender, Tender.id == Evaluation.tender_id)
            .where(Clarification.organisation_id == organisation_id)
            .order_by(Clarification.asked_at.desc(), Clarification.id)
        )
        return [(row[0], row[1]) for row in rows]

    async def clarification(self, clarification_id: uuid.UUID, *, lock: bool = False) -> Clarification | None:
        query = sa.select(Clarification).where(Clarification.id == clarification_id)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def due(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Open requests whose time to answer is over (the sweep marks them overdue)."""
        return list(
            (
                await self.session.scalars(
                    sa.select(Clarification.id)
                    .where(
                        Clarification.status == ClarificationStatus.OPEN,
                        Clarification.next_check.is_not(None),
                        Clarification.next_check <= now,
                    )
                    .order_by(Clarification.next_check)
                    .limit(limit)
                )
            ).all()
        )
