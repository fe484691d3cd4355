"""Integrity's database side: rules as stored versions, alerts and their lifecycle, lot screenings.

Rules: every area's defaults (``screens.rules.load_catalogue``) are stored on first use as the
version they ship with; an edit is a new version (never an update), so an alert keeps naming the
version that raised it. The current version of a rule is its highest.

Alerts are advisory: nothing in bidding reads them (import contract). Recording is idempotent: a
finding's ``dedupe_key`` covers the tender or ocid, the lot, the scope, the rule and its version and
the subjects, so screening the same lot again with the same rule version adds nothing.

Services only flush; the request or job owns the transaction.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.integrity.models import IntegrityAlert, IntegrityLotScreening, IntegrityReview, IntegrityRuleVersion
from bidding.integrity.screens.model import Finding, Scope, Severity
from bidding.integrity.screens.rules import Rule, RuleSet, load_catalogue
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.bounds import INT32_MAX, RULE_FINITE
from trading.kernel.errors import Conflict, NotFound, ValidationFailed
from trading.ledger.service import append_entry

ALERT_SUBJECT: Final = "integrity.alert"
SUBJECT_RULE: Final = "integrity.rule"
MAX_REASON: Final = 2000
MAX_NAME: Final = 200
MAX_BASIS: Final = 500
MAX_DESCRIPTION: Final = 4000
MAX_PAGE: Final = 200


class AlertStatus(StrEnum):
    OPEN = "open"
    REVIEWING = "reviewing"
    DISMISSED = "dismissed"
    CONFIRMED = "confirmed"


# An alert is taken up before it is decided; a decision is final (a new finding is a new alert).
TRANSITIONS: Final[Mapping[AlertStatus, frozenset[AlertStatus]]] = {
    AlertStatus.OPEN: frozenset({AlertStatus.REVIEWING}),
    AlertStatus.REVIEWING: frozenset({AlertStatus.DISMISSED, AlertStatus.CONFIRMED}),
    AlertStatus.DISMISSED: frozenset(),
    AlertStatus.CONFIRMED: frozenset(),
}
REASON_REQUIRED: Final = frozenset({AlertStatus.DISMISSED, AlertStatus.CONFIRMED})


# --- rules ----------------------------------------------------------------------------------------


def definition_of(rule: Rule) -> dict[str, Any]:
    """A rule's fields as stored (JSON): everything but the id and the version."""
    return {
        "name": rule.name,
        "basis": rule.basis,
        "scope": rule.scope.value,
        "severity": rule.severity.value,
        "hard": rule.hard,
        "thresholds": {name: float(value) for name, value in rule.thresholds.items()},
        "description": rule.description,
    }


def to_rule(row: IntegrityRuleVersion) -> Rule:
    body = row.definition
    return Rule(
        id=row.rule_id,
        version=row.version,
        name=str(body["name"]),
        basis=str(body["basis"]),
        scope=Scope(str(body["scope"])),
        severity=Severity(str(body["severity"])),
        hard=bool(body.get("hard", False)),
        thresholds={str(k): float(v) for k, v in dict(body.get("thresholds") or {}).items()},
        description=str(body.get("description", "")),
    )


async def ensure_rules_seeded(session: AsyncSession, defaults: RuleSet | None = None) -> int:
    """Store every default rule whose id the table does not hold yet; the number stored.

    Idempotent, and safe when two first uses race: the second one's insert meets the unique
    ``(rule_id, version)``, its savepoint rolls back and it reads what the first one stored.
    """
    rules = defaults if defaults is not None else load_catalogue()
    stored = set((await session.scalars(sa.select(IntegrityRuleVersion.rule_id).distinct())).all())
    missing = [rule for rule in rules if rule.id not in stored]
    if not missing:
        return 0
    try:
        async with session.begin_nested():
            now = await clock.now(session)
            for rule in missing:
                session.add(
                    IntegrityRuleVersion(
                        rule_id=rule.id,
                        version=rule.version,
                        definition=definition_of(rule),
                        author_id=None,
                        author_name="",
                        reason="",
                        created_at=now,
                    )
                )
            await session.flush()
            await append_entry(
                session,
                actor=Actor.system(),
                action="integrity.rules_seeded",
                subject_type=SUBJECT_RULE,
                subject_id="catalogue",
                data={"rules": [{"id": r.id, "version": r.version, **definition_of(r)} for r in missing]},
                summary={"rows": len(missing)},
            )
    except IntegrityError:
        return 0
    return len(missing)


