"""The rule catalogue's pages (``/procurement/rules``): the list with its filters, a rule's page
(the version shown, its history, the difference between two versions, a box to try the rule on
pasted text) for everyone who reads the catalogue, and the procurement office's editor (a new
version, a retirement, a reinstatement, a new rule) on the kernel's form path.

The editor's form posts with HTMX: a refusal (422) replaces the form with every field's problem
and the offending lines; a saved version sends the browser to the rule's page (``HX-Redirect``;
a plain 303 without HTMX). The same service as the API (``service.new_version``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.negative_list.model import Severity
from procurement.rule_catalogue import service
from procurement.rule_catalogue.labels import CATEGORY_LABELS, FIELD_LABELS, LABELS, SEVERITY_LABELS
from procurement.rule_catalogue.models import RuleVersion
from procurement.rule_catalogue.policies import RulePermission
from procurement.rule_catalogue.service import RuleDraft, category_of
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound, ValidationFailed
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, submit
from trading.kernel.web.htmx import HX_REDIRECT, is_htmx
from trading.kernel.web.pages import page

RULES = "/procurement/rules"
LIST, RULE, EDIT, SAVE, NEW, CREATE, TRY = (
    "procurement.rules",
    "procurement.rule",
    "procurement.rule_edit",
    "procurement.rule_save",
    "procurement.rule_new",
    "procurement.rule_create",
    "procurement.rule_try",
)
MAX_FORM_TEXT = 60000
CONTEXT = {
    "severities": SEVERITY_LABELS,
    "categories": CATEGORY_LABELS,
    "labels": FIELD_LABELS,
    "list_fields": service.LIST_FIELDS,
}


@dataclass
class RuleForm:
    rule_id: str = ""
    name: str = ""
    basis: str = ""
    severity: str = ""
    suggestion: str = ""
    patterns: str = ""
    negations: str = ""
    positive_examples: str = ""
    negative_examples: str = ""
    in_force: str = "yes"
    reason: str = ""
    base_version: str = "0"


@dataclass
class TryForm:
    text: str = ""
    version: str = ""


def _lines(value: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in value.splitlines() if line.strip())


def form_of(row: RuleVersion) -> dict[str, str]:
    """A version as the edit form shows it (the next version starts from it)."""
    return {
        "rule_id": row.rule_id,
        "name": row.name,
        "basis": row.basis,
        "severity": row.severity.value,
        "suggestion": row.suggestion,
        **{name: "\n".join(getattr(row, name)) for name in service.LIST_FIELDS},
        "in_force": "yes" if row.in_force else "no",
        "reason": "",
        "base_version": str(row.version),
    }


def draft_from(form: RuleForm, rule_id: str) -> RuleDraft:
    fields = FieldParser()
    text = {
        name: fields.text(name, getattr(form, name), max_length=MAX_FORM_TEXT)
        for name in ("name", "basis", "suggestion", "reason", *service.LIST_FIELDS)
    }
    severity = fields.choice("severity", form.severity, Severity)
    base_version = fields.integer("base_version", form.base_version, required=True, low=0)
    in_force = fields.choices("in_force", form.in_force, ("yes", "no"))
    fields.done()
    assert severity is not None  # noqa: S101 - done() raised for a bad choice
    assert base_version is not None  # noqa: S101 - done() raised for a missing version
    return RuleDraft(
        rule_id=rule_id,
        name=text["name"],
        basis=text["basis"],
        severity=severity,
        suggestion=text["suggestion"],
        reason=text["reason"],
        base_version=base_version,
        in_force=in_force != ["no"],
        patterns=_lines(text["patterns"]),
        negations=_lines(text["negations"]),
        positive_examples=_lines(text["positive_examples"]),
        negative_examples=_lines(text["negative_examples"]),
    )


class RuleCataloguePages(Controller):
    path = RULES
    include_in_schema = False

    @get("/", name=LIST, opt=requires(RulePermission.READ))
    async def rules(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        severity: FromQuery[str] = "",
        category: FromQuery[str] = "",
    ) -> Template:
        """The catalogue: every rule's current version, filtered by severity and category."""
        severity = severity if severity in SEVERITY_LABELS else ""
        category = category if category in CATEGORY_LABELS else ""
        everything = await service.catalogue(db_session)
        shown = await service.catalogue(db_session, severity=severity, category=category)
        return await page(
            request,
            "procurement/rules_list.html",
            {
                "rules": shown,
                "counts": service.summary(everything),
                "present_categories": sorted({category_of(r.rule_id) for r in everything}),
                "chosen": {"severity": severity, "category": category},
                "category_of": category_of,
                **CONTEXT,
            },
        )

    @get("/new", name=NEW, opt=requires(RulePermission.MANAGE))
    async def new_rule(self, *, request: Request[Any, Any, Any]) -> Template:
        """An empty form for a rule the catalogue does not hold yet."""
        return await self._form_page(
            request, None, {"severity": "blocking", "in_force": "yes", "base_version": "0"}, []
        )

    @post("/", name=CREATE, opt=requires(RulePermission.MANAGE))
    async def create_rule(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[RuleForm],
    ) -> Response[Any]:
        """Version 1 of a new rule."""
        return await self._save(request, db_session, actor, data, data.rule_id.strip(), None)

    @get("/{rule_id:str}", name=RULE, opt=requires(RulePermission.READ))
    async def rule(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        rule_id: FromPath[str],
        version: FromQuery[int | None] = None,
        compare: FromQuery[int | None] = None,
    ) -> Template:
        """A rule: the version asked for (the current one by default), the history, what changed
        from ``compare`` (by default the version before) to the version shown, and the try box.
        """
        history = await service.versions(db_session, rule_id)
        by_number = {row.version: row for row in history}
        shown = by_number.get(version) if version is not None else history[0]
        if shown is None:
            raise NotFound(f"no version {version} of rule {rule_id}", field="version", rule="rule_version_exists")
        base = by_number.get(compare if compare is not None else shown.version - 1)
        changes = service.diff(base, shown) if base is not None and base is not shown else []
        return await page(
            request,
            "procurement/rules_rule.html",
            {
                "rule": shown,
                "current": history[0],
                "history": history,
                "base": base if base is not shown else None,
                "changes": changes,
                "category": category_of(rule_id),
                "tried": None,
                "try_text": "",
                "try_errors": [],
                **CONTEXT,
            },
        )

    @post("/{rule_id:str}/try", name=TRY, opt=requires(RulePermission.READ))
    async def try_rule(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        rule_id: FromPath[str],
        data: FormBody[TryForm],
    ) -> Response[Any]:
        """Run the rule (the version shown) on pasted text: the hits highlighted, each finding listed.
        Nothing is written; the answer is the try box (a fragment for HTMX).
        """
        fields = FieldParser()
        text = fields.required("text", data.text, max_length=service.MAX_TRY_TEXT, single_line=False)
        version = fields.integer("version", data.version, low=1)
        errors: list[FieldError] = []
        tried: dict[str, Any] | None = None
        history = await service.versions(db_session, rule_id)
        row = history[0]
        try:
            fields.done()
            if version is not None:
                row = await service.version_row(db_session, rule_id, version)
        except ValidationFailed as exc:
            from trading.kernel.web.forms import field_errors  # noqa: PLC0415 - only on a refusal

            errors = field_errors(exc, LABELS)
        else:
            findings, segments = service.try_rule(service.to_rule(row), text)
            tried = {"findings": findings, "segments": segments}
        context = {"rule": row, "tried": tried, "try_text": data.text, "try_errors": errors, **CONTEXT}
        status = 422 if errors else 200
        if is_htmx(request):
            return await page(request, "procurement/_rules_try.html", context, status_code=status)
        current = history[0]
        return await page(
            request,
            "procurement/rules_rule.html",
            {
                **context,
                "current": current,
                "history": history,
                "base": None,
                "changes": [],
                "category": category_of(rule_id),
            },
            status_code=status,
        )

    @get("/{rule_id:str}/edit", name=EDIT, opt=requires(RulePermission.MANAGE))
    async def edit(
        self, *, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], rule_id: FromPath[str]
    ) -> Template:
        """The form for the rule's next version, filled with the current one."""
        current = (await service.versions(db_session, rule_id))[0]
        return await self._form_page(request, current, form_of(current), [])

    @post("/{rule_id:str}/versions", name=SAVE, opt=requires(RulePermission.MANAGE))
    async def save(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        rule_id: FromPath[str],
        data: FormBody[RuleForm],
    ) -> Response[Any]:
        """Write the rule's next version (or refuse it whole, every field's problem named)."""
        current = (await service.versions(db_session, rule_id))[0]
        return await self._save(request, db_session, actor, data, rule_id, current)

    # --- the form path ------------------------------------------------------------------------------

    async def _save(  # noqa: PLR0917 - the one form path of both forms
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        data: RuleForm,
        rule_id: str,
        current: RuleVersion | None,
    ) -> Response[Any]:
        details: list[dict[str, Any]] = []
        saved: list[RuleVersion] = []

        async def work() -> RuleVersion:
            try:
                row = await service.new_version(db_session, draft_from(data, rule_id), actor=actor)
            except ValidationFailed as exc:
                listed = exc.extra.get("errors")
                details.extend(item for item in listed or [] if isinstance(item, dict) and item.get("line"))
                raise
            saved.append(row)
            return row

        def target(row: RuleVersion) -> str:
            return request.app.route_reverse(RULE, rule_id=row.rule_id)

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._form_page(request, current, vars(data), errors, details)

        response = await submit(db_session, work, labels=LABELS, redirect=target, refusal=refusal)
        if is_htmx(request) and saved:  # saved: HTMX would follow a 303 into the form's box
            return Response(content=b"", status_code=200, headers={HX_REDIRECT: target(saved[0])})
        return response

    async def _form_page(
        self,
        request: Request[Any, Any, Any],
        current: RuleVersion | None,
        form: dict[str, Any],
        errors: list[FieldError],
        details: list[dict[str, Any]] | None = None,
    ) -> Template:
        context = {"current": current, "form": form, "errors": errors, "details": details or [], **CONTEXT}
        status = 422 if errors else 200
        name = "procurement/_rules_form.html" if is_htmx(request) and errors else "procurement/rules_edit.html"
        return await page(request, name, context, status_code=status)


CONTROLLERS = (RuleCataloguePages,)
