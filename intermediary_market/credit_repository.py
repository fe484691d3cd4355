"""The marketplace's credit SQL: the grouped aggregates every recomputation runs, the
dialect-specific snapshot upsert, and the correlated conditions (a blacklisting in force, red-list
membership) that registration, the snapshots and the reports share. Repositories flush, never
commit (the boundary owns the transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from intermediary_market.credit import CreditConfig, RatingSummary
from intermediary_market.models import (
    Announcement,
    Blacklisting,
    BlacklistStatus,
    Complaint,
    ComplaintStatus,
    CreditInput,
    CreditRecord,
    Delivery,
    Qualification,
    Rating,
)
from trading.parties.models import Organisation, OrganisationKind

UPSERT_BATCH = 2000
"""Credit snapshots written per statement."""


@dataclass(frozen=True)
class LatestInput:
    year: int
    regulator: Decimal | None
    public_credit: Decimal | None


@dataclass(frozen=True)
class CreditLine:
    """A credit snapshot with the organisation and its list membership, as the reports show it."""

    organisation_id: uuid.UUID
    name: str
    uscc: str
    score: Decimal
    grade: str
    components: dict[str, Any]
    computed_at: datetime
    red_listed: bool
    blacklisted: bool


def _only(column: Any, only: Sequence[uuid.UUID] | None) -> list[ColumnElement[bool]]:
    return [] if only is None else [column.in_(only)]


def blacklisting_in_force(at: datetime) -> ColumnElement[bool]:
    """The ``Blacklisting`` row was in force at ``at``: decided to list by then, not yet run out.

    The one definition of "blacklisted" — registration eligibility (judged as of the close),
    the credit snapshot's grade, the red list and the regulator's view all use it, so a draw's
    eligibility and the grade cannot disagree. It is judged from time-stamped facts, not from
    the status alone, because ``at`` may lie in the past (a close run late, AGENTS.md): a listing
    decided after ``at`` does not count yet, and one the expiry sweep has since marked
    ``expired`` still counted while ``effective_until`` was ahead. At the present moment it
    equals "status is effective" (the sweep marks ``expired`` only once ``effective_until`` has
    passed). A listing withdrawn (not upheld, or overturned on appeal) never counts: an
    overturned listing is treated as wrongly imposed.
    """
    return sa.and_(
        Blacklisting.status.in_((BlacklistStatus.EFFECTIVE, BlacklistStatus.EXPIRED)),
        Blacklisting.decided_at <= at,
        Blacklisting.effective_until > at,
    )


def blacklisted(now: datetime) -> ColumnElement[bool]:
    """A blacklisting in force of the ``CreditRecord`` row's organisation (correlated)."""
    return sa.exists().where(Blacklisting.organisation_id == CreditRecord.organisation_id, blacklisting_in_force(now))


def red_listed(now: datetime, config: CreditConfig) -> ColumnElement[bool]:
    """诚信红名单 membership of the ``CreditRecord`` row (correlated): grade and score from the
    snapshot, at least one owner rating (defaults alone never earn a commendation); no upheld
    complaint (by decision date) and no overdue delivery (by due date) within
    ``config.clean_record_window``; no effective blacklisting. Exact at ``now``, not at the snapshot.
    """
    since = now - config.clean_record_window
    return sa.and_(
        CreditRecord.grade == config.red_list_grade,
        CreditRecord.score >= config.red_list_minimum,
        CreditRecord.components["ratings"].as_integer() > 0,
        ~sa.exists().where(
            Complaint.organisation_id == CreditRecord.organisation_id,
            Complaint.status == ComplaintStatus.UPHELD,
            Complaint.decided_at >= since,
        ),
        ~sa.exists().where(
            Delivery.organisation_id == CreditRecord.organisation_id, Delivery.overdue, Delivery.due_at >= since
        ),
        ~blacklisted(now),
    )


