"""Intermediaries' qualifications: record, renew, revoke, the public directory, and the sweep's
expiry step (notice 30 days before, suspension at expiry).

Time comes from ``trading.kernel.clock.now(session)`` (the database clock). Refusals are
``ValidationFailed`` subclasses naming the field and the rule; services only flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.audit import record
from intermediary_market.credit_records import CreditService
from intermediary_market.items import ItemService
from intermediary_market.models import Qualification, QualificationStatus
from intermediary_market.repository import MarketRepository
from intermediary_market.schemas import IntermediaryRead, QualificationRead, QualificationRecord
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import Conflict, NotFound, ValidationFailed

EXPIRY_NOTICE = timedelta(days=30)
"""An intermediary is told this long before a qualification expires."""


class QualificationService(ItemService):
    """Reviewed qualifications and the directory of qualified intermediaries."""

    async def record_qualification(self, data: QualificationRecord, *, actor: Actor) -> Qualification:
        """Record a reviewed qualification, or renew one: a valid renewal reinstates a suspended one."""
        await self._item(data.item_code)
        if data.level < 1:
            raise ValidationFailed("levels count from 1 (the highest)", field="level", rule="min")
        now = await clock.now(self.session)
        if data.valid_until <= now:
            raise ValidationFailed("the qualification has already expired", field="valid_until", rule="in_future")
        if not await self.repo.organisation_exists(data.organisation_id):
            raise NotFound("no such organisation", field="organisation_id", rule="exists")
        row = await self.repo.qualification(data.organisation_id, data.item_code, lock=True)
        action = "qualification_renewed" if row is not None else "qualification_recorded"
        if row is None:
            row = Qualification(organisation_id=data.organisation_id, item_code=data.item_code)
            self.session.add(row)
        elif row.status is QualificationStatus.SUSPENDED:
            action = "qualification_reinstated"
        row.level = data.level
        row.certificate_no = data.certificate_no
        row.valid_until = data.valid_until
        if row.status is QualificationStatus.REVOKED:
            action = "qualification_recorded"
        row.status = QualificationStatus.ACTIVE
        row.revoked_at = None
        row.expiry_noticed_at = None
        row.next_check = max(now, data.valid_until - EXPIRY_NOTICE)
        row.updated_at = now
        await self.session.flush()
        await record(
            self.session,
            actor,
            action,
            "qualification",
            row.id,
            {"organisation_id": str(row.organisation_id), "item_code": row.item_code, "level": row.level},
        )
        # Entering the market gives the intermediary its first credit snapshot (directory, lists).
        await CreditService(self.session).recompute_one(row.organisation_id, now)
        return row

    async def revoke_qualification(
        self, organisation_id: uuid.UUID, item_code: str, reason: str, *, actor: Actor
    ) -> Qualification:
        """A regulator revokes a qualification (撤销): no registration for the item from now on, and
        no draw whose close is later. Recording a new qualification later re-admits the intermediary.
        """
        if not reason.strip():
            raise ValidationFailed("a revocation states its reason", field="reason", rule="required")
        row = await self.repo.qualification(organisation_id, item_code, lock=True)
        if row is None:
            raise NotFound("no such qualification", field="item_code", rule="exists")
        if row.status is QualificationStatus.REVOKED:
            raise Conflict("the qualification is already revoked", field="item_code", rule="already_revoked")
        now = await clock.now(self.session)
        row.status = QualificationStatus.REVOKED
        row.revoked_at = now
        row.next_check = None
        row.updated_at = now
        await self.session.flush()
        await record(
            self.session,
            actor,
            "qualification_revoked",
            "qualification",
            row.id,
            {
                "organisation_id": str(row.organisation_id),
                "item_code": row.item_code,
                "rule": "qualification_revoked",
                "reason": reason.strip(),
            },
        )
        await CreditService(self.session).recompute_one(row.organisation_id, now)
        return row

    async def qualifications_of(self, organisation_id: uuid.UUID) -> Sequence[Qualification]:
        return await self.repo.qualifications_of(organisation_id)

    async def directory(self, *, limit: int = 100) -> list[IntermediaryRead]:
        """The public directory: qualified intermediaries, their qualifications and the credit from
        the snapshot (not recomputed here); red-listed intermediaries first and marked.
        """
        now = await clock.now(self.session)
        snapshots = CreditService(self.session)
        lines = []
        for organisation_id, name, uscc, score, grade, red in await snapshots.repo.directory(
            now, snapshots.config, limit
        ):
            lines.append(
                IntermediaryRead(
                    organisation_id=organisation_id,
                    name=name,
                    uscc=uscc,
                    qualifications=[
                        QualificationRead.of(q) for q in await self.repo.qualifications_of(organisation_id)
                    ],
                    credit_score=score,
                    credit_grade=grade,
                    red_listed=red,
                )
            )
        return lines


async def suspend_qualification_if_due(session: AsyncSession, qualification_id: uuid.UUID, now: datetime) -> bool:
    repo = MarketRepository(session)
    row = await repo.qualification_by_id(qualification_id, lock=True)
    if row is None or row.next_check is None or row.next_check > now:
        return False
    if row.status is not QualificationStatus.ACTIVE:
        row.next_check = None
        await session.flush()
        return False
    if row.valid_until > now:
        # Before expiry: the notice, once; the next look is at the expiry itself.
        row.next_check = row.valid_until
        if row.expiry_noticed_at is not None:
            await session.flush()
            return False
        row.expiry_noticed_at = now
        await session.flush()
        await record(
            session,
            Actor.system(),
            "qualification_expiry_notice",
            "qualification",
            row.id,
            {"organisation_id": str(row.organisation_id), "item_code": row.item_code},
        )
        return True
    row.next_check = None
    row.status = QualificationStatus.SUSPENDED
    row.updated_at = now
    await session.flush()
    await record(
        session,
        Actor.system(),
        "qualification_suspended",
        "qualification",
        row.id,
        {"organisation_id": str(row.organisation_id), "item_code": row.item_code, "rule": "qualification_expired"},
    )
    return True
