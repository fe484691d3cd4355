"""The committee part's shapes on the API (msgspec Structs)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from bidding.evaluation.models import CommitteeDraw, Evaluation, Member


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
