"""Setting up a tender's evaluation (评标准备): the method and its settings, the committee spec,
the main and sub venues, the scheduled start, and the tenderee's representatives.

Only the organisation running the tender (its agency, else the tenderee: the *host*) sets it up,
once the tender is published, and only while no committee draw has been prepared (the draw
commits to the spec). Every refusal names the field and the rule and stores nothing: the settings
go through `methods.serialise.settings_from_data` and `methods.settings.require_settings` (which
runs `require_committee`: odd, ≥ 5, ≥ 7 where GP requires, experts ≥ 2/3 with the representatives
counted), the venues must be active catalogue entries, the start after the bid deadline and now.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.committee.errors import DrawStateConflict, EvaluationNotFound, NotTheHost, SetupRefused
from bidding.evaluation.committee.repository import CommitteeRepository
from bidding.evaluation.committee.rules import CommitteeRules, shipped_rules
from bidding.evaluation.methods.base_price import Preset, constants
from bidding.evaluation.methods.common import GP_SECTORS, METHODS, MethodCode, Sector
from bidding.evaluation.methods.serialise import settings_from_data, settings_to_data
from bidding.evaluation.methods.settings import CommitteeSpec, MethodSettings, require_settings
from bidding.evaluation.models import (
    Evaluation,
    EvaluationVenue,
    Member,
    MemberKind,
    MemberStatus,
    SessionState,
    VenueRole,
)
from bidding.models import EvaluationMethod, Tender, TenderCategory, TenderStatus
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.ledger.service import append_entry

AFTER_PUBLICATION: Final = frozenset({TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.OPENING})
PRICE_WORDS: Final = ("报价", "价格", "价", "price")
DEFAULT_SIZE: Final = 5
GP_LARGE_SIZE: Final = 7
DEFAULT_PRESET: Final = Preset.F2
"""综合评估法's default base-price preset (the host chooses another on the setup page)."""

SECTOR_OF: Final[Mapping[TenderCategory, Sector]] = {
    TenderCategory.ENGINEERING: Sector.ENGINEERING,
    TenderCategory.GOODS: Sector.GOODS,
    TenderCategory.SERVICES: Sector.SERVICES,
}
DEFAULT_METHOD: Final[Mapping[tuple[bool, EvaluationMethod], MethodCode]] = {
    # (government procurement, the tender's declared method) → the method code
    (True, EvaluationMethod.COMPREHENSIVE): MethodCode.GP_COMPREHENSIVE,
    (True, EvaluationMethod.LOWEST_EVALUATED_PRICE): MethodCode.GP_LOWEST_PRICE,
    (True, EvaluationMethod.REASONABLE_LOW_PRICE): MethodCode.GP_LOWEST_PRICE,
    (False, EvaluationMethod.COMPREHENSIVE): MethodCode.ENG_COMPREHENSIVE,
    (False, EvaluationMethod.LOWEST_EVALUATED_PRICE): MethodCode.ENG_LOWEST_PRICE,
    (False, EvaluationMethod.REASONABLE_LOW_PRICE): MethodCode.ENG_LOWEST_PRICE,
}
"""合理低价法 has no method of its own in `methods`: both sectors evaluate it as their lowest-price
method (the documents' adjustments, if any, are named in the settings)."""


def sector_of(tender: Tender) -> Sector:
    return SECTOR_OF[tender.category]


def is_government_procurement(tender: Tender) -> bool:
    return sector_of(tender) in GP_SECTORS


def host_of(tender: Tender) -> uuid.UUID:
    """The organisation that runs the tender and hosts the evaluation."""
    return tender.agency_organisation_id or tender.tenderee_organisation_id


