"""All SQL of the expert pool. Repositories flush, never commit (the boundary owns the transaction)."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import operator
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.draw.avoidance import (
    AvoidedList,
    Excluded,
    Reason,
    Window,
    apply_avoidance,
    apply_avoidance_settled,
    availability_reasons,
    months_before,
    standing_reasons,
    window,
)
from bidding.evaluation.draw.candidates import (
    Candidate,
    CandidateLines,
    CandidateList,
    DeclaredConflict,
    DraftingRole,
    DrawContext,
    PastDraw,
)
from bidding.evaluation.draw.candidates import ExpertStatus as DrawStatus
from bidding.evaluation.draw.committee import DrawSpec
from bidding.evaluation.draw.rules import DrawRules
from bidding.evaluation.pool import linecache
from bidding.evaluation.pool.models import (
    Attendance,
    ConflictDeclaration,
    DrawRecord,
    Expert,
    ExpertSpecialty,
    ExpertStatus,
    PoolVersion,
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
        drafting: Drafting | None = None,
    ) -> list[Candidate]:
        """Every expert (of ``statuses``, default all: avoidance records why the others are out),
        with unavailable days within ``days_from``–``days_until`` (the evaluation), conflicts
        declared with an organisation's credit code (a conflict named by name only cannot be
        matched to a party and is left to the expert's own declaration at sign-in), and the draws
        since ``draws_since`` (the frequency rule's window).

        ``specialty_prefixes`` keeps only experts with a code under one of them (the spec's groups):
        the draw's candidate list is the experts fitting a group anyway, so this only saves reading
        the rest of a large pool. ``drafting`` (expert id → roles) are the drafting roles the
        tender's host declared (`committee.drafting`); the pool itself records none.
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
                drafting_roles=tuple((drafting or {}).get(str(expert_id), ())),
            )
            for expert_id, region, employer, status, until in experts
        ]

    async def avoided(
        self,
        context: DrawContext,
        rules: DrawRules,
        *,
        specialty_prefixes: Sequence[str] | None = None,
        drafting: Drafting | None = None,
    ) -> AvoidedList:
        """The pool after avoidance for ``context``: `apply_avoidance` over every expert (of the
        spec's ``specialty_prefixes``, as `candidates`), with the candidates left as columns.

        On PostgreSQL the pool is read in two parts (`apply_avoidance_settled`): the experts none
        of the filters has input for, as (id, codes) in id order from one index-only scan with the
        cheap filters in SQL — status, employer, conflicts with a party, unavailable days within the
        evaluation, draws for the tenderee in the frequency window — and the few others as full
        records for the filters to judge and name the reasons, so the exclusion record is the same
        as over the whole pool. Elsewhere (SQLite) it is `avoided_by_records`. ``drafting``: the
        declared drafters' roles (`candidates`), judged among the others (`_with_drafting`).
        """
        if self.session.get_bind().dialect.name != "postgresql":
            return await self.avoided_by_records(
                context, rules, specialty_prefixes=specialty_prefixes, drafting=drafting
            )
        days = context.evaluation_days()
        bounds = window(context, rules)
        parties = sorted(uscc for uscc in bounds.parties if uscc)
        # The frequency rule counts draws on days after `frequency_after` up to the draw day.
        counted_from = datetime.combine(bounds.frequency_after + timedelta(days=1), time(0), CHINA)
        counted_until = datetime.combine(context.draw_date + timedelta(days=1), time(0), CHINA)
        patterns = None if specialty_prefixes is None else _like_prefixes(specialty_prefixes)
        arguments = (
            parties,
            days[0],
            days[-1],
            context.tenderee_uscc,
            counted_from,
            counted_until,
            rules.max_draws_per_tenderee,
            patterns,
        )
        connection = await self.session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None  # noqa: S101 - a checked-out connection always has its driver connection
        settled_ids, settled_codes = await raw.fetchrow(_PG_SETTLED, *arguments)
        settled = _canonical(settled_ids or [], settled_codes or [])
        experts = await raw.fetch(_PG_OTHERS, *arguments)
        others = await self._records(raw, experts, days, bounds.frequency_after)
        if drafting:
            settled, others = await _with_drafting(raw, settled, others, drafting)
        return apply_avoidance_settled(settled, others, context, rules)

    async def listed(
        self,
        context: DrawContext,
        rules: DrawRules,
        spec: DrawSpec,
        *,
        drafting: Drafting | None = None,
        judged_ids: Sequence[str] = (),
        use_cache: bool = True,
    ) -> AvoidedList:
        """The pool after avoidance for ``context``, restricted to the experts fitting a group of
        ``spec``: what the committee draw runs over, with the exclusion record of `avoided`.

        On PostgreSQL the database does the per-expert work and only the list's text and a few
        records cross into Python: the experts some filter has input for ("others": status,
        employer, a conflict with a party, an unavailable day within the evaluation, N counted
        draws for the tenderee, and every id of ``judged_ids``) come back as records for the
        filters to judge and name (`apply_avoidance`); then one aggregate builds the candidate
        list's lines (``expert_id SP codes``, canonical order) of everyone else fitting the spec,
        as one text (`CandidateLines`), and the others kept are merged into it by id.

        ``drafting``: the declared drafters' roles (`candidates`); they are among the others
        whatever the pool's tables hold, their records carrying the roles, so the `drafting` filter
        judges and names them. ``judged_ids``: further experts to judge as records, never settled
        in SQL. Elsewhere (SQLite) it is `avoided_by_records` with the spec's codes (columns).

        The lines of everyone fitting the spec come from the process's cache (`pool.linecache`)
        for the pool version token read with the judged experts (the same snapshot), less the
        judged experts; a miss reads the whole pool's lines once for that version. Without
        ``use_cache`` (or without the version row) the database builds the lines as before; the
        result is the same either way.
        """
        prefixes = sorted({code for group in spec.groups for code in group.specialties})
        within = prefixes if all(group.specialties for group in spec.groups) else None
        if self.session.get_bind().dialect.name != "postgresql":
            return await self.avoided_by_records(context, rules, specialty_prefixes=within, drafting=drafting)
        days = context.evaluation_days()
        bounds = window(context, rules)
        parties = sorted(uscc for uscc in bounds.parties if uscc)
        counted_from = datetime.combine(bounds.frequency_after + timedelta(days=1), time(0), CHINA)
        counted_until = datetime.combine(context.draw_date + timedelta(days=1), time(0), CHINA)
        patterns = None if within is None else _like_prefixes(within)
        judged = sorted(set(judged_ids) | set(drafting or {}))
        arguments = (
            parties,
            days[0],
            days[-1],
            context.tenderee_uscc,
            counted_from,
            counted_until,
            rules.max_draws_per_tenderee,
            patterns,
            judged,
        )
        connection = await self.session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None  # noqa: S101 - a checked-out connection always has its driver connection
        # The judged experts and the pool's version token in one statement: one snapshot.
        judged_rows = await raw.fetch(_PG_JUDGED_VERSIONED, *arguments)
        token = judged_rows[0][0] if judged_rows else None
        plain, rows = _plain_exclusions(judged_rows, bounds)
        others = await self._records(raw, rows, days, bounds.frequency_after)
        if drafting:
            others = [
                dataclasses.replace(c, drafting_roles=tuple(drafting[c.expert_id])) if c.expert_id in drafting else c
                for c in others
            ]
        result = apply_avoidance(others, context, rules)
        excluded = result.excluded
        if plain:  # both in canonical order (ids distinct: one row per expert), merged so
            excluded = tuple(sorted((*excluded, *plain), key=_EXCLUDED_ID))
        judged_out = [c.expert_id for c in others] + [e.expert_id for e in plain]
        # Per group's codes, which lines fit it (a byte per line), so the draw runs no pass per group.
        fitted = sorted({tuple(sorted(group.specialties)) for group in spec.groups if group.specialties})
        cached = None
        if use_cache and token is not None:
            cached = await self._cached_fitting(raw, token, (None if within is None else tuple(within), tuple(fitted)))
        if cached is not None:  # the lines of this very version less the judged experts, those kept merged
            return AvoidedList(cached.listing(judged_out, result.candidates), excluded, result.rules_version)
        query, codes = _pg_lines(fitted)
        size, text, *masks = await raw.fetchrow(query, judged_out, patterns, *codes)
        lines = text.split("\n") if text else []
        fits = {key: (mask or "").encode().translate(_BITS) for key, mask in zip(fitted, masks, strict=True)}
        if len(lines) != size or any(len(mask) != size for mask in fits.values()):
            msg = "the candidate list's text does not hold one line per expert"
            raise ValueError(msg)
        if not result.candidates:
            listing = CandidateLines(lines, text, fits)
        else:  # few: an expert with a filter's input rarely passes it
            merged = {key: bytearray(mask) for key, mask in fits.items()}
            for candidate in result.candidates:
                line = f"{candidate.expert_id} {','.join(candidate.specialties)}"
                at = bisect.bisect_left(lines, line)
                lines.insert(at, line)
                for key, mask in merged.items():
                    mask.insert(at, any(code.startswith(key) for code in candidate.specialties))
            listing = CandidateLines(lines, None, {key: bytes(mask) for key, mask in merged.items()})
        return AvoidedList(listing, excluded, result.rules_version)

    async def _cached_fitting(self, raw: Any, token: str, key: linecache.SpecKey) -> linecache.Fitting | None:
        """The cached lines fitting ``key`` of pool version ``token`` (filled on a miss); None
        when the pool moved on between the draw's judged query and the fill (the draw then asks
        the database for its lines, as without the cache).
        """
        database = self.session.get_bind().engine.url.render_as_string(hide_password=True)
        pool = linecache.CACHE.get(database, token)
        if pool is None:
            filled, size, text = await raw.fetchrow(_PG_POOL_LINES)
            lines = text.split("\n") if text else []
            if len(lines) != size:
                msg = "the pool's text does not hold one line per expert"
                raise ValueError(msg)
            if filled is None:
                return None
            pool = linecache.CACHE.put(database, filled, lines)
            if filled != token:
                return None
        return pool.for_spec(key)

    async def pool_version(self) -> tuple[int, str] | None:
        """The pool's version and token (`PoolVersion`), None if the row is missing."""
        row = (await self.session.execute(select(PoolVersion.version, PoolVersion.token))).first()
        return None if row is None else (int(row[0]), str(row[1]))

    async def _records(
        self, raw: Any, experts: Sequence[Any], days: list[date], frequency_after: date
    ) -> list[Candidate]:
        """The full records of ``experts`` (rows id, codes, region, employer, status, last day of
        suspension), with what the filters read: conflicts, unavailable days within ``days``,
        draws since ``frequency_after``.
        """
        ids = [row[0] for row in experts]
        conflicts: dict[str, list[DeclaredConflict]] = {}
        unavailable: dict[str, set[date]] = {}
        past: dict[str, list[PastDraw]] = {}
        if ids:
            for expert_id, uscc, relation, since, until in await raw.fetch(_PG_CONFLICTS, ids):
                conflicts.setdefault(expert_id, []).append(DeclaredConflict(uscc, relation, since, until))
            for expert_id, first, last in await raw.fetch(_PG_UNAVAILABLE, ids, days[0], days[-1]):
                day = max(first, days[0])
                while day <= min(last, days[-1]):
                    unavailable.setdefault(expert_id, set()).add(day)
                    day += timedelta(days=1)
            loaded_from = datetime.combine(frequency_after, time(0), CHINA)  # as `candidates`
            for expert_id, uscc, drawn_on, tender_id in await raw.fetch(_PG_PAST_DRAWS, ids, loaded_from):
                past.setdefault(expert_id, []).append(PastDraw(uscc, drawn_on, tender_id))
        return [
            Candidate(
                expert_id=expert_id,
                specialties=tuple(codes.split(",")) if codes else (),
                region=region,
                employer_uscc=employer or None,
                status=DrawStatus(status),
                suspended_until=last_day if status == ExpertStatus.SUSPENDED.value else None,
                unavailable=frozenset(unavailable.get(expert_id, ())),
                conflicts=tuple(conflicts.get(expert_id, ())),
                past_draws=tuple(past.get(expert_id, ())),
            )
            for expert_id, codes, region, employer, status, last_day in experts
        ]

    async def avoided_by_records(
        self,
        context: DrawContext,
        rules: DrawRules,
        *,
        specialty_prefixes: Sequence[str] | None = None,
        drafting: Drafting | None = None,
    ) -> AvoidedList:
        """`avoided` the plain way: every expert as a `Candidate` (`candidates`), `apply_avoidance`."""
        days = context.evaluation_days()
        found = await self.candidates(
            days_from=days[0],
            days_until=days[-1],
            draws_since=months_before(context.draw_date, rules.frequency_months),
            specialty_prefixes=specialty_prefixes,
            drafting=drafting,
        )
        result = apply_avoidance(found, context, rules)
        return AvoidedList(CandidateList.of(result.candidates), result.excluded, result.rules_version)


