"""Helpers for credit tests: an organisation, and a record published for it."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tests.trading.parties.factories import new_uscc
from trading.credit.models import Activity, CreditKind, CreditRecord, CreditStatus
from trading.credit.service import CreditService, Publication
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.parties.models import Organisation, OrganisationKind
from trading.parties.schemas import OrganisationCreate
from trading.parties.service import PartiesService


async def organisation(session: AsyncSession, settings: Settings) -> Organisation:
    return await PartiesService(session, settings).create_organisation(
        OrganisationCreate(uscc=new_uscc(), name=f"测试企业 {uuid.uuid4().hex[:6]}", kind=OrganisationKind.ENTERPRISE),
        actor=Actor.system(),
    )


async def record(
    session: AsyncSession,
    organisation_id: uuid.UUID,
    start: datetime,
    *,
    kind: CreditKind = CreditKind.BLACKLIST,
    scope: tuple[Activity, ...] = (Activity.BIDDING,),
    days: int | None = 365,
    status: CreditStatus = CreditStatus.EFFECTIVE,
    ref: str | None = None,
    reason: str = "提供虚假材料骗取中标",
) -> CreditRecord:
    return await CreditService(session).publish(
        Publication(
            source="test",
            source_ref=ref or f"test:{uuid.uuid4()}",
            organisation_id=organisation_id,
            kind=kind,
            scope=scope,
            valid_from=start,
            valid_until=start + timedelta(days=days) if days is not None else None,
            issuing_body="南京市住房和城乡建设局",
            decision_no="宁建罚〔2026〕17号",
            reason=reason,
            legal_basis="《中华人民共和国招标投标法》第五十四条",
            status=status,
        ),
        actor=Actor.system(),
    )
