"""The trading centre's part of the marketplace API: the service-item list and the reviewed
qualifications (record, renew, revoke).
"""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from intermediary_market.api.public import PREFIX
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.policies import MarketPermission
from intermediary_market.schemas import (
    QualificationRead,
    QualificationRecord,
    QualificationRevocation,
    ServiceItemCreate,
    ServiceItemRead,
)
from intermediary_market.service import MarketService
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires


class CentreMarketApi(Controller):
    path = PREFIX
    tags = ["intermediary_market"]
    dependencies = DEPENDENCIES

    @post(
        "/items",
        operation_id="intermediary_publish_item",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.ITEM_MANAGE),
    )
    async def publish_item(
        self, data: JSONBody[ServiceItemCreate], market: NamedDependency[MarketService], actor: NamedDependency[Actor]
    ) -> ServiceItemRead:
        """Publish an item, or a new version of one (centre administrators)."""
        return ServiceItemRead.of(await market.publish_item(data, actor=actor))

    @post(
        "/qualifications",
        operation_id="intermediary_record_qualification",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.QUALIFICATION_MANAGE),
    )
    async def record_qualification(
        self,
        data: JSONBody[QualificationRecord],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> QualificationRead:
        """Record or renew a reviewed qualification; a renewal reinstates a suspended one."""
        return QualificationRead.of(await market.record_qualification(data, actor=actor))

    @post(
        "/qualifications/revocations",
        operation_id="intermediary_revoke_qualification",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.QUALIFICATION_MANAGE),
    )
    async def revoke_qualification(
        self,
        data: JSONBody[QualificationRevocation],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> QualificationRead:
        """Revoke a qualification with its reason: no registration for the item from now on."""
        return QualificationRead.of(
            await market.revoke_qualification(data.organisation_id, data.item_code, data.reason, actor=actor)
        )