_EXCLUDED_ID = operator.attrgetter("expert_id")


def _plain_exclusions(judged_rows: Sequence[Any], bounds: Window) -> tuple[list[Excluded], list[tuple[Any, ...]]]:
    """The judged query's rows (`_PG_JUDGED_VERSIONED`: the token first, ``plain`` last) split
    into the experts excluded for one plain input alone (their standing, or unavailable days:
    the query's ``alone``) — recorded directly
    (`avoidance.standing_reasons` / `availability_reasons`, the same entry `apply_avoidance` records
    over their record, its reasons shared by every expert with the same inputs), no record built, no detail
    read — and the rows (id … last day of suspension) of everyone else,
    to be judged as records. A plain row is judged as a record all the same when the standing
    filter finds nothing (a suspension over before the evaluation: kept) or when its id or codes
    are not what `Candidate` accepts (the record then refuses them, as before).
    """
    plain: list[Excluded] = []
    rows: list[tuple[Any, ...]] = []
    reasons: dict[tuple[object, ...], tuple[Reason, ...]] = {}  # per status and last day, or per days
    for row in judged_rows:
        if row[1] is None:  # no one judged: the token's row only
            continue
        alone = row[7]
        if alone is not None and _acceptable(row[1], row[2]):
            status, last_day, days = row[5], row[6] if row[5] == "suspended" else None, _days(row[8], row[9])
            key = (alone, status, last_day) if alone == "s" else (alone, *days)
            found = reasons.get(key)
            if found is None and alone == "s":
                found = reasons[key] = standing_reasons(status, last_day, bounds)
            elif found is None:  # "u": active, so availability is the only filter with input
                found = reasons[key] = availability_reasons(days, bounds)
            if found:
                plain.append(Excluded(row[1], found))
                continue
        rows.append(tuple(row)[1:7])
    return plain, rows


