"""Credit snapshots (``CreditRecord``), the regulator's stored inputs, and the red list.

``CreditService.recompute_all`` recomputes every intermediary with a constant number of grouped
queries (population, ratings, upheld complaints, overdue deliveries, latest inputs), the pure
``credit.score`` per organisation, and batched upserts; ``recompute_one`` runs the same queries
restricted to one organisation and is called after each credit event (a rating, a complaint
decision, a stored input, an overdue delivery, a qualification), so the snapshot stays current.
The daily job (``jobs.recompute_credit``) catches whatever moved with time alone.

The red list and blacklist membership are evaluated when read (``repository.red_listed``) from the
snapshot's grade and score, so they are exact at the time of reading. Each recompute also publishes
red-list membership into ``trading.credit`` as a commendation (``publish_red_list``): entering the
list publishes it, leaving the list ends it, so other domains read the same list.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market import credit
from intermediary_market.credit_repository import CreditLine, CreditRepository, LatestInput
from intermediary_market.errors import CreditInputRefused
from intermediary_market.models import CreditInput, CreditRecord
from intermediary_market.repository import MarketRepository
from intermediary_market.schemas import CreditInputRecord
from trading.credit.models import Activity, CreditKind, CreditStatus
from trading.credit.service import CreditService as SharedCredit
from trading.credit.service import Publication
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.ledger.service import append_entry

DEFAULT_CONFIG = credit.CreditConfig()
"""The configuration the service paths use (defaults of ``credit.CreditConfig``)."""
REPORT_ORDERS = ("grade", "score", "name")
RED_LIST_PREFIX = "intermediary_market:red_list:"


def red_list_ref(organisation_id: uuid.UUID) -> str:
    """An intermediary's red-list membership in ``trading.credit`` (one record, re-published on re-entry)."""
    return f"{RED_LIST_PREFIX}{organisation_id}"


async def publish_red_list(
    session: AsyncSession, members: Sequence[CreditLine], now: datetime, only: Sequence[uuid.UUID] | None
) -> None:
    """Publish who entered the red list since the last recompute and end who left it (only the
    changes: a member staying on the list is not re-published).
    """
    shared = SharedCredit(session)
    refs = None if only is None else [red_list_ref(organisation_id) for organisation_id in only]
    published = await shared.repo.effective_refs(refs, prefix=RED_LIST_PREFIX)
    current = {red_list_ref(line.organisation_id): line for line in members}
    for ref, line in current.items():
        if ref in published:
            continue
        await shared.publish(
            Publication(
                source="intermediary_market",
                source_ref=ref,
                organisation_id=line.organisation_id,
                kind=CreditKind.COMMENDATION,
                category="诚信红名单",
                scope=(Activity.INTERMEDIARY_SERVICES,),
                valid_from=now,
                valid_until=None,
                issuing_body="网上中介服务超市",
                decision_no=f"IM-RL-{line.organisation_id}",
                reason=f"列入诚信红名单：信用等级 {line.grade}，近期无被支持的投诉、无超期服务、无黑名单记录",
            ),
            actor=Actor.system(),
        )
    for ref in sorted(published - current.keys()):
        await shared.set_status(ref, CreditStatus.EXPIRED, actor=Actor.system(), until=now)


def components(
    result: credit.CreditScore,
    ratings: credit.RatingSummary,
    *,
    complaints: tuple[int, int],
    overdue: tuple[int, int],
    latest: LatestInput | None,
    defaults: list[str],
) -> dict[str, Any]:
    """The published computation of a snapshot (decimals as strings)."""
    return {
        "regulator": str(result.regulator),
        "public_credit": str(result.public_credit),
        "social": str(result.social),
        "complaint_deduction": str(result.complaint_deduction),
        "overdue_deduction": str(result.overdue_deduction),
        "ratings": ratings.count,
        "rating_means": ratings.means(),
        "upheld_complaints": complaints[0],
        "overdue_deliveries": overdue[0],
        "recent_upheld_complaints": complaints[1],
        "recent_overdue_deliveries": overdue[1],
        "input_year": latest.year if latest is not None else None,
        "defaults": defaults,
    }


def compute(
    ratings: credit.RatingSummary,
    *,
    complaints: tuple[int, int],
    overdue: tuple[int, int],
    latest: LatestInput | None,
    config: credit.CreditConfig,
) -> tuple[credit.CreditScore, dict[str, Any]]:
    """One organisation's score and components from its aggregates (pure)."""
    defaults = []
    regulator = latest.regulator if latest is not None else None
    if regulator is None:
        regulator = config.default_regulator
        defaults.append("regulator")
    public_credit = latest.public_credit if latest is not None else None
    if public_credit is None:
        public_credit = config.default_public_credit
        defaults.append("public_credit")
    if not ratings.count:
        defaults.append("social")
    result = credit.score(
        regulator=regulator,
        public_credit=public_credit,
        ratings=ratings,
        upheld_complaints=complaints[0],
        overdue_deliveries=overdue[0],
        input_on_record=not {"regulator", "public_credit"} <= set(defaults),
        config=config,
    )
    return result, components(result, ratings, complaints=complaints, overdue=overdue, latest=latest, defaults=defaults)


