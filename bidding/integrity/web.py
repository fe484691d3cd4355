"""Integrity's pages (``/integrity``) for supervisors and the centre's staff: the alert list with
its filters, an alert with its evidence (numbers, shared paragraphs side by side, matching values,
the network chart, the lot against the market's distribution) and its review form, the rule
catalogue with each rule's history, and the editor (a rule's next version).

Forms go through the kernel's form path (`submit`): a refusal re-renders the page with 422 and
every field's problem named, nothing written. Charts are drawn by the vendored ECharts
(``static/vendor/echarts``) from data in ``<script type="application/json">``, no inline script.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Template
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.integrity import service
from bidding.integrity.labels import (
    FIELD_LABELS,
    LABELS,
    SCOPE_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    TRIGGER_LABELS,
    runs_at,
)
from bidding.integrity.models import IntegrityAlert
from bidding.integrity.policies import IntegrityPermission
from bidding.integrity.service import TRANSITIONS, AlertStatus
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import ValidationFailed
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, submit
from trading.kernel.web.pages import page

PREFIX: Final = "/integrity"
STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
STATIC_ROUTE: Final = "integrity.static"
ALERTS, ALERT, REVIEW, RULES, RULE, RULE_EDIT, RULE_SAVE = (
    "integrity.alerts",
    "integrity.alert",
    "integrity.alert_review",
    "integrity.rules",
    "integrity.rule",
    "integrity.rule_edit",
    "integrity.rule_save",
)
PAGE_SIZE: Final = 50
MAX_FORM_TEXT: Final = 8000
HISTOGRAM_BINS: Final = 20
CONTEXT: Final = {
    "severities": SEVERITY_LABELS,
    "statuses": STATUS_LABELS,
    "scopes": SCOPE_LABELS,
    "labels": FIELD_LABELS,
    "triggers": TRIGGER_LABELS,
    "runs_at": runs_at,
}

static_files = create_static_files_router(
    path=f"{PREFIX}/static", directories=[STATIC_DIR], name=STATIC_ROUTE, include_in_schema=False
)
PUBLIC_PATHS: Final = (f"{PREFIX}/static/{{file_path}}",)
"""ECharts and the chart script are a public library's code and carry no data."""


@dataclass
class ReviewForm:
    status: str = ""
    reason: str = ""


@dataclass
class RuleForm:
    name: str = ""
    basis: str = ""
    severity: str = ""
    thresholds: str = ""
    description: str = ""
    reason: str = ""
    base_version: str = ""


def _choice(value: str, table: dict[str, str]) -> str:
    return value if value in table else ""


def histogram(scores: list[float], mark: float | None) -> dict[str, Any]:
    """The market's scores in equal bins (labels are the bins' lower edges) and the bin ``mark`` is in."""
    finite = [s for s in scores if math.isfinite(s)]
    if not finite:
        return {"bins": [], "counts": [], "mark": None}
    low, high = min(finite), max(finite)
    width = (high - low) / HISTOGRAM_BINS or 1.0
    counts = [0] * HISTOGRAM_BINS
    for value in finite:
        counts[min(int((value - low) / width), HISTOGRAM_BINS - 1)] += 1
    marked = None
    if mark is not None and math.isfinite(mark):
        marked = max(0, min(int((mark - low) / width), HISTOGRAM_BINS - 1))
    return {"bins": [round(low + i * width, 3) for i in range(HISTOGRAM_BINS)], "counts": counts, "mark": marked}


