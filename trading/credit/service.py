"""Publishing credit records, and the one question every domain asks: may this organisation take
part in this activity at this moment (``may_take_part``)?

A source publishes a record under its own unique ``source_ref``; publishing again updates that
record (a change of any field, or of its status) instead of adding a second one, and publishing
the same facts again changes nothing. Every change is kept as a ``CreditRecordChange`` and appended
to the ledger in the caller's transaction. Services only flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trading.credit.errors import CreditRecordRefused, Ineligible
from trading.credit.models import (
    BLOCKING_KINDS,
    Activity,
    CreditKind,
    CreditRecord,
    CreditRecordChange,
    CreditStatus,
)
from trading.credit.repository import CreditRepository
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, ValidationFailed
from trading.ledger.service import append_entry

DISPLAY_TZ = ZoneInfo("Asia/Shanghai")
"""Periods in refusal messages are dates as the rules read them: Beijing time."""

RULE_BY_KIND = {
    CreditKind.BLACKLIST: "credit-blacklisted",
    CreditKind.SERIOUS_VIOLATION: "credit-serious-violation",
    CreditKind.ADMINISTRATIVE_PENALTY: "credit-penalty-bar",
}
"""The rule a refusal names, after the kind of its first blocking record."""

_COMPARED = (
    "uscc",
    "organisation_id",
    "organisation_name",
    "kind",
    "category",
    "scope",
    "valid_from",
    "valid_until",
    "issuing_body",
    "decision_no",
    "legal_basis",
    "reason",
    "source",
    "evidence_sha256",
    "evidence_url",
    "status",
)


@dataclass(frozen=True)
class Publication:
    """A record as its source states it. ``uscc``/``organisation_name`` default to the platform's
    organisation ``organisation_id``; an import names a code that may not be on the platform.
    """

    source: str
    source_ref: str
    kind: CreditKind
    scope: tuple[Activity, ...]
    valid_from: datetime
    valid_until: datetime | None
    issuing_body: str
    decision_no: str
    reason: str
    legal_basis: str | None = None
    category: str | None = None
    evidence_sha256: str | None = None
    evidence_url: str | None = None
    status: CreditStatus = CreditStatus.EFFECTIVE
    organisation_id: uuid.UUID | None = None
    uscc: str | None = None
    organisation_name: str | None = None


@dataclass(frozen=True)
class BlockingRecord:
    record_id: uuid.UUID
    kind: CreditKind
    scope: tuple[str, ...]
    reason: str
    valid_from: datetime
    valid_until: datetime | None
    issuing_body: str
    decision_no: str
    legal_basis: str | None

    @classmethod
    def of(cls, row: CreditRecord) -> BlockingRecord:
        return cls(
            row.id,
            row.kind,
            tuple(row.scope),
            row.reason,
            row.valid_from,
            row.valid_until,
            row.issuing_body,
            row.decision_no,
            row.legal_basis,
        )

    def period(self) -> str:
        """``from … until …`` in Beijing time; the end is exclusive."""
        start = self.valid_from.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
        end = self.valid_until.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M") if self.valid_until else "withdrawn"
        return f"from {start} until {end} UTC+08:00"


@dataclass(frozen=True)
class Eligibility:
    organisation_id: uuid.UUID
    activity: Activity
    at: datetime
    blocking: tuple[BlockingRecord, ...] = field(default=())

    @property
    def allowed(self) -> bool:
        return not self.blocking

    def refusal(self, field_name: str = "organisation") -> Ineligible:
        """The refusal naming every blocking record with its reason and period."""
        first = self.blocking[0]
        described = "; ".join(
            f"{record.kind.value} {record.decision_no} by {record.issuing_body} ({record.period()}): {record.reason}"
            for record in self.blocking
        )
        return Ineligible(
            f"barred from {self.activity.value} by a credit record: {described}",
            field=field_name,
            rule=RULE_BY_KIND.get(first.kind, "credit-blacklisted"),
            extra={
                "records": [
                    {
                        "id": str(record.record_id),
                        "kind": record.kind.value,
                        "reason": record.reason,
                        "valid_from": record.valid_from.isoformat(),
                        "valid_until": record.valid_until.isoformat() if record.valid_until else None,
                        "issuing_body": record.issuing_body,
                        "decision_no": record.decision_no,
                    }
                    for record in self.blocking
                ]
            },
        )


def activity_of(value: Activity | str) -> Activity:
    try:
        return Activity(value)
    except ValueError:
        choices = ", ".join(a.value for a in Activity)
        raise ValidationFailed(f"the activity is one of {choices}", field="activity", rule="activity") from None


def bars(row: CreditRecord, activity: Activity) -> bool:
    """A record of a blocking kind bars ``activity`` when its scope names it or everything."""
    if row.kind not in BLOCKING_KINDS:
        return False
    scope = set(row.scope)
    return Activity.ALL.value in scope or activity.value in scope or (activity is Activity.ALL and bool(scope))


async def may_take_part(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    activity: Activity | str,
    at: datetime,
    *,
    uscc: str | None = None,
) -> Eligibility:
    """May ``organisation_id`` take part in ``activity`` at ``at``? Every domain asks this, and
    only this: the blocking records in force then (kind, scope and period), none otherwise.
    A caller that has read the organisation already passes its ``uscc`` (records are found by
    it), which saves reading the row again (a bid's acceptance: one round trip less).
    """
    wanted = activity_of(activity)
    repo = CreditRepository(session)
    if uscc is None:
        organisation = await repo.organisation(organisation_id)
        if organisation is None:
            raise NotFound("no such organisation", field="organisation_id", rule="exists")
        uscc = organisation.uscc
    rows = await repo.in_force(uscc, at)
    blocking = tuple(BlockingRecord.of(row) for row in rows if bars(row, wanted))
    return Eligibility(organisation_id, wanted, at, blocking)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()  # a re-published +08:00 time is the same moment
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return str(value)


class CreditService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = CreditRepository(session)

    @staticmethod
    def check(publication: Publication) -> None:
        """The rules every record keeps, whoever publishes it."""
        for name in ("reason", "issuing_body", "decision_no", "source", "source_ref"):
            if not str(getattr(publication, name) or "").strip():
                raise CreditRecordRefused(f"a credit record states its {name}", field=name, rule="required")
        if publication.valid_until is not None and publication.valid_until <= publication.valid_from:
            raise CreditRecordRefused("the record ends after it starts", field="valid_until", rule="period")

    async def publish(self, publication: Publication, *, actor: Actor) -> CreditRecord:
        """Create the record ``publication.source_ref`` names, or update it to what it now says."""
        row, _ = await self.publish_outcome(publication, actor=actor)
        return row

    async def publish_outcome(self, publication: Publication, *, actor: Actor) -> tuple[CreditRecord, str]:
        """``publish``, also saying what happened: ``published``, ``unchanged``, ``updated`` or the
        new status (``withdrawn``, ``expired``, ``effective``) when the status moved.
        """
        self.check(publication)
        values = await self._values(publication)
        now = await clock.now(self.session)
        row = await self.repo.by_ref(publication.source_ref, lock=True)
        if row is None:
            created = CreditRecord(source_ref=publication.source_ref, created_at=now, updated_at=now, **values)
            created.next_check = _next_check(created)
            try:
                async with self.session.begin_nested():
                    await self.repo.add(created)
            except IntegrityError:
                # Another transaction published the same new reference first (and committed):
                # its record is the one to update, not a second one to add.
                row = await self.repo.by_ref(publication.source_ref, lock=True)
                if row is None:
                    raise
            else:
                changes = {name: [None, _text(getattr(created, name))] for name in _COMPARED}
                await self._record_change(created, "published", changes, now, actor)
                return created, "published"
        changes = {
            name: [_text(getattr(row, name)), _text(value)]
            for name, value in values.items()
            if _text(getattr(row, name)) != _text(value)
        }
        if not changes:
            return row, "unchanged"  # the same facts again: nothing moved, nothing to record
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
        row.next_check = _next_check(row)
        await self.session.flush()
        action = "updated" if "status" not in changes else row.status.value
        await self._record_change(row, action, changes, now, actor)
        return row, action

    async def set_status(
        self,
        source_ref: str,
        status: CreditStatus,
        *,
        actor: Actor,
        source: str | None = None,
        until: datetime | None = None,
    ) -> CreditRecord | None:
        """Withdraw or expire the record ``source_ref`` (None when its source never published it);
        ``until`` closes an open-ended period (a list membership that ended).
        """
        row = await self.repo.by_ref(source_ref, lock=True)
        if row is None:
            return None
        if row.status is status:
            return row
        now = await clock.now(self.session)
        changes: dict[str, list[str | None]] = {"status": [row.status.value, status.value]}
        if until is not None and row.valid_until is None:
            changes["valid_until"] = [None, _text(until)]
            row.valid_until = until
        row.status = status
        row.updated_at = now
        row.next_check = _next_check(row)
        await self.session.flush()
        await self._record_change(row, status.value, changes, now, actor, source=source)
        return row

    async def expire_if_due(self, record_id: uuid.UUID, now: datetime) -> bool:
        """The sweep's step: an effective record whose period has run out becomes expired."""
        row = await self.repo.record(record_id, lock=True)
        if row is None or row.next_check is None or row.next_check > now:
            return False
        if row.status is not CreditStatus.EFFECTIVE or row.valid_until is None or row.valid_until > now:
            row.next_check = _next_check(row)
            await self.session.flush()
            return False
        await self.set_status(row.source_ref, CreditStatus.EXPIRED, actor=Actor.system())
        return True

    async def organisation_name(self, organisation_id: uuid.UUID) -> str | None:
        organisation = await self.repo.organisation(organisation_id)
        return organisation.name if organisation is not None else None

    async def records_of(
        self, organisation_id: uuid.UUID, *, effective_only: bool = False, in_force_at: datetime | None = None
    ) -> Sequence[CreditRecord]:
        organisation = await self.repo.organisation(organisation_id)
        if organisation is None:
            raise NotFound("no such organisation", field="organisation_id", rule="exists")
        return await self.repo.of_uscc(organisation.uscc, effective_only=effective_only, in_force_at=in_force_at)

    async def history(self, records: Sequence[CreditRecord]) -> dict[uuid.UUID, list[CreditRecordChange]]:
        grouped: dict[uuid.UUID, list[CreditRecordChange]] = {row.id: [] for row in records}
        for change in await self.repo.changes(grouped):
            grouped[change.record_id].append(change)
        return grouped

    async def _values(self, publication: Publication) -> dict[str, Any]:
        uscc, name, organisation_id = publication.uscc, publication.organisation_name, publication.organisation_id
        if organisation_id is not None:
            organisation = await self.repo.organisation(organisation_id)
            if organisation is None:
                raise NotFound("no such organisation", field="organisation_id", rule="exists")
            uscc, name = uscc or organisation.uscc, name or organisation.name
        if not uscc:
            raise CreditRecordRefused("a credit record names the organisation", field="uscc", rule="required")
        if organisation_id is None:
            organisation_id = (await self.repo.organisation_ids([uscc])).get(uscc)
        return {
            "uscc": uscc,
            "organisation_id": organisation_id,
            "organisation_name": name or uscc,
            "kind": publication.kind,
            "category": publication.category,
            "scope": sorted(activity.value for activity in publication.scope),
            "valid_from": publication.valid_from,
            "valid_until": publication.valid_until,
            "issuing_body": publication.issuing_body,
            "decision_no": publication.decision_no,
            "legal_basis": publication.legal_basis,
            "reason": publication.reason,
            "source": publication.source,
            "evidence_sha256": publication.evidence_sha256,
            "evidence_url": publication.evidence_url,
            "status": publication.status,
        }

    async def _record_change(
        self,
        row: CreditRecord,
        action: str,
        changes: dict[str, list[str | None]],
        now: datetime,
        actor: Actor,
        *,
        source: str | None = None,
    ) -> None:
        await self.repo.add(
            CreditRecordChange(
                record_id=row.id,
                at=now,
                action=action,
                source=source or row.source,
                actor_user_id=actor.user_id,
                changes=changes,
            )
        )
        await append_entry(
            self.session,
            actor=actor,
            action=f"credit.record_{action}",
            subject_type="credit_record",
            subject_id=str(row.id),
            data={"source_ref": row.source_ref, "changes": changes},
            summary={"uscc": row.uscc, "kind": row.kind.value, "status": row.status.value, "source": row.source},
        )


def _next_check(row: CreditRecord) -> datetime | None:
    return row.valid_until if row.status is CreditStatus.EFFECTIVE else None
