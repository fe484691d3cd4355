"""Integrity's shapes on the API (msgspec Structs)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from bidding.integrity.models import IntegrityAlert, IntegrityReview
from bidding.integrity.screens.model import Scope, Severity
from bidding.integrity.service import AlertStatus
from trading.kernel.bounds import Input


class AlertRead(msgspec.Struct, rename="camel"):
    """An alert: advisory, with the rule version that raised it and its evidence."""

    id: uuid.UUID
    rule: str
    rule_version: int
    scope: Scope
    severity: Severity
    hard: bool
    score: float
    summary: str
    subjects: list[str]
    tender_id: uuid.UUID | None
    ocid: str
    lot: str | None
    status: AlertStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: IntegrityAlert) -> AlertRead:
        return cls(
            id=row.id,
            rule=row.rule_id,
            rule_version=row.rule_version,
            scope=Scope(row.scope),
            severity=Severity(row.severity),
            hard=row.hard,
            score=row.score,
            summary=row.summary,
            subjects=list(row.subjects),
            tender_id=row.tender_id,
            ocid=row.ocid,
            lot=row.lot or None,
            status=AlertStatus(row.status),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class ReviewRead(msgspec.Struct, rename="camel"):
    from_status: AlertStatus
    to_status: AlertStatus
    reason: str
    reviewer: str
    at: datetime

    @classmethod
    def of(cls, row: IntegrityReview) -> ReviewRead:
        return cls(AlertStatus(row.from_status), AlertStatus(row.to_status), row.reason, row.reviewer_name, row.at)


class AlertDetail(msgspec.Struct, rename="camel"):
    alert: AlertRead
    evidence: dict[str, Any]
    reviews: list[ReviewRead]


class AlertPage(msgspec.Struct, rename="camel"):
    items: list[AlertRead]
    total: int
    offset: int
    limit: int


class ReviewCreate(Input, rename="camel"):
    """The next step of an alert: ``reviewing``, then ``dismissed`` or ``confirmed`` with a reason."""

    status: AlertStatus
    reason: str = ""