async def _current_rows(session: AsyncSession) -> list[IntegrityRuleVersion]:
    newest = (
        sa.select(IntegrityRuleVersion.rule_id, sa.func.max(IntegrityRuleVersion.version).label("version"))
        .group_by(IntegrityRuleVersion.rule_id)
        .subquery()
    )
    query = (
        sa.select(IntegrityRuleVersion)
        .join(
            newest,
            sa.and_(newest.c.rule_id == IntegrityRuleVersion.rule_id, newest.c.version == IntegrityRuleVersion.version),
        )
        .order_by(IntegrityRuleVersion.rule_id)
    )
    return list((await session.scalars(query)).all())


async def current_rule_rows(session: AsyncSession) -> list[IntegrityRuleVersion]:
    """Every rule's current (highest) version, by rule id."""
    await ensure_rules_seeded(session)
    return await _current_rows(session)


async def current_rules(session: AsyncSession) -> RuleSet:
    """The rules the screens apply now (each rule's highest stored version)."""
    return RuleSet(to_rule(row) for row in await current_rule_rows(session))


async def rule_history(session: AsyncSession, rule_id: str) -> list[IntegrityRuleVersion]:
    """A rule's versions, newest first; ``NotFound`` naming ``rule_id`` for an unknown rule."""
    await ensure_rules_seeded(session)
    query = (
        sa.select(IntegrityRuleVersion)
        .where(IntegrityRuleVersion.rule_id == rule_id)
        .order_by(IntegrityRuleVersion.version.desc())
    )
    rows = list((await session.scalars(query)).all())
    if not rows:
        raise NotFound(f"no rule {rule_id}", field="rule_id", rule="integrity_rule_exists")
    return rows


@dataclass(frozen=True, slots=True)
class RuleEdit:
    """A supervisor's next version of a rule: the new values as typed, why, and the version edited.

    ``thresholds`` maps each of the rule's threshold names to the text typed for it; a rule's set
    of thresholds is what its screen reads, so names cannot be added or removed here.
    """

    rule_id: str
    base_version: int
    reason: str
    thresholds: Mapping[str, str]
    severity: str
    name: str
    basis: str
    description: str = ""


def _check_text(problems: list[dict[str, Any]], name: str, value: str, limit: int, *, required: bool) -> None:
    if required and not value.strip():
        problems.append({"field": name, "rule": "required", "message": "This field is required."})
    elif len(value) > limit:
        problems.append({"field": name, "rule": "text_too_long", "message": f"at most {limit} characters"})


def _parse_thresholds(edit: RuleEdit, current: Mapping[str, float], problems: list[dict[str, Any]]) -> dict[str, float]:
    parsed: dict[str, float] = {}
    for name in current:
        raw = str(edit.thresholds.get(name, "")).strip()
        field = f"thresholds.{name}"
        try:
            value = float(raw)
        except ValueError:
            problems.append({"field": field, "rule": "threshold_number", "message": f"threshold {name}: a number"})
            continue
        if not math.isfinite(value):
            problems.append({"field": field, "rule": "threshold_number", "message": f"threshold {name}: finite"})
            continue
        parsed[name] = value
    problems.extend(
        {"field": f"thresholds.{name}", "rule": "threshold_unknown", "message": f"rule has no threshold {name}"}
        for name in edit.thresholds
        if name not in current
    )
    return parsed