def _days(firsts: Sequence[date] | None, lasts: Sequence[date] | None) -> list[date]:
    """Every day of the spans ``firsts[i]``–``lasts[i]`` (already within the evaluation), in order."""
    days: set[date] = set()
    for first, last in zip(firsts or (), lasts or (), strict=True):
        day = first
        while day <= last:
            days.add(day)
            day += timedelta(days=1)
    return sorted(days)


def _acceptable(expert: str, codes: str | None) -> bool:
    """What `Candidate` accepts of an id and joined codes (no whitespace, printable; codes
    non-empty between commas), so an expert excluded without a record is one the record would
    have accepted.
    """
    if not expert or not expert.isprintable() or " " in expert:
        return False
    return not codes or (codes.isprintable() and " " not in codes and "" not in codes.split(","))


Drafting = Mapping[str, Sequence[DraftingRole]]
"""Declared drafting roles by expert id (`bidding.evaluation.committee.drafting.drafting_roles`)."""


async def _with_drafting(
    raw: Any, settled: CandidateList, others: list[Candidate], drafting: Drafting
) -> tuple[CandidateList, list[Candidate]]:
    """The pool's two parts with the declared drafters moved among the others, their roles on them.

    The settled query knows nothing of drafting (the roles are the evaluation's, not the pool's),
    so a drafter may come back settled: taken out of the settled columns (by bisection, ids are in
    canonical order) and judged as a record. A settled expert has no input for any other filter
    (active, employer no party, no conflict with a party, available, under the frequency bound),
    so their record carries the drafting roles only and is judged as the records path judges it.
    """
    others = [
        dataclasses.replace(c, drafting_roles=tuple(drafting[c.expert_id])) if c.expert_id in drafting else c
        for c in others
    ]
    judged = {c.expert_id for c in others}
    ids, codes = list(settled.ids), list(settled.codes)
    found: dict[str, str] = {}
    for expert in sorted(set(drafting) - judged, reverse=True):  # from the end: indices stay valid
        at = bisect.bisect_left(ids, expert)
        if at < len(ids) and ids[at] == expert:
            found[expert] = codes[at]
            del ids[at], codes[at]
    if not found:
        return settled, others
    rows = await raw.fetch(_PG_DRAFTERS, sorted(found))
    others += [
        Candidate(
            expert_id=expert_id,
            specialties=tuple(found[expert_id].split(",")) if found[expert_id] else (),
            region=region,
            employer_uscc=employer or None,
            drafting_roles=tuple(drafting[expert_id]),
        )
        for expert_id, region, employer in rows
    ]
    return CandidateList(ids, codes), others


