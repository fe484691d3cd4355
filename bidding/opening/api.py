"""The opening hall's API under ``/api/v1/bidding/opening/{code}`` (bearer tokens).

``GET /{code}`` is public: visitors get the masked view (no per-bidder status before 唱标), the
host and supervisors everything, bidders their own rows. Host actions are routed with the opening
read permission and checked by the service (host organisation and host permission), so that a
refused attempt from another account is recorded in the ledger, not only answered by the guard.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from bidding.opening.coefficients import public
from bidding.opening.deps import provide_opening, provide_records
from bidding.opening.models import Objection, OpeningBid, OpeningSession, Stage
from bidding.opening.record import MAX_RECORD_BYTES, OpeningRecords
from bidding.opening.remedy import MAX_BACKUP_BYTES
from bidding.opening.schemas import (
    AnswerCreate,
    BidStatusRead,
    CoefficientRead,
    ConfirmationCreate,
    ConfirmationRead,
    DecryptionCreate,
    EnvelopesRead,
    HostSignatureRead,
    IncidentCreate,
    ObjectionCreate,
    ObjectionRead,
    OpeningRecordRead,
    OpeningView,
    SessionRead,
    SharesCreate,
    SignInCreate,
    TransitionCreate,
)
from bidding.opening.service import OpeningService
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, exposes, guarded
from trading.kernel.auth.identity import Actor

PREFIX = "/bidding/opening"


def _session(opening: OpeningSession) -> SessionRead:
    return SessionRead(
        stage=opening.stage,
        paused=opening.paused_at is not None,
        stage_ends_at=opening.stage_ends_at.isoformat() if opening.stage_ends_at else None,
        remaining_seconds=opening.remaining_seconds,
    )


def _bid(row: OpeningBid) -> BidStatusRead:
    return BidStatusRead(
        bidder=row.bidder_uscc,
        price_summary=row.price_status,
        package=row.package_status,
        outcome=row.outcome,
        cause=row.cause,
    )


def _objection(objection: Objection) -> ObjectionRead:
    return ObjectionRead(
        id=str(objection.id),
        text=objection.text,
        filed_at=objection.filed_at.isoformat(),
        answer=objection.answer,
        answered_at=objection.answered_at.isoformat() if objection.answered_at else None,
    )


class OpeningController(Controller):
    path = PREFIX
    tags = ["bidding"]
    dependencies = {"opening": Provide(provide_opening), "records": Provide(provide_records)}

    @get("/{code:str}", operation_id="bidding_opening_view", opt=exposes(Exposure.OPENING_STAGE))
    async def view(
        self, code: FromPath[str], opening: NamedDependency[OpeningService], actor: NamedDependency[Actor]
    ) -> OpeningView:
        """The hall's state and countdown (database clock); the price table from 唱标 on (public, masked)."""
        return msgspec.convert(await opening.hall.view(actor, code), OpeningView)

    @get(
        "/{code:str}/record",
        operation_id="bidding_opening_record",
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.OPENING_STAGE),
    )
    async def record(
        self, code: FromPath[str], opening: NamedDependency[OpeningService], actor: NamedDependency[Actor]
    ) -> OpeningRecordRead:
        """The opening record's data (开标记录): outcomes, prices, objections, confirmations, chain head."""
        return msgspec.convert(await opening.hall.record(actor, code), OpeningRecordRead)

    @get(
        "/{code:str}/record.pdf",
        operation_id="bidding_opening_record_pdf",
        name="bidding.opening_record_pdf",
        media_type="application/pdf",
        opt=exposes(Exposure.OPENING_STAGE),
    )
    async def record_pdf(
        self, code: FromPath[str], records: NamedDependency[OpeningRecords], actor: NamedDependency[Actor]
    ) -> Response[bytes]:
        """The signed opening record (PDF): to the participants once the platform signed it, public
        once the host signed it too.
        """
        pdf = await records.pdf(actor, code)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="opening-record-{code}.pdf"',
                "Cache-Control": "no-store",
            },
        )

    @post(
        "/{code:str}/record/host-signature",
        operation_id="bidding_opening_record_host_signature",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.HOST),
        request_max_body_size=MAX_RECORD_BYTES,
    )
    async def record_host_signature(
        self,
        code: FromPath[str],
        request: Request[Any, Any, Any],
        records: NamedDependency[OpeningRecords],
        actor: NamedDependency[Actor],
    ) -> HostSignatureRead:
        """The host's signed record (raw ``application/pdf``): the platform-signed PDF with the
        host's incremental PAdES signature appended; becomes the published record.
        """
        return msgspec.convert(await records.sign_as_host(actor, code, await request.body()), HostSignatureRead)

    # --- bidders ---

    @post(
        "/{code:str}/sign-in",
        operation_id="bidding_opening_sign_in",
        status_code=HTTP_200_OK,
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def sign_in(
        self,
        code: FromPath[str],
        data: JSONBody[SignInCreate],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> list[BidStatusRead]:
        """签到: the caller's organisation joins the hall, signed over the sign-in statement."""
        return [_bid(row) for row in await opening.attendance.sign_in(actor, code, data.signature)]

    @get(
        "/{code:str}/envelopes",
        operation_id="bidding_opening_envelopes",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def envelopes(
        self, code: FromPath[str], opening: NamedDependency[OpeningService], actor: NamedDependency[Actor]
    ) -> list[EnvelopesRead]:
        """The caller's bids: each part's envelope header, to unwrap the content key locally."""
        return msgspec.convert(await opening.decryption.envelopes(actor, code), list[EnvelopesRead])

    @post(
        "/{code:str}/backups/{lot:str}/{part:str}",
        operation_id="bidding_opening_backup",
        status_code=HTTP_200_OK,
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
        request_max_body_size=MAX_BACKUP_BYTES,
    )
    async def backup(
        self,
        *,
        code: FromPath[str],
        lot: FromPath[str],
        part: FromPath[str],
        request: Request[Any, Any, Any],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> BidStatusRead:
        """The backup channel (raw ``application/octet-stream``): one part's backup, generated with
        the sealed file, inside the decryption window; opens the part when it is the one the signed,
        receipted manifest pins (the tender's remedy plan must name the backup).
        """
        return _bid(await opening.decryption.file_backup(actor, code, lot, part, await request.body()))

    @post(
        "/{code:str}/decryption",
        operation_id="bidding_opening_decrypt",
        status_code=HTTP_200_OK,
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def decrypt(
        self,
        code: FromPath[str],
        data: JSONBody[DecryptionCreate],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> BidStatusRead:
        """Open one part with its content key, inside the window; the price summary first."""
        return _bid(await opening.decryption.decrypt(actor, code, data.lot, data.part, data.content_key))

    @post(
        "/{code:str}/objections",
        operation_id="bidding_opening_object",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def objection(
        self,
        code: FromPath[str],
        data: JSONBody[ObjectionCreate],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> ObjectionRead:
        """异议: a signed objection, until the confirmation stage ends."""
        return _objection(await opening.objections.file_objection(actor, code, data.text, data.signature))

    @post(
        "/{code:str}/confirmation",
        operation_id="bidding_opening_confirm",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def confirm(
        self,
        code: FromPath[str],
        data: JSONBody[ConfirmationCreate],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> ConfirmationRead:
        """The bidder's signed confirmation of the price table (absence at the end = acceptance)."""
        confirmation = await opening.objections.confirm(actor, code, data.signature)
        return ConfirmationRead(confirmation.confirmed_at.isoformat(), confirmation.signer_sha256)

    # --- the host (checked and audited in the service) ---

    @post(
        "/{code:str}/transitions",
        operation_id="bidding_opening_transition",
        status_code=HTTP_200_OK,
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.HOST),
    )
    async def transition(
        self,
        code: FromPath[str],
        data: JSONBody[TransitionCreate],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> SessionRead:
        """The host moves to the next stage, pauses or resumes."""
        if data.action == "pause":
            return _session(await opening.host.pause(actor, code, data.reason))
        if data.action == "resume":
            return _session(await opening.host.resume(actor, code))
        return _session(await opening.host.advance(actor, code, Stage(data.action)))

    @post(
        "/{code:str}/coefficients/draw",
        operation_id="bidding_opening_coefficients_draw",
        status_code=HTTP_200_OK,
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.HOST),
    )
    async def draw_coefficients(
        self, code: FromPath[str], opening: NamedDependency[OpeningService], actor: NamedDependency[Actor]
    ) -> list[CoefficientRead]:
        """抽取系数 (the host, in the coefficient-draw stage): every committed seed is revealed and its
        value drawn; anyone recomputes it from the seed (`bidding.coefficients`).
        """
        rows = await opening.host.draw_coefficients(actor, code)
        return [msgspec.convert(public(row, code), CoefficientRead) for row in rows]

    @post(
        "/{code:str}/incidents",
        operation_id="bidding_opening_incident",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.HOST),
    )
    async def incident(
        self,
        code: FromPath[str],
        data: JSONBody[IncidentCreate],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> BidStatusRead:
        """The host records a platform-side cause for a bidder (撤回, or the escrow remedy)."""
        return _bid(await opening.host.record_incident(actor, code, lot=data.lot, bidder=data.bidder, cause=data.cause))

    @post(
        "/{code:str}/objections/{objection_id:uuid}/answer",
        operation_id="bidding_opening_answer",
        status_code=HTTP_200_OK,
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.HOST),
    )
    async def answer(
        self,
        code: FromPath[str],
        objection_id: FromPath[uuid.UUID],
        data: JSONBody[AnswerCreate],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> ObjectionRead:
        """The host answers an objection in the hall."""
        return _objection(await opening.objections.answer_objection(actor, code, objection_id, data.answer))

    # --- key holders ---

    @get(
        "/{code:str}/lots/{lot:str}/bids/{bidder:str}/envelopes",
        operation_id="bidding_opening_holder_envelopes",
        opt=guarded(BiddingPermission.OPENING_SHARE, Exposure.KEY_HOLDER),
    )
    async def holder_envelopes(
        self,
        code: FromPath[str],
        lot: FromPath[str],
        bidder: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> list[EnvelopesRead]:
        """A bid's envelope headers for its key holders (escrow remedy only)."""
        envelopes = await opening.escrow.holder_envelopes(actor, code, lot=lot, bidder=bidder)
        return msgspec.convert(envelopes, list[EnvelopesRead])

    @post(
        "/{code:str}/shares",
        operation_id="bidding_opening_release_shares",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.OPENING_SHARE, Exposure.KEY_HOLDER),
    )
    async def shares(
        self,
        code: FromPath[str],
        data: JSONBody[SharesCreate],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> BidStatusRead:
        """A key holder releases its signed shares of a bid; k of n open it (the tender's remedy)."""
        row = await opening.escrow.release_shares(
            actor, code, lot=data.lot, bidder=data.bidder, shares=data.shares, signature=data.signature
        )
        return _bid(row)


CONTROLLERS: list[ControllerRouterHandler] = [OpeningController]
PUBLIC_PATHS = frozenset({f"/api/v1{PREFIX}/{{code}}", f"/api/v1{PREFIX}/{{code}}/record.pdf"})
