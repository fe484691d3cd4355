"""The expert pool's centre side: the specialty list, registering experts (one by one or from an
import), their status (suspend until a day, remove, restore, each with a reason) and the sweep that
ends a suspension, and the record of one expert the pages and the API show.

Every state change appends a ledger entry in the caller's transaction (`_record`); summaries carry
ids, codes and statuses only — never an ID number (the person row keeps only its keyed hash) and
never a reason (reasons go in the digested ``data``). Time comes from the database clock. Services
flush, never commit. Refusals name the field and the rule (`ExpertRefused`, 422).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.pool import catalogue, rules
from bidding.evaluation.pool.errors import ExpertNotFound, ExpertRefused
from bidding.evaluation.pool.models import (
    Attendance,
    ConflictDeclaration,
    DrawRecord,
    Expert,
    ExpertStatus,
    Rating,
    Specialty,
    SpecialtyListLoad,
    StatusChange,
    StatusChangeRule,
    Unavailability,
)
from bidding.evaluation.pool.repository import PoolFilter, PoolRepository
from bidding.models import Tender
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry
from trading.parties.identifiers import InvalidIdentifier, validate_region_code, validate_resident_id, validate_uscc
from trading.parties.models import CertificateBinding, Person
from trading.parties.service import PartiesService

CHINA: Final = ZoneInfo("Asia/Shanghai")
MAX_SUSPENSION: Final = timedelta(days=3660)
MAX_SPECIALTIES: Final = 10
LOCAL_LIBRARY: Final = ""
"""``home_library`` of the platform's own experts; a shared expert names the library they come from."""
_SEPARATORS = re.compile(r"[、,，;；\s]+")


def split_codes(raw: str) -> list[str]:
    """Specialty codes as a cell or field writes them (separated by 、 , ; or spaces), upper case."""
    return [code.upper() for code in _SEPARATORS.split(raw.strip()) if code]


def today_in_china(now: datetime) -> date:
    return now.astimezone(CHINA).date()


@dataclass(frozen=True, slots=True)
class ExpertFacts:
    """What the centre records of an expert (one import row, or the form)."""

    name: str
    id_number: str
    specialties: tuple[str, ...]
    region_code: str
    employer_uscc: str
    employer_name: str
    title: str = ""
    home_library: str = LOCAL_LIBRARY
    fee_standard: str = ""


