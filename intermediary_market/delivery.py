"""Service delivery (限时办结): the owner files the contract, which starts the committed time limit
as a running clock; the sweep warns before the deadline and marks the delivery overdue at it; the
intermediary uploads its deliverables (their SHA-256) and the owner confirms completion. An overdue
delivery counts against the intermediary's credit (``credit.CreditConfig.overdue_deduction``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.credit_records import CreditService
from intermediary_market.models import AnnouncementStatus, Delivery
from intermediary_market.policies import assert_own_organisation
from intermediary_market.repository import MarketRepository
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import Conflict, NotFound, ValidationFailed
from trading.ledger.service import append_entry

FILING_WINDOW = timedelta(days=180)
"""§7.3: the platform allows 180 days from the result for the filings (the contract first)."""
WARNING_BEFORE = timedelta(days=3)
"""The warning goes out this long before the committed deadline."""
SHA256_HEX = 64


async def _record(session: AsyncSession, actor: Actor, action: str, row: Delivery, data: dict[str, Any]) -> None:
    await append_entry(
        session,
        actor=actor,
        action=f"intermediary_market.{action}",
        subject_type="delivery",
        subject_id=str(row.id),
        data={"announcement_id": str(row.announcement_id), **data},
        summary={"announcement_id": str(row.announcement_id)},
    )


class DeliveryService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = MarketRepository(session)

    async def file_contract(self, announcement_id: uuid.UUID, contract_no: str, *, actor: Actor) -> Delivery:
        """合同备案 by the owner: the committed time limit starts running."""
        announcement = await self.repo.announcement(announcement_id, lock=True)
        if announcement is None:
            raise NotFound("no such announcement", field="announcement_id", rule="exists")
        assert_own_organisation(actor, announcement.owner_organisation_id, "file the contract")
        if announcement.status is not AnnouncementStatus.SELECTED or announcement.winner_organisation_id is None:
            raise Conflict("only a decided selection has a contract", field="announcement_id", rule="not_selected")
        if not contract_no.strip():
            raise ValidationFailed("the contract number is required", field="contract_no", rule="required")
        if await self.repo.delivery(announcement.id) is not None:
            raise Conflict("the contract has already been filed", field="announcement_id", rule="duplicate_filing")
        now = await clock.now(self.session)
        if announcement.decided_at is not None and now > announcement.decided_at + FILING_WINDOW:
            raise Conflict(
                f"contracts are filed within {FILING_WINDOW.days} days of the result",
                field="announcement_id",
                rule="filing_window",
            )
        due = now + timedelta(days=announcement.time_limit_days)
        row = Delivery(
            announcement_id=announcement.id,
            organisation_id=announcement.winner_organisation_id,
            contract_no=contract_no.strip(),
            filed_at=now,
            due_at=due,
            overdue=False,
            next_check=max(now, due - WARNING_BEFORE),
        )
        await self.repo.add(row)
        await _record(
            self.session, actor, "contract_filed", row, {"contract_no": row.contract_no, "due_at": due.isoformat()}
        )
        return row

    async def _delivery(self, announcement_id: uuid.UUID) -> Delivery:
        row = await self.repo.delivery(announcement_id, lock=True)
        if row is None:
            raise NotFound("no contract has been filed", field="announcement_id", rule="contract_filed")
        return row

    async def upload_deliverable(self, announcement_id: uuid.UUID, sha256: str, *, actor: Actor) -> Delivery:
        row = await self._delivery(announcement_id)
        assert_own_organisation(actor, row.organisation_id, "upload the deliverables")
        digest = sha256.strip().lower()
        if len(digest) != SHA256_HEX or any(c not in "0123456789abcdef" for c in digest):
            raise ValidationFailed("the deliverable is named by its SHA-256 (hex)", field="sha256", rule="sha256")
        if row.completed_at is not None:
            raise Conflict("the service has been completed", field="announcement_id", rule="completed")
        row.deliverable_sha256 = digest
        await self.session.flush()
        await _record(self.session, actor, "deliverable_uploaded", row, {"sha256": digest})
        return row

    async def confirm_completion(self, announcement_id: uuid.UUID, *, actor: Actor) -> Delivery:
        """The owner confirms; a completion after the deadline counts as overdue."""
        row = await self._delivery(announcement_id)
        announcement = await self.repo.announcement(announcement_id)
        assert announcement is not None  # noqa: S101 - the delivery references it
        assert_own_organisation(actor, announcement.owner_organisation_id, "confirm completion")
        if row.completed_at is not None:
            raise Conflict("the service has been completed", field="announcement_id", rule="completed")
        if row.deliverable_sha256 is None:
            raise Conflict("no deliverable has been uploaded", field="announcement_id", rule="deliverable_missing")
        now = await clock.now(self.session)
        was_overdue = row.overdue
        row.completed_at = now
        row.overdue = row.overdue or now > row.due_at
        row.next_check = None
        await self.session.flush()
        await _record(self.session, actor, "completion_confirmed", row, {"overdue": row.overdue})
        if row.overdue and not was_overdue:
            await CreditService(self.session).recompute_one(row.organisation_id, now)
        return row


async def advance_delivery_clock_if_due(session: AsyncSession, delivery_id: uuid.UUID, now: datetime) -> bool:
    """The sweep's step: the warning before the deadline, then the overdue mark at it."""
    row = await MarketRepository(session).delivery_by_id(delivery_id, lock=True)
    if row is None or row.next_check is None or row.next_check > now:
        return False
    if row.completed_at is not None:
        row.next_check = None
        await session.flush()
        return False
    if now >= row.due_at:
        row.overdue = True
        row.next_check = None
        action = "delivery_overdue"
    else:
        row.warned_at = now
        row.next_check = row.due_at
        action = "delivery_warning"
    await session.flush()
    await _record(session, Actor.system(), action, row, {"due_at": row.due_at.isoformat()})
    if row.overdue:
        await CreditService(session).recompute_one(row.organisation_id, now)
    return True