def _canonical(ids: list[str], codes: list[str]) -> CandidateList:
    """The settled experts in canonical order: as the query sorted them (uuid order is the text's
    code-point order), else sorted here (an aggregate's input order is not a promise of SQL).
    """
    if not all(map(operator.lt, ids, itertools.islice(ids, 1, None))):
        pairs = sorted(zip(ids, codes, strict=True))
        ids, codes = [expert for expert, _ in pairs], [joined for _, joined in pairs]
    return CandidateList(ids, codes)


def _like_prefixes(prefixes: Sequence[str]) -> list[str]:
    """LIKE patterns for "a code starts with one of ``prefixes``" over the joined codes."""
    patterns = []
    for prefix in prefixes:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        patterns += [escaped + "%", "%," + escaped + "%"]
    return patterns


# The draw's queries (`CandidateRepository.avoided`), PostgreSQL. $1 the parties' USCCs, $2–$3 the
# evaluation's first and last day, $4 the tenderee's USCC, $5–$6 the moments the frequency rule's
# days start and end (midnight, Asia/Shanghai), $7 its N, $8 the spec's specialty patterns (NULL:
# every expert). Days are Asia/Shanghai days as `candidates` maps them. "Settled" and "others"
# split the experts of $8 exactly in two (the same five conditions, negated), so no expert is lost
# between them; ids are sorted as uuid, which is their text's code-point order (checked,
# `_canonical`). The settled experts come back as two arrays (ids, codes) in one row: no record
# per expert to decode.
_PG_SPECIALTY = "($8::text[] IS NULL OR e.specialty_codes LIKE ANY($8::text[]))"
_PG_CONFLICTED = "SELECT expert_id FROM evaluation_expert_conflicts WHERE organisation_uscc = ANY($1::text[])"
_PG_UNAVAILABLE_THEN = """SELECT expert_id FROM evaluation_expert_unavailability
  WHERE withdrawn_at IS NULL AND last_day >= $2 AND first_day <= $3"""