def numbers_of(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    """The evidence's plain values as (name, value) rows: the top-level numbers and text, and those
    under ``numbers`` (a screen's own figures).
    """
    rows: list[tuple[str, str]] = []
    nested = evidence.get("numbers")
    for source in (nested if isinstance(nested, dict) else {}, evidence):
        for key, value in source.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                continue
            rows.append((str(key), f"{value:.6g}" if isinstance(value, float) else str(value)))
    return rows


def tables_of(evidence: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The evidence's flat mappings of values (e.g. each bidder's price) as small tables."""
    tables = []
    for key, value in evidence.items():
        if key in {"numbers", "network", "paragraphs", "matches"} or not isinstance(value, dict):
            continue
        cells = [
            (str(k), str(v)) for k, v in value.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)
        ]
        if cells:
            tables.append((str(key), cells))
    return tables


def _list_of_dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def matches_of(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """Matching values: a ``matches`` list, or the hard-evidence screens' one shared value
    (``signal``, ``value``, ``bidders``: `screens.evidence`).
    """
    listed = _list_of_dicts(evidence.get("matches"))
    if listed or "value" not in evidence or "signal" not in evidence:
        return listed
    bidders = evidence.get("bidders")
    named = [str(b.get("name") or b.get("id")) if isinstance(b, dict) else str(b) for b in bidders or []]
    return [{"kind": evidence["signal"], "value": evidence["value"], "bidders": named}]


def paragraphs_of(evidence: dict[str, Any], subjects: list[str]) -> list[dict[str, Any]]:
    """Shared paragraphs side by side: ``left``/``right``, or the similarity screen's ``a``/``b``
    (``a`` is the first subject's, `screens.similarity`).
    """
    shown = []
    for item in _list_of_dicts(evidence.get("paragraphs")):
        if "left" in item:
            shown.append(item)
            continue
        shown.append(
            {
                "left": item.get("a", ""),
                "right": item.get("b", ""),
                "similarity": item.get("similarity", ""),
                "left_bidder": subjects[0] if subjects else "",
                "right_bidder": subjects[1] if len(subjects) > 1 else "",
            }
        )
    return shown


def network_of(evidence: dict[str, Any]) -> dict[str, Any] | None:
    network = evidence.get("network")
    if not isinstance(network, dict):
        return None
    nodes, edges = _list_of_dicts(network.get("nodes")), _list_of_dicts(network.get("edges"))
    if not nodes:
        return None
    return {"nodes": nodes, "edges": edges, "categories": _list_of_dicts(network.get("categories"))}


class IntegrityPages(Controller):
    path = PREFIX
    include_in_schema = False

    @get("/alerts", name=ALERTS, opt=requires(IntegrityPermission.READ))
    async def alerts(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        severity: FromQuery[str] = "",
        rule: FromQuery[str] = "",
        status: FromQuery[str] = "",
        screened: Annotated[str, QueryParameter(name="scope")] = "",
        tender: FromQuery[str] = "",
        offset: FromQuery[int] = 0,
    ) -> Template:
        """Alerts, newest first, with filters by severity, rule, status, scope and tender."""
        chosen = {
            "severity": _choice(severity, SEVERITY_LABELS),
            "status": _choice(status, STATUS_LABELS),
            "scope": _choice(screened, SCOPE_LABELS),
            "rule": rule.strip()[:64],
            "tender": tender.strip()[:200],
        }
        offset = max(0, min(offset, 1_000_000))
        rows, total = await service.list_alerts(
            db_session,
            service.AlertFilter(
                severity=chosen["severity"],
                rule=chosen["rule"],
                status=chosen["status"],
                scope=chosen["scope"],
                tender=chosen["tender"],
            ),
            offset=offset,
            limit=PAGE_SIZE,
        )
        rules = await service.current_rule_rows(db_session)
        return await page(
            request,
            "bidding/integrity/alerts.html",
            {
                "alerts": rows,
                "total": total,
                "offset": offset,
                "page_size": PAGE_SIZE,
                "chosen": chosen,
                "rule_names": {r.rule_id: r.definition.get("name", r.rule_id) for r in rules},
                **CONTEXT,
            },
        )

    @get("/alerts/{alert_id:uuid}", name=ALERT, opt=requires(IntegrityPermission.READ))
    async def alert(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        alert_id: FromPath[uuid.UUID],
    ) -> Template:
        """An alert: what it says, its evidence drawn per kind, the lot against the market, reviews."""
        return await self._alert_page(request, db_session, alert_id, {}, [])

    @post("/alerts/{alert_id:uuid}/reviews", name=REVIEW, opt=requires(IntegrityPermission.REVIEW))
    async def review(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        alert_id: FromPath[uuid.UUID],
        data: FormBody[ReviewForm],
    ) -> Response[Any]:
        """The alert's next step (a reason is required to dismiss or confirm)."""

        async def work() -> IntegrityAlert:
            fields = FieldParser()
            status = fields.choice("status", data.status, AlertStatus)
            reason = fields.text("reason", data.reason, max_length=MAX_FORM_TEXT)
            fields.done()
            assert status is not None  # noqa: S101 - done() raised for a bad or missing choice
            return await service.review_alert(db_session, alert_id, to_status=status.value, reason=reason, actor=actor)

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._alert_page(request, db_session, alert_id, vars(data), errors)

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=lambda row: request.app.route_reverse(ALERT, alert_id=row.id),
            refusal=refusal,
        )

    async def _alert_page(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        alert_id: uuid.UUID,
        form: dict[str, Any],
        errors: list[FieldError],
    ) -> Template:
        alert, reviews = await service.get_alert(db_session, alert_id)
        evidence = dict(alert.evidence)
        screening = await service.lot_screening(db_session, ocid=alert.ocid, lot=alert.lot, scope=alert.scope)
        market = histogram(
            await service.market_scores(db_session, alert.scope), screening.score if screening is not None else None
        )
        history = await service.rule_history(db_session, alert.rule_id) if alert.rule_id else []
        version = next((row for row in history if row.version == alert.rule_version), None)
        network = network_of(evidence)
        return await page(
            request,
            "bidding/integrity/alert.html",
            {
                "alert": alert,
                "reviews": reviews,
                "rule_version": version,
                "numbers": numbers_of(evidence),
                "tables": tables_of(evidence),
                "paragraphs": paragraphs_of(evidence, list(alert.subjects or [])),
                "matches": matches_of(evidence),
                "network_json": json.dumps(network, ensure_ascii=False) if network else "",
                "screening": screening,
                "market_json": json.dumps(market, ensure_ascii=False) if market["counts"] else "",
                "next_steps": sorted(TRANSITIONS[AlertStatus(alert.status)]),
                "form": form,
                "errors": errors,
                "evidence_json": json.dumps(evidence, ensure_ascii=False, indent=2),
                **CONTEXT,
            },
            status_code=422 if errors else 200,
        )

    @get("/rules", name=RULES, opt=requires(IntegrityPermission.READ))
    async def rules(self, *, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Template:
        """Every rule's current version with its id, name, basis, scope, thresholds and what
        reviewers made of the alerts each version raised.
        """
        return await page(
            request,
            "bidding/integrity/rules.html",
            {
                "rules": [service.to_rule(row) for row in await service.current_rule_rows(db_session)],
                "outcomes": await service.rule_outcomes(db_session),
                **CONTEXT,
            },
        )

    @get("/rules/{rule_id:str}", name=RULE, opt=requires(IntegrityPermission.READ))
    async def rule(
        self, *, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], rule_id: FromPath[str]
    ) -> Template:
        """A rule's versions, newest first, each with who wrote it, when and why."""
        history = await service.rule_history(db_session, rule_id)
        return await page(
            request,
            "bidding/integrity/rule.html",
            {
                "history": [(row, service.to_rule(row)) for row in history],
                "current": service.to_rule(history[0]),
                "outcomes": await service.rule_outcomes(db_session),
                **CONTEXT,
            },
        )

    @get("/rules/{rule_id:str}/edit", name=RULE_EDIT, opt=requires(IntegrityPermission.MANAGE_RULES))
    async def edit(
        self, *, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], rule_id: FromPath[str]
    ) -> Template:
        """The form for the rule's next version, filled with the current one."""
        current = service.to_rule((await service.rule_history(db_session, rule_id))[0])
        form = {
            "name": current.name,
            "basis": current.basis,
            "severity": current.severity.value,
            "thresholds": "\n".join(f"{name} = {value:g}" for name, value in current.thresholds.items()),
            "description": current.description,
            "reason": "",
            "base_version": str(current.version),
        }
        return await self._edit_page(request, current, form, [])

    @post("/rules/{rule_id:str}/versions", name=RULE_SAVE, opt=requires(IntegrityPermission.MANAGE_RULES))
    async def save(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        rule_id: FromPath[str],
        data: FormBody[RuleForm],
    ) -> Response[Any]:
        """Write the rule's next version, or refuse it whole naming each field (a threshold by name)."""
        current = service.to_rule((await service.rule_history(db_session, rule_id))[0])

        async def work() -> str:
            fields = FieldParser()
            base_version = fields.integer("base_version", data.base_version, required=True, low=1)
            text = {
                name: fields.text(name, getattr(data, name), max_length=MAX_FORM_TEXT)
                for name in ("name", "basis", "severity", "description", "reason", "thresholds")
            }
            fields.done()
            assert base_version is not None  # noqa: S101 - done() raised for a missing version
            edit = service.RuleEdit(
                rule_id=rule_id,
                base_version=base_version,
                reason=text["reason"],
                thresholds=parse_thresholds(text["thresholds"]),
                severity=text["severity"],
                name=text["name"],
                basis=text["basis"],
                description=text["description"],
            )
            await service.new_rule_version(db_session, edit, actor=actor)
            return rule_id

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._edit_page(request, current, vars(data), errors)

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=lambda saved: request.app.route_reverse(RULE, rule_id=saved),
            refusal=refusal,
        )

    async def _edit_page(
        self, request: Request[Any, Any, Any], current: Any, form: dict[str, Any], errors: list[FieldError]
    ) -> Template:
        context = {"current": current, "form": form, "errors": errors, **CONTEXT}
        return await page(request, "bidding/integrity/rule_edit.html", context, status_code=422 if errors else 200)


def parse_thresholds(text: str) -> dict[str, str]:
    """``name = value`` lines (blank lines skipped); a line without ``=`` is refused by its number."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, sign, value = line.partition("=")
        if not sign or not name.strip():
            raise ValidationFailed(f"line {number}: write name = value", field="thresholds", rule="threshold_number")
        values[name.strip()] = value.strip()
    return values


CONTROLLERS = (IntegrityPages, static_files)
