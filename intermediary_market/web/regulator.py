"""The regulator's view (``/market/regulator``, Role.SUPERVISOR): overdue and soon-due deliveries,
the credit report (scores, grades, components, red and black list), complaints to decide, the
blacklisting procedure (notice, decision after the response period, appeals) and the yearly
credit inputs (regulator's evaluation 0–70, public-credit result 0–10).

The data come from the services: ``reports.RegulatorReports``, ``credit_records.CreditService``,
``complaints.ComplaintService`` and ``blacklist.BlacklistService``.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.blacklist import BlacklistService
from intermediary_market.complaints import ComplaintService
from intermediary_market.credit_records import CreditService
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.models import BlacklistStatus
from intermediary_market.policies import MarketPermission
from intermediary_market.reports import RegulatorReports
from intermediary_market.schemas import BlacklistDecision, BlacklistNotice, ComplaintDecision, CreditInputRecord
from intermediary_market.service import MarketService
from intermediary_market.web.labels import CONTEXT_LABELS, LABELS
from intermediary_market.web.parsing import MarketFields, known, path
from intermediary_market.web.paths import REGULATOR
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.web.forms import FieldError, FormBody, submit
from trading.kernel.web.pages import page

REGULATE = MarketPermission.BLACKLIST_MANAGE
"""The blacklisting procedure."""
OVERVIEW = "intermediary_market.regulator"


@dataclass
class NoticeForm:
    organisation_id: str = ""
    reason: str = ""
    response_days: str = ""


@dataclass
class DecisionForm:
    uphold: str = ""
    months: str = ""


@dataclass
class AppealDecisionForm:
    overturn: str = ""


@dataclass
class ComplaintDecisionForm:
    uphold: str = ""
    reason: str = ""


@dataclass
class CreditInputForm:
    organisation_id: str = ""
    year: str = ""
    regulator_score: str = ""
    regulator_source: str = ""
    public_credit_score: str = ""
    public_credit_source: str = ""


def notice_from(form: NoticeForm) -> BlacklistNotice:
    fields = MarketFields()
    organisation_id = fields.uuid("organisation_id", form.organisation_id)
    reason = fields.required("reason", form.reason, single_line=False)
    response_days = fields.whole("response_days", form.response_days)
    fields.done()
    return BlacklistNotice(organisation_id=known(organisation_id), reason=reason, response_days=known(response_days))


def decision_from(form: DecisionForm) -> BlacklistDecision:
    fields = MarketFields()
    uphold = fields.verdict("uphold", form.uphold)
    months = fields.whole("months", form.months)
    fields.done()
    return BlacklistDecision(uphold=uphold, months=known(months))


def credit_input_from(form: CreditInputForm) -> CreditInputRecord:
    fields = MarketFields()
    organisation_id = fields.uuid("organisation_id", form.organisation_id)
    year = fields.whole("year", form.year)
    regulator_score = fields.money("regulator_score", form.regulator_score, required=False)
    public_credit_score = fields.money("public_credit_score", form.public_credit_score, required=False)
    fields.done()
    return CreditInputRecord(
        organisation_id=known(organisation_id),
        year=known(year),
        regulator_score=regulator_score,
        regulator_source=form.regulator_source.strip() or None,
        public_credit_score=public_credit_score,
        public_credit_source=form.public_credit_source.strip() or None,
    )


class RegulatorPages(Controller):
    """The regulator's view of the marketplace."""

    path = REGULATOR
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", name=OVERVIEW, opt=requires(MarketPermission.REPORT_READ))
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
        data: FormBody[NoticeForm],
    ) -> Response[Any]:
        """Give notice of an intended blacklisting; the response period starts."""

        async def work() -> object:
            return await blacklist.notice_blacklisting(notice_from(data), actor=actor)

        return await self._submit(request, db_session, market, work, "notice", vars(data), "#blacklistings")

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
        data: FormBody[DecisionForm],
    ) -> Response[Any]:
        """List the intermediary (for ``months``) or withdraw the notice."""

        async def work() -> object:
            return await blacklist.decide_blacklisting(blacklisting_id, decision_from(data), actor=actor)

        return await self._submit(
            request, db_session, market, work, f"decision-{blacklisting_id}", vars(data), "#blacklistings"
        )

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
        data: FormBody[AppealDecisionForm],
    ) -> Response[Any]:
        async def work() -> object:
            fields = MarketFields()
            overturn = fields.verdict("overturn", data.overturn)
            fields.done()
            return await blacklist.decide_appeal(blacklisting_id, overturn=overturn, actor=actor)

        return await self._submit(
            request, db_session, market, work, f"appeal-{blacklisting_id}", vars(data), "#blacklistings"
        )

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
        data: FormBody[ComplaintDecisionForm],
    ) -> Response[Any]:
        """Uphold or dismiss a complaint with a reason (the intermediary's credit follows)."""

        async def work() -> object:
            fields = MarketFields()
            uphold = fields.verdict("uphold", data.uphold)
            fields.done()
            decision = ComplaintDecision(uphold=uphold, reason=data.reason)
            return await ComplaintService(db_session).decide(complaint_id, decision, actor=actor)

        return await self._submit(
            request, db_session, market, work, f"complaint-{complaint_id}", vars(data), "#complaints"
        )

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
        data: FormBody[CreditInputForm],
    ) -> Response[Any]:
        """Record one year's regulator evaluation (0–70) and public-credit result (0–10)."""

        async def work() -> object:
            return await CreditService(db_session).record_input(credit_input_from(data), actor=actor)

        return await self._submit(request, db_session, market, work, "credit-input", vars(data), "#credit")

    # --- submitting and rendering ----------------------------------------------------------------

    async def _submit(  # noqa: PLR0917 - the view's one form path
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        market: MarketService,
        work: Callable[[], Awaitable[object]],
        failed: str,
        form: dict[str, str],
        then: str,
    ) -> Response[Any]:
        """A form of the view: back to it (303, at the fragment ``then``), or the view with the
        refusal next to the form named ``failed`` (422).
        """
        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=path(request, OVERVIEW) + then,
            refusal=lambda errors: self._page(request, market, errors, failed=failed, form=form),
        )

    async def _page(
        self,
        request: Request[Any, Any, Any],
        market: MarketService,
        errors: list[FieldError],
        *,
        failed: str = "",
        form: dict[str, str] | None = None,
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
        )