def default_settings(tender: Tender, rules: CommitteeRules | None = None) -> dict[str, Any]:
    """Settings data a host starts from: the method for the tender's declared one, its criteria
    (the one named like a price is the price criterion, the rest subjective, weights from the
    points) and a committee of 5 (7 for GP from 10 million yuan) with the default reserves.
    """
    rules = rules or shipped_rules()
    government = is_government_procurement(tender)
    method = DEFAULT_METHOD[government, tender.evaluation_method]
    criteria: list[dict[str, Any]] = []
    if METHODS[method].needs_expert_scores:
        raw = (tender.evaluation_criteria or {}).get("criteria") or []
        total = sum(Decimal(str(item.get("weight", 0))) for item in raw) or Decimal(100)
        for item in raw:
            name = str(item.get("name", "")).strip()[:60]
            kind = "price" if any(word in name.lower() for word in PRICE_WORDS) else "subjective"
            criteria.append(
                {
                    "code": name,
                    "kind": kind,
                    "weight": str(Decimal(str(item.get("weight", 0))) / total),
                    "low": "0",
                    "high": "100",
                }
            )
    preset = "lowest" if government or method is not MethodCode.ENG_COMPREHENSIVE else DEFAULT_PRESET.value
    if preset != "lowest":  # the engineering price score runs over the preset's full marks
        full = constants(DEFAULT_PRESET).full
        for item in criteria:
            if item["kind"] == "price":
                item["high"] = str(full)
    size = GP_LARGE_SIZE if government and tender.estimate >= Decimal(10_000_000) else DEFAULT_SIZE
    return {
        "method": method.value,
        "sector": sector_of(tender).value,
        "criteria": criteria,
        "price_base": preset,
        "committee": {
            "size": size,
            "representatives": 0,
            "specialties": {},
            "reserves": rules.reserves_default,
            "budget_yuan": str(tender.estimate),
            "complex_project": False,
            "high_impact": False,
        },
    }


@dataclass(frozen=True, slots=True)
class SetupInput:
    """What the host chooses. ``settings`` is the method settings' data (`methods.serialise`
    layout, its ``committee`` key the committee spec).
    """

    settings: Mapping[str, Any]
    main_venue_id: uuid.UUID | None
    scheduled_at: datetime | None
    sub_venue_ids: Sequence[uuid.UUID] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Checked:
    settings: MethodSettings
    committee: CommitteeSpec
    links: tuple[tuple[uuid.UUID, VenueRole], ...]
    scheduled_at: datetime