_PG_DRAWN_TOO_OFTEN = """SELECT d.expert_id FROM evaluation_expert_draws d
  JOIN parties_organisations o ON o.id = d.tenderee_organisation_id
  WHERE o.uscc = $4 AND d.drawn_at >= $5 AND d.drawn_at < $6
  GROUP BY d.expert_id HAVING count(*) >= $7"""
_PG_SETTLED = f"""
SELECT array_agg(expert), array_agg(specialty_codes) FROM (
  SELECT e.id::text AS expert, e.specialty_codes
  FROM evaluation_experts e
  WHERE e.status = 'active' AND e.employer_uscc <> ALL($1::text[]) AND {_PG_SPECIALTY}
    AND NOT EXISTS (SELECT FROM ({_PG_CONFLICTED}) c WHERE c.expert_id = e.id)
    AND NOT EXISTS (SELECT FROM ({_PG_UNAVAILABLE_THEN}) u WHERE u.expert_id = e.id)
    AND NOT EXISTS (SELECT FROM ({_PG_DRAWN_TOO_OFTEN}) f WHERE f.expert_id = e.id)
  ORDER BY e.id
) settled
"""  # noqa: S608 - constant fragments, no input
_PG_OTHERS = f"""
WITH others AS (
  SELECT id AS expert_id FROM evaluation_experts
    WHERE status < 'active' OR status > 'active' OR employer_uscc = ANY($1::text[])
  UNION {_PG_CONFLICTED}
  UNION {_PG_UNAVAILABLE_THEN}
  UNION {_PG_DRAWN_TOO_OFTEN}
)
SELECT e.id::text, e.specialty_codes, e.region_code, e.employer_uscc, e.status,
       ((e.suspended_until AT TIME ZONE 'Asia/Shanghai') - interval '1 microsecond')::date
FROM others JOIN evaluation_experts e ON e.id = others.expert_id
WHERE {_PG_SPECIALTY}
ORDER BY e.id
"""  # noqa: S608 - constant fragments, no input
_PG_DRAFTERS = """
SELECT id::text, region_code, employer_uscc FROM evaluation_experts WHERE id = ANY($1::text[]::uuid[])
"""
_PG_CONFLICTS = """
SELECT expert_id::text, organisation_uscc, relation, period_from, period_until
FROM evaluation_expert_conflicts
WHERE expert_id = ANY($1::text[]::uuid[]) AND organisation_uscc IS NOT NULL
"""
_PG_UNAVAILABLE = """
SELECT expert_id::text, first_day, last_day
FROM evaluation_expert_unavailability
WHERE expert_id = ANY($1::text[]::uuid[]) AND withdrawn_at IS NULL AND last_day >= $2 AND first_day <= $3
"""
_PG_PAST_DRAWS = """
SELECT d.expert_id::text, o.uscc, (d.drawn_at AT TIME ZONE 'Asia/Shanghai')::date, d.tender_id::text
FROM evaluation_expert_draws d JOIN parties_organisations o ON o.id = d.tenderee_organisation_id
WHERE d.expert_id = ANY($1::text[]::uuid[]) AND d.drawn_at >= $2
"""

