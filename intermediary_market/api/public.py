"""Public reads of the marketplace API (``/api/v1/intermediary``): the service-item list and its
versions, qualifications and the directory (执业公示), announcements and their published results (the
seed is revealed only with the result), registrants once decided, credit snapshots and the red list.
The live credit score (``/organisations/{id}/credit``) is the one read here that needs a permission.

Public reads take their keys as query parameters (``?announcement_id=``), so the route walk can
call every public path as it stands.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from intermediary_market.credit_records import CreditService
from intermediary_market.credit_repository import CreditLine
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.models import AnnouncementStatus
from intermediary_market.policies import MarketPermission
from intermediary_market.schemas import (
    AnnouncementRead,
    CreditRead,
    CreditSnapshotRead,
    IntermediaryRead,
    QualificationRead,
    RegistrationRead,
    ServiceItemRead,
)
from intermediary_market.service import MarketService
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound

PREFIX = "/intermediary"


def snapshot_read(line: CreditLine) -> CreditSnapshotRead:
    return CreditSnapshotRead(
        organisation_id=line.organisation_id,
        name=line.name,
        uscc=line.uscc,
        score=line.score,
        grade=line.grade,
        components=line.components,
        computed_at=line.computed_at,
        red_listed=line.red_listed,
        blacklisted=line.blacklisted,
    )


class PublicMarketApi(Controller):
    path = PREFIX
    tags = ["intermediary_market"]
    dependencies = DEPENDENCIES

    @get("/items", operation_id="intermediary_list_items")
    async def list_items(self, market: NamedDependency[MarketService]) -> list[ServiceItemRead]:
        """The current version of every item of the service-item list (public)."""
        return [ServiceItemRead.of(item) for item in await market.items()]

    @get("/item-versions", operation_id="intermediary_item_versions")
    async def item_versions(
        self, code: FromQuery[str], market: NamedDependency[MarketService]
    ) -> list[ServiceItemRead]:
        """Every version of one item, oldest first (public)."""
        return [ServiceItemRead.of(item) for item in await market.item_versions(code)]

    @get("/qualifications", operation_id="intermediary_list_qualifications")
    async def list_qualifications(
        self, organisation_id: FromQuery[uuid.UUID], market: NamedDependency[MarketService]
    ) -> list[QualificationRead]:
        """An intermediary's qualifications and their status (执业公示, public)."""
        return [QualificationRead.of(row) for row in await market.qualifications_of(organisation_id)]

    @get("/intermediaries", operation_id="intermediary_directory")
    async def directory(
        self,
        market: NamedDependency[MarketService],
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 100,
    ) -> list[IntermediaryRead]:
        """Qualified intermediaries with their qualifications and credit grade (执业公示, public)."""
        return await market.directory(limit=limit)

    @get("/announcements", operation_id="intermediary_list_announcements")
    async def list_announcements(
        self,
        market: NamedDependency[MarketService],
        status: FromQuery[AnnouncementStatus | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 100,
    ) -> list[AnnouncementRead]:
        """Published announcements and results, newest first (public)."""
        return [AnnouncementRead.of(row) for row in (await market.announcements(status=status))[:limit]]

    @get("/results", operation_id="intermediary_get_announcement")
    async def get_announcement(
        self, announcement_id: FromQuery[uuid.UUID], market: NamedDependency[MarketService]
    ) -> AnnouncementRead:
        """One announcement; once decided, its result with the computation and the revealed seed (public)."""
        return AnnouncementRead.of(await market.announcement(announcement_id))

    @get("/registrations", operation_id="intermediary_list_registrations")
    async def list_registrations(
        self, announcement_id: FromQuery[uuid.UUID], market: NamedDependency[MarketService]
    ) -> list[RegistrationRead]:
        """Who registered, once the selection is decided (public with the result); empty before."""
        announcement = await market.announcement(announcement_id)
        if announcement.status is AnnouncementStatus.OPEN:
            return []
        return [RegistrationRead.of(row) for row in await market.registrations(announcement_id)]

    @get(
        "/organisations/{organisation_id:uuid}/credit",
        operation_id="intermediary_credit",
        opt=requires(MarketPermission.CREDIT_READ),
    )
    async def credit(self, organisation_id: FromPath[uuid.UUID], market: NamedDependency[MarketService]) -> CreditRead:
        """The credit score (regulator 70 + public credit 10 + social 20) and grade A–D."""
        score = await market.credit_of(organisation_id)
        return CreditRead(
            organisation_id=organisation_id,
            regulator=score.regulator,
            public_credit=score.public_credit,
            social=score.social,
            overdue_deduction=score.overdue_deduction,
            total=score.total,
            grade=score.grade,
        )

    @get("/credit", operation_id="intermediary_credit_snapshot")
    async def credit_snapshot(
        self, organisation_id: FromQuery[uuid.UUID], credit_service: NamedDependency[CreditService]
    ) -> CreditSnapshotRead:
        """An intermediary's credit snapshot with its computation and list membership (public)."""
        line = await credit_service.line(organisation_id)
        if line is None:
            raise NotFound("no credit snapshot for this organisation", field="organisation_id", rule="exists")
        return snapshot_read(line)

    @get("/red-list", operation_id="intermediary_red_list")
    async def red_list(self, credit_service: NamedDependency[CreditService]) -> list[CreditSnapshotRead]:
        """诚信红名单: members with their score, best first (public)."""
        return [snapshot_read(line) for line in await credit_service.red_list()]


PUBLIC_PATHS = (
    "/api/v1/intermediary/items",
    "/api/v1/intermediary/item-versions",
    "/api/v1/intermediary/qualifications",
    "/api/v1/intermediary/intermediaries",
    "/api/v1/intermediary/announcements",
    "/api/v1/intermediary/results",
    "/api/v1/intermediary/registrations",
    "/api/v1/intermediary/credit",
    "/api/v1/intermediary/red-list",
)