async def new_rule_version(session: AsyncSession, edit: RuleEdit, *, actor: Actor) -> IntegrityRuleVersion:
    """Write ``edit`` as the rule's next version, or refuse it whole (422 naming every field).

    Old versions and the alerts that name them are never touched.
    """
    history = await rule_history(session, edit.rule_id)
    current = history[0]
    problems: list[dict[str, Any]] = []
    _check_text(problems, "reason", edit.reason, MAX_REASON, required=True)
    _check_text(problems, "name", edit.name, MAX_NAME, required=True)
    _check_text(problems, "basis", edit.basis, MAX_BASIS, required=True)
    _check_text(problems, "description", edit.description, MAX_DESCRIPTION, required=False)
    if edit.severity not in {s.value for s in Severity}:
        problems.append({"field": "severity", "rule": "choice", "message": "red, amber or info"})
    old_rule = to_rule(current)
    thresholds = _parse_thresholds(edit, old_rule.thresholds, problems)
    if edit.base_version != current.version:
        problems.append(
            {
                "field": "base_version",
                "rule": "integrity_rule_changed_meanwhile",
                "message": f"version {current.version} was written after version {edit.base_version} you edited",
            }
        )
    definition = {
        **current.definition,
        "name": edit.name.strip(),
        "basis": edit.basis.strip(),
        "severity": edit.severity,
        "thresholds": thresholds,
        "description": edit.description.strip(),
    }
    if not problems and definition == current.definition:
        problems.append(
            {
                "field": "form",
                "rule": "integrity_rule_unchanged",
                "message": "the version says what the current one says",
            }
        )
    if problems:
        first = problems[0]
        raise ValidationFailed(first["message"], field=first["field"], rule=first["rule"], extra={"errors": problems})
    number = current.version + 1
    row = IntegrityRuleVersion(
        rule_id=edit.rule_id,
        version=number,
        definition=definition,
        author_id=actor.user_id,
        author_name=actor.display_name or actor.username or "",
        reason=edit.reason.strip(),
        created_at=await clock.now(session),
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise Conflict(
            f"version {number} of rule {edit.rule_id} was written meanwhile",
            field="base_version",
            rule="integrity_rule_changed_meanwhile",
        ) from None
    await append_entry(
        session,
        actor=actor,
        action="integrity.rule_version_created",
        subject_type=SUBJECT_RULE,
        subject_id=edit.rule_id,
        data={"rule": edit.rule_id, "version": number, "reason": row.reason, **definition},
        summary={"code": edit.rule_id, "version": number},
    )
    return row


# --- alerts ---------------------------------------------------------------------------------------


def dedupe_key(*, ocid: str, lot: str | None, scope: Scope | str, finding: Finding) -> str:
    """The one key of a finding about a lot: re-screening with the same rule version finds it again."""
    parts = [ocid, lot or "", str(scope), finding.rule, finding.rule_version, sorted(finding.subjects)]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def _jsonable(evidence: Mapping[str, object]) -> dict[str, Any]:
    """The evidence as stored: a JSON round trip, so a value JSON cannot hold fails here, by name."""
    try:
        loaded: dict[str, Any] = json.loads(json.dumps(dict(evidence), ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"evidence is not JSON: {exc}", field="evidence", rule="evidence_json") from None
    return loaded


async def record_findings(
    session: AsyncSession,
    *,
    tender_id: uuid.UUID | None,
    ocid: str,
    lot: str | None,
    scope: Scope,
    findings: Sequence[Finding],
) -> list[IntegrityAlert]:
    """An alert for each finding (the existing one when the same finding was recorded before), in
    the order given. New alerts open; one ledger entry on the platform's chain says how many.
    """
    await ensure_rules_seeded(session)
    alerts: list[IntegrityAlert] = []
    created = 0
    for finding in findings:
        key = dedupe_key(ocid=ocid, lot=lot, scope=scope, finding=finding)
        found = await _by_key(session, key)
        if found is None:
            now = await clock.now(session)
            row = IntegrityAlert(
                dedupe_key=key,
                rule_id=finding.rule,
                rule_version=finding.rule_version,
                scope=scope.value,
                severity=Severity(finding.severity).value,
                hard=finding.hard,
                score=float(finding.score) if math.isfinite(finding.score) else 0.0,
                summary=finding.summary,
                evidence=_jsonable(finding.evidence),
                subjects=list(finding.subjects),
                tender_id=tender_id,
                ocid=ocid,
                lot=lot or "",
                status=AlertStatus.OPEN.value,
                created_at=now,
                updated_at=now,
            )
            try:
                async with session.begin_nested():
                    session.add(row)
                    await session.flush()
            except IntegrityError:  # recorded meanwhile by a concurrent screening
                found = await _by_key(session, key)
                if found is None:
                    raise
            else:
                found = row
                created += 1
        alerts.append(found)
    if created:
        await append_entry(
            session,
            actor=Actor.system(),
            action="integrity.alerts_raised",
            subject_type=ALERT_SUBJECT,
            subject_id=ocid,
            data={"ocid": ocid, "lot": lot, "scope": scope.value, "alerts": [str(a.id) for a in alerts]},
            summary={"rows": created},
        )
    return alerts


async def _by_key(session: AsyncSession, key: str) -> IntegrityAlert | None:
    return (await session.scalars(sa.select(IntegrityAlert).where(IntegrityAlert.dedupe_key == key))).one_or_none()


async def record_lot_screening(
    session: AsyncSession,
    *,
    tender_id: uuid.UUID | None,
    ocid: str,
    lot: str | None,
    scope: Scope,
    score: float,
    flagged: bool,
    values: Mapping[str, object],
) -> IntegrityLotScreening:
    """The lot's latest screening for ``scope`` (replacing an earlier one): its combined score and
    the values behind it, for the market's distributions.
    """
    if not math.isfinite(score):
        raise ValidationFailed(f"score {score!r} is not finite", field="score", rule=RULE_FINITE)
    stored = _jsonable(values)
    query = sa.select(IntegrityLotScreening).where(
        IntegrityLotScreening.ocid == ocid,
        IntegrityLotScreening.lot == (lot or ""),
        IntegrityLotScreening.scope == scope.value,
    )
    row = (await session.scalars(query.with_for_update())).one_or_none()
    now = await clock.now(session)
    if row is None:
        row = IntegrityLotScreening(tender_id=tender_id, ocid=ocid, lot=lot or "", scope=scope.value)
        session.add(row)
    row.tender_id, row.score, row.flagged, row.values, row.computed_at = tender_id, float(score), flagged, stored, now
    await session.flush()
    return row


async def review_alert(
    session: AsyncSession, alert_id: uuid.UUID, *, to_status: str, reason: str, actor: Actor
) -> IntegrityAlert:
    """Move an alert one step through its lifecycle; dismissing or confirming needs a reason.

    Refusals name their field: ``status`` (``integrity_alert_transition``, 409) for a step the
    alert cannot take, ``reason`` (``required``, 422) for a decision without one.
    """
    try:
        target = AlertStatus(to_status)
    except ValueError:
        raise ValidationFailed(
            f"status {to_status!r}: reviewing, dismissed or confirmed", field="status", rule="choice"
        ) from None
    reason = reason.strip()
    if target in REASON_REQUIRED and not reason:
        raise ValidationFailed("a reason is required to dismiss or confirm an alert", field="reason", rule="required")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"at most {MAX_REASON} characters", field="reason", rule="text_too_long")
    query = sa.select(IntegrityAlert).where(IntegrityAlert.id == alert_id).with_for_update()
    alert = (await session.scalars(query)).one_or_none()
    if alert is None:
        raise NotFound(f"no alert {alert_id}", field="alert_id", rule="integrity_alert_exists")
    current = AlertStatus(alert.status)
    if target not in TRANSITIONS[current]:
        raise Conflict(
            f"an alert that is {current.value} cannot become {target.value}",
            field="status",
            rule="integrity_alert_transition",
        )
    now = await clock.now(session)
    session.add(
        IntegrityReview(
            alert_id=alert.id,
            from_status=current.value,
            to_status=target.value,
            reason=reason,
            reviewer_id=actor.user_id,
            reviewer_name=actor.display_name or actor.username or "",
            at=now,
        )
    )
    alert.status, alert.updated_at = target.value, now
    await session.flush()
    if target is AlertStatus.REVIEWING:
        action = "integrity.alert_taken_up"
    elif target is AlertStatus.DISMISSED:
        action = "integrity.alert_dismissed"
    else:
        action = "integrity.alert_confirmed"
    await append_entry(
        session,
        actor=actor,
        action=action,
        subject_type=ALERT_SUBJECT,
        subject_id=str(alert.id),
        data={"alert": str(alert.id), "from": current.value, "to": target.value, "reason": reason},
        summary={"code": alert.rule_id, "version": alert.rule_version, "status": target.value},
    )
    return alert


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """What the list shows; an empty value does not filter."""

    severity: str = ""
    rule: str = ""
    status: str = ""
    scope: str = ""
    tender: str = ""  # the tender's code (or an outside ocid), exactly
    since: datetime | None = None
    until: datetime | None = None


async def list_alerts(
    session: AsyncSession, filters: AlertFilter, *, offset: int = 0, limit: int = 50
) -> tuple[list[IntegrityAlert], int]:
    """A page of alerts matching ``filters``, newest first, and how many match in all."""
    conditions: list[sa.ColumnElement[bool]] = []
    for column, value in (
        (IntegrityAlert.severity, filters.severity),
        (IntegrityAlert.rule_id, filters.rule),
        (IntegrityAlert.status, filters.status),
        (IntegrityAlert.scope, filters.scope),
        (IntegrityAlert.ocid, filters.tender),
    ):
        if value:
            conditions.append(column == value)
    if filters.since is not None:
        conditions.append(IntegrityAlert.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(IntegrityAlert.created_at < filters.until)
    offset = max(0, min(offset, INT32_MAX))
    limit = max(1, min(limit, MAX_PAGE))
    total = int(await session.scalar(sa.select(sa.func.count()).select_from(IntegrityAlert).where(*conditions)) or 0)
    query = (
        sa.select(IntegrityAlert)
        .where(*conditions)
        .order_by(IntegrityAlert.created_at.desc(), IntegrityAlert.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return list((await session.scalars(query)).all()), total


async def get_alert(session: AsyncSession, alert_id: uuid.UUID) -> tuple[IntegrityAlert, list[IntegrityReview]]:
    """An alert and its reviews, oldest first; ``NotFound`` naming ``alert_id``."""
    alert = await session.get(IntegrityAlert, alert_id)
    if alert is None:
        raise NotFound(f"no alert {alert_id}", field="alert_id", rule="integrity_alert_exists")
    reviews = (
        await session.scalars(
            sa.select(IntegrityReview).where(IntegrityReview.alert_id == alert_id).order_by(IntegrityReview.at)
        )
    ).all()
    return alert, list(reviews)


async def rule_outcomes(session: AsyncSession) -> dict[tuple[str, int], dict[str, int]]:
    """How many alerts each rule version raised, by status: what reviewers make of a rule."""
    query = sa.select(
        IntegrityAlert.rule_id, IntegrityAlert.rule_version, IntegrityAlert.status, sa.func.count()
    ).group_by(IntegrityAlert.rule_id, IntegrityAlert.rule_version, IntegrityAlert.status)
    outcomes: dict[tuple[str, int], dict[str, int]] = {}
    for rule_id, version, status, count in (await session.execute(query)).all():
        outcomes.setdefault((rule_id, version), {})[status] = int(count)
    return outcomes


async def market_scores(session: AsyncSession, scope: str, *, limit: int = 5000) -> list[float]:
    """The latest combined scores of the lots screened for ``scope``, for the market's distribution."""
    query = (
        sa.select(IntegrityLotScreening.score)
        .where(IntegrityLotScreening.scope == scope)
        .order_by(IntegrityLotScreening.computed_at.desc())
        .limit(limit)
    )
    return [float(value) for value in (await session.scalars(query)).all()]


async def lot_screening(session: AsyncSession, *, ocid: str, lot: str, scope: str) -> IntegrityLotScreening | None:
    query = sa.select(IntegrityLotScreening).where(
        IntegrityLotScreening.ocid == ocid, IntegrityLotScreening.lot == lot, IntegrityLotScreening.scope == scope
    )
    return (await session.scalars(query)).one_or_none()
