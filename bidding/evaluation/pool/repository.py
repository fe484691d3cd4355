"""All SQL of the expert pool. Repositories flush, never commit (the boundary owns the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.draw.candidates import Candidate, DeclaredConflict, PastDraw
from bidding.evaluation.draw.candidates import ExpertStatus as DrawStatus
from bidding.evaluation.pool.models import (
    Attendance,
    ConflictDeclaration,
    DrawRecord,
    Expert,
    ExpertSpecialty,
    ExpertStatus,
    Rating,
    Specialty,
    SpecialtyListLoad,
    StatusChange,
    Unavailability,
)
from bidding.models import Tender
from trading.parties.models import CertificateBinding, Organisation, Person, User

PAGE_SIZE = 50
CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class PoolFilter:
    """The admin list's filters; a specialty matches itself and every code below it."""

    specialty: str = ""
    region: str = ""
    status: ExpertStatus | None = None
    offset: int = 0
    limit: int = PAGE_SIZE


class PoolRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()

    # --- the specialty list ---------------------------------------------------------------------

    async def current_specialties(self) -> Sequence[Specialty]:
        rows = await self.session.scalars(select(Specialty).where(Specialty.current).order_by(Specialty.code))
        return rows.all()

    async def specialty_versions(self, code: str) -> Sequence[Specialty]:
        rows = await self.session.scalars(select(Specialty).where(Specialty.code == code).order_by(Specialty.version))
        return rows.all()

    async def latest_version_numbers(self) -> dict[str, int]:
        rows = await self.session.execute(select(Specialty.code, func.max(Specialty.version)).group_by(Specialty.code))
        return {code: int(version) for code, version in rows.all()}

    async def retire_specialty(self, code: str, at: datetime) -> None:
        await self.session.execute(
            update(Specialty).where(Specialty.code == code, Specialty.current).values(current=False, retired_at=at)
        )
        await self.session.flush()

    async def last_load(self) -> SpecialtyListLoad | None:
        return await self.session.scalar(
            select(SpecialtyListLoad).order_by(SpecialtyListLoad.loaded_at.desc(), SpecialtyListLoad.id.desc()).limit(1)
        )

    # --- experts --------------------------------------------------------------------------------

    async def expert(self, expert_id: uuid.UUID, *, lock: bool = False) -> Expert | None:
        query = select(Expert).where(Expert.id == expert_id)
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def by_person(self, person_id: uuid.UUID) -> Expert | None:
        return await self.session.scalar(select(Expert).where(Expert.person_id == person_id))

    async def by_user(self, user: User) -> Expert | None:
        """The expert a signed-in user is: linked by account, else by the user's person."""
        found = await self.session.scalar(select(Expert).where(Expert.user_id == user.id))
        if found is None and user.person_id is not None:
            found = await self.session.scalar(
                select(Expert).where(Expert.person_id == user.person_id, Expert.user_id.is_(None))
            )
        return found

    async def user(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def user_of_person(self, person_id: uuid.UUID) -> User | None:
        return await self.session.scalar(select(User).where(User.person_id == person_id).order_by(User.created_at))

    async def person(self, person_id: uuid.UUID) -> Person | None:
        return await self.session.get(Person, person_id)

    async def organisation_by_uscc(self, uscc: str) -> Organisation | None:
        return await self.session.scalar(select(Organisation).where(Organisation.uscc == uscc))

    def _filtered(self, query: Select[Expert], where: PoolFilter) -> Select[Expert]:
        if where.status is not None:
            query = query.where(Expert.status == where.status)
        if where.region:
            # A province (xx0000) or city (xxxx00) code matches every code inside it.
            prefix = where.region.rstrip("0") if where.region.endswith("00") else where.region
            prefix = prefix if len(prefix) % 2 == 0 else prefix + "0"
            query = query.where(Expert.region_code.startswith(prefix, autoescape=True))
        if where.specialty:
            inside = select(ExpertSpecialty.expert_id).where(
                ExpertSpecialty.code.startswith(where.specialty, autoescape=True)
            )
            query = query.where(Expert.id.in_(inside))
        return query

    async def experts(self, where: PoolFilter) -> tuple[Sequence[Expert], int]:
        query = self._filtered(select(Expert), where)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(Expert.name, Expert.id).offset(where.offset).limit(where.limit)
        )
        return rows.all(), int(total or 0)

    async def specialties_of(self, expert_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        if not expert_ids:
            return {}
        rows = await self.session.execute(
            select(ExpertSpecialty.expert_id, ExpertSpecialty.code)
            .where(ExpertSpecialty.expert_id.in_(expert_ids))
            .order_by(ExpertSpecialty.code)
        )
        found: dict[uuid.UUID, list[str]] = {expert_id: [] for expert_id in expert_ids}
        for expert_id, code in rows.all():
            found[expert_id].append(code)
        return found

    async def set_specialties(self, expert_id: uuid.UUID, codes: Sequence[str], at: datetime) -> None:
        rows = await self.session.scalars(select(ExpertSpecialty).where(ExpertSpecialty.expert_id == expert_id))
        existing = {row.code: row for row in rows.all()}
        for code, row in existing.items():
            if code not in codes:
                await self.session.delete(row)
        for code in codes:
            if code not in existing:
                self.session.add(ExpertSpecialty(expert_id=expert_id, code=code, added_at=at))
        # The draw's copy of the codes (`Expert.specialty_codes`), in the published list's form.
        await self.session.execute(
            update(Expert).where(Expert.id == expert_id).values(specialty_codes=",".join(sorted(set(codes))))
        )
        await self.session.flush()

    async def certificates_of(self, person_id: uuid.UUID) -> Sequence[CertificateBinding]:
        """The person's live certificate bindings (their signing certificate among them)."""
        rows = await self.session.scalars(
            select(CertificateBinding)
            .where(CertificateBinding.person_id == person_id, CertificateBinding.unbound_at.is_(None))
            .order_by(CertificateBinding.bound_at)
        )
        return rows.all()

    async def due_suspensions(self, now: datetime, limit: int = 500) -> Sequence[uuid.UUID]:
        rows = await self.session.scalars(
            select(Expert.id)
            .where(Expert.next_check.is_not(None), Expert.next_check <= now)
            .order_by(Expert.next_check)
            .limit(limit)
        )
        return rows.all()

    # --- the records ----------------------------------------------------------------------------

    async def unavailability(self, expert_id: uuid.UUID, *, from_day: date | None = None) -> Sequence[Unavailability]:
        query = select(Unavailability).where(
            Unavailability.expert_id == expert_id, Unavailability.withdrawn_at.is_(None)
        )
        if from_day is not None:
            query = query.where(Unavailability.last_day >= from_day)
        rows = await self.session.scalars(query.order_by(Unavailability.first_day))
        return rows.all()

    async def unavailable_entry(self, expert_id: uuid.UUID, entry_id: uuid.UUID) -> Unavailability | None:
        return await self.session.scalar(
            select(Unavailability).where(Unavailability.id == entry_id, Unavailability.expert_id == expert_id)
        )

    async def conflicts(self, expert_id: uuid.UUID) -> Sequence[ConflictDeclaration]:
        rows = await self.session.scalars(
            select(ConflictDeclaration)
            .where(ConflictDeclaration.expert_id == expert_id)
            .order_by(ConflictDeclaration.period_from.desc(), ConflictDeclaration.declared_at.desc())
        )
        return rows.all()

    async def status_changes(self, expert_id: uuid.UUID) -> Sequence[StatusChange]:
        rows = await self.session.scalars(
            select(StatusChange).where(StatusChange.expert_id == expert_id).order_by(StatusChange.changed_at.desc())
        )
        return rows.all()

    async def ratings(self, expert_id: uuid.UUID) -> Sequence[Rating]:
        rows = await self.session.scalars(
            select(Rating).where(Rating.expert_id == expert_id).order_by(Rating.rated_at.desc())
        )
        return rows.all()

    async def rating_of(self, expert_id: uuid.UUID, tender_id: uuid.UUID) -> Rating | None:
        return await self.session.scalar(
            select(Rating).where(Rating.expert_id == expert_id, Rating.tender_id == tender_id)
        )

    async def draws(self, expert_id: uuid.UUID) -> Sequence[DrawRecord]:
        rows = await self.session.scalars(
            select(DrawRecord).where(DrawRecord.expert_id == expert_id).order_by(DrawRecord.drawn_at.desc())
        )
        return rows.all()

    async def attendances(self, expert_id: uuid.UUID) -> Sequence[Attendance]:
        rows = await self.session.scalars(
            select(Attendance).where(Attendance.expert_id == expert_id).order_by(Attendance.signed_in_at.desc())
        )
        return rows.all()

    async def tenders(self, tender_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Tender]:
        if not tender_ids:
            return {}
        rows = await self.session.scalars(select(Tender).where(Tender.id.in_(set(tender_ids))))
        return {tender.id: tender for tender in rows.all()}

    async def tender_by_code(self, code: str) -> Tender | None:
        return await self.session.scalar(select(Tender).where(Tender.project_code == code))

    async def rated_tenders(self, organisation_id: uuid.UUID) -> Sequence[Tender]:
        """Tenders an organisation runs (as agency, or as tenderee without one), newest first."""
        rows = await self.session.scalars(
            select(Tender)
            .where(
                (Tender.agency_organisation_id == organisation_id)
                | ((Tender.tenderee_organisation_id == organisation_id) & Tender.agency_organisation_id.is_(None))
            )
            .order_by(Tender.created_at.desc())
            .limit(200)
        )
        return rows.all()

    async def experts_named(self, name: str) -> Sequence[tuple[Expert, Person]]:
        rows = await self.session.execute(
            select(Expert, Person).join(Person, Person.id == Expert.person_id).where(Expert.name == name)
        )
        return [(expert, person) for expert, person in rows.all()]

    async def ratings_given_by(self, organisation_id: uuid.UUID) -> Sequence[tuple[Rating, Expert]]:
        rows = await self.session.execute(
            select(Rating, Expert)
            .join(Expert, Expert.id == Rating.expert_id)
            .where(Rating.organisation_id == organisation_id)
            .order_by(Rating.rated_at.desc())
            .limit(200)
        )
        return [(rating, expert) for rating, expert in rows.all()]


# --- the draw's view of the pool ------------------------------------------------------------------


def _last_day(until: datetime | None) -> date | None:
    """The last day (Asia/Shanghai) of a suspension that ends at the moment ``until``."""
    if until is None:
        return None
    return (until.astimezone(CHINA) - timedelta(microseconds=1)).date()


class CandidateRepository(PoolRepository):
    """The pool's rows as the committee draw reads them (`bidding.evaluation.draw.candidates`):
    one `Candidate` per expert, each query grouped over the whole pool (no query per expert).
    """

    async def candidates(
        self,
        *,
        days_from: date,
        days_until: date,
        draws_since: date,
        statuses: Sequence[ExpertStatus] | None = None,
        specialty_prefixes: Sequence[str] | None = None,
    ) -> list[Candidate]:
        """Every expert (of ``statuses``, default all: avoidance records why the others are out),
        with unavailable days within ``days_from``–``days_until`` (the evaluation), conflicts
        declared with an organisation's credit code (a conflict named by name only cannot be
        matched to a party and is left to the expert's own declaration at sign-in), and the draws
        since ``draws_since`` (the frequency rule's window).

        ``specialty_prefixes`` keeps only experts with a code under one of them (the spec's groups):
        the draw's candidate list is the experts fitting a group anyway, so this only saves reading
        the rest of a large pool.
        """
        query = select(Expert.id, Expert.region_code, Expert.employer_uscc, Expert.status, Expert.suspended_until)
        if statuses is not None:
            query = query.where(Expert.status.in_(list(statuses)))
        if specialty_prefixes is not None:
            fitting = select(ExpertSpecialty.expert_id).where(
                sa.or_(
                    sa.false(),
                    *(ExpertSpecialty.code.startswith(prefix, autoescape=True) for prefix in specialty_prefixes),
                )
            )
            query = query.where(Expert.id.in_(fitting))
        experts = (await self.session.execute(query.order_by(Expert.id))).all()
        codes = select(ExpertSpecialty.expert_id, ExpertSpecialty.code)
        if statuses is not None or specialty_prefixes is not None:
            codes = codes.where(ExpertSpecialty.expert_id.in_(query.with_only_columns(Expert.id)))
        specialties: dict[uuid.UUID, list[str]] = {}
        for expert_id, code in (await self.session.execute(codes)).all():
            specialties.setdefault(expert_id, []).append(code)
        unavailable: dict[uuid.UUID, set[date]] = {}
        days = await self.session.execute(
            select(Unavailability.expert_id, Unavailability.first_day, Unavailability.last_day).where(
                Unavailability.withdrawn_at.is_(None),
                Unavailability.last_day >= days_from,
                Unavailability.first_day <= days_until,
            )
        )
        for expert_id, first, last in days.all():
            day = max(first, days_from)
            while day <= min(last, days_until):
                unavailable.setdefault(expert_id, set()).add(day)
                day += timedelta(days=1)
        conflicts: dict[uuid.UUID, list[DeclaredConflict]] = {}
        declared = await self.session.execute(
            select(
                ConflictDeclaration.expert_id,
                ConflictDeclaration.organisation_uscc,
                ConflictDeclaration.relation,
                ConflictDeclaration.period_from,
                ConflictDeclaration.period_until,
            ).where(ConflictDeclaration.organisation_uscc.is_not(None))
        )
        for expert_id, uscc, relation, since, until in declared.all():
            if uscc is not None:
                conflicts.setdefault(expert_id, []).append(DeclaredConflict(uscc, relation.value, since, until))
        past: dict[uuid.UUID, list[PastDraw]] = {}
        drawn = await self.session.execute(
            select(DrawRecord.expert_id, Organisation.uscc, DrawRecord.drawn_at, DrawRecord.tender_id)
            .join(Organisation, Organisation.id == DrawRecord.tenderee_organisation_id)
            .where(DrawRecord.drawn_at >= datetime.combine(draws_since, time(0), CHINA))
        )
        for expert_id, uscc, drawn_at, tender_id in drawn.all():
            past.setdefault(expert_id, []).append(PastDraw(uscc, drawn_at.astimezone(CHINA).date(), str(tender_id)))
        return [
            Candidate(
                expert_id=str(expert_id),
                specialties=tuple(specialties.get(expert_id, ())),
                region=region,
                employer_uscc=employer or None,
                status=DrawStatus(status.value),
                suspended_until=_last_day(until) if status is ExpertStatus.SUSPENDED else None,
                unavailable=frozenset(unavailable.get(expert_id, ())),
                conflicts=tuple(conflicts.get(expert_id, ())),
                past_draws=tuple(past.get(expert_id, ())),
            )
            for expert_id, region, employer, status, until in experts
        ]