def _flag(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    return sa.case((condition, sa.true()), else_=sa.false())


class CreditRepository:
    """The credit aggregates: each method is one grouped query over every intermediary (or over
    ``only``), so a recomputation costs a constant number of queries whatever the population.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def intermediaries(self, only: Sequence[uuid.UUID] | None = None) -> list[uuid.UUID]:
        """Organisations of the intermediary kind, and any other organisation holding a qualification."""
        held = select(Qualification.organisation_id)
        rows = await self.session.scalars(
            select(Organisation.id).where(
                sa.or_(Organisation.kind == OrganisationKind.INTERMEDIARY, Organisation.id.in_(held)),
                *_only(Organisation.id, only),
            )
        )
        return list(rows)

    async def blacklisted_now(self, now: datetime, only: Sequence[uuid.UUID] | None = None) -> set[uuid.UUID]:
        """Organisations under a blacklisting in force at ``now`` (one query)."""
        rows = await self.session.scalars(
            select(Blacklisting.organisation_id)
            .where(blacklisting_in_force(now), *_only(Blacklisting.organisation_id, only))
            .distinct()
        )
        return set(rows)

    async def rating_summaries(self, only: Sequence[uuid.UUID] | None = None) -> dict[uuid.UUID, RatingSummary]:
        rows = await self.session.execute(
            select(
                Rating.organisation_id,
                func.count(),
                func.sum(Rating.quality),
                func.sum(Rating.timeliness),
                func.sum(Rating.attitude),
                func.sum(Rating.fees),
            )
            .where(*_only(Rating.organisation_id, only))
            .group_by(Rating.organisation_id)
        )
        return {row[0]: RatingSummary(int(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5])) for row in rows}

    async def upheld_complaints(
        self, since: datetime, only: Sequence[uuid.UUID] | None = None
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """(all upheld, upheld since ``since`` by decision date) per organisation."""
        rows = await self.session.execute(
            select(
                Complaint.organisation_id,
                func.count(),
                func.sum(sa.case((Complaint.decided_at >= since, 1), else_=0)),
            )
            .where(Complaint.status == ComplaintStatus.UPHELD, *_only(Complaint.organisation_id, only))
            .group_by(Complaint.organisation_id)
        )
        return {row[0]: (int(row[1]), int(row[2] or 0)) for row in rows}

    async def overdue_deliveries(
        self, since: datetime, only: Sequence[uuid.UUID] | None = None
    ) -> dict[uuid.UUID, tuple[int, int]]:
        """(all overdue, overdue with a deadline since ``since``) per organisation."""
        rows = await self.session.execute(
            select(
                Delivery.organisation_id,
                func.count(),
                func.sum(sa.case((Delivery.due_at >= since, 1), else_=0)),
            )
            .where(Delivery.overdue, *_only(Delivery.organisation_id, only))
            .group_by(Delivery.organisation_id)
        )
        return {row[0]: (int(row[1]), int(row[2] or 0)) for row in rows}

    async def latest_inputs(self, only: Sequence[uuid.UUID] | None = None) -> dict[uuid.UUID, LatestInput]:
        """The latest year's credit input per organisation."""
        ranked = (
            select(
                CreditInput.organisation_id,
                CreditInput.year,
                CreditInput.regulator_score,
                CreditInput.public_credit_score,
                func.row_number()
                .over(partition_by=CreditInput.organisation_id, order_by=CreditInput.year.desc())
                .label("rank"),
            )
            .where(*_only(CreditInput.organisation_id, only))
            .subquery()
        )
        rows = await self.session.execute(
            select(
                ranked.c.organisation_id, ranked.c.year, ranked.c.regulator_score, ranked.c.public_credit_score
            ).where(ranked.c.rank == 1)
        )
        return {row[0]: LatestInput(int(row[1]), row[2], row[3]) for row in rows}

    async def upsert_records(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert or replace snapshots (``INSERT … ON CONFLICT DO UPDATE``, PostgreSQL or SQLite)."""
        table = cast("sa.Table", CreditRecord.__table__)
        insert = postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.organisation_id],
            set_={name: statement.excluded[name] for name in ("score", "grade", "components", "computed_at")},
        )
        batch: list[Mapping[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= UPSERT_BATCH:
                await self.session.execute(statement, batch)
                batch = []
        if batch:
            await self.session.execute(statement, batch)

    async def record(self, organisation_id: uuid.UUID) -> CreditRecord | None:
        return await self.session.scalar(
            select(CreditRecord)
            .where(CreditRecord.organisation_id == organisation_id)
            .execution_options(populate_existing=True)
        )

    async def lines(
        self,
        now: datetime,
        config: CreditConfig,
        *,
        red_only: bool = False,
        order: str = "grade",
        limit: int | None = None,
        offset: int = 0,
        only: Sequence[uuid.UUID] | None = None,
    ) -> list[CreditLine]:
        """Snapshots with their organisations and list membership, ordered by ``order``
        (``grade``: A first, then score; ``score``: highest first; ``name``).
        """
        red = _flag(red_listed(now, config))
        black = _flag(blacklisted(now))
        orderings: dict[str, list[Any]] = {
            "grade": [CreditRecord.grade, CreditRecord.score.desc()],
            "score": [CreditRecord.score.desc()],
            "name": [],
        }
        query = (
            select(
                CreditRecord.organisation_id,
                Organisation.name,
                Organisation.uscc,
                CreditRecord.score,
                CreditRecord.grade,
                CreditRecord.components,
                CreditRecord.computed_at,
                red,
                black,
            )
            .join(Organisation, Organisation.id == CreditRecord.organisation_id)
            .where(*_only(CreditRecord.organisation_id, only))
            .order_by(*orderings[order], Organisation.name, CreditRecord.organisation_id)
            .offset(offset)
        )
        if red_only:
            query = query.where(red_listed(now, config))
        if limit is not None:
            query = query.limit(limit)
        return [CreditLine(*row) for row in await self.session.execute(query)]

    async def directory(
        self, now: datetime, config: CreditConfig, limit: int
    ) -> list[tuple[uuid.UUID, str, str, Decimal | None, str | None, bool]]:
        """Qualified intermediaries with their snapshot (if any): red-listed first, then by name."""
        held = select(Qualification.organisation_id).distinct()
        red = _flag(red_listed(now, config))
        rows = await self.session.execute(
            select(Organisation.id, Organisation.name, Organisation.uscc, CreditRecord.score, CreditRecord.grade, red)
            .outerjoin(CreditRecord, CreditRecord.organisation_id == Organisation.id)
            .where(Organisation.id.in_(held))
            .order_by(red.desc(), Organisation.name, Organisation.id)
            .limit(limit)
        )
        return [(row[0], row[1], row[2], row[3], row[4], bool(row[5])) for row in rows]

    async def overdue_and_warned(
        self, now: datetime, warning: timedelta
    ) -> list[tuple[Delivery, str, uuid.UUID, str, str]]:
        """Uncompleted deliveries past or within ``warning`` of their deadline, with the project's
        name and the owner's and the intermediary's names; latest deadline last.
        """
        owner = aliased(Organisation)
        intermediary = aliased(Organisation)
        rows = await self.session.execute(
            select(Delivery, Announcement.project_name, owner.id, owner.name, intermediary.name)
            .join(Announcement, Announcement.id == Delivery.announcement_id)
            .join(owner, owner.id == Announcement.owner_organisation_id)
            .join(intermediary, intermediary.id == Delivery.organisation_id)
            .where(Delivery.completed_at.is_(None), sa.or_(Delivery.overdue, Delivery.due_at <= now + warning))
            .order_by(Delivery.due_at, Delivery.id)
        )
        return [(row[0], row[1], row[2], row[3], row[4]) for row in rows]
