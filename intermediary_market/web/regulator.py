"""The regulator's view (``/market/regulator``, Role.SUPERVISOR): overdue and soon-due deliveries,
the credit report (scores, grades, components, red and black list), complaints to decide, the
blacklisting procedure (notice, decision after the response period, appeals) and the yearly
credit inputs (regulator's evaluation 0–70, public-credit result 0–10).

The data come from the services: ``reports.RegulatorReports``, ``credit_records.CreditService``,
``complaints.ComplaintService`` and ``blacklist.BlacklistService``.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.blacklist import BlacklistService
from intermediary_market.complaints import ComplaintService
from intermediary_market.credit_records import CreditService
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.models import BlacklistStatus
from intermediary_market.policies import MarketPermission
from intermediary_market.reports import RegulatorReports
from intermediary_market.schemas import (
    AppealDecision,
    BlacklistDecision,
    BlacklistNotice,
    ComplaintDecision,
    CreditInputRecord,
)
from intermediary_market.service import MarketService
from intermediary_market.web.labels import BAD_CHOICE, CONTEXT_LABELS
from intermediary_market.web.parsing import (
    UNPROCESSABLE,
    Form,
    clean,
    client_error,
    errors_of,
    field_error,
    form_decimal,
    form_int,
    form_text,
    form_uuid,
    in_savepoint,
)
from intermediary_market.web.paths import REGULATOR
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import DomainError
from trading.kernel.web.forms import FieldError
from trading.kernel.web.pages import page

REGULATE = MarketPermission.BLACKLIST_MANAGE
"""The blacklisting procedure."""


def _choice(form: Form, name: str, yes: str = "1", no: str = "0") -> bool:
    value = form.get(name, "")
    if value not in {yes, no}:
        raise field_error(name, BAD_CHOICE)
    return value == yes


def notice_from_form(form: Form) -> BlacklistNotice:
    organisation_id = form_uuid(form, "organisation_id")
    assert organisation_id is not None  # noqa: S101 - required
    return BlacklistNotice(
        organisation_id=organisation_id, reason=form_text(form, "reason"), response_days=form_int(form, "response_days")
    )


def credit_input_from_form(form: Form) -> CreditInputRecord:
    organisation_id = form_uuid(form, "organisation_id")
    assert organisation_id is not None  # noqa: S101 - required
    return CreditInputRecord(
        organisation_id=organisation_id,
        year=form_int(form, "year"),
        regulator_score=form_decimal(form, "regulator_score", required=False),
        regulator_source=form.get("regulator_source", "").strip() or None,
        public_credit_score=form_decimal(form, "public_credit_score", required=False),
        public_credit_source=form.get("public_credit_source", "").strip() or None,
    )


class RegulatorPages(Controller):
    """The regulator's view of the marketplace."""

    path = REGULATOR
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", name="intermediary_market.regulator", opt=requires(MarketPermission.REPORT_READ))
    async def overview(
        self, *, request: Request[Any, Any, Any], market: NamedDependency[MarketService]
    ) -> Response[Any]:
        return await self._page(request, market, [])

    @post("/blacklistings", name="intermediary_market.regulator_notice", opt=requires(REGULATE))
    async def notice(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """Give notice of an intended blacklisting; the response period starts."""
        form = clean(data)
        try:
            await in_savepoint(db_session, blacklist.notice_blacklisting(notice_from_form(form), actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(request, market, errors_of(exc), failed="notice", form=form)
        return Redirect(f"{REGULATOR}#blacklistings", status_code=303)

    @post(
        "/blacklistings/{blacklisting_id:uuid}/decision",
        name="intermediary_market.regulator_blacklist_decision",
        opt=requires(REGULATE),
    )
    async def decide(
        self,
        *,
        request: Request[Any, Any, Any],
        blacklisting_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """List the intermediary (for ``months``) or withdraw the notice."""
        form = clean(data)
        try:
            decision = BlacklistDecision(uphold=_choice(form, "uphold"), months=form_int(form, "months"))
            await in_savepoint(db_session, blacklist.decide_blacklisting(blacklisting_id, decision, actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(request, market, errors_of(exc), failed=f"decision-{blacklisting_id}", form=form)
        return Redirect(f"{REGULATOR}#blacklistings", status_code=303)

    @post(
        "/blacklistings/{blacklisting_id:uuid}/appeal-decision",
        name="intermediary_market.regulator_appeal_decision",
        opt=requires(REGULATE),
    )
    async def decide_appeal(
        self,
        *,
        request: Request[Any, Any, Any],
        blacklisting_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        form = clean(data)
        try:
            decision = AppealDecision(overturn=_choice(form, "overturn"))
            await in_savepoint(
                db_session, blacklist.decide_appeal(blacklisting_id, overturn=decision.overturn, actor=actor)
            )
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(request, market, errors_of(exc), failed=f"appeal-{blacklisting_id}", form=form)
        return Redirect(f"{REGULATOR}#blacklistings", status_code=303)

    @post(
        "/complaints/{complaint_id:uuid}/decision",
        name="intermediary_market.regulator_complaint_decision",
        opt=requires(MarketPermission.COMPLAINT_DECIDE),
    )
    async def decide_complaint(
        self,
        *,
        request: Request[Any, Any, Any],
        complaint_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """Uphold or dismiss a complaint with a reason (the intermediary's credit follows)."""
        form = clean(data)
        try:
            decision = ComplaintDecision(uphold=_choice(form, "uphold"), reason=form.get("reason", ""))
            await in_savepoint(db_session, ComplaintService(db_session).decide(complaint_id, decision, actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(request, market, errors_of(exc), failed=f"complaint-{complaint_id}", form=form)
        return Redirect(f"{REGULATOR}#complaints", status_code=303)

    @post(
        "/credit-inputs",
        name="intermediary_market.regulator_credit_input",
        opt=requires(MarketPermission.CREDIT_MANAGE),
    )
    async def credit_input(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """Record one year's regulator evaluation (0–70) and public-credit result (0–10)."""
        form = clean(data)
        try:
            record = credit_input_from_form(form)
            await in_savepoint(db_session, CreditService(db_session).record_input(record, actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(request, market, errors_of(exc), failed="credit-input", form=form)
        return Redirect(f"{REGULATOR}#credit", status_code=303)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        market: MarketService,
        errors: list[FieldError],
        *,
        failed: str = "",
        form: Form | None = None,
    ) -> Response[Any]:
        session = market.session
        now = await clock.now(session)
        reports = RegulatorReports(session)
        credit_lines = await reports.credit()
        complaints = list(await reports.pending_complaints())
        listings = list(await market.repo.blacklistings())
        directory = await market.directory()
        names = await market.repo.organisation_names(
            [
                *(b.organisation_id for b in listings),
                *(c.organisation_id for c in complaints),
                *(c.complainant_organisation_id for c in complaints),
            ],
        )
        choices = {str(line.organisation_id): line.name for line in credit_lines}
        choices.update({str(entry.organisation_id): entry.name for entry in directory})
        return await page(
            request,
            "intermediary_market/regulator.html",
            {
                "overdue": await reports.overdue(now),
                "credit_lines": credit_lines,
                "complaints": complaints,
                "blacklistings": listings,
                "noticed": BlacklistStatus.NOTICED,
                "effective": BlacklistStatus.EFFECTIVE,
                "choices": sorted(choices.items(), key=lambda item: item[1]),
                "names": names,
                "now": now,
                "errors": errors,
                "failed": failed,
                "form": form or {},
                **CONTEXT_LABELS,
            },
            status_code=UNPROCESSABLE if errors else 200,
        )
