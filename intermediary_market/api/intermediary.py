"""The intermediary's part of the marketplace API: registration and the revealed contribution,
deliverables, answers to blacklisting notices (response, appeal) and to complaints.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from intermediary_market.api.public import PREFIX
from intermediary_market.blacklist import BlacklistService
from intermediary_market.complaints import ComplaintService
from intermediary_market.delivery import DeliveryService
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.policies import MarketPermission
from intermediary_market.schemas import (
    BlacklistAppeal,
    BlacklistingRead,
    BlacklistResponse,
    ComplaintRead,
    ComplaintResponse,
    ContributionReveal,
    DeliverableUpload,
    DeliveryRead,
    RegistrationCreate,
    RegistrationRead,
)
from intermediary_market.service import MarketService
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires


class IntermediaryMarketApi(Controller):
    path = PREFIX
    tags = ["intermediary_market"]
    dependencies = DEPENDENCIES

    @post(
        "/announcements/{announcement_id:uuid}/registrations",
        operation_id="intermediary_register",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.REGISTRATION_CREATE),
    )
    async def register(
        self,
        announcement_id: FromPath[uuid.UUID],
        data: JSONBody[RegistrationCreate],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> RegistrationRead:
        """Register the caller's organisation (intermediaries); refusals name the rule. An optional
        ``contribution_sha256`` commits to the registrant's share of the draw's randomness.
        """
        price: Decimal | None = data.price
        return RegistrationRead.of(
            await market.register(
                announcement_id, price=price, actor=actor, contribution_sha256=data.contribution_sha256
            )
        )

    @post(
        "/announcements/{announcement_id:uuid}/contribution",
        operation_id="intermediary_reveal_contribution",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.REGISTRATION_CREATE),
    )
    async def reveal_contribution(
        self,
        announcement_id: FromPath[uuid.UUID],
        data: JSONBody[ContributionReveal],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> RegistrationRead:
        """Reveal the committed contribution after the close, within the reveal window (registrants)."""
        return RegistrationRead.of(await market.reveal(announcement_id, data.contribution, actor=actor))

    @post(
        "/announcements/{announcement_id:uuid}/deliverables",
        operation_id="intermediary_upload_deliverable",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.DELIVERY_UPLOAD),
    )
    async def upload_deliverable(
        self,
        announcement_id: FromPath[uuid.UUID],
        data: JSONBody[DeliverableUpload],
        deliveries: NamedDependency[DeliveryService],
        actor: NamedDependency[Actor],
    ) -> DeliveryRead:
        """Record the deliverable's SHA-256 (the selected intermediary)."""
        return DeliveryRead.of(await deliveries.upload_deliverable(announcement_id, data.sha256, actor=actor))

    @post(
        "/blacklistings/{blacklisting_id:uuid}/response",
        operation_id="intermediary_respond_blacklisting",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.BLACKLIST_RESPOND),
    )
    async def respond_blacklisting(
        self,
        blacklisting_id: FromPath[uuid.UUID],
        data: JSONBody[BlacklistResponse],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
    ) -> BlacklistingRead:
        """The intermediary's response within the response period."""
        return BlacklistingRead.of(await blacklist.respond_blacklisting(blacklisting_id, data.response, actor=actor))

    @post(
        "/blacklistings/{blacklisting_id:uuid}/appeal",
        operation_id="intermediary_appeal_blacklisting",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.BLACKLIST_RESPOND),
    )
    async def appeal_blacklisting(
        self,
        blacklisting_id: FromPath[uuid.UUID],
        data: JSONBody[BlacklistAppeal],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
    ) -> BlacklistingRead:
        """Appeal an effective listing within the appeal window (the intermediary)."""
        return BlacklistingRead.of(await blacklist.appeal_blacklisting(blacklisting_id, data.appeal, actor=actor))

    @post(
        "/complaints/{complaint_id:uuid}/response",
        operation_id="intermediary_answer_complaint",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.COMPLAINT_RESPOND),
    )
    async def answer_complaint(
        self,
        complaint_id: FromPath[uuid.UUID],
        data: JSONBody[ComplaintResponse],
        complaints: NamedDependency[ComplaintService],
        actor: NamedDependency[Actor],
    ) -> ComplaintRead:
        """The intermediary's answer, before the decision."""
        return ComplaintRead.of(await complaints.respond(complaint_id, data.response, actor=actor))
