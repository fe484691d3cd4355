"""The shapes credit data takes on the API (msgspec Structs)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec

from trading.credit.importing import ImportFormat, ImportResult
from trading.credit.models import Activity, CreditKind, CreditRecord, CreditRecordChange, CreditStatus
from trading.credit.service import BlockingRecord, Eligibility
from trading.kernel.bounds import Input, ShortText, Text


class CreditChangeRead(msgspec.Struct):
    at: datetime
    action: str
    source: str
    changes: dict[str, list[str | None]]
    """Field → ``[before, after]``."""

    @classmethod
    def of(cls, change: CreditRecordChange) -> CreditChangeRead:
        return cls(at=change.at, action=change.action, source=change.source, changes=change.changes)


class CreditRecordRead(msgspec.Struct):
    id: uuid.UUID
    uscc: str
    organisation_id: uuid.UUID | None
    organisation_name: str
    kind: CreditKind
    category: str | None
    scope: list[str]
    valid_from: datetime
    valid_until: datetime | None
    issuing_body: str
    decision_no: str
    legal_basis: str | None
    reason: str
    source: str
    evidence_sha256: str | None
    evidence_url: str | None
    status: CreditStatus
    updated_at: datetime
    history: list[CreditChangeRead]

    @classmethod
    def of(cls, row: CreditRecord, history: Sequence[CreditRecordChange] = ()) -> CreditRecordRead:
        return cls(
            id=row.id,
            uscc=row.uscc,
            organisation_id=row.organisation_id,
            organisation_name=row.organisation_name,
            kind=row.kind,
            category=row.category,
            scope=list(row.scope),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            issuing_body=row.issuing_body,
            decision_no=row.decision_no,
            legal_basis=row.legal_basis,
            reason=row.reason,
            source=row.source,
            evidence_sha256=row.evidence_sha256,
            evidence_url=row.evidence_url,
            status=row.status,
            updated_at=row.updated_at,
            history=[CreditChangeRead.of(change) for change in history],
        )

    @classmethod
    def public(cls, row: CreditRecord) -> CreditRecordRead:
        """What a reader without ``credit:record:manage`` sees: the record, no history or evidence."""
        return msgspec.structs.replace(cls.of(row), evidence_sha256=None, evidence_url=None)


class BlockingRecordRead(msgspec.Struct):
    id: uuid.UUID
    kind: CreditKind
    scope: list[str]
    reason: str
    valid_from: datetime
    valid_until: datetime | None
    issuing_body: str
    decision_no: str
    legal_basis: str | None

    @classmethod
    def of(cls, record: BlockingRecord) -> BlockingRecordRead:
        return cls(
            id=record.record_id,
            kind=record.kind,
            scope=list(record.scope),
            reason=record.reason,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            issuing_body=record.issuing_body,
            decision_no=record.decision_no,
            legal_basis=record.legal_basis,
        )


class EligibilityRead(msgspec.Struct):
    organisation_id: uuid.UUID
    activity: Activity
    at: datetime
    allowed: bool
    blocking: list[BlockingRecordRead]

    @classmethod
    def of(cls, eligibility: Eligibility) -> EligibilityRead:
        return cls(
            organisation_id=eligibility.organisation_id,
            activity=eligibility.activity,
            at=eligibility.at,
            allowed=eligibility.allowed,
            blocking=[BlockingRecordRead.of(record) for record in eligibility.blocking],
        )


class CreditImportCreate(Input):
    """A file in the layout of ``trading/credit/AGENTS.md``, as text."""

    format: ImportFormat
    content: Text
    label: ShortText
    """Names the batch: the records' source becomes ``import:<label>``."""
    kind: CreditKind | None = None
    """The kind of every row without a 信用记录类别 column (e.g. a file of administrative penalties)."""


class ImportResultRead(msgspec.Struct):
    sha256: str
    rows: int
    created: int
    updated: int
    unchanged: int
    source: str
    record_ids: list[str]

    @classmethod
    def of(cls, result: ImportResult) -> ImportResultRead:
        return cls(
            sha256=result.sha256,
            rows=result.rows,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            source=result.source,
            record_ids=result.record_ids,
        )
