"""All SQL of the scoring part.

The opening's tables are read through light table clauses (`_OPENING_BIDS`, `_OPENING_SESSIONS`):
``bidding.evaluation`` may not import ``bidding.opening`` (import contract: the opening depends on
bidding's core, never the reverse), and the scoring part only reads what the opening recorded.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import (
    DocumentRead,
    Evaluation,
    Finding,
    FindingSource,
    Member,
    MemberStatus,
    ObjectiveVote,
    ReviewDecision,
    Score,
    SessionState,
    SheetSubmission,
)
from bidding.evaluation.pool.models import ConflictDeclaration, Expert
from bidding.models import Bid, BidStatus, Lot, Tender
from trading.kernel.db.types import JSONData

CURRENT_STATUSES = (MemberStatus.CONFIRMED, MemberStatus.SIGNED_IN)
"""A member is current when not voided and confirmed or signed in (CONTRACTS15)."""

_OPENING_BIDS = sa.table(
    "bidding_opening_bids",
    sa.column("id", sa.Uuid()),
    sa.column("session_id", sa.Uuid()),
    sa.column("bid_id", sa.Uuid()),
    sa.column("lot_id", sa.Uuid()),
    sa.column("organisation_id", sa.Uuid()),
    sa.column("bidder_uscc", sa.String()),
    sa.column("bidder_name", sa.String()),
    sa.column("price_summary", JSONData),
    sa.column("package_status", sa.String()),
    sa.column("package_sha256", sa.String()),
    sa.column("outcome", sa.String()),
)
_OPENING_SESSIONS = sa.table(
    "bidding_opening_sessions",
    sa.column("id", sa.Uuid()),
    sa.column("tender_id", sa.Uuid()),
)
OPENED = "opened"
"""``PartStatus.OPENED`` of the opening (a VARCHAR value)."""


@dataclass(frozen=True, slots=True)
class OpenedBid:
    """A bid of the opening as the evaluation reads it."""

    id: uuid.UUID
    lot_id: uuid.UUID
    lot_code: str
    organisation_id: uuid.UUID
    bidder_uscc: str
    bidder_name: str
    price: Decimal | None
    """The total price read out at 唱标 (the decrypted price summary), None if it was not opened."""
    package_opened: bool
    package_sha256: str | None
    outcome: str
    revoked: bool = False
    """The bidder revoked the bid after the deadline (撤销, `bidding.intake.revocation`): not valid."""


def _price(summary: dict[str, Any] | None) -> Decimal | None:
    if not summary or "totalPrice" not in summary:
        return None
    try:
        return Decimal(str(summary["totalPrice"]))
    except InvalidOperation:  # pragma: no cover - the opening checked the summary
        return None


class ScoringRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- evaluation, tender, bids ---

    async def evaluation(self, evaluation_id: uuid.UUID, *, lock: bool = False) -> Evaluation | None:
        query = sa.select(Evaluation).where(Evaluation.id == evaluation_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()

    async def tender(self, tender_id: uuid.UUID) -> Tender:
        return await self.session.get_one(Tender, tender_id)

    async def bids(self, evaluation: Evaluation) -> list[OpenedBid]:
        """The opening's bids on the evaluation's lots (all lots when none is listed), by bidder name."""
        b = _OPENING_BIDS
        query = (
            sa.select(b, Lot.code.label("lot_code"), Lot.id.label("lot_pk"), Bid.status.label("bid_status"))
            .select_from(b.join(_OPENING_SESSIONS, _OPENING_SESSIONS.c.id == b.c.session_id))
            .join(Lot, Lot.id == b.c.lot_id)
            .outerjoin(Bid, Bid.id == b.c.bid_id)
            .where(_OPENING_SESSIONS.c.tender_id == evaluation.tender_id)
            .order_by(b.c.bidder_name, b.c.id)
        )
        lots = [str(x) for x in (evaluation.lot_ids or {}).get("lots", [])]
        rows = (await self.session.execute(query)).mappings().all()
        out = []
        for row in rows:
            if lots and str(row["lot_pk"]) not in lots and row["lot_code"] not in lots:
                continue
            out.append(
                OpenedBid(
                    id=row["id"],
                    lot_id=row["lot_id"],
                    lot_code=row["lot_code"],
                    organisation_id=row["organisation_id"],
                    bidder_uscc=row["bidder_uscc"],
                    bidder_name=row["bidder_name"],
                    price=_price(row["price_summary"]),
                    package_opened=row["package_status"] == OPENED and row["package_sha256"] is not None,
                    package_sha256=row["package_sha256"],
                    outcome=row["outcome"],
                    revoked=row["bid_status"] is BidStatus.REVOKED,
                )
            )
        return out

    # --- members ---

    async def members(self, evaluation_id: uuid.UUID) -> list[Member]:
        rows = await self.session.scalars(
            sa.select(Member).where(Member.evaluation_id == evaluation_id).order_by(Member.created_at, Member.id)
        )
        return list(rows)

    async def current_members(self, evaluation_id: uuid.UUID) -> list[Member]:
        return [m for m in await self.members(evaluation_id) if m.voided_at is None and m.status in CURRENT_STATUSES]

    async def conflicted(self, member: Member, bid: OpenedBid, today: date) -> str | None:
        """Why ``member`` may not score ``bid`` (a declared conflict in force, or the expert's employer
        is the bidder), or None.
        """
        if member.expert_id is None:
            return None
        expert = await self.session.get(Expert, member.expert_id)
        if expert is not None and expert.employer_uscc == bid.bidder_uscc:
            return "employment"
        rows = await self.session.scalars(
            sa.select(ConflictDeclaration).where(
                ConflictDeclaration.expert_id == member.expert_id,
                sa.or_(
                    ConflictDeclaration.organisation_uscc == bid.bidder_uscc,
                    ConflictDeclaration.organisation_id == bid.organisation_id,
                ),
                ConflictDeclaration.period_from <= today,
                sa.or_(ConflictDeclaration.period_until.is_(None), ConflictDeclaration.period_until >= today),
            )
        )
        declared = rows.first()
        return declared.relation.value if declared is not None else None

    # --- scores, votes, reviews, submissions ---

    async def scores(self, evaluation_id: uuid.UUID, member_id: uuid.UUID | None = None) -> list[Score]:
        query = sa.select(Score).where(Score.evaluation_id == evaluation_id)
        if member_id is not None:
            query = query.where(Score.member_id == member_id)
        return list(await self.session.scalars(query.order_by(Score.opening_bid_id, Score.criterion)))

    async def score(self, member_id: uuid.UUID, bid_id: uuid.UUID, criterion: str) -> Score | None:
        rows = await self.session.scalars(
            sa.select(Score)
            .where(Score.member_id == member_id, Score.opening_bid_id == bid_id, Score.criterion == criterion)
            .with_for_update()
        )
        return rows.one_or_none()

    async def votes(self, evaluation_id: uuid.UUID, member_id: uuid.UUID | None = None) -> list[ObjectiveVote]:
        query = sa.select(ObjectiveVote).where(ObjectiveVote.evaluation_id == evaluation_id)
        if member_id is not None:
            query = query.where(ObjectiveVote.member_id == member_id)
        return list(await self.session.scalars(query.order_by(ObjectiveVote.opening_bid_id, ObjectiveVote.criterion)))

    async def vote(self, member_id: uuid.UUID, bid_id: uuid.UUID, criterion: str) -> ObjectiveVote | None:
        rows = await self.session.scalars(
            sa.select(ObjectiveVote)
            .where(
                ObjectiveVote.member_id == member_id,
                ObjectiveVote.opening_bid_id == bid_id,
                ObjectiveVote.criterion == criterion,
            )
            .with_for_update()
        )
        return rows.one_or_none()

    async def reviews(self, evaluation_id: uuid.UUID, member_id: uuid.UUID | None = None) -> list[ReviewDecision]:
        query = sa.select(ReviewDecision).where(ReviewDecision.evaluation_id == evaluation_id)
        if member_id is not None:
            query = query.where(ReviewDecision.member_id == member_id)
        return list(await self.session.scalars(query.order_by(ReviewDecision.decided_at)))

    async def review(self, member_id: uuid.UUID, bid_id: uuid.UUID, stage: str, item: str) -> ReviewDecision | None:
        rows = await self.session.scalars(
            sa.select(ReviewDecision)
            .where(
                ReviewDecision.member_id == member_id,
                ReviewDecision.opening_bid_id == bid_id,
                ReviewDecision.stage == stage,
                ReviewDecision.item == item,
            )
            .with_for_update()
        )
        return rows.one_or_none()

    async def submissions(self, evaluation_id: uuid.UUID) -> list[SheetSubmission]:
        rows = await self.session.scalars(
            sa.select(SheetSubmission)
            .where(SheetSubmission.evaluation_id == evaluation_id)
            .order_by(SheetSubmission.submitted_at)
        )
        return list(rows)

    async def submission(self, member_id: uuid.UUID, stage: SessionState) -> SheetSubmission | None:
        rows = await self.session.scalars(
            sa.select(SheetSubmission).where(SheetSubmission.member_id == member_id, SheetSubmission.stage == stage)
        )
        return rows.one_or_none()

    # --- findings, reads ---

    async def findings(self, evaluation_id: uuid.UUID, source: FindingSource | None = None) -> list[Finding]:
        query = sa.select(Finding).where(Finding.evaluation_id == evaluation_id)
        if source is not None:
            query = query.where(Finding.source == source)
        return list(await self.session.scalars(query.order_by(Finding.found_at, Finding.id)))

    async def finding(self, evaluation_id: uuid.UUID, finding_id: uuid.UUID) -> Finding | None:
        rows = await self.session.scalars(
            sa.select(Finding).where(Finding.evaluation_id == evaluation_id, Finding.id == finding_id).with_for_update()
        )
        return rows.one_or_none()

    async def open_art64(self, evaluation_id: uuid.UUID) -> list[Finding]:
        rows = await self.session.scalars(
            sa.select(Finding).where(
                Finding.evaluation_id == evaluation_id,
                Finding.source == FindingSource.ART64,
                Finding.resolution.is_(None),
            )
        )
        return list(rows)

    async def reads(self, evaluation_id: uuid.UUID, member_id: uuid.UUID | None = None) -> list[DocumentRead]:
        query = sa.select(DocumentRead).where(DocumentRead.evaluation_id == evaluation_id)
        if member_id is not None:
            query = query.where(DocumentRead.member_id == member_id)
        return list(await self.session.scalars(query.order_by(DocumentRead.read_at.desc())))

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()
