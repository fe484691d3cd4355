"""All SQL of the report part: what the report shows, the signatures, completion."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import (
    Clarification,
    CommitteeDraw,
    Evaluation,
    EvaluationVenue,
    EventKind,
    Finding,
    Member,
    MemberStatus,
    ReportSignature,
    ReviewDecision,
    Score,
    Seat,
    SessionEvent,
    SessionState,
    Venue,
)
from bidding.models import Tender
from trading.parties.models import CertificateBinding

CURRENT_STATUSES = (MemberStatus.CONFIRMED, MemberStatus.SIGNED_IN)


async def evaluation(session: AsyncSession, evaluation_id: uuid.UUID, *, lock: bool = False) -> Evaluation | None:
    query = sa.select(Evaluation).where(Evaluation.id == evaluation_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def published_evaluations(session: AsyncSession, tender_id: uuid.UUID) -> Sequence[Evaluation]:
    """The tender's evaluations whose results are published, ``all`` first, then by lot group."""
    query = (
        sa.select(Evaluation)
        .where(Evaluation.tender_id == tender_id, Evaluation.results_published_at.is_not(None))
        .order_by(sa.case((Evaluation.lot_group == "all", 0), else_=1), Evaluation.lot_group)
    )
    return (await session.execute(query)).scalars().all()


async def tender(session: AsyncSession, tender_id: uuid.UUID) -> Tender:
    return await session.get_one(Tender, tender_id)


async def members(session: AsyncSession, evaluation_id: uuid.UUID) -> Sequence[Member]:
    """Every member row (current, declined, replaced …) in draw order."""
    query = (
        sa.select(Member)
        .where(Member.evaluation_id == evaluation_id)
        .order_by(Member.kind, Member.draw_position.nulls_last(), Member.created_at, Member.id)
    )
    return (await session.execute(query)).scalars().all()


async def current_members(session: AsyncSession, evaluation_id: uuid.UUID) -> Sequence[Member]:
    """The members who sign: not voided, confirmed or signed in."""
    return [m for m in await members(session, evaluation_id) if is_current(m)]


def is_current(member: Member) -> bool:
    return member.voided_at is None and member.status in CURRENT_STATUSES


async def venues(session: AsyncSession, evaluation_id: uuid.UUID) -> Sequence[tuple[Venue, EvaluationVenue]]:
    query = (
        sa.select(Venue, EvaluationVenue)
        .join(EvaluationVenue, EvaluationVenue.venue_id == Venue.id)
        .where(EvaluationVenue.evaluation_id == evaluation_id)
        .order_by(EvaluationVenue.role, Venue.code)
    )
    return [(v, ev) for v, ev in (await session.execute(query)).all()]


async def seats(session: AsyncSession, seat_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Seat]:
    if not seat_ids:
        return {}
    rows = (await session.execute(sa.select(Seat).where(Seat.id.in_(seat_ids)))).scalars().all()
    return {row.id: row for row in rows}


# The opened bids' names, read by table name: bidding's import contract keeps `bidding.opening`
# out of every other module of bidding (the evaluation reads only these two columns).
_OPENING_BIDS = sa.table("bidding_opening_bids", sa.column("id", sa.Uuid), sa.column("bidder_name", sa.String))


async def bidder_names(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The bidder's name of each opened bid (by its ``bidding_opening_bids`` id)."""
    if not ids:
        return {}
    query = sa.select(_OPENING_BIDS.c.id, _OPENING_BIDS.c.bidder_name).where(_OPENING_BIDS.c.id.in_(list(ids)))
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


async def scores(session: AsyncSession, evaluation_id: uuid.UUID) -> Sequence[Score]:
    query = (
        sa.select(Score)
        .where(Score.evaluation_id == evaluation_id)
        .order_by(Score.opening_bid_id, Score.criterion, Score.member_id)
    )
    return (await session.execute(query)).scalars().all()


async def review_decisions(session: AsyncSession, evaluation_id: uuid.UUID) -> Sequence[ReviewDecision]:
    query = (
        sa.select(ReviewDecision)
        .where(ReviewDecision.evaluation_id == evaluation_id)
        .order_by(ReviewDecision.stage, ReviewDecision.opening_bid_id, ReviewDecision.item, ReviewDecision.member_id)
    )
    return (await session.execute(query)).scalars().all()


async def findings(session: AsyncSession, evaluation_id: uuid.UUID) -> Sequence[Finding]:
    query = sa.select(Finding).where(Finding.evaluation_id == evaluation_id).order_by(Finding.found_at, Finding.id)
    return (await session.execute(query)).scalars().all()


async def clarifications(session: AsyncSession, evaluation_id: uuid.UUID) -> Sequence[Clarification]:
    query = (
        sa.select(Clarification)
        .where(Clarification.evaluation_id == evaluation_id)
        .order_by(Clarification.asked_at, Clarification.id)
    )
    return (await session.execute(query)).scalars().all()


async def session_events(
    session: AsyncSession, evaluation_id: uuid.UUID, kinds: Sequence[EventKind]
) -> Sequence[SessionEvent]:
    query = (
        sa.select(SessionEvent)
        .where(SessionEvent.evaluation_id == evaluation_id, SessionEvent.kind.in_(kinds))
        .order_by(SessionEvent.at, SessionEvent.id)
    )
    return (await session.execute(query)).scalars().all()


async def signatures(session: AsyncSession, evaluation_id: uuid.UUID) -> Sequence[ReportSignature]:
    query = (
        sa.select(ReportSignature)
        .where(ReportSignature.evaluation_id == evaluation_id)
        .order_by(ReportSignature.at, ReportSignature.id)
    )
    return (await session.execute(query)).scalars().all()


async def void_signed(session: AsyncSession, evaluation_id: uuid.UUID) -> list[uuid.UUID]:
    """Delete the signatures on the previous revision (the report is rendered again); the member ids."""
    where = (ReportSignature.evaluation_id == evaluation_id, ReportSignature.signed.is_(True))
    ids = list((await session.execute(sa.select(ReportSignature.member_id).where(*where))).scalars().all())
    if ids:
        await session.execute(sa.delete(ReportSignature).where(*where).execution_options(synchronize_session=False))
    return ids


async def live_binding_user(session: AsyncSession, certificate_sha256: str) -> uuid.UUID | None:
    """The account a certificate is bound to now (one live binding per certificate), or None."""
    query = sa.select(CertificateBinding.user_id).where(
        CertificateBinding.certificate_sha256 == certificate_sha256, CertificateBinding.unbound_at.is_(None)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def publish_draws(session: AsyncSession, evaluation_id: uuid.UUID, now: datetime) -> int:
    query = (
        sa.update(CommitteeDraw)
        .where(CommitteeDraw.evaluation_id == evaluation_id, CommitteeDraw.published_at.is_(None))
        .values(published_at=now)
    )
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def evaluations_of_user(session: AsyncSession, user_id: uuid.UUID) -> Sequence[tuple[Evaluation, Tender]]:
    """The evaluations where the user is a current member, at or after report signing, newest first."""
    query = (
        sa.select(Evaluation, Tender)
        .join(Member, Member.evaluation_id == Evaluation.id)
        .join(Tender, Tender.id == Evaluation.tender_id)
        .where(
            Member.user_id == user_id,
            Member.voided_at.is_(None),
            Member.status.in_(CURRENT_STATUSES),
            Evaluation.state.in_((SessionState.REPORT_SIGNING, SessionState.COMPLETED)),
        )
        .order_by(Evaluation.updated_at.desc())
        .limit(100)
    )
    return [(e, t) for e, t in (await session.execute(query)).all()]
