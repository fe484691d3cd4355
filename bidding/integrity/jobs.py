"""The screening jobs behind the tasks (``tasks.py`` holds only their Celery shells): idempotent,
each in its own unit of work, tested directly.

Each registered screener runs in a savepoint: one that fails (bad data, a bug) is logged and skipped,
its half-written rows rolled back, and the other screeners' findings are still recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award.models import Award
from bidding.evaluation.models import Evaluation
from bidding.integrity import service, sources
from bidding.integrity.screening import LotContext, Registered, ScreenResult, Trigger, screeners
from bidding.models import Lot, Tender
from trading.kernel.db.uow import transaction
from trading.kernel.errors import DomainError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ScreeningReport:
    """What one job did: lots screened, alerts in total (new and known), screeners that failed."""

    lots: int = 0
    alerts: int = 0
    failed: tuple[str, ...] = ()

    def __add__(self, other: ScreeningReport) -> ScreeningReport:
        return ScreeningReport(self.lots + other.lots, self.alerts + other.alerts, self.failed + other.failed)


async def run_screeners(session: AsyncSession, lot: LotContext, registered: Sequence[Registered]) -> ScreeningReport:
    """Run ``registered`` on ``lot`` and record what they return (alerts, the lot's score)."""
    alerts, failed = 0, []
    for entry in registered:
        try:
            async with session.begin_nested():
                answer = await entry.screener(session, lot)
                result = answer if isinstance(answer, ScreenResult) else ScreenResult(findings=tuple(answer))
                recorded = await service.record_findings(
                    session,
                    tender_id=lot.tender_id,
                    ocid=lot.ocid,
                    lot=lot.lot,
                    scope=entry.scope,
                    findings=result.findings,
                )
                if result.lot_score is not None:
                    await service.record_lot_screening(
                        session,
                        tender_id=lot.tender_id,
                        ocid=lot.ocid,
                        lot=lot.lot,
                        scope=entry.scope,
                        score=result.lot_score.score,
                        flagged=result.lot_score.flagged,
                        values=result.lot_score.values,
                    )
        except (DomainError, ValueError, TypeError, KeyError, ArithmeticError, OSError):  # OSError: a file unread
            log.warning("integrity.screener_failed", screener=entry.name, ocid=lot.ocid, lot=lot.lot, exc_info=True)
            failed.append(entry.name)
            continue
        alerts += len(recorded)
    return ScreeningReport(lots=1, alerts=alerts, failed=tuple(failed))


async def _tender_lots(session: AsyncSession, tender: Tender) -> list[tuple[str | None, uuid.UUID | None]]:
    lots = (await session.scalars(sa.select(Lot).where(Lot.tender_id == tender.id).order_by(Lot.position))).all()
    if len(lots) <= 1:  # a single-lot tender: its findings name no lot (as in OCDS)
        return [(None, lots[0].id if lots else None)]
    return [(lot.code, lot.id) for lot in lots]


async def screen_tender(session: AsyncSession, code: str, *, triggers: Sequence[Trigger]) -> ScreeningReport:
    """Run the screeners of ``triggers`` over every lot of the tender ``code`` (none if unknown)."""
    tender = (await session.scalars(sa.select(Tender).where(Tender.project_code == code))).one_or_none()
    if tender is None:
        log.warning("integrity.unknown_tender", code=code)
        return ScreeningReport()
    rules = await service.current_rules(session)
    report = ScreeningReport()
    for lot_code, lot_id in await _tender_lots(session, tender):
        base = LotContext(
            trigger=Trigger.OPENING, ocid=code, lot=lot_code, rules=rules, tender_id=tender.id, lot_id=lot_id
        )
        for trigger in triggers:
            registered = screeners(trigger)
            if registered:
                report += await run_screeners(session, replace(base, trigger=trigger), registered)
    return report


async def screen_opening(session_maker: async_sessionmaker[AsyncSession], code: str) -> ScreeningReport:
    """The opening of ``code`` closed: its lots through the opening's and the market's screeners
    (the market's incremental step for a newly opened lot).
    """
    async with transaction(session_maker, lock=True) as session:
        return await screen_tender(session, code, triggers=(Trigger.OPENING, Trigger.MARKET))


async def screen_evaluation(
    session_maker: async_sessionmaker[AsyncSession], evaluation_id: uuid.UUID
) -> ScreeningReport:
    """The evaluation's scores are all in: it through the evaluation's screeners."""
    async with transaction(session_maker, lock=True) as session:
        evaluation = await session.get(Evaluation, evaluation_id)
        registered = screeners(Trigger.EVALUATION)
        if evaluation is None or not registered:
            return ScreeningReport()
        tender = await session.get(Tender, evaluation.tender_id)
        if tender is None:
            return ScreeningReport()
        lot = LotContext(
            trigger=Trigger.EVALUATION,
            ocid=tender.project_code,
            lot=None,
            rules=await service.current_rules(session),
            tender_id=tender.id,
            evaluation_id=evaluation.id,
        )
        return await run_screeners(session, lot, registered)


async def screen_award(session_maker: async_sessionmaker[AsyncSession], award_id: uuid.UUID) -> ScreeningReport:
    """The award decided a winner: each lot it covers through the award's screeners (the price
    rules that need the winner). Nothing for an unknown award or one without a winner (流标).
    """
    async with transaction(session_maker, lock=True) as session:
        registered = screeners(Trigger.AWARD)
        award = await session.get(Award, award_id)
        if award is None or award.chosen_organisation_id is None or not registered:
            return ScreeningReport()
        tender = await session.get(Tender, award.tender_id)
        if tender is None:
            return ScreeningReport()
        awarded = await sources.lot_winners(session, award_id=award.id)
        rules = await service.current_rules(session)
        report = ScreeningReport()
        for lot_code, lot_id in await _tender_lots(session, tender):
            if lot_id not in awarded:
                continue
            lot = LotContext(
                trigger=Trigger.AWARD,
                ocid=tender.project_code,
                lot=lot_code,
                rules=rules,
                tender_id=tender.id,
                lot_id=lot_id,
                award_id=award.id,
            )
            report += await run_screeners(session, lot, registered)
        return report


async def screen_tender_awards(session_maker: async_sessionmaker[AsyncSession], code: str) -> ScreeningReport:
    """`screen_award` for every award of the tender ``code`` that names a winner (a batch's or a
    loaded market's catch-up: on the platform each award enqueues its own screening).
    """
    async with session_maker() as session:
        awards = (
            await session.scalars(
                sa.select(Award.id)
                .join(Tender, Tender.id == Award.tender_id)
                .where(Tender.project_code == code, Award.chosen_organisation_id.is_not(None))
                .order_by(Award.created_at, Award.id)
            )
        ).all()
    report = ScreeningReport()
    for award_id in awards:
        report += await screen_award(session_maker, award_id)
    return report


MARKET_OCID = "market"


async def recompute_market(session_maker: async_sessionmaker[AsyncSession]) -> ScreeningReport:
    """The market batch: every market screener once over the whole market (``ocid`` "market")."""
    async with transaction(session_maker, lock=True) as session:
        registered = screeners(Trigger.MARKET)
        if not registered:
            return ScreeningReport()
        lot = LotContext(trigger=Trigger.MARKET, ocid=MARKET_OCID, lot=None, rules=await service.current_rules(session))
        return await run_screeners(session, lot, registered)