@dataclass
class Problems:
    """Every problem of one input, each naming the field and the rule."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, field_name: str, rule: str, message: str) -> None:
        self.items.append({"field": field_name, "rule": rule, "message": message})

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise ExpertRefused(
                first["message"], field=first["field"], rule=first["rule"], extra={"errors": self.items}
            )


@dataclass(frozen=True, slots=True)
class SyncResult:
    list_version: str
    sha256: str
    created: int = 0
    updated: int = 0
    retired: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired)


@dataclass(frozen=True, slots=True)
class ExpertRecord:
    """One expert with everything the detail page and the API show."""

    expert: Expert
    person: Person
    specialties: list[str]
    certificates: Sequence[CertificateBinding]
    unavailability: Sequence[Unavailability]
    conflicts: Sequence[ConflictDeclaration]
    status_changes: Sequence[StatusChange]
    ratings: Sequence[Rating]
    draws: Sequence[DrawRecord]
    attendances: Sequence[Attendance]
    tenders: dict[uuid.UUID, Tender]
    verdict: rules.RatingVerdict


class PoolBase:
    """What every pool service shares: session, repository, the rules, the ledger helper."""

    def __init__(
        self, session: AsyncSession, settings: Settings | None = None, *, rating_rules: rules.RatingRules | None = None
    ) -> None:
        self.session = session
        self.settings = settings
        self.repo = PoolRepository(session)
        self.rules = rating_rules or rules.shipped()

    async def _now(self) -> datetime:
        return await clock.now(self.session)

    async def _record(
        self,
        actor: Actor,
        action: str,
        subject_type: str,
        subject_id: uuid.UUID | str,
        *,
        summary: dict[str, Any],
        data: dict[str, Any] | None = None,
        project_code: str | None = None,
    ) -> None:
        await append_entry(
            self.session,
            actor=actor,
            action=f"evaluation.{action}",
            subject_type=subject_type,
            subject_id=str(subject_id),
            summary=summary,
            data={**summary, **(data or {})},
            project_code=project_code,
        )

    async def expert(self, expert_id: uuid.UUID, *, lock: bool = False) -> Expert:
        expert = await self.repo.expert(expert_id, lock=lock)
        if expert is None:
            raise ExpertNotFound("no such expert", field="expert_id", rule="exists")
        return expert

    async def current_codes(self) -> dict[str, Specialty]:
        return {row.code: row for row in await self.repo.current_specialties()}

    def check_specialties(self, problems: Problems, codes: Sequence[str], known: dict[str, Specialty]) -> None:
        if not codes:
            problems.add("specialties", "required", "name at least one specialty code")
            return
        unknown = [code for code in codes if code not in known]
        if unknown:
            problems.add("specialties", "specialty_known", f"not on the specialty list: {', '.join(unknown)}")
        if len(set(codes)) != len(codes):
            problems.add("specialties", "duplicate", "a specialty code is named twice")
        if len(codes) > MAX_SPECIALTIES:
            problems.add("specialties", "max_count", f"at most {MAX_SPECIALTIES} specialties")

    @staticmethod
    def check_region(problems: Problems, value: str) -> str:
        if not value.strip():
            problems.add("region_code", "required", "the region code is required")
            return ""
        try:
            return validate_region_code(value)
        except InvalidIdentifier as exc:
            problems.add("region_code", exc.rule, exc.message)
            return value.strip()

    async def check_employer(self, problems: Problems, uscc: str, name: str) -> str:
        """The employer's credit code (checked, GB 32100) and, when it is an organisation on the
        platform, its name there must be the one given.
        """
        if not name.strip():
            problems.add("employer_name", "required", "the employer's name is required")
        if not uscc.strip():
            problems.add("employer_uscc", "required", "the employer's credit code is required")
            return ""
        try:
            code = validate_uscc(uscc)
        except InvalidIdentifier as exc:
            problems.add("employer_uscc", exc.rule, exc.message)
            return uscc.strip()
        known = await self.repo.organisation_by_uscc(code)
        if known is not None and name.strip() and known.name != name.strip():
            problems.add("employer_name", "name_matches", f"the platform knows this credit code as {known.name}")
        return code


class ExpertPool(PoolBase):
    """The centre's side of the pool."""

    # --- the specialty list ---------------------------------------------------------------------

    async def sync_specialties(self, *, actor: Actor, shipped: catalogue.SpecialtyList | None = None) -> SyncResult:
        """Bring the stored list to the shipped file: new codes, next versions of changed codes,
        retired codes gone from the file. A load that changes nothing writes nothing.
        """
        source = shipped or catalogue.shipped()
        last = await self.repo.last_load()
        if last is not None and last.sha256 == source.sha256:
            return SyncResult(source.version, source.sha256)
        now = await self._now()
        current = await self.current_codes()
        versions = await self.repo.latest_version_numbers()
        created = updated = retired = 0
        for entry in source.entries:
            row = current.get(entry.code)
            if row is not None and (row.name, row.name_en, row.parent_code) == (
                entry.name,
                entry.name_en,
                entry.parent,
            ):
                continue
            if row is not None:
                await self.repo.retire_specialty(entry.code, now)
                updated += 1
            else:
                created += 1
            self.session.add(
                Specialty(
                    id=uuid7(),
                    code=entry.code,
                    version=versions.get(entry.code, 0) + 1,
                    current=True,
                    name=entry.name,
                    name_en=entry.name_en,
                    parent_code=entry.parent,
                    level=entry.level,
                    list_version=source.version,
                    created_at=now,
                )
            )
        for code in sorted(current.keys() - source.codes()):
            await self.repo.retire_specialty(code, now)
            retired += 1
        result = SyncResult(source.version, source.sha256, created, updated, retired)
        load = SpecialtyListLoad(
            id=uuid7(),
            list_version=source.version,
            sha256=source.sha256,
            created=created,
            updated=updated,
            retired=retired,
            loaded_at=now,
            loaded_by=actor.user_id,
        )
        await self.repo.add(load)
        summary = {"list_version": source.version, "created": created, "updated": updated, "retired": retired}
        await self._record(actor, "specialties_loaded", "specialty_list", source.sha256, summary=summary)
        return result

    async def list_state(self) -> tuple[SpecialtyListLoad | None, catalogue.SpecialtyList]:
        """The last load and the shipped list (the page offers a load when they differ)."""
        return await self.repo.last_load(), catalogue.shipped()

    # --- registering ----------------------------------------------------------------------------

    async def check_facts(self, facts: ExpertFacts, known: dict[str, Specialty]) -> tuple[Problems, ExpertFacts]:
        """Every problem of ``facts`` (nothing written) and the facts normalised."""
        problems = Problems()
        name = facts.name.strip()
        if not name:
            problems.add("name", "required", "the expert's name is required")
        now = await self._now()
        try:
            id_number = validate_resident_id(facts.id_number, today=today_in_china(now))
        except InvalidIdentifier as exc:
            problems.add("id_number", exc.rule, exc.message)
            id_number = facts.id_number
        self.check_specialties(problems, facts.specialties, known)
        region = self.check_region(problems, facts.region_code)
        uscc = await self.check_employer(problems, facts.employer_uscc, facts.employer_name)
        library = facts.home_library.strip()
        if library and not facts.fee_standard.strip():
            problems.add(
                "fee_standard",
                "fee_standard_required",
                "an expert shared from another library keeps that library's fee standard: name it",
            )
        normalised = ExpertFacts(
            name=name,
            id_number=id_number,
            specialties=tuple(facts.specialties),
            region_code=region,
            employer_uscc=uscc,
            employer_name=facts.employer_name.strip(),
            title=facts.title.strip(),
            home_library=library,
            fee_standard=facts.fee_standard.strip(),
        )
        return problems, normalised

    async def register(
        self, facts: ExpertFacts, *, actor: Actor, user_id: uuid.UUID | None = None
    ) -> tuple[Expert, bool | None]:
        """Record an expert, or update the one this person already is.

        Returns the expert and None (created), True (updated) or False (unchanged). The person is
        found by the keyed hash of the ID number (created on first sight); the name must be the one
        the platform holds for that person. The account is linked when a user is this person.
        """
        known = await self.current_codes()
        problems, facts = await self.check_facts(facts, known)
        problems.raise_if_any()
        if self.settings is None:
            raise TypeError("registering an expert needs the settings (the ID-number hash key)")
        person = await PartiesService(self.session, self.settings).identify_person(facts.id_number, facts.name)
        await self.session.flush()
        if person.name != facts.name:
            raise ExpertRefused(
                "the platform knows this ID number under another name", field="name", rule="name_matches"
            )
        expert = await self.repo.by_person(person.id)
        now = await self._now()
        account = user_id
        if account is None:
            user = await self.repo.user_of_person(person.id)
            account = user.id if user is not None else None
        values = {
            "name": facts.name,
            "title": facts.title,
            "region_code": facts.region_code,
            "home_library": facts.home_library,
            "shared": bool(facts.home_library),
            "fee_standard": facts.fee_standard,
            "employer_uscc": facts.employer_uscc,
            "employer_name": facts.employer_name,
        }
        if expert is None:
            expert = Expert(
                id=uuid7(),
                person_id=person.id,
                user_id=account,
                status=ExpertStatus.ACTIVE,
                status_reason="",
                senior=False,
                created_at=now,
                updated_at=now,
                **values,
            )
            await self.repo.add(expert)
            await self.repo.set_specialties(expert.id, facts.specialties, now)
            await self._record(
                actor,
                "expert_registered",
                "expert",
                expert.id,
                summary={
                    "specialties": list(facts.specialties),
                    "region_code": facts.region_code,
                    "shared": expert.shared,
                },
                data={**values, "person_id": str(person.id), "id_masked": person.id_masked},
            )
            return expert, None
        codes = (await self.repo.specialties_of([expert.id]))[expert.id]
        same = all(getattr(expert, key) == value for key, value in values.items()) and sorted(codes) == sorted(
            facts.specialties
        )
        if same and (account is None or expert.user_id == account):
            return expert, False
        for key, value in values.items():
            setattr(expert, key, value)
        if account is not None and expert.user_id is None:
            expert.user_id = account
        expert.updated_at = now
        await self.repo.set_specialties(expert.id, facts.specialties, now)
        await self._record(
            actor,
            "expert_updated",
            "expert",
            expert.id,
            summary={"specialties": list(facts.specialties), "region_code": facts.region_code, "shared": expert.shared},
            data=values,
        )
        return expert, True

    # --- status -----------------------------------------------------------------------------------

    async def _change(  # noqa: PLR0917 - one transition, its facts
        self,
        expert: Expert,
        to: ExpertStatus,
        reason: str,
        actor: Actor,
        rule: StatusChangeRule,
        until: datetime | None = None,
    ) -> Expert:
        now = await self._now()
        change = StatusChange(
            id=uuid7(),
            expert_id=expert.id,
            from_status=expert.status,
            to_status=to,
            suspended_until=until,
            reason=reason,
            rule=rule,
            changed_by=actor.user_id,
            changed_at=now,
        )
        previous = expert.status
        expert.status = to
        expert.suspended_until = until
        expert.next_check = until
        expert.status_reason = reason
        expert.updated_at = now
        await self.repo.add(change)
        action = {
            ExpertStatus.SUSPENDED: "expert_suspended",
            ExpertStatus.REMOVED: "expert_removed",
            ExpertStatus.ACTIVE: "expert_restored",
        }[to]
        summary: dict[str, Any] = {"from": previous.value, "to": to.value, "rule": rule.value}
        if until is not None:
            summary["suspended_until"] = until.isoformat()
        await self._record(actor, action, "expert", expert.id, summary=summary, data={"reason": reason})
        return expert

    @staticmethod
    def _reason(reason: str) -> str:
        text = reason.strip()
        if not text:
            raise ExpertRefused("give the reason", field="reason", rule="required")
        if len(text) > 1000:  # noqa: PLR2004 - the column's length
            raise ExpertRefused("the reason has at most 1000 characters", field="reason", rule="max_length")
        return text

    async def suspend(self, expert_id: uuid.UUID, until: datetime, reason: str, *, actor: Actor) -> Expert:
        """Suspend an active (or re-date a suspended) expert until ``until``; the sweep restores them then."""
        text = self._reason(reason)
        expert = await self.expert(expert_id, lock=True)
        if expert.status is ExpertStatus.REMOVED:
            raise ExpertRefused("a removed expert is restored first", field="status", rule="status")
        now = await self._now()
        if until <= now:
            raise ExpertRefused("the suspension ends in the future", field="until", rule="future")
        if until - now > MAX_SUSPENSION:
            raise ExpertRefused("a suspension lasts at most ten years", field="until", rule="max")
        return await self._change(expert, ExpertStatus.SUSPENDED, text, actor, StatusChangeRule.MANUAL, until)

    async def remove(self, expert_id: uuid.UUID, reason: str, *, actor: Actor) -> Expert:
        """Remove (清退) an expert from the pool; only a restoration brings them back."""
        text = self._reason(reason)
        expert = await self.expert(expert_id, lock=True)
        if expert.status is ExpertStatus.REMOVED:
            raise ExpertRefused("the expert is already removed", field="status", rule="status")
        return await self._change(expert, ExpertStatus.REMOVED, text, actor, StatusChangeRule.MANUAL)

    async def restore(self, expert_id: uuid.UUID, reason: str, *, actor: Actor) -> Expert:
        text = self._reason(reason)
        expert = await self.expert(expert_id, lock=True)
        if expert.status is ExpertStatus.ACTIVE:
            raise ExpertRefused("the expert is already active", field="status", rule="status")
        return await self._change(expert, ExpertStatus.ACTIVE, text, actor, StatusChangeRule.MANUAL)

    async def end_suspension_if_due(self, expert_id: uuid.UUID, now: datetime) -> bool:
        """The sweep's step: lock, re-check, restore once (a repeated or concurrent sweep does nothing)."""
        expert = await self.repo.expert(expert_id, lock=True)
        if expert is None or expert.next_check is None or expert.next_check > now:
            return False
        if expert.status is not ExpertStatus.SUSPENDED:
            expert.next_check = None
            return False
        await self._change(
            expert, ExpertStatus.ACTIVE, "the suspension ran out", Actor.system(), StatusChangeRule.SUSPENSION_ENDED
        )
        return True

    # --- reading ----------------------------------------------------------------------------------

    async def experts(self, where: PoolFilter) -> tuple[Sequence[Expert], int, dict[uuid.UUID, list[str]]]:
        rows, total = await self.repo.experts(where)
        return rows, total, await self.repo.specialties_of([row.id for row in rows])

    async def record(self, expert_id: uuid.UUID) -> ExpertRecord:
        expert = await self.expert(expert_id)
        person = await self.repo.person(expert.person_id)
        assert person is not None  # noqa: S101 - a foreign key
        ratings = await self.repo.ratings(expert.id)
        draws = await self.repo.draws(expert.id)
        attendances = await self.repo.attendances(expert.id)
        tender_ids = [r.tender_id for r in ratings] + [d.tender_id for d in draws] + [a.tender_id for a in attendances]
        now = await self._now()
        return ExpertRecord(
            expert=expert,
            person=person,
            specialties=(await self.repo.specialties_of([expert.id]))[expert.id],
            certificates=await self.repo.certificates_of(person.id),
            unavailability=await self.repo.unavailability(expert.id),
            conflicts=await self.repo.conflicts(expert.id),
            status_changes=await self.repo.status_changes(expert.id),
            ratings=ratings,
            draws=draws,
            attendances=attendances,
            tenders=await self.repo.tenders(tender_ids),
            verdict=rules.judge(self.rules, [(r.rated_at, r.score) for r in ratings], now),
        )
