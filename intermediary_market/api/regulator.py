"""The regulator's part of the marketplace API: the blacklisting procedure, complaint decisions,
the yearly credit inputs and recomputation, and the reports (overdue deliveries, credit,
complaints awaiting a decision).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from intermediary_market.api.public import PREFIX, snapshot_read
from intermediary_market.blacklist import BlacklistService
from intermediary_market.complaints import ComplaintService
from intermediary_market.credit_records import CreditService
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.policies import MarketPermission
from intermediary_market.reports import RegulatorReports
from intermediary_market.schemas import (
    AppealDecision,
    BlacklistDecision,
    BlacklistingRead,
    BlacklistNotice,
    ComplaintDecision,
    ComplaintRead,
    CreditInputRead,
    CreditInputRecord,
    CreditSnapshotRead,
    OverdueLine,
    RecomputeRead,
)
from trading.kernel.api.bounds import Offset
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.clock import now as db_now


class RegulatorMarketApi(Controller):
    path = PREFIX
    tags = ["intermediary_market"]
    dependencies = DEPENDENCIES

    @post(
        "/blacklistings",
        operation_id="intermediary_notice_blacklisting",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.BLACKLIST_MANAGE),
    )
    async def notice_blacklisting(
        self,
        data: JSONBody[BlacklistNotice],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
    ) -> BlacklistingRead:
        """Give notice of an intended listing; the response period starts (regulators)."""
        return BlacklistingRead.of(await blacklist.notice_blacklisting(data, actor=actor))

    @post(
        "/blacklistings/{blacklisting_id:uuid}/decision",
        operation_id="intermediary_decide_blacklisting",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.BLACKLIST_MANAGE),
    )
    async def decide_blacklisting(
        self,
        blacklisting_id: FromPath[uuid.UUID],
        data: JSONBody[BlacklistDecision],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
    ) -> BlacklistingRead:
        """Decide after the response period (regulators): uphold (effective for N months) or withdraw."""
        return BlacklistingRead.of(await blacklist.decide_blacklisting(blacklisting_id, data, actor=actor))

    @post(
        "/blacklistings/{blacklisting_id:uuid}/appeal-decision",
        operation_id="intermediary_decide_appeal",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.BLACKLIST_MANAGE),
    )
    async def decide_appeal(
        self,
        blacklisting_id: FromPath[uuid.UUID],
        data: JSONBody[AppealDecision],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
    ) -> BlacklistingRead:
        """Decide a pending appeal (regulators): overturn withdraws the listing at once."""
        return BlacklistingRead.of(await blacklist.decide_appeal(blacklisting_id, overturn=data.overturn, actor=actor))

    @post(
        "/complaints/{complaint_id:uuid}/decision",
        operation_id="intermediary_decide_complaint",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.COMPLAINT_DECIDE),
    )
    async def decide_complaint(
        self,
        complaint_id: FromPath[uuid.UUID],
        data: JSONBody[ComplaintDecision],
        complaints: NamedDependency[ComplaintService],
        actor: NamedDependency[Actor],
    ) -> ComplaintRead:
        """Uphold or dismiss with a reason (regulators); an upheld complaint counts for credit."""
        return ComplaintRead.of(await complaints.decide(complaint_id, data, actor=actor))

    @post(
        "/credit-inputs",
        operation_id="intermediary_record_credit_input",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.CREDIT_MANAGE),
    )
    async def record_credit_input(
        self,
        data: JSONBody[CreditInputRecord],
        credit_service: NamedDependency[CreditService],
        actor: NamedDependency[Actor],
    ) -> CreditInputRead:
        """Record one year's regulator evaluation (0–70) and public-credit result (0–10) (regulators)."""
        return CreditInputRead.of(await credit_service.record_input(data, actor=actor))

    @post(
        "/credit/recompute",
        operation_id="intermediary_recompute_credit",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.CREDIT_MANAGE),
    )
    async def recompute_credit(self, credit_service: NamedDependency[CreditService]) -> RecomputeRead:
        """Recompute every snapshot now (regulators; the daily job does the same)."""
        return RecomputeRead(recomputed=await credit_service.recompute_all(await db_now(credit_service.session)))

    @get(
        "/reports/overdue",
        operation_id="intermediary_report_overdue",
        opt=requires(MarketPermission.REPORT_READ),
    )
    async def report_overdue(self, reports: NamedDependency[RegulatorReports]) -> list[OverdueLine]:
        """Uncompleted deliveries past their deadline or within the warning period (regulators)."""
        return await reports.overdue()

    @get(
        "/reports/credit",
        operation_id="intermediary_report_credit",
        opt=requires(MarketPermission.REPORT_READ),
    )
    async def report_credit(
        self,
        reports: NamedDependency[RegulatorReports],
        sort: FromQuery[str] = "grade",
        limit: Annotated[int, QueryParameter(ge=1, le=5000)] = 1000,
        offset: Offset = 0,
    ) -> list[CreditSnapshotRead]:
        """Every intermediary's snapshot with red/black list membership, by ``grade``, ``score`` or ``name``."""
        return [snapshot_read(line) for line in await reports.credit(order=sort, limit=limit, offset=offset)]

    @get(
        "/reports/complaints",
        operation_id="intermediary_report_complaints",
        opt=requires(MarketPermission.REPORT_READ),
    )
    async def report_complaints(self, reports: NamedDependency[RegulatorReports]) -> list[ComplaintRead]:
        """Complaints awaiting a decision, oldest first (regulators)."""
        return [ComplaintRead.of(row) for row in await reports.pending_complaints()]