class EvaluationSetup:
    def __init__(self, session: AsyncSession, rules: CommitteeRules | None = None) -> None:
        self.session = session
        self.repo = CommitteeRepository(session)
        self.rules = rules or shipped_rules()

    # --- lookups --------------------------------------------------------------------------------

    async def tender(self, tender_id: uuid.UUID) -> Tender:
        tender = await self.repo.tender(tender_id)
        if tender is None:
            raise EvaluationNotFound("no such tender", field="tender", rule="exists")
        return tender

    async def evaluation(self, evaluation_id: uuid.UUID, *, lock: bool = False) -> tuple[Evaluation, Tender]:
        evaluation = await self.repo.evaluation(evaluation_id, lock=lock)
        if evaluation is None:
            raise EvaluationNotFound("no such evaluation", field="evaluation", rule="exists")
        return evaluation, await self.tender(evaluation.tender_id)

    @staticmethod
    def require_host(actor: Actor, tender: Tender) -> None:
        if actor.organisation_id is None or actor.organisation_id != host_of(tender):
            raise NotTheHost(
                "only the organisation running the tender (its agency, else the tenderee) sets up its evaluation",
                field="tender",
                rule="host",
            )

    # --- the checks -----------------------------------------------------------------------------

    async def check(self, tender: Tender, data: SetupInput) -> Checked:
        """Every rule of the setup; `SetupRefused`/`EvaluationRefused` naming the first broken one."""
        raw = dict(data.settings)
        committee_data = raw.get("committee")
        if not isinstance(committee_data, Mapping):
            raise SetupRefused("the committee spec is required", field="committee.size", rule="required")
        committee_data = dict(committee_data)
        if committee_data.get("budget_yuan") in (None, ""):
            committee_data["budget_yuan"] = str(tender.estimate)
        raw["committee"] = committee_data
        raw.setdefault("sector", sector_of(tender).value)
        settings = settings_from_data(raw)
        if settings.sector is not sector_of(tender):
            raise SetupRefused(
                f"the tender is {sector_of(tender).value}; its settings are for {settings.sector.value}",
                field="sector",
                rule="sector_of_tender",
            )
        require_settings(settings)  # the method's rules and `require_committee`
        assert settings.committee is not None  # noqa: S101 - set above
        links = await self._venues(data)
        if data.scheduled_at is None:
            raise SetupRefused("when the evaluation starts", field="scheduled_at", rule="required")
        now = await clock.now(self.session)
        if data.scheduled_at <= now:
            raise SetupRefused("the evaluation starts in the future", field="scheduled_at", rule="scheduled_future")
        if tender.deadline is not None and data.scheduled_at <= tender.deadline:
            raise SetupRefused(
                "the evaluation starts after the bid deadline", field="scheduled_at", rule="after_bid_deadline"
            )
        return Checked(settings, settings.committee, links, data.scheduled_at)

    async def _venues(self, data: SetupInput) -> tuple[tuple[uuid.UUID, VenueRole], ...]:
        if data.main_venue_id is None:
            raise SetupRefused("choose the main venue (主场)", field="main_venue", rule="required")
        subs = list(dict.fromkeys(data.sub_venue_ids))
        if data.main_venue_id in subs:
            raise SetupRefused("the main venue is not also a sub venue", field="sub_venues", rule="venue_twice")
        known = await self.repo.venues_by_id([data.main_venue_id, *subs])
        for name, venue_id in (("main_venue", data.main_venue_id), *(("sub_venues", v) for v in subs)):
            venue = known.get(venue_id)
            if venue is None or not venue.active:
                raise SetupRefused("choose an active venue of the catalogue", field=name, rule="venue_known")
        return ((data.main_venue_id, VenueRole.MAIN), *((venue_id, VenueRole.SUB) for venue_id in subs))

    # --- create and update ----------------------------------------------------------------------

    async def create(self, actor: Actor, tender_id: uuid.UUID, data: SetupInput) -> Evaluation:
        """The tender's evaluation (lot group ``all``), set up; refused whole when a rule breaks."""
        tender = await self.repo.tender(tender_id, lock=True)
        if tender is None:
            raise EvaluationNotFound("no such tender", field="tender", rule="exists")
        self.require_host(actor, tender)
        if tender.status not in AFTER_PUBLICATION:
            raise SetupRefused(
                "an evaluation is set up once the tender is published", field="tender", rule="tender_published"
            )
        if await self.repo.evaluation_of_tender(tender.id) is not None:
            raise DrawStateConflict("the tender's evaluation exists already", field="tender", rule="evaluation_exists")
        checked = await self.check(tender, data)
        now = await clock.now(self.session)
        evaluation = Evaluation(
            id=uuid7(),
            tender_id=tender.id,
            lot_group="all",
            lot_ids={"lots": []},
            host_organisation_id=host_of(tender),
            method=checked.settings.method.value,
            method_version=METHODS[checked.settings.method].id.version,
            settings=settings_to_data(checked.settings),
            committee_spec=settings_to_data(checked.settings)["committee"],
            state=SessionState.PREPARING,
            state_entered_at=now,
            scheduled_at=checked.scheduled_at,
            created_by=_user(actor),
            created_at=now,
            updated_at=now,
        )
        await self.repo.add(evaluation)
        await self.repo.set_venues(evaluation.id, _links(evaluation.id, checked))
        await self._record(actor, "evaluation.created", evaluation, tender, checked)
        return evaluation

    async def update(self, actor: Actor, evaluation_id: uuid.UUID, data: SetupInput) -> Evaluation:
        """Change the setup while no draw has been prepared (the draw commits to the spec)."""
        evaluation, tender = await self.evaluation(evaluation_id, lock=True)
        self.require_host(actor, tender)
        if await self.repo.latest_draw(evaluation.id) is not None:
            raise DrawStateConflict(
                "the committee draw has been prepared: the setup is fixed", field="evaluation", rule="draw_prepared"
            )
        checked = await self.check(tender, data)
        evaluation.method = checked.settings.method.value
        evaluation.method_version = METHODS[checked.settings.method].id.version
        evaluation.settings = settings_to_data(checked.settings)
        evaluation.committee_spec = evaluation.settings["committee"]
        evaluation.scheduled_at = checked.scheduled_at
        evaluation.updated_at = await clock.now(self.session)
        await self.session.flush()
        await self.repo.set_venues(evaluation.id, _links(evaluation.id, checked))
        await self._record(actor, "evaluation.setup_changed", evaluation, tender, checked)
        return evaluation

    async def add_representative(self, actor: Actor, evaluation_id: uuid.UUID, username: str) -> Member:
        """Appoint one of the tenderee's people as a member (kind representative, confirmed), up
        to the spec's ``representatives``; the user must hold a role in the tenderee and be a person.
        """
        evaluation, tender = await self.evaluation(evaluation_id, lock=True)
        self.require_host(actor, tender)
        wanted = int(evaluation.committee_spec.get("representatives", 0))
        present = await self.repo.representatives(evaluation.id)
        if len(present) >= wanted:
            raise SetupRefused(
                f"the spec names {wanted} representatives of the tenderee",
                field="username",
                rule="representatives_full",
            )
        user = await self.repo.user_in_organisation(username.strip(), tender.tenderee_organisation_id)
        if user is None or user.person_id is None:
            raise SetupRefused(
                "name an account of the tenderee bound to a person", field="username", rule="tenderee_person"
            )
        if any(member.user_id == user.id for member in present):
            raise SetupRefused(
                "this representative is appointed already", field="username", rule="representative_twice"
            )
        now = await clock.now(self.session)
        member = Member(
            id=uuid7(),
            evaluation_id=evaluation.id,
            kind=MemberKind.REPRESENTATIVE,
            person_id=user.person_id,
            user_id=user.id,
            name=user.display_name,
            status=MemberStatus.CONFIRMED,
            answered_at=now,
            created_at=now,
        )
        await self.repo.add(member)
        await append_entry(
            self.session,
            actor=actor,
            action="evaluation.representative_appointed",
            subject_type="evaluation.member",
            subject_id=str(member.id),
            summary={"evaluation": str(evaluation.id), "kind": MemberKind.REPRESENTATIVE.value},
            data={"user_id": str(user.id), "name": user.display_name},
            project_code=tender.project_code,
        )
        return member

    async def _record(
        self, actor: Actor, action: str, evaluation: Evaluation, tender: Tender, checked: Checked
    ) -> None:
        await append_entry(
            self.session,
            actor=actor,
            action=action,
            subject_type="evaluation.evaluation",
            subject_id=str(evaluation.id),
            summary={
                "method": evaluation.method,
                "committee_size": checked.committee.size,
                "representatives": checked.committee.representatives,
                "venues": len(checked.links),
            },
            data={
                "settings": evaluation.settings,
                "venues": [[str(venue_id), role.value] for venue_id, role in checked.links],
                "scheduled_at": checked.scheduled_at.isoformat(),
            },
            project_code=tender.project_code,
        )


def _links(evaluation_id: uuid.UUID, checked: Checked) -> list[EvaluationVenue]:
    return [
        EvaluationVenue(evaluation_id=evaluation_id, venue_id=venue_id, role=role) for venue_id, role in checked.links
    ]


def _user(actor: Actor) -> uuid.UUID:
    if actor.user_id is None:
        raise NotTheHost("a signed-in user sets up an evaluation", field="actor", rule="user")
    return actor.user_id