# The lines path (`CandidateRepository.listed`). `_PG_JUDGED`: the others of `_PG_OTHERS` plus $9
# (ids to judge as records whatever the filters' tables hold), each joined to its expert by the
# primary key (a lateral lookup: a few thousand index probes instead of a scan of the pool), with
# ``alone``: the one filter that has input for the expert when there is only one and it is plain —
# ``s`` their status (not active; employer no party, in none of the other sets nor in $9), ``u``
# unavailable days within the evaluation (active, employer no party, in none of the other sets)
# with each declared span's first and last day within $2–$3 (two arrays, the detail query's rows
# clipped as `_records` clips them) — else NULL: their exclusion is then that filter's one
# reason, recorded without a record (`_plain_exclusions`).
_PG_JUDGED = f"""
WITH tagged AS (
  SELECT id AS expert_id, CASE WHEN employer_uscc = ANY($1::text[]) THEN 'o' ELSE 's' END AS input,
         NULL::date AS first_day, NULL::date AS last_day
    FROM evaluation_experts WHERE status < 'active' OR status > 'active' OR employer_uscc = ANY($1::text[])
  UNION ALL SELECT expert_id, 'o', NULL, NULL FROM ({_PG_CONFLICTED}) c
  UNION ALL SELECT expert_id, 'u', greatest(first_day, $2), least(last_day, $3) FROM evaluation_expert_unavailability
    WHERE withdrawn_at IS NULL AND last_day >= $2 AND first_day <= $3
  UNION ALL SELECT expert_id, 'o', NULL, NULL FROM ({_PG_DRAWN_TOO_OFTEN}) f
  UNION ALL SELECT unnest($9::text[]::uuid[]), 'o', NULL, NULL
), others AS (
  SELECT expert_id, CASE WHEN min(input) = max(input) AND min(input) <> 'o' THEN min(input) END AS alone,
         array_agg(first_day) FILTER (WHERE input = 'u') AS firsts,
         array_agg(last_day) FILTER (WHERE input = 'u') AS lasts
  FROM tagged GROUP BY expert_id
)
SELECT e.id::text, e.specialty_codes, e.region_code, e.employer_uscc, e.status,
       ((e.suspended_until AT TIME ZONE 'Asia/Shanghai') - interval '1 microsecond')::date, others.alone,
       CASE WHEN others.alone = 'u' THEN others.firsts END, CASE WHEN others.alone = 'u' THEN others.lasts END
FROM others CROSS JOIN LATERAL (SELECT * FROM evaluation_experts x WHERE x.id = others.expert_id OFFSET 0) e
WHERE {_PG_SPECIALTY}
ORDER BY e.id
"""  # noqa: S608 - constant fragments, no input
# `_PG_JUDGED` with the pool's version token (`PoolVersion`) first in every row, in the same
# statement (so the same snapshot) — one row of NULLs after the token when nobody is judged, the
# token NULL when the version row is missing.
_PG_JUDGED_VERSIONED = f"""
SELECT v.token, j.* FROM (VALUES (1)) one(id)
LEFT JOIN evaluation_pool_version v ON v.id = one.id
LEFT JOIN ({_PG_JUDGED}) j ON true
ORDER BY j.id COLLATE "C"
"""  # noqa: S608 - constant fragments, no input
# The cache's fill (`linecache`): every expert's line ``id SP codes`` in id order (canonical) as
# one text, with the version token, in one statement.
_PG_POOL_LINES = """
SELECT (SELECT token FROM evaluation_pool_version WHERE id = 1), count(*)::int,
       coalesce(string_agg(line, E'\\n'), '') FROM (
  SELECT e.id::text || ' ' || e.specialty_codes AS line FROM evaluation_experts e ORDER BY e.id
) pool
"""
_BITS = bytes.maketrans(b"01", b"\x00\x01")


