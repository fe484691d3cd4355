"""The committee part's shapes on the API (msgspec Structs)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from bidding.evaluation.models import CommitteeDraw, Drafter, Evaluation, Member
from bidding.evaluation.pool.models import Expert
from trading.kernel.bounds import Input, ShortText


class SetupWrite(msgspec.Struct, forbid_unknown_fields=True):
    settings: dict[str, Any]
    """The method settings (`bidding.evaluation.methods.serialise` layout) with ``committee``."""
    main_venue_id: uuid.UUID | None = None
    sub_venue_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    scheduled_at: datetime | None = None


class EvaluationRead(msgspec.Struct):
    id: uuid.UUID
    tender_id: uuid.UUID
    method: str
    method_version: str
    settings: dict[str, Any]
    committee_spec: dict[str, Any]
    state: str
    scheduled_at: datetime | None
    venues: list[dict[str, str]]

    @classmethod
    def of(cls, evaluation: Evaluation, venues: list[dict[str, str]]) -> EvaluationRead:
        return cls(
            id=evaluation.id,
            tender_id=evaluation.tender_id,
            method=evaluation.method,
            method_version=evaluation.method_version,
            settings=evaluation.settings,
            committee_spec=evaluation.committee_spec,
            state=evaluation.state.value,
            scheduled_at=evaluation.scheduled_at,
            venues=venues,
        )


class DrawRead(msgspec.Struct):
    """A draw as anyone allowed to ask sees it: the commitment always; the seed, the candidate list,
    the exclusions and the drawn order only for whom `access.may_see_identities` allows.
    """

    id: uuid.UUID
    evaluation_id: uuid.UUID
    seed_sha256: str
    committed_at: datetime
    rules_version: str
    drawn_at: datetime | None
    candidate_list_sha256: str | None
    seed: str | None = None
    candidates: list[dict[str, Any]] | None = None
    excluded: list[dict[str, Any]] | None = None
    result: dict[str, Any] | None = None
    supplements_draw_id: uuid.UUID | None = None
    """A supplementary draw (补抽): the first draw whose open places it fills."""

    @classmethod
    def of(cls, row: CommitteeDraw, *, identities: bool) -> DrawRead:
        shown = identities and row.drawn_at is not None
        return cls(
            id=row.id,
            evaluation_id=row.evaluation_id,
            seed_sha256=row.seed_commitment,
            committed_at=row.committed_at,
            rules_version=row.rules_version,
            drawn_at=row.drawn_at,
            candidate_list_sha256=row.candidate_list_sha256,
            seed=row.seed if shown else None,
            candidates=(row.candidates or {}).get("candidates") if shown else None,
            excluded=(row.excluded or {}).get("excluded") if shown else None,
            result=row.result if shown else None,
            supplements_draw_id=row.supplements_draw_id,
        )


class MemberRead(msgspec.Struct):
    id: uuid.UUID
    evaluation_id: uuid.UUID
    kind: str
    name: str
    group: str
    draw_position: int | None
    status: str
    answer_due_at: datetime | None
    replaces_member_id: uuid.UUID | None

    @classmethod
    def of(cls, member: Member) -> MemberRead:
        return cls(
            id=member.id,
            evaluation_id=member.evaluation_id,
            kind=member.kind.value,
            name=member.name,
            group=member.group_code,
            draw_position=member.draw_position,
            status=member.status.value,
            answer_due_at=member.answer_due_at,
            replaces_member_id=member.replaces_member_id,
        )


class DeclineWrite(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class RepresentativeWrite(msgspec.Struct, forbid_unknown_fields=True):
    username: str


class DrafterWrite(msgspec.Struct, forbid_unknown_fields=True):
    expert: ShortText
    """The pool expert's ID number (公民身份号码), or their name when unique in the pool."""
    role: ShortText
    """``documents`` (招标文件编制), ``requirement`` (需求编制), ``bill-of-quantities``
    (工程量清单编制) or ``consultation``."""
    note: str = ""


class DraftersWrite(Input):
    drafters: list[DrafterWrite]
    """The whole list: it replaces the one declared before (empty: none)."""


class DrafterRead(msgspec.Struct):
    expert_id: uuid.UUID
    name: str
    role: str
    note: str
    declared_at: datetime

    @classmethod
    def of(cls, drafter: Drafter, expert: Expert) -> DrafterRead:
        return cls(
            expert_id=drafter.expert_id,
            name=expert.name,
            role=drafter.role.value,
            note=drafter.note,
            declared_at=drafter.declared_at,
        )


class SupplementsRead(msgspec.Struct):
    """The open places of the committee per group (no identities) and the supplementary draws."""

    open_places: dict[str, int]
    draws: list[DrawRead]
