"""Drafting roles (编制人员回避): the tender's host declares the pool experts who took part in drafting
this tender's documents or requirement set; the committee draw's avoidance excludes them with the
reason ``drafting_role`` (`draw.avoidance.drafting`).

The host names each expert by their ID number (公民身份号码, matched through the keyed hash the
parties keep, the number itself is not stored) or by their name when exactly one pool expert bears
it, with a role (招标文件编制 / 需求编制 / 工程量清单编制 / 论证咨询) and an optional note. A
declaration replaces the whole list, refused whole (field and rule named) and stored nowhere when
one entry is bad, and refused once the draw's seed is committed (rule ``seed_committed``): the
draw commits to its candidate list's inputs with the seed, so they cannot move afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.committee.errors import DrawStateConflict, NotTheHost, SetupRefused
from bidding.evaluation.committee.setup import EvaluationSetup
from bidding.evaluation.draw.candidates import DraftingRole
from bidding.evaluation.models import CommitteeDraw, Drafter, DraftingRoleKind, Evaluation
from bidding.evaluation.pool.models import Expert
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar import CHINA
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry
from trading.parties import identifiers
from trading.parties.models import Person

MAX_DRAFTERS: Final = 50
MAX_NOTE: Final = 500
MAX_EXPERT_TEXT: Final = 100


@dataclass(frozen=True, slots=True)
class DrafterInput:
    """One declared drafter as the host typed it."""

    expert: str
    """The expert's ID number (18 characters), or their name when unique in the pool."""
    role: str
    """A `DraftingRoleKind` value."""
    note: str = ""


async def drafting_roles(session: AsyncSession, evaluation: Evaluation) -> dict[str, tuple[DraftingRole, ...]]:
    """The declared drafters as the draw's avoidance reads them: expert id → their roles on this tender."""
    rows = await session.scalars(select(Drafter).where(Drafter.evaluation_id == evaluation.id))
    return {str(row.expert_id): (DraftingRole(str(evaluation.tender_id), row.role.value),) for row in rows.all()}


class Drafting:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.setup = EvaluationSetup(session)

    async def declared(self, evaluation_id: uuid.UUID) -> list[tuple[Drafter, Expert]]:
        rows = await self.session.execute(
            select(Drafter, Expert)
            .join(Expert, Expert.id == Drafter.expert_id)
            .where(Drafter.evaluation_id == evaluation_id)
            .order_by(Drafter.declared_at, Expert.name, Expert.id)
        )
        return [(drafter, expert) for drafter, expert in rows.all()]

    async def declare(self, actor: Actor, evaluation_id: uuid.UUID, entries: Sequence[DrafterInput]) -> list[Drafter]:
        """Replace the evaluation's declared drafters with ``entries`` (the host, before the seed)."""
        evaluation, tender = await self.setup.evaluation(evaluation_id, lock=True)
        self.setup.require_host(actor, tender)
        if actor.user_id is None:
            raise NotTheHost("a signed-in user declares drafters", field="actor", rule="user")
        committed = await self.session.scalar(
            select(CommitteeDraw.id).where(CommitteeDraw.evaluation_id == evaluation.id).limit(1)
        )
        if committed is not None:
            raise DrawStateConflict(
                "the draw's seed is committed: the drafters can no longer change",
                field="drafters",
                rule="seed_committed",
            )
        if len(entries) > MAX_DRAFTERS:
            raise SetupRefused(f"at most {MAX_DRAFTERS} drafters", field="drafters", rule="max_items")
        now = await clock.now(self.session)
        resolved: dict[uuid.UUID, tuple[DraftingRoleKind, str]] = {}
        for index, entry in enumerate(entries):
            where = f"drafters[{index}]"
            role = _role(entry.role, where)
            note = entry.note.strip()
            if len(note) > MAX_NOTE:
                raise SetupRefused(f"at most {MAX_NOTE} characters", field=f"{where}.note", rule="max_length")
            expert = await self._expert(entry.expert, where, now.astimezone(CHINA).date())
            if expert.id in resolved:
                raise SetupRefused("this expert is declared twice", field=f"{where}.expert", rule="drafter_twice")
            resolved[expert.id] = (role, note)
        await self.session.execute(delete(Drafter).where(Drafter.evaluation_id == evaluation.id))
        rows = [
            Drafter(
                evaluation_id=evaluation.id,
                expert_id=expert_id,
                role=role,
                note=note,
                declared_by=actor.user_id,
                declared_at=now,
            )
            for expert_id, (role, note) in resolved.items()
        ]
        self.session.add_all(rows)
        await self.session.flush()
        await append_entry(
            self.session,
            actor=actor,
            action="evaluation.drafters_declared",
            subject_type="evaluation.evaluation",
            subject_id=str(evaluation.id),
            summary={"evaluation": str(evaluation.id), "drafters": len(rows)},
            # Who drafted is personal data: digested in the entry's data, never in the summary.
            data={"drafters": [{"expert_id": str(r.expert_id), "role": r.role.value, "note": r.note} for r in rows]},
            project_code=tender.project_code,
        )
        return rows

    async def _expert(self, text: str, where: str, today: date) -> Expert:
        value = text.strip()
        field = f"{where}.expert"
        if not value:
            raise SetupRefused("name the expert (ID number or name)", field=field, rule="required")
        if len(value) > MAX_EXPERT_TEXT:
            raise SetupRefused(f"at most {MAX_EXPERT_TEXT} characters", field=field, rule="max_length")
        if value[:17].isdigit() and len(value) == identifiers.RESIDENT_ID_LENGTH:
            try:
                number = identifiers.validate_resident_id(value, today=today)
            except identifiers.InvalidIdentifier as bad:
                raise SetupRefused(str(bad), field=field, rule=bad.rule) from None
            id_hash = identifiers.resident_id_hash(number, self.settings.secret("pii_hash_key"))
            found = (
                await self.session.scalars(
                    select(Expert).join(Person, Person.id == Expert.person_id).where(Person.id_hash == id_hash)
                )
            ).all()
        else:
            found = (await self.session.scalars(select(Expert).where(Expert.name == value).limit(2))).all()
        if not found:
            raise SetupRefused("no expert of the pool matches", field=field, rule="pool_expert")
        if len(found) > 1:
            raise SetupRefused(
                "several pool experts bear this name: give the ID number", field=field, rule="expert_ambiguous"
            )
        return found[0]


ROLE_KINDS: Final[Mapping[str, DraftingRoleKind]] = {kind.value: kind for kind in DraftingRoleKind}


def _role(value: str, where: str) -> DraftingRoleKind:
    kind = ROLE_KINDS.get(value.strip())
    if kind is None:
        raise SetupRefused(
            f"the role is one of {', '.join(ROLE_KINDS)}", field=f"{where}.role", rule="drafting_role_kind"
        )
    return kind
