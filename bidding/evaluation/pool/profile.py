"""The expert's own side of the pool: their profile (specialties, region, employer, title), the
days they cannot evaluate, and the conflicts of interest they declare (回避申报).

An expert acts only on their own record: the one linked to their account, or the one of the person
their account is (`PoolRepository.by_user`). Home library and fee standard are the centre's facts
(a shared expert keeps their home library's), not the expert's to change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from bidding.evaluation.pool.errors import ExpertNotFound, ExpertRefused
from bidding.evaluation.pool.models import ConflictDeclaration, Expert, RelationType, Unavailability
from bidding.evaluation.pool.service import PoolBase, Problems, today_in_china
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.parties.identifiers import InvalidIdentifier, validate_uscc
from trading.parties.models import Organisation

MAX_UNAVAILABLE_SPAN: Final = timedelta(days=366)
"""One declaration covers at most a year; a longer absence is a suspension the centre decides."""
EARLIEST_RELATION_YEAR: Final = 1950


@dataclass(frozen=True, slots=True)
class ProfileUpdate:
    specialties: tuple[str, ...]
    region_code: str
    employer_uscc: str
    employer_name: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class ConflictInput:
    organisation_uscc: str
    organisation_name: str
    relation: RelationType | None
    period_from: date | None
    period_until: date | None
    note: str = ""


class ExpertProfile(PoolBase):
    async def mine(self, actor: Actor) -> Expert | None:
        """The expert the signed-in user is, or None (an expert account not in the pool yet)."""
        if actor.user_id is None:
            return None
        user = await self.repo.user(actor.user_id)
        return await self.repo.by_user(user) if user is not None else None

    async def _mine(self, actor: Actor, *, lock: bool = True) -> Expert:
        expert = await self.mine(actor)
        if expert is None:
            raise ExpertNotFound("your account is not an expert of the pool", field="expert", rule="in_pool")
        return await self.expert(expert.id, lock=lock)

    async def update(self, actor: Actor, update: ProfileUpdate) -> Expert:
        expert = await self._mine(actor)
        problems = Problems()
        self.check_specialties(problems, update.specialties, await self.current_codes())
        region = self.check_region(problems, update.region_code)
        uscc = await self.check_employer(problems, update.employer_uscc, update.employer_name)
        if len(update.title) > 100:  # noqa: PLR2004 - the column's length
            problems.add("title", "max_length", "the title has at most 100 characters")
        problems.raise_if_any()
        now = await self._now()
        expert.region_code = region
        expert.employer_uscc = uscc
        expert.employer_name = update.employer_name.strip()
        expert.title = update.title.strip()
        expert.updated_at = now
        if expert.user_id is None:
            expert.user_id = actor.user_id
        await self.repo.set_specialties(expert.id, update.specialties, now)
        summary = {"specialties": list(update.specialties), "region_code": region}
        await self._record(
            actor,
            "profile_updated",
            "expert",
            expert.id,
            summary=summary,
            data={"employer_uscc": uscc, "employer_name": expert.employer_name, "title": expert.title},
        )
        return expert

    async def declare_unavailable(self, actor: Actor, first: date, last: date, reason: str = "") -> Unavailability:
        """Days (both ends included) the expert cannot evaluate: not in the past, at most a year."""
        expert = await self._mine(actor)
        today = today_in_china(await self._now())
        problems = Problems()
        if last < first:
            problems.add("last_day", "period", "the last day is not before the first")
        if last < today:
            problems.add("last_day", "past", "the days have passed already")
        if last - first >= MAX_UNAVAILABLE_SPAN:
            problems.add("last_day", "span", "one declaration covers at most a year")
        if len(reason.strip()) > 200:  # noqa: PLR2004 - the column's length
            problems.add("reason", "max_length", "the reason has at most 200 characters")
        problems.raise_if_any()
        entry = Unavailability(
            id=uuid7(),
            expert_id=expert.id,
            first_day=first,
            last_day=last,
            reason=reason.strip(),
            declared_at=await self._now(),
        )
        await self.repo.add(entry)
        await self._record(
            actor,
            "unavailability_declared",
            "expert",
            expert.id,
            summary={"first_day": first.isoformat(), "last_day": last.isoformat()},
            data={"reason": entry.reason, "entry_id": str(entry.id)},
        )
        return entry

    async def withdraw_unavailable(self, actor: Actor, entry_id: uuid.UUID) -> Unavailability:
        expert = await self._mine(actor)
        entry = await self.repo.unavailable_entry(expert.id, entry_id)
        if entry is None:
            raise ExpertNotFound("no such declaration of yours", field="entry_id", rule="exists")
        if entry.withdrawn_at is not None:
            raise ExpertRefused("the declaration is already withdrawn", field="entry_id", rule="withdrawn")
        entry.withdrawn_at = await self._now()
        await self.session.flush()
        await self._record(
            actor,
            "unavailability_withdrawn",
            "expert",
            expert.id,
            summary={"first_day": entry.first_day.isoformat(), "last_day": entry.last_day.isoformat()},
            data={"entry_id": str(entry.id)},
        )
        return entry

    async def _organisation(self, problems: Problems, conflict: ConflictInput) -> tuple[str, str, Organisation | None]:
        """The organisation's checked credit code (may be empty), its name (the platform's when
        only the code is given) and the platform's organisation of that code.
        """
        uscc = conflict.organisation_uscc.strip()
        name = conflict.organisation_name.strip()
        organisation = None
        if not uscc and not name:
            problems.add("organisation_name", "organisation_required", "name the organisation or give its credit code")
        if uscc:
            try:
                uscc = validate_uscc(uscc)
            except InvalidIdentifier as exc:
                problems.add("organisation_uscc", exc.rule, exc.message)
            else:
                organisation = await self.repo.organisation_by_uscc(uscc)
                if organisation is not None and not name:
                    name = organisation.name
        if len(name) > 200:  # noqa: PLR2004 - the column's length
            problems.add("organisation_name", "max_length", "the name has at most 200 characters")
        return uscc, name, organisation

    @staticmethod
    def _period(problems: Problems, conflict: ConflictInput, today: date) -> None:
        start, end = conflict.period_from, conflict.period_until
        if start is None:
            problems.add("period_from", "required", "the relation's first day is required")
            return
        if start.year < EARLIEST_RELATION_YEAR:
            problems.add("period_from", "year_range", f"the first day is after {EARLIEST_RELATION_YEAR}")
        if start > today:
            problems.add("period_from", "future", "declare a relation once it has begun")
        if end is not None and end < start:
            problems.add("period_until", "period", "the relation ends after it begins")

    async def declare_conflict(self, actor: Actor, conflict: ConflictInput) -> ConflictDeclaration:
        """A relation with an organisation (named by credit code, by name, or both) for a period.

        Rules: ``organisation_required`` (a code or a name), the USCC rules, ``relation`` (one of
        the fixed list), ``required``/``period`` (from a day, until none or a later day),
        ``year_range``, ``duplicate`` (the same organisation, relation and start declared before).
        """
        expert = await self._mine(actor)
        problems = Problems()
        uscc, name, organisation = await self._organisation(problems, conflict)
        if conflict.relation is None:
            problems.add("relation", "relation", "choose the relation from the list")
        self._period(problems, conflict, today_in_china(await self._now()))
        if len(conflict.note.strip()) > 500:  # noqa: PLR2004 - the column's length
            problems.add("note", "max_length", "the note has at most 500 characters")
        if not problems.items:
            for earlier in await self.repo.conflicts(expert.id):
                same_org = earlier.organisation_uscc == uscc if uscc else earlier.organisation_name == name
                if same_org and earlier.relation == conflict.relation and earlier.period_from == conflict.period_from:
                    problems.add("organisation_name", "duplicate", "this relation is declared already")
        problems.raise_if_any()
        assert conflict.relation is not None  # noqa: S101 - checked above
        assert conflict.period_from is not None  # noqa: S101
        declaration = ConflictDeclaration(
            id=uuid7(),
            expert_id=expert.id,
            organisation_uscc=uscc or None,
            organisation_name=name,
            organisation_id=organisation.id if organisation is not None else None,
            relation=conflict.relation,
            period_from=conflict.period_from,
            period_until=conflict.period_until,
            note=conflict.note.strip(),
            declared_at=await self._now(),
        )
        await self.repo.add(declaration)
        await self._record(
            actor,
            "conflict_declared",
            "expert",
            expert.id,
            summary={"relation": conflict.relation.value, "declaration_id": str(declaration.id)},
            data={
                "organisation_uscc": uscc,
                "organisation_name": name,
                "period_from": conflict.period_from.isoformat(),
                "period_until": conflict.period_until.isoformat() if conflict.period_until else None,
                "note": declaration.note,
            },
        )
        return declaration
