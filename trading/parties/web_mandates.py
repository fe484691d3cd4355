"""The organisation's agency mandates (委托代理, ``/organisation/mandates``).

A tenderee's user finds an agency by name or credit code, grants it a mandate (every tender,
optionally until a date, with what it covers in words) and revokes it; an agency's user sees the
mandates it holds. Forms go the kernel's way (typed body, ``submit``: 303 or 422 naming the field
and rule); the service is `trading.parties.mandates.MandateService`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.auth.roles import Role
from trading.kernel.errors import ValidationFailed
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, Labels, field_errors, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page
from trading.parties.mandates import SCOPE_MAX, MandateService, OverviewLine
from trading.parties.models import AgencyMandate, MandateStatus
from trading.parties.policies import PartiesPermission

MANDATES = "parties.mandates"

LABELS = Labels(
    fields={
        "agency": N_("Agency"),
        "validUntil": N_("Last day of the mandate"),
        "scope": N_("What the mandate covers"),
        "mandate": N_("Mandate"),
        "status": N_("Status"),
        "name": N_("Organisation name"),
    },
    rules={
        "required": N_("This field is required."),
        "agency_exists": N_("No agency on the platform has this credit code or name."),
        "agency_ambiguous": N_("Several agencies have this name: enter the credit code instead."),
        "agency_kind": N_("A mandate can only be given to an agency."),
        "agency_active": N_("The agency's organisation is suspended."),
        "already_mandated": N_("This agency already holds an active mandate of your organisation; revoke it first."),
        "in_future": N_("The last day must not be in the past."),
        "already_revoked": N_("The mandate is already revoked."),
        "max_length": N_("This is too long."),
    },
)


NAME_MAX = 200
STATUS_LABELS = {MandateStatus.ACTIVE.value: N_("Active (not revoked)"), MandateStatus.REVOKED.value: N_("Revoked")}


@dataclass(frozen=True)
class Overview:
    """Every organisation's mandates, for admins and supervisors (read-only), as filtered."""

    status: str = ""
    name: str = ""
    show: bool = False
    lines: list[OverviewLine] = field(default_factory=list)


@dataclass
class GrantForm:
    agency: str = ""
    validUntil: str = ""  # noqa: N815 - the page's field names
    scope: str = ""


async def provide_mandates(db_session: NamedDependency[AsyncSession]) -> MandateService:
    return MandateService(db_session)


def _until(parser: FieldParser, value: str) -> datetime | None:
    """The last day in force (a date, UTC+08:00) as the moment the mandate ends: that day's end."""
    day = parser.time("validUntil", value)
    if day is None:
        return None
    return day + timedelta(days=1) if "T" not in value else day


class MandatePages(Controller):
    """Mandates given by a tenderee and held by an agency."""

    path = "/organisation/mandates"
    include_in_schema = False
    dependencies = {"mandates": Provide(provide_mandates)}

    @get("/", name=MANDATES, opt=requires(PartiesPermission.MANDATE_READ))
    async def overview(
        self,
        request: Request[Any, Any, Any],
        *,
        mandates: NamedDependency[MandateService],
        actor: NamedDependency[Actor],
        q: FromQuery[str] = "",
        agency: FromQuery[str] = "",
        status: FromQuery[str] = "",
        name: FromQuery[str] = "",
    ) -> Response[Any]:
        """The mandates; ``?q=`` searches agencies, ``?agency=`` fills the grant form; for those
        who oversee, ``?status=`` (active/revoked) and ``?name=`` (part of either organisation's
        name) filter every organisation's mandates.
        """
        parser = FieldParser()
        chosen = parser.choice("status", status, MandateStatus) if status.strip() else None
        text = parser.text("name", name, max_length=NAME_MAX, single_line=True).strip()
        errors: list[FieldError] = []
        try:
            parser.done()
        except ValidationFailed as exc:
            errors = field_errors(exc, LABELS)
        overview = Overview(status=chosen.value if chosen else "", name=text)
        if actor.has(PartiesPermission.MANDATE_OVERSEE):
            lines = [] if errors else await mandates.overview(status=chosen, name=text)
            overview = Overview(overview.status, overview.name, show=True, lines=lines)
        response = await self._page(request, mandates, actor, errors, q=q, form={"agency": agency}, overview=overview)
        if errors:
            response.status_code = 422
        return response

    @post("/", name="parties.mandate_grant", opt=requires(PartiesPermission.MANDATE_MANAGE))
    async def grant(
        self,
        request: Request[Any, Any, Any],
        *,
        mandates: NamedDependency[MandateService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: FormBody[GrantForm],
    ) -> Response[Any]:
        """Grant a mandate to the agency named by its credit code or exact name."""

        async def work() -> AgencyMandate:
            parser = FieldParser()
            agency_text = parser.required("agency", data.agency, max_length=200)
            scope = parser.text("scope", data.scope, max_length=SCOPE_MAX)
            valid_until = _until(parser, data.validUntil)
            parser.done()
            agency = await mandates.resolve_agency(agency_text)
            return await mandates.grant(actor, agency.id, valid_until=valid_until, scope=scope)

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._page(request, mandates, actor, errors, form=vars(data), failed="grant")

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(MANDATES) + "#granted",
            refusal=refused,
        )

    @post(
        "/{mandate_id:uuid}/revocation",
        name="parties.mandate_revoke",
        opt=requires(PartiesPermission.MANDATE_MANAGE),
    )
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        *,
        mandate_id: FromPath[uuid.UUID],
        mandates: NamedDependency[MandateService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Revoke a mandate: no new tender from now; tenders already created stay with the agency."""

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._page(request, mandates, actor, errors, failed=f"revoke-{mandate_id}")

        return await submit(
            db_session,
            lambda: mandates.revoke(actor, mandate_id),
            labels=LABELS,
            redirect=request.app.route_reverse(MANDATES) + "#granted",
            refusal=refused,
        )

    @staticmethod
    async def _page(
        request: Request[Any, Any, Any],
        mandates: MandateService,
        actor: Actor,
        errors: list[FieldError],
        *,
        q: str = "",
        form: dict[str, str] | None = None,
        failed: str = "",
        overview: Overview | None = None,
    ) -> Response[Any]:
        organisation = actor.organisation_id
        grants = Role.TENDEREE in actor.roles and organisation is not None
        holds = Role.AGENCY in actor.roles and organisation is not None
        context = {
            "grants": grants,
            "holds": holds,
            "granted": await mandates.granted(organisation) if grants and organisation else [],
            "held": await mandates.held(organisation) if holds and organisation else [],
            "q": q.strip(),
            "found": await mandates.find_agencies(q) if grants and q.strip() else [],
            "form": form or {},
            "errors": errors,
            "failed": failed,
            "labels": LABELS.fields,
            "overview": overview or Overview(),
            "statuses": STATUS_LABELS,
        }
        return await page(request, "parties/mandates.html", context)


CONTROLLERS = (MandatePages,)
