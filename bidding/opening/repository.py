"""The opening hall's SQL: every query the opening's services, state machine, record and sweep
run, named by what it reads. Functions take the caller's session and only read or lock rows (and
flush nothing): the caller's unit of work decides the transaction.

``populate_existing`` on the locking reads: a row read under a lock must reflect the locked
version, not what an earlier read of the same session left in the identity map.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid, BidStatus, BidVersion, Lot, Tender
from bidding.opening.models import (
    FINAL_OUTCOMES,
    READ_OUT,
    CoefficientDraw,
    Confirmation,
    Objection,
    OpeningBid,
    OpeningSession,
    PartStatus,
    ReleasedShare,
    Stage,
)
from trading.parties.models import Organisation

# --- tenders and sessions ------------------------------------------------------------------------------


async def tender_by_code(session: AsyncSession, code: str) -> Tender | None:
    return await session.scalar(select(Tender).where(Tender.project_code == code))


async def opening_of_tender(
    session: AsyncSession, tender_id: uuid.UUID, *, lock: bool = False
) -> OpeningSession | None:
    statement = select(OpeningSession).where(OpeningSession.tender_id == tender_id)
    if lock:
        statement = statement.with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))


async def opening_by_code(session: AsyncSession, code: str) -> OpeningSession | None:
    return await session.scalar(
        select(OpeningSession).join(Tender, Tender.id == OpeningSession.tender_id).where(Tender.project_code == code)
    )


async def opening_locked(session: AsyncSession, opening_id: uuid.UUID) -> OpeningSession | None:
    return await session.scalar(
        select(OpeningSession)
        .where(OpeningSession.id == opening_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def due_openings(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    """Sessions whose timed stage may have ended (the sweep's candidates, earliest first)."""
    return list(
        await session.scalars(
            select(OpeningSession.id)
            .where(OpeningSession.next_check <= now, OpeningSession.stage != Stage.CLOSED)
            .order_by(OpeningSession.next_check)
            .limit(limit)
        )
    )


# --- lots and bids at the deadline ------------------------------------------------------------------


async def lots_of_tender(session: AsyncSession, tender_id: uuid.UUID) -> list[Lot]:
    """The tender's lots in their published order."""
    return list(await session.scalars(select(Lot).where(Lot.tender_id == tender_id).order_by(Lot.position)))


async def submitted_bids(session: AsyncSession, tender_id: uuid.UUID) -> Sequence[Row[Bid, BidVersion, Organisation]]:
    """Each submitted bid with its current version and bidder, by bidder name (the opening's seats)."""
    return (
        await session.execute(
            select(Bid, BidVersion, Organisation)
            .join(BidVersion, BidVersion.id == Bid.current_version_id)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            .where(Bid.tender_id == tender_id, Bid.status == BidStatus.SUBMITTED)
            .order_by(Organisation.name)
        )
    ).all()


async def organisations_by_id(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Organisation]:
    return {o.id: o for o in await session.scalars(select(Organisation).where(Organisation.id.in_(set(ids))))}


# --- the opening's bids -------------------------------------------------------------------------------


async def bid_rows(session: AsyncSession, opening: OpeningSession, *, lock: bool = False) -> list[OpeningBid]:
    """Every bid at the opening, by bidder name."""
    statement = select(OpeningBid).where(OpeningBid.session_id == opening.id).order_by(OpeningBid.bidder_name)
    if lock:
        statement = statement.with_for_update()
    return list(await session.scalars(statement.execution_options(populate_existing=True)))


async def has_seat(session: AsyncSession, opening_id: uuid.UUID, organisation_id: uuid.UUID | None) -> bool:
    """The organisation has at least one bid at this opening."""
    seat = await session.scalar(
        select(OpeningBid.id)
        .where(OpeningBid.session_id == opening_id, OpeningBid.organisation_id == organisation_id)
        .limit(1)
    )
    return seat is not None


async def organisation_bid_in_lot(
    session: AsyncSession, opening_id: uuid.UUID, lot: str, organisation_id: uuid.UUID | None, *, lock: bool
) -> OpeningBid | None:
    statement = (
        select(OpeningBid)
        .join(Lot, Lot.id == OpeningBid.lot_id)
        .where(OpeningBid.session_id == opening_id, Lot.code == lot, OpeningBid.organisation_id == organisation_id)
    )
    if lock:
        statement = statement.with_for_update(of=OpeningBid)
    return await session.scalar(statement.execution_options(populate_existing=True))


async def bidder_bid_in_lot(
    session: AsyncSession, opening_id: uuid.UUID, lot: str, bidder_uscc: str, *, lock: bool
) -> OpeningBid | None:
    statement = (
        select(OpeningBid)
        .join(Lot, Lot.id == OpeningBid.lot_id)
        .where(OpeningBid.session_id == opening_id, Lot.code == lot, OpeningBid.bidder_uscc == bidder_uscc)
    )
    if lock:
        statement = statement.with_for_update(of=OpeningBid)
    return await session.scalar(statement.execution_options(populate_existing=True))


async def organisation_bid_at_tender_locked(
    session: AsyncSession, tender_id: uuid.UUID, lot: str, organisation_id: uuid.UUID
) -> OpeningBid | None:
    """The organisation's bid in a lot of the tender's opening, locked (to count a refused attempt)."""
    return await session.scalar(
        select(OpeningBid)
        .join(OpeningSession, OpeningSession.id == OpeningBid.session_id)
        .join(Lot, Lot.id == OpeningBid.lot_id)
        .where(OpeningSession.tender_id == tender_id, Lot.code == lot, OpeningBid.organisation_id == organisation_id)
        .with_for_update(of=OpeningBid)
    )


_OWN_BID_AT_OPENING: Final = (
    select(Tender, OpeningSession, OpeningBid, BidVersion)
    .join(OpeningSession, OpeningSession.tender_id == Tender.id)
    .join(OpeningBid, OpeningBid.session_id == OpeningSession.id)
    .join(Lot, Lot.id == OpeningBid.lot_id)
    .join(BidVersion, BidVersion.id == OpeningBid.version_id)
    .where(
        Tender.project_code == bindparam("code"),
        Lot.code == bindparam("lot"),
        OpeningBid.organisation_id == bindparam("organisation_id"),
    )
)
"""Built once: a decryption's fail-fast check runs it on every request."""


async def own_bid_for_opening(
    session: AsyncSession, code: str, lot: str, organisation_id: uuid.UUID | None
) -> tuple[Tender, OpeningSession, OpeningBid, BidVersion] | None:
    """A bidder's bid at a tender's opening with what opening it needs (tender, session, version), in
    one query; None when any of them is missing.
    """
    found = (
        await session.execute(_OWN_BID_AT_OPENING, {"code": code, "lot": lot, "organisation_id": organisation_id})
    ).first()
    if found is None:
        return None
    tender, opening, row, version = found
    return tender, opening, row, version


async def bids_by_id_locked(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, OpeningBid]:
    """The bids, locked in one order (by id) so that concurrent batches never deadlock."""
    return {
        row.id: row
        for row in await session.scalars(
            select(OpeningBid)
            .where(OpeningBid.id.in_(set(ids)))
            .order_by(OpeningBid.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }


async def manifests_of_bids(session: AsyncSession, opening_id: uuid.UUID) -> Sequence[Row[str, str, bytes | None, str]]:
    """Each bid's bidder, lot code, signed manifest and receipt number (the record's guarantees)."""
    return (
        await session.execute(
            select(OpeningBid.bidder_uscc, Lot.code, BidVersion.manifest, BidVersion.receipt_no)
            .join(Lot, Lot.id == OpeningBid.lot_id)
            .join(BidVersion, BidVersion.id == OpeningBid.version_id)
            .where(OpeningBid.session_id == opening_id)
        )
    ).all()


async def bids_of_opening(session: AsyncSession, opening_id: uuid.UUID) -> Sequence[Row[uuid.UUID, str, str]]:
    """Each opening bid's bid id, lot code and bidder USCC (the securities judged at the opening)."""
    return (
        await session.execute(
            select(OpeningBid.bid_id, Lot.code, OpeningBid.bidder_uscc)
            .join(Lot, Lot.id == OpeningBid.lot_id)
            .where(OpeningBid.session_id == opening_id)
            .order_by(Lot.code, OpeningBid.bidder_uscc)
        )
    ).all()


def _progress_statement() -> Select[int, int, int, int, int, int]:
    final = OpeningBid.outcome.in_(list(FINAL_OUTCOMES))
    price_open = OpeningBid.price_status == PartStatus.OPENED
    return select(
        func.count(),
        func.count().filter(price_open),
        func.count().filter(OpeningBid.package_status == PartStatus.OPENED),
        func.count().filter(OpeningBid.outcome.in_(list(READ_OUT))),
        func.count().filter(~final & ~price_open),
        func.count().filter(~final),
    ).where(OpeningBid.session_id == bindparam("session_id"))


_PROGRESS: Final = _progress_statement()
"""Built once: constructing the expression cost more than running it, once per decryption."""


async def decryption_counts(session: AsyncSession, opening_id: uuid.UUID) -> tuple[int, int, int, int, int, int]:
    """Bids in total, prices open, packages open, opened in full, prices pending, undecided."""
    row = (await session.execute(_PROGRESS, {"session_id": opening_id})).one()
    total, prices, packages, opened, prices_pending, undecided = (int(v) for v in row)
    return total, prices, packages, opened, prices_pending, undecided


# --- objections, confirmations, shares ------------------------------------------------------------------


async def objections_of(session: AsyncSession, opening_id: uuid.UUID) -> list[Objection]:
    """The opening's objections in the order they were filed."""
    return list(
        await session.scalars(select(Objection).where(Objection.session_id == opening_id).order_by(Objection.filed_at))
    )


async def unanswered_objections(session: AsyncSession, opening_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count(Objection.id)).where(Objection.session_id == opening_id, Objection.answer.is_(None))
    )
    return int(count or 0)


async def objection_locked(session: AsyncSession, opening_id: uuid.UUID, objection_id: uuid.UUID) -> Objection | None:
    return await session.scalar(
        select(Objection).where(Objection.id == objection_id, Objection.session_id == opening_id).with_for_update()
    )


async def confirmation_of(
    session: AsyncSession, opening_id: uuid.UUID, organisation_id: uuid.UUID
) -> Confirmation | None:
    return await session.scalar(
        select(Confirmation).where(
            Confirmation.session_id == opening_id, Confirmation.organisation_id == organisation_id
        )
    )


async def confirmations_by_organisation(session: AsyncSession, opening_id: uuid.UUID) -> dict[uuid.UUID, Confirmation]:
    return {
        c.organisation_id: c
        for c in await session.scalars(select(Confirmation).where(Confirmation.session_id == opening_id))
    }


async def released_share(session: AsyncSession, opening_bid_id: uuid.UUID, holder_sha256: str) -> ReleasedShare | None:
    """The share a key holder released for a bid, if it did."""
    return await session.scalar(
        select(ReleasedShare).where(
            ReleasedShare.opening_bid_id == opening_bid_id, ReleasedShare.holder_sha256 == holder_sha256
        )
    )


async def released_shares(session: AsyncSession, opening_bid_id: uuid.UUID) -> list[ReleasedShare]:
    return list(await session.scalars(select(ReleasedShare).where(ReleasedShare.opening_bid_id == opening_bid_id)))


async def coefficient_draws(
    session: AsyncSession, opening_id: uuid.UUID, *, lock: bool = False
) -> list[CoefficientDraw]:
    """The opening's coefficient draws, in the tender's order (as committed)."""
    query = (
        select(CoefficientDraw)
        .where(CoefficientDraw.session_id == opening_id)
        .order_by(CoefficientDraw.committed_at, CoefficientDraw.id)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list((await session.scalars(query)).all())


async def coefficient_draws_of_tender(session: AsyncSession, tender_id: uuid.UUID) -> list[CoefficientDraw]:
    query = (
        select(CoefficientDraw)
        .join(OpeningSession, OpeningSession.id == CoefficientDraw.session_id)
        .where(OpeningSession.tender_id == tender_id)
        .order_by(CoefficientDraw.committed_at, CoefficientDraw.id)
    )
    return list((await session.scalars(query)).all())
