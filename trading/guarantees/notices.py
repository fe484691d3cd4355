"""Notices to every side of a guarantee (issue 17 point 5): the bidder (applicant), the tenderee
(beneficiary) and the guarantor, on a claim filed, a release requested and an expiry.

Through `trading.notifications.service.publish` (below this package), in the caller's transaction;
the event key makes a repeated flow publish nothing twice.
"""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees.models import Guarantee, Guarantor
from trading.guarantees.repository import GuaranteesRepository
from trading.notifications.service import Recipient, publish

TEMPLATES: Final = ("guarantees.claim_filed", "guarantees.release_requested", "guarantees.expired")


async def notify_guarantee(session: AsyncSession, guarantee: Guarantee, template: str, **extra: str) -> None:
    """Tell the applicant, the beneficiary and the guarantor what happened to ``guarantee``."""
    repo = GuaranteesRepository(session)
    recipients: list[uuid.UUID] = [guarantee.applicant_organisation_id]
    beneficiary = await repo.organisation_by_uscc(guarantee.beneficiary_uscc)
    if beneficiary is not None:
        recipients.append(beneficiary.id)
    guarantor = await repo.get(Guarantor, guarantee.guarantor_id)
    if guarantor is not None:
        recipients.append(guarantor.organisation_id)
    params = {
        "guarantee_no": guarantee.guarantee_no,
        "project_code": guarantee.project_code,
        "lot_code": guarantee.lot_code,
        "amount": str(guarantee.amount),
        "reason": extra.get("reason", ""),
    }
    for organisation_id in dict.fromkeys(recipients):
        await publish(
            session,
            recipient=Recipient.organisation(organisation_id),
            template=template,
            key=f"{template}:{guarantee.id}",
            params=params,
            project_code=guarantee.project_code,
        )
