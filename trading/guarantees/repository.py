"""Row access for guarantees: every query of the package lives here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees.models import (
    CashBondRefund,
    Guarantee,
    GuaranteeApplication,
    GuaranteeClaim,
    GuaranteeProduct,
    GuaranteeRelease,
    GuaranteeStatus,
    Guarantor,
    GuarantorStatus,
)
from trading.parties.models import Organisation

Row = TypeVar(
    "Row",
    Guarantor,
    GuaranteeProduct,
    GuaranteeApplication,
    Guarantee,
    GuaranteeClaim,
    GuaranteeRelease,
    CashBondRefund,
)

LIVE = (GuaranteeStatus.ISSUED, GuaranteeStatus.VERIFIED)
"""Statuses in which a guarantee still secures something (it may be claimed, released or expire)."""


class GuaranteesRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()

    async def get(self, model: type[Row], row_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        query = select(model).where(model.id == row_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        return await self.session.get(Organisation, organisation_id)

    async def organisation_by_uscc(self, uscc: str) -> Organisation | None:
        query = select(Organisation).where(Organisation.uscc == uscc)
        return (await self.session.execute(query)).scalar_one_or_none()

    # --- guarantors and products ----------------------------------------------------------------

    async def guarantor_of_organisation(self, organisation_id: uuid.UUID) -> Guarantor | None:
        query = select(Guarantor).where(Guarantor.organisation_id == organisation_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def guarantor_by_certificate(self, sha256: str) -> Guarantor | None:
        """The guarantor whose issuing or API certificate has this fingerprint."""
        query = select(Guarantor).where(
            (Guarantor.issuing_cert_sha256 == sha256) | (Guarantor.api_cert_sha256 == sha256)
        )
        return (await self.session.execute(query)).scalars().first()

    async def guarantor_by_api_key(self, sha256: str) -> Guarantor | None:
        query = select(Guarantor).where(Guarantor.api_cert_sha256 == sha256)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def guarantors(self, *, active_only: bool) -> Sequence[Guarantor]:
        """Guarantors by name (the admin's list); the bidders' list is reordered by the service."""
        query = select(Guarantor).order_by(Guarantor.display_name, Guarantor.id)
        if active_only:
            query = query.where(Guarantor.status == GuarantorStatus.ACTIVE)
        return (await self.session.execute(query)).scalars().all()

    async def products(self, guarantor_id: uuid.UUID, *, active_only: bool) -> Sequence[GuaranteeProduct]:
        query = (
            select(GuaranteeProduct)
            .where(GuaranteeProduct.guarantor_id == guarantor_id)
            .order_by(GuaranteeProduct.kind, GuaranteeProduct.name)
        )
        if active_only:
            query = query.where(GuaranteeProduct.active.is_(True))
        return (await self.session.execute(query)).scalars().all()

    # --- applications and guarantees ------------------------------------------------------------

    async def applications_of(self, applicant_organisation_id: uuid.UUID) -> Sequence[GuaranteeApplication]:
        query = (
            select(GuaranteeApplication)
            .where(GuaranteeApplication.applicant_organisation_id == applicant_organisation_id)
            .order_by(GuaranteeApplication.applied_at.desc())
        )
        return (await self.session.execute(query)).scalars().all()

    async def applications_for(
        self, guarantor_id: uuid.UUID, statuses: Sequence[str]
    ) -> Sequence[GuaranteeApplication]:
        """A guarantor's queue: its applications in ``statuses``, oldest first."""
        query = (
            select(GuaranteeApplication)
            .where(GuaranteeApplication.guarantor_id == guarantor_id, GuaranteeApplication.status.in_(statuses))
            .order_by(GuaranteeApplication.applied_at)
        )
        return (await self.session.execute(query)).scalars().all()

    async def guarantee_of_application(self, application_id: uuid.UUID) -> Guarantee | None:
        query = select(Guarantee).where(Guarantee.application_id == application_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def guarantee_by_no(self, guarantee_no: str) -> Guarantee | None:
        query = select(Guarantee).where(Guarantee.guarantee_no == guarantee_no)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def guarantee_by_code(self, code: str) -> Guarantee | None:
        query = select(Guarantee).where(Guarantee.verification_code == code)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def guarantee_of_bid(self, bid_id: uuid.UUID) -> Guarantee | None:
        query = select(Guarantee).where(Guarantee.bid_id == bid_id)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def guarantees_of_project(self, project_code: str) -> Sequence[Guarantee]:
        query = select(Guarantee).where(Guarantee.project_code == project_code).order_by(Guarantee.issued_at)
        return (await self.session.execute(query)).scalars().all()

    async def due_to_expire(self, now: datetime, limit: int) -> Sequence[uuid.UUID]:
        query = (
            select(Guarantee.id)
            .where(Guarantee.next_check <= now, Guarantee.status.in_(LIVE))
            .order_by(Guarantee.next_check)
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    # --- claims, releases, refunds --------------------------------------------------------------

    async def claims_of(self, guarantee_id: uuid.UUID) -> Sequence[GuaranteeClaim]:
        query = (
            select(GuaranteeClaim).where(GuaranteeClaim.guarantee_id == guarantee_id).order_by(GuaranteeClaim.filed_at)
        )
        return (await self.session.execute(query)).scalars().all()

    async def release_of(self, guarantee_id: uuid.UUID, *, lock: bool = False) -> GuaranteeRelease | None:
        query = select(GuaranteeRelease).where(GuaranteeRelease.guarantee_id == guarantee_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def releases_to_push(self, now: datetime, limit: int) -> Sequence[uuid.UUID]:
        """Unacknowledged releases whose next push is due (the worker's queue)."""
        query = (
            select(GuaranteeRelease.id)
            .where(GuaranteeRelease.acknowledged_at.is_(None), GuaranteeRelease.next_attempt_at <= now)
            .order_by(GuaranteeRelease.next_attempt_at)
            .limit(limit)
        )
        return (await self.session.execute(query)).scalars().all()

    async def unacknowledged_releases(self, requested_before: datetime) -> Sequence[GuaranteeRelease]:
        query = (
            select(GuaranteeRelease)
            .where(GuaranteeRelease.acknowledged_at.is_(None), GuaranteeRelease.requested_at < requested_before)
            .order_by(GuaranteeRelease.requested_at)
        )
        return (await self.session.execute(query)).scalars().all()

    async def refund_of(
        self, project_code: str, lot_code: str, bidder_organisation_id: uuid.UUID
    ) -> CashBondRefund | None:
        query = select(CashBondRefund).where(
            CashBondRefund.project_code == project_code,
            CashBondRefund.lot_code == lot_code,
            CashBondRefund.bidder_organisation_id == bidder_organisation_id,
        )
        return (await self.session.execute(query)).scalar_one_or_none()

    async def refunds_outstanding(self) -> Sequence[CashBondRefund]:
        query = select(CashBondRefund).where(CashBondRefund.refunded_at.is_(None)).order_by(CashBondRefund.due_date)
        return (await self.session.execute(query)).scalars().all()
