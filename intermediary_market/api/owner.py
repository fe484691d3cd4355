"""The project owner's part of the marketplace API: announcements, panel scores, the draw, the
contract and completion (限时办结), the rating and complaints about the selected intermediary.
"""

from __future__ import annotations

import uuid

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from intermediary_market.api.public import PREFIX
from intermediary_market.complaints import ComplaintService
from intermediary_market.delivery import DeliveryService
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.policies import MarketPermission
from intermediary_market.schemas import (
    AnnouncementCreate,
    AnnouncementRead,
    ComplaintCreate,
    ComplaintRead,
    ContractFiling,
    DeliveryRead,
    PanelScores,
    RatingCreate,
    RegistrationRead,
)
from intermediary_market.service import MarketService
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires


class OwnerMarketApi(Controller):
    path = PREFIX
    tags = ["intermediary_market"]
    dependencies = DEPENDENCIES

    @post(
        "/announcements",
        operation_id="intermediary_publish_announcement",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE),
    )
    async def publish_announcement(
        self,
        data: JSONBody[AnnouncementCreate],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> AnnouncementRead:
        """Publish a selection announcement (project owners); the seed's SHA-256 is published with it."""
        return AnnouncementRead.of(await market.announce(data, actor=actor))

    @post(
        "/announcements/{announcement_id:uuid}/panel-scores",
        operation_id="intermediary_enter_panel_scores",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE),
    )
    async def enter_panel_scores(
        self,
        announcement_id: FromPath[uuid.UUID],
        data: JSONBody[PanelScores],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> RegistrationRead:
        """择优: the panel's scores for one registrant (the owner)."""
        return RegistrationRead.of(await market.enter_panel_scores(announcement_id, data, actor=actor))

    @post(
        "/announcements/{announcement_id:uuid}/draw",
        operation_id="intermediary_draw",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.ANNOUNCEMENT_MANAGE),
    )
    async def draw(
        self,
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> AnnouncementRead:
        """Run the selection once the list is frozen and the reveal window is over (the sweep also
        does it by itself at that time); the result or the failure is published.
        """
        return AnnouncementRead.of(await market.draw(announcement_id, actor=actor))

    @post(
        "/announcements/{announcement_id:uuid}/contract",
        operation_id="intermediary_file_contract",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.DELIVERY_MANAGE),
    )
    async def file_contract(
        self,
        announcement_id: FromPath[uuid.UUID],
        data: JSONBody[ContractFiling],
        deliveries: NamedDependency[DeliveryService],
        actor: NamedDependency[Actor],
    ) -> DeliveryRead:
        """File the contract (the owner); the committed time limit starts running."""
        return DeliveryRead.of(await deliveries.file_contract(announcement_id, data.contract_no, actor=actor))

    @post(
        "/announcements/{announcement_id:uuid}/completion",
        operation_id="intermediary_confirm_completion",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.DELIVERY_MANAGE),
    )
    async def confirm_completion(
        self,
        announcement_id: FromPath[uuid.UUID],
        deliveries: NamedDependency[DeliveryService],
        actor: NamedDependency[Actor],
    ) -> DeliveryRead:
        """Confirm completion (the owner); after the deadline it counts as overdue."""
        return DeliveryRead.of(await deliveries.confirm_completion(announcement_id, actor=actor))

    @post(
        "/announcements/{announcement_id:uuid}/rating",
        operation_id="intermediary_rate",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.RATING_CREATE),
    )
    async def rate(
        self,
        announcement_id: FromPath[uuid.UUID],
        data: JSONBody[RatingCreate],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> dict[str, str]:
        """Rate the selected intermediary (the owner, within the rating window)."""
        rating = await market.rate(announcement_id, data, actor=actor)
        return {"id": str(rating.id), "organisation_id": str(rating.organisation_id)}

    @post(
        "/announcements/{announcement_id:uuid}/complaints",
        operation_id="intermediary_file_complaint",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.COMPLAINT_FILE),
    )
    async def file_complaint(
        self,
        announcement_id: FromPath[uuid.UUID],
        data: JSONBody[ComplaintCreate],
        complaints: NamedDependency[ComplaintService],
        actor: NamedDependency[Actor],
    ) -> ComplaintRead:
        """Complain about the intermediary selected for one's announcement (the owner)."""
        return ComplaintRead.of(await complaints.file(announcement_id, data.text, actor=actor))