def _pg_lines(fitted: Sequence[tuple[str, ...]]) -> tuple[str, list[str]]:
    """`_PG_LINES` with one fit column per group's codes ($3 on: one parameter per code), each a
    text of ``0``/``1`` per line; and the codes in parameter order.
    """
    columns: list[str] = []
    codes: list[str] = []
    for group in fitted:
        tests = []
        for code in group:
            codes.append(code)
            number = 2 + len(codes)
            tests.append(f"starts_with(codes, ${number}::text) OR strpos(codes, ',' || ${number}::text) > 0")
        columns.append(f", string_agg(CASE WHEN {' OR '.join(tests)} THEN '1' ELSE '0' END, '')")
    return _PG_LINES.replace("{fits}", "".join(columns)), codes


_PG_LINES = """
SELECT count(*)::int, coalesce(string_agg(line, E'\\n'), ''){fits} FROM (
  SELECT e.id::text || ' ' || e.specialty_codes AS line, e.specialty_codes AS codes FROM evaluation_experts e
  WHERE ($2::text[] IS NULL OR e.specialty_codes LIKE ANY($2::text[]))
    AND NOT EXISTS (SELECT FROM unnest($1::text[]::uuid[]) o(expert_id) WHERE o.expert_id = e.id)
  ORDER BY e.id
) listed
"""
