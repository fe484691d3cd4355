"""The marketplace JSON API under ``/api/v1/intermediary``.

Public: the service-item list and its versions, an intermediary's qualifications (执业公示), the
announcements and their published results (the seed is revealed only with the result), the red list
and an intermediary's credit snapshot. Everything else needs a permission; errors are problem+json
naming the field and the rule.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.blacklist import BlacklistService
from intermediary_market.complaints import ComplaintService
from intermediary_market.credit_records import CreditService
from intermediary_market.delivery import DeliveryService
from intermediary_market.models import AnnouncementStatus
from intermediary_market.policies import MarketPermission
from intermediary_market.reports import RegulatorReports
from intermediary_market.repository import CreditLine
from intermediary_market.schemas import (
    AnnouncementCreate,
    AnnouncementRead,
    AppealDecision,
    BlacklistAppeal,
    BlacklistDecision,
    BlacklistingRead,
    BlacklistNotice,
    BlacklistResponse,
    ComplaintCreate,
    ComplaintDecision,
    ComplaintRead,
    ComplaintResponse,
    ContractFiling,
    ContributionReveal,
    CreditInputRead,
    CreditInputRecord,
    CreditRead,
    CreditSnapshotRead,
    DeliverableUpload,
    DeliveryRead,
    IntermediaryRead,
    OverdueLine,
    PanelScores,
    QualificationRead,
    QualificationRecord,
    QualificationRevocation,
    RatingCreate,
    RecomputeRead,
    RegistrationCreate,
    RegistrationRead,
    ServiceItemCreate,
    ServiceItemRead,
)
from intermediary_market.service import MarketService
from trading.kernel.api.bounds import Offset
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.clock import now as db_now
from trading.kernel.errors import NotFound

PREFIX = "/intermediary"


async def provide_market(db_session: NamedDependency[AsyncSession]) -> MarketService:
    return MarketService(db_session)


async def provide_blacklist(db_session: NamedDependency[AsyncSession]) -> BlacklistService:
    return BlacklistService(db_session)


async def provide_deliveries(db_session: NamedDependency[AsyncSession]) -> DeliveryService:
    return DeliveryService(db_session)


async def provide_complaints(db_session: NamedDependency[AsyncSession]) -> ComplaintService:
    return ComplaintService(db_session)


async def provide_credit_service(db_session: NamedDependency[AsyncSession]) -> CreditService:
    return CreditService(db_session)


async def provide_reports(db_session: NamedDependency[AsyncSession]) -> RegulatorReports:
    return RegulatorReports(db_session)


def _snapshot(line: CreditLine) -> CreditSnapshotRead:
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


class MarketController(Controller):
    path = PREFIX
    tags = ["intermediary_market"]  # noqa: RUF012 - Litestar reads this class attribute
    dependencies = {  # noqa: RUF012
        "market": Provide(provide_market),
        "deliveries": Provide(provide_deliveries),
        "blacklist": Provide(provide_blacklist),
        "complaints": Provide(provide_complaints),
        "credit_service": Provide(provide_credit_service),
        "reports": Provide(provide_reports),
    }

    # --- service items (public read) -------------------------------------------------------------

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

    # --- qualifications --------------------------------------------------------------------------

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

    # --- announcements, registration, the draw ---------------------------------------------------

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

    # --- delivery (限时办结) ---------------------------------------------------------------------

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

    # --- ratings, credit, the blacklist ----------------------------------------------------------

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

    @post(
        "/blacklistings",
        operation_id="intermediary_notice_blacklisting",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.BLACKLIST_MANAGE),
    )
    async def notice_blacklisting(
        self,
        data: JSONBody[BlacklistNotice],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
    ) -> BlacklistingRead:
        """Give notice of an intended listing; the response period starts (regulators)."""
        return BlacklistingRead.of(await blacklist.notice_blacklisting(data, actor=actor))

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
        "/blacklistings/{blacklisting_id:uuid}/decision",
        operation_id="intermediary_decide_blacklisting",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.BLACKLIST_MANAGE),
    )
    async def decide_blacklisting(
        self,
        blacklisting_id: FromPath[uuid.UUID],
        data: JSONBody[BlacklistDecision],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
    ) -> BlacklistingRead:
        """Decide after the response period (regulators): uphold (effective for N months) or withdraw."""
        return BlacklistingRead.of(await blacklist.decide_blacklisting(blacklisting_id, data, actor=actor))

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
        "/blacklistings/{blacklisting_id:uuid}/appeal-decision",
        operation_id="intermediary_decide_appeal",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.BLACKLIST_MANAGE),
    )
    async def decide_appeal(
        self,
        blacklisting_id: FromPath[uuid.UUID],
        data: JSONBody[AppealDecision],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
    ) -> BlacklistingRead:
        """Decide a pending appeal (regulators): overturn withdraws the listing at once."""
        return BlacklistingRead.of(await blacklist.decide_appeal(blacklisting_id, overturn=data.overturn, actor=actor))

    # --- complaints ------------------------------------------------------------------------------

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

    @post(
        "/complaints/{complaint_id:uuid}/decision",
        operation_id="intermediary_decide_complaint",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.COMPLAINT_DECIDE),
    )
    async def decide_complaint(
        self,
        complaint_id: FromPath[uuid.UUID],
        data: JSONBody[ComplaintDecision],
        complaints: NamedDependency[ComplaintService],
        actor: NamedDependency[Actor],
    ) -> ComplaintRead:
        """Uphold or dismiss with a reason (regulators); an upheld complaint counts for credit."""
        return ComplaintRead.of(await complaints.decide(complaint_id, data, actor=actor))

    # --- credit inputs, snapshots, the red list --------------------------------------------------

    @post(
        "/credit-inputs",
        operation_id="intermediary_record_credit_input",
        status_code=HTTP_201_CREATED,
        opt=requires(MarketPermission.CREDIT_MANAGE),
    )
    async def record_credit_input(
        self,
        data: JSONBody[CreditInputRecord],
        credit_service: NamedDependency[CreditService],
        actor: NamedDependency[Actor],
    ) -> CreditInputRead:
        """Record one year's regulator evaluation (0–70) and public-credit result (0–10) (regulators)."""
        return CreditInputRead.of(await credit_service.record_input(data, actor=actor))

    @post(
        "/credit/recompute",
        operation_id="intermediary_recompute_credit",
        status_code=HTTP_200_OK,
        opt=requires(MarketPermission.CREDIT_MANAGE),
    )
    async def recompute_credit(self, credit_service: NamedDependency[CreditService]) -> RecomputeRead:
        """Recompute every snapshot now (regulators; the daily job does the same)."""
        return RecomputeRead(recomputed=await credit_service.recompute_all(await db_now(credit_service.session)))

    @get("/credit", operation_id="intermediary_credit_snapshot")
    async def credit_snapshot(
        self, organisation_id: FromQuery[uuid.UUID], credit_service: NamedDependency[CreditService]
    ) -> CreditSnapshotRead:
        """An intermediary's credit snapshot with its computation and list membership (public)."""
        line = await credit_service.line(organisation_id)
        if line is None:
            raise NotFound("no credit snapshot for this organisation", field="organisation_id", rule="exists")
        return _snapshot(line)

    @get("/red-list", operation_id="intermediary_red_list")
    async def red_list(self, credit_service: NamedDependency[CreditService]) -> list[CreditSnapshotRead]:
        """诚信红名单: members with their score, best first (public)."""
        return [_snapshot(line) for line in await credit_service.red_list()]

    # --- the regulator's reports -----------------------------------------------------------------

    @get(
        "/reports/overdue",
        operation_id="intermediary_report_overdue",
        opt=requires(MarketPermission.REPORT_READ),
    )
    async def report_overdue(self, reports: NamedDependency[RegulatorReports]) -> list[OverdueLine]:
        """Uncompleted deliveries past their deadline or within the warning period (regulators)."""
        return await reports.overdue()

    @get(
        "/reports/credit",
        operation_id="intermediary_report_credit",
        opt=requires(MarketPermission.REPORT_READ),
    )
    async def report_credit(
        self,
        reports: NamedDependency[RegulatorReports],
        sort: FromQuery[str] = "grade",
        limit: Annotated[int, QueryParameter(ge=1, le=5000)] = 1000,
        offset: Offset = 0,
    ) -> list[CreditSnapshotRead]:
        """Every intermediary's snapshot with red/black list membership, by ``grade``, ``score`` or ``name``."""
        return [_snapshot(line) for line in await reports.credit(order=sort, limit=limit, offset=offset)]

    @get(
        "/reports/complaints",
        operation_id="intermediary_report_complaints",
        opt=requires(MarketPermission.REPORT_READ),
    )
    async def report_complaints(self, reports: NamedDependency[RegulatorReports]) -> list[ComplaintRead]:
        """Complaints awaiting a decision, oldest first (regulators)."""
        return [ComplaintRead.of(row) for row in await reports.pending_complaints()]


CONTROLLERS = (MarketController,)

# Public reads take their keys as query parameters (``?announcement_id=``), so the route walk can
# call every public path as it stands.
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
