"""The supervisor's guarantee watch (``/guarantees/supervision``, 行政监督, read-only): releases the
guarantor has not acknowledged within a day (``lifecycle.overdue_releases``) and cash bid bonds not
yet refunded (``lifecycle.refunds_outstanding``) with the late interest accrued to today — 87号令
Art. 38: the PBOC rate raised by 20 %, day rate = annual / 360 (``lifecycle.late_interest``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees import lifecycle
from trading.guarantees.models import CashBondRefund, Guarantee, GuaranteeRelease, ReleaseReason
from trading.guarantees.policies import GuaranteesPermission
from trading.guarantees.repository import GuaranteesRepository
from trading.guarantees.rules import CHINA
from trading.kernel import clock
from trading.kernel.auth.permissions import requires
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

SUPERVISION = "guarantees.supervision"
RELEASE_REASONS = {
    ReleaseReason.CONTRACT_SIGNED: N_("Contract signed"),
    ReleaseReason.NOT_AWARDED: N_("Not awarded"),
    ReleaseReason.EXPIRED: N_("Validity ended"),
    ReleaseReason.TENDER_ENDED: N_("Tender terminated or failed"),
}


@dataclass(frozen=True)
class OverdueRelease:
    release: GuaranteeRelease
    guarantee: Guarantee


@dataclass(frozen=True)
class LateRefund:
    refund: CashBondRefund
    bidder: str
    late_days: int
    interest: Decimal


class GuaranteeSupervisionPages(Controller):
    path = "/guarantees/supervision"
    include_in_schema = False

    @get("/", name=SUPERVISION, opt=requires(GuaranteesPermission.SUPERVISE))
    async def overview(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        repo = GuaranteesRepository(db_session)
        releases = []
        for release in await lifecycle.overdue_releases(db_session):
            guarantee = await repo.get(Guarantee, release.guarantee_id)
            if guarantee is not None:
                releases.append(OverdueRelease(release, guarantee))
        today: date = (await clock.now(db_session)).astimezone(CHINA).date()
        refunds = []
        for refund in await lifecycle.refunds_outstanding(db_session):
            bidder = await repo.organisation(refund.bidder_organisation_id)
            late = max(0, (today - refund.due_date).days)
            interest = lifecycle.late_interest(refund.amount, late, lifecycle.PBOC_ANNUAL_RATE_PERCENT)
            refunds.append(LateRefund(refund, bidder.name if bidder else "—", late, interest))
        context = {
            "releases": releases,
            "refunds": refunds,
            "today": today,
            "rate": lifecycle.PBOC_ANNUAL_RATE_PERCENT,
            "reasons": RELEASE_REASONS,
        }
        return await page(request, "guarantees/supervision.html", context)


CONTROLLERS = (GuaranteeSupervisionPages,)
