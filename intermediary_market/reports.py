"""The regulator's reports (Role.SUPERVISOR): overdue and nearly-due deliveries, the credit report
with list membership, and complaints awaiting a decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.complaints import ComplaintService
from intermediary_market.credit_records import CreditService
from intermediary_market.credit_repository import CreditLine, CreditRepository
from intermediary_market.delivery import WARNING_BEFORE
from intermediary_market.models import Complaint
from intermediary_market.schemas import OverdueLine
from trading.kernel import clock


class RegulatorReports:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def overdue(self, now: datetime | None = None) -> list[OverdueLine]:
        """Uncompleted deliveries past their deadline or within ``WARNING_BEFORE`` of it."""
        now = now or await clock.now(self.session)
        lines = []
        for delivery, project, owner_id, owner, intermediary in await CreditRepository(self.session).overdue_and_warned(
            now, WARNING_BEFORE
        ):
            late = delivery.overdue or now >= delivery.due_at
            lines.append(
                OverdueLine(
                    delivery_id=delivery.id,
                    announcement_id=delivery.announcement_id,
                    project_name=project,
                    owner_organisation_id=owner_id,
                    owner_name=owner,
                    organisation_id=delivery.organisation_id,
                    intermediary_name=intermediary,
                    contract_no=delivery.contract_no,
                    due_at=delivery.due_at,
                    state="overdue" if late else "warning",
                    days_overdue=max(0, (now - delivery.due_at).days) if late else 0,
                )
            )
        return lines

    async def credit(self, *, order: str = "grade", limit: int | None = None, offset: int = 0) -> list[CreditLine]:
        return await CreditService(self.session).report(order=order, limit=limit, offset=offset)

    async def pending_complaints(self) -> Sequence[Complaint]:
        return await ComplaintService(self.session).pending()
