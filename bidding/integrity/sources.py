"""The screens' plain values built from ggzy's own tables (the database side of `screens.model`).

At the opening, a lot's valid bids are those read out (唱标: decrypted by the bidder or opened from
escrow, `bidding.opening.models.READ_OUT`) with their total price from the signed price summary;
bids revoked or withdrawn at the opening are not bids of the lot any more (reference §1.3: screens
run over valid bids). Bidders are named by organisation id, as `signals.lot_signals` and
`evaluation_source` name them, so the screens' findings about one bidder line up.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.models import Award
from bidding.evaluation.models import Evaluation
from bidding.integrity.screens.model import BidPrice, InvalidPrice, LotBids
from bidding.models import Lot, Tender
from bidding.opening import repository as opening_repository
from bidding.opening.models import READ_OUT, read_out_total

# Base-price presets that average the bids (reference §4.5: F1, F2, F4 and F3 without a given
# base): honest bidders aim at the mean, so these lots are their own stratum (`prices` docstring).
_MEAN_PRESETS = frozenset({"F1", "F2", "F3", "F4"})


async def price_formula(session: AsyncSession, tender_id: uuid.UUID) -> str:
    """``mean`` when the tender's evaluation rewards closeness to an average of the bids (its
    method settings name a base-price preset), ``lowest`` otherwise (or before it is set up).
    """
    settings = await session.scalars(sa.select(Evaluation.settings).where(Evaluation.tender_id == tender_id))
    presets = {str((value or {}).get("price_base", "")) for value in settings}
    return "mean" if presets & _MEAN_PRESETS else "lowest"


def _amount(summary: dict[str, object] | None) -> float | None:
    total = (summary or {}).get("totalPrice")
    try:
        return float(Decimal(str(total))) if total is not None else None
    except (InvalidOperation, ValueError):
        return None


def price_of(summary: dict[str, object] | None) -> float | None:
    """The total price of a signed price summary as the screens take it: None when missing, not a
    number, or not a positive finite number (`BidPrice` refuses those). The opening keeps the same
    number in ``bidding_opening_bids.total_price`` (`bidding.opening.models.read_out_total`).
    """
    return read_out_total(summary)


async def opened_lots(session: AsyncSession, tender_id: uuid.UUID) -> dict[uuid.UUID, LotBids]:
    """Each lot of the tender (by lot id) with its read-out bids and their total prices; empty
    before the tender's opening. The tender, its lots, its opening's rows and its evaluation
    settings are read once for all its lots.

    A read-out bid whose total is missing or not a positive number (a price summary signed that
    way) has no price to screen and is left out; the opening's record shows it as it was read.
    """
    tender = await session.get(Tender, tender_id)
    opening = await opening_repository.opening_of_tender(session, tender_id)
    if tender is None or opening is None:
        return {}
    lots = await opening_repository.lots_of_tender(session, tender_id)
    prices: dict[uuid.UUID, list[BidPrice]] = {lot.id: [] for lot in lots}
    for row in await opening_repository.bid_rows(session, opening):
        amount = _amount(row.price_summary) if row.outcome in READ_OUT else None
        if amount is None or row.lot_id not in prices:
            continue
        try:
            prices[row.lot_id].append(BidPrice(str(row.organisation_id), amount, row.price_opened_at))
        except InvalidPrice:
            continue
    formula = await price_formula(session, tender.id)
    year = tender.deadline.year if tender.deadline else None
    return {
        lot.id: LotBids(
            ocid=tender.project_code,
            lot=None if len(lots) == 1 else lot.code,
            bids=tuple(prices[lot.id]),
            currency="CNY",
            estimate=float(lot.estimate) if lot.estimate else None,
            buyer=str(tender.tenderee_organisation_id),
            market=f"{tender.category.value}|{year}" if year else tender.category.value,
            date=tender.deadline.date() if tender.deadline else None,
            price_formula=formula,
        )
        for lot in lots
    }


async def opened_lot_bids(session: AsyncSession, tender_id: uuid.UUID, lot_id: uuid.UUID) -> LotBids | None:
    """One lot of `opened_lots`, or None before the tender's opening (or for another tender's lot)."""
    return (await opened_lots(session, tender_id)).get(lot_id)


async def lot_winners(session: AsyncSession, *, award_id: uuid.UUID | None = None) -> dict[uuid.UUID, str]:
    """The winner (organisation id) of each awarded lot, by lot id: the lots the award's evaluation
    names, or every lot of its tender. ``award_id``: that award's lots only.
    """
    query = (
        sa.select(Award.tender_id, Award.chosen_organisation_id, Evaluation.lot_ids)
        .join(Evaluation, Evaluation.id == Award.evaluation_id)
        .where(Award.chosen_organisation_id.is_not(None))
    )
    lots = sa.select(Lot.id, Lot.tender_id)
    if award_id is not None:
        query = query.where(Award.id == award_id)
        lots = lots.where(Lot.tender_id == sa.select(Award.tender_id).where(Award.id == award_id).scalar_subquery())
    awarded = (await session.execute(query)).all()
    lots_of: dict[uuid.UUID, list[uuid.UUID]] = {}
    for lot_id, tender_id in (await session.execute(lots)).all():
        lots_of.setdefault(tender_id, []).append(lot_id)
    winners: dict[uuid.UUID, str] = {}
    for tender_id, chosen, lot_ids in awarded:
        named = (lot_ids or {}).get("ids") if isinstance(lot_ids, dict) else None
        for lot_id in [uuid.UUID(str(i)) for i in named] if named else lots_of.get(tender_id, []):
            winners[lot_id] = str(chosen)
    return winners
