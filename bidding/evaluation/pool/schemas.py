"""The shapes the expert pool takes on the API (msgspec Structs). No ID number ever: the masked form."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

import msgspec

from bidding.evaluation.pool.models import Expert, ExpertStatus, RelationType
from bidding.evaluation.pool.service import ExpertRecord


class ExpertSummaryRead(msgspec.Struct):
    id: uuid.UUID
    name: str
    title: str
    specialties: list[str]
    region_code: str
    home_library: str
    shared: bool
    employer_uscc: str
    employer_name: str
    status: ExpertStatus
    suspended_until: datetime | None
    senior: bool

    @classmethod
    def of(cls, expert: Expert, specialties: Sequence[str]) -> ExpertSummaryRead:
        return cls(
            id=expert.id,
            name=expert.name,
            title=expert.title,
            specialties=list(specialties),
            region_code=expert.region_code,
            home_library=expert.home_library,
            shared=expert.shared,
            employer_uscc=expert.employer_uscc,
            employer_name=expert.employer_name,
            status=expert.status,
            suspended_until=expert.suspended_until,
            senior=expert.senior,
        )


class ExpertPageRead(msgspec.Struct):
    total: int
    offset: int
    items: list[ExpertSummaryRead]


class UnavailabilityRead(msgspec.Struct):
    first_day: date
    last_day: date
    reason: str


class ConflictRead(msgspec.Struct):
    organisation_uscc: str | None
    organisation_name: str
    relation: RelationType
    period_from: date
    period_until: date | None
    declared_at: datetime


class StatusChangeRead(msgspec.Struct):
    from_status: ExpertStatus
    to_status: ExpertStatus
    suspended_until: datetime | None
    reason: str
    rule: str
    changed_at: datetime


class RatingRead(msgspec.Struct):
    tender_code: str | None
    score: int
    comment: str
    rated_at: datetime


class RecordCountRead(msgspec.Struct):
    draws: int
    attendances: int


class RatingVerdictRead(msgspec.Struct):
    window_ratings: int
    window_average: str | None
    below_threshold: bool
    senior: bool


class ExpertDetailRead(msgspec.Struct):
    expert: ExpertSummaryRead
    id_masked: str
    fee_standard: str
    signing_certificates: int
    """Live certificate bindings of the person (the report is signed with one)."""
    unavailability: list[UnavailabilityRead]
    conflicts: list[ConflictRead]
    status_changes: list[StatusChangeRead]
    ratings: list[RatingRead]
    records: RecordCountRead
    verdict: RatingVerdictRead

    @classmethod
    def of(cls, record: ExpertRecord) -> ExpertDetailRead:
        tenders = record.tenders
        return cls(
            expert=ExpertSummaryRead.of(record.expert, record.specialties),
            id_masked=record.person.id_masked,
            fee_standard=record.expert.fee_standard,
            signing_certificates=len(record.certificates),
            unavailability=[UnavailabilityRead(u.first_day, u.last_day, u.reason) for u in record.unavailability],
            conflicts=[
                ConflictRead(
                    c.organisation_uscc, c.organisation_name, c.relation, c.period_from, c.period_until, c.declared_at
                )
                for c in record.conflicts
            ],
            status_changes=[
                StatusChangeRead(s.from_status, s.to_status, s.suspended_until, s.reason, s.rule.value, s.changed_at)
                for s in record.status_changes
            ],
            ratings=[
                RatingRead(
                    tenders[r.tender_id].project_code if r.tender_id in tenders else None,
                    r.score,
                    r.comment,
                    r.rated_at,
                )
                for r in record.ratings
            ],
            records=RecordCountRead(len(record.draws), len(record.attendances)),
            verdict=RatingVerdictRead(
                record.verdict.low_count,
                str(record.verdict.low_average) if record.verdict.low_average is not None else None,
                record.verdict.low_average_breached,
                record.verdict.senior,
            ),
        )
