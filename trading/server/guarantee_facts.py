"""The tender facts the guarantees pages need, read from ``bidding`` (``trading.guarantees.tender_facts``).

``trading.server`` sits above both packages, so it is the one place allowed to join them; the
rules stay bidding's: ``required_security`` decides what security a lot requires, and the bid
deadline is "passed" by the database clock, as bidding's own listings decide it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.securities import trigger_happened
from bidding.models import Bid, Tender, TenderStatus
from bidding.tenders.security import required_security
from trading.guarantees import tender_facts
from trading.guarantees.models import ClaimTrigger
from trading.guarantees.rules import CHINA
from trading.kernel import clock


class BiddingTenderFacts:
    async def owners(self, session: AsyncSession, project_code: str) -> tender_facts.TenderOwners | None:
        tender = (
            await session.execute(
                sa.select(Tender).where(Tender.project_code == project_code, Tender.status != TenderStatus.DRAFT)
            )
        ).scalar_one_or_none()
        if tender is None:
            return None
        passed = tender.deadline is not None and tender.deadline <= await clock.now(session)
        return tender_facts.TenderOwners(
            project_code=tender.project_code,
            tenderee_organisation_id=tender.tenderee_organisation_id,
            agency_organisation_id=tender.agency_organisation_id,
            deadline_passed=passed,
        )

    async def security(
        self, session: AsyncSession, project_code: str, lot_code: str
    ) -> tender_facts.SecurityFacts | None:
        terms = await required_security(session, project_code, lot_code)
        if terms is None:
            return None
        # The validity period's last day is inclusive: a period ending at 24:00 ends on the day before.
        until = (terms.valid_until - timedelta(microseconds=1)).astimezone(CHINA).date()
        return tender_facts.SecurityFacts(
            project_code=terms.project_code,
            lot_code=terms.lot_code,
            lot_name=terms.lot_name,
            amount=terms.amount,
            currency=terms.currency,
            valid_from=terms.valid_from.astimezone(CHINA).date(),
            valid_until=max(until, terms.valid_from.astimezone(CHINA).date()),
            beneficiary_name=terms.beneficiary_name,
            beneficiary_uscc=terms.beneficiary_uscc,
        )

    async def trigger_recorded(
        self, session: AsyncSession, project_code: str, bid_id: uuid.UUID, trigger: ClaimTrigger
    ) -> bool:
        tender = (
            await session.execute(sa.select(Tender).where(Tender.project_code == project_code))
        ).scalar_one_or_none()
        bid = await session.get(Bid, bid_id)
        if tender is None or bid is None or bid.tender_id != tender.id:
            return False
        return await trigger_happened(session, bid, tender, trigger)


def register() -> None:
    tender_facts.use_tender_facts(BiddingTenderFacts())