class CreditService:
    def __init__(self, session: AsyncSession, config: credit.CreditConfig | None = None) -> None:
        self.session = session
        self.config = config or DEFAULT_CONFIG
        self.repo = CreditRepository(session)

    # --- snapshots -------------------------------------------------------------------------------

    async def _recompute(self, now: datetime, only: Sequence[uuid.UUID] | None) -> int:
        since = now - self.config.clean_record_window
        population = await self.repo.intermediaries(only)
        if not population:
            return 0
        ratings = await self.repo.rating_summaries(only)
        complaints = await self.repo.upheld_complaints(since, only)
        overdue = await self.repo.overdue_deliveries(since, only)
        inputs = await self.repo.latest_inputs(only)
        listed = await self.repo.blacklisted_now(now, only)
        empty = credit.RatingSummary()

        def rows() -> Iterator[dict[str, Any]]:
            for organisation_id in population:
                result, parts = compute(
                    ratings.get(organisation_id, empty),
                    complaints=complaints.get(organisation_id, (0, 0)),
                    overdue=overdue.get(organisation_id, (0, 0)),
                    latest=inputs.get(organisation_id),
                    config=self.config,
                )
                # A blacklisted intermediary is not creditworthy, however its score adds up: the
                # grade says so until the listing ends (the sweep's expiry recomputes it).
                grade = self.config.blacklisted_grade if organisation_id in listed else result.grade
                yield {
                    "organisation_id": organisation_id,
                    "score": result.total,
                    "grade": grade,
                    "components": {**parts, "blacklisted": organisation_id in listed},
                    "computed_at": now,
                }

        await self.repo.upsert_records(rows())
        await publish_red_list(
            self.session, await self.repo.lines(now, self.config, red_only=True, only=only), now, only
        )
        return len(population)

    async def recompute_all(self, now: datetime) -> int:
        """Recompute every intermediary's snapshot; returns how many (a constant number of queries)."""
        return await self._recompute(now, None)

    async def recompute_one(self, organisation_id: uuid.UUID, now: datetime) -> CreditRecord | None:
        """Recompute one intermediary's snapshot (the same queries, restricted to it)."""
        await self._recompute(now, [organisation_id])
        return await self.repo.record(organisation_id)

    async def record(self, organisation_id: uuid.UUID) -> CreditRecord | None:
        return await self.repo.record(organisation_id)

    # --- the regulator's inputs ------------------------------------------------------------------

    async def record_input(self, data: CreditInputRecord, *, actor: Actor) -> CreditInput:
        """Record (or replace) one year's regulator evaluation and public-credit result."""
        now = await clock.now(self.session)
        checks: tuple[tuple[str, Decimal | None, Decimal], ...] = (
            ("regulator_score", data.regulator_score, credit.REGULATOR_WEIGHT),
            ("public_credit_score", data.public_credit_score, credit.PUBLIC_CREDIT_WEIGHT),
        )
        if all(value is None for _, value, _ in checks):
            raise CreditInputRefused(
                "record the regulator's evaluation, the public-credit result or both",
                field="regulator_score",
                rule="required",
            )
        for name, value, high in checks:
            if value is not None and not Decimal(0) <= value <= high:
                raise CreditInputRefused(f"{name} lies between 0 and {high}", field=name, rule="score_range")
        for name, value, source in (
            ("regulator_source", data.regulator_score, data.regulator_source),
            ("public_credit_source", data.public_credit_score, data.public_credit_source),
        ):
            if value is not None and not (source or "").strip():
                raise CreditInputRefused("each score states its source", field=name, rule="required")
        if not 2000 <= data.year <= now.year:  # noqa: PLR2004 - a plausible scoring year
            raise CreditInputRefused("the year is a past or the current year", field="year", rule="year_range")
        market = MarketRepository(self.session)
        if not await self.repo.intermediaries([data.organisation_id]):
            raise CreditInputRefused("no such intermediary", field="organisation_id", rule="intermediary_exists")
        row = await market.credit_input(data.organisation_id, data.year, lock=True)
        action = "credit_input_replaced" if row is not None else "credit_input_recorded"
        if row is None:
            row = CreditInput(organisation_id=data.organisation_id, year=data.year)
            self.session.add(row)
        row.regulator_score = data.regulator_score
        row.regulator_source = data.regulator_source
        row.public_credit_score = data.public_credit_score
        row.public_credit_source = data.public_credit_source
        row.recorded_at = now
        row.recorded_by = actor.user_id
        await self.session.flush()
        await append_entry(
            self.session,
            actor=actor,
            action=f"intermediary_market.{action}",
            subject_type="credit_input",
            subject_id=str(row.id),
            data={
                "organisation_id": str(row.organisation_id),
                "year": row.year,
                "regulator_score": None if row.regulator_score is None else str(row.regulator_score),
                "regulator_source": row.regulator_source,
                "public_credit_score": None if row.public_credit_score is None else str(row.public_credit_score),
                "public_credit_source": row.public_credit_source,
            },
            summary={"organisation_id": str(row.organisation_id), "year": row.year},
        )
        await self.recompute_one(row.organisation_id, now)
        return row

    # --- lists and the report --------------------------------------------------------------------

    async def red_list(self, now: datetime | None = None) -> list[CreditLine]:
        """诚信红名单: members with their score, best first."""
        now = now or await clock.now(self.session)
        return await self.repo.lines(now, self.config, red_only=True, order="score")

    async def report(
        self, *, order: str = "grade", limit: int | None = None, offset: int = 0, now: datetime | None = None
    ) -> list[CreditLine]:
        """Every intermediary's snapshot with red/black list membership, ordered by ``order``."""
        if order not in REPORT_ORDERS:
            raise CreditInputRefused(f"sort by one of {', '.join(REPORT_ORDERS)}", field="sort", rule="sort_key")
        now = now or await clock.now(self.session)
        return await self.repo.lines(now, self.config, order=order, limit=limit, offset=offset)

    async def line(self, organisation_id: uuid.UUID, now: datetime | None = None) -> CreditLine | None:
        now = now or await clock.now(self.session)
        lines = await self.repo.lines(now, self.config, only=[organisation_id])
        return lines[0] if lines else None
