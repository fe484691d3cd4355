"""The sealed-bid API under ``/api/v1/bidding`` (bearer tokens; the contract is in bidding/AGENTS.md).

Uploads are resumable in the manner of the tus protocol, reduced to what bidders need: create an
upload with its size and digest, send chunks with ``Upload-Offset``, ask the offset after an
interruption, then submit. The chunk route streams the body to disk; its transactions are short
and its memory does not grow with the chunk (see `bidding.intake`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_409_CONFLICT
from litestar.types import ControllerRouterHandler

from bidding.deps import provide_intake
from bidding.errors import BidRefused
from bidding.intake.base import Receipt, ReceiptJson
from bidding.intake.service import IntakeService
from bidding.models import BidUpload
from bidding.policies import BiddingPermission
from bidding.receipts import signer_chain_pem
from bidding.visibility import Exposure, exposes, guarded
from trading.kernel.api.errors import documents_problems
from trading.kernel.auth.identity import Actor
from trading.kernel.bounds import BigInt, Input, ShortText

PREFIX = "/bidding"
MAX_CHUNK_BYTES = 64 * 1024 * 1024
"""The largest chunk one PATCH may carry (Litestar refuses larger bodies with 413 before reading)."""


class WithdrawalCreate(Input):
    """The bidder's CAdES signature (base64 DER) over `bidding.client.format.withdrawal_statement`."""

    signature: str


class RevocationCreate(Input):
    """The bidder's CAdES signature (base64 DER) over `bidding.client.format.revocation_statement`
    (it states the consequence: the bid security may be kept or claimed, 实施条例 Art. 35).
    """

    signature: str


class RevocationStatement(msgspec.Struct):
    """The exact statement (UTF-8 canonical JSON, no line break at the end) a revocation signs."""

    statement: str


class UploadCreate(Input):
    size: BigInt
    sha256: ShortText


class UploadRead(msgspec.Struct):
    id: uuid.UUID
    offset: int
    size: int
    status: str
    expiresAt: datetime  # noqa: N815 - the wire name of the contract
    refusal: dict[str, Any] | None = None

    @classmethod
    def of(cls, upload: BidUpload) -> UploadRead:
        return cls(
            id=upload.id,
            offset=upload.received,
            size=upload.declared_size,
            status=upload.status.value,
            expiresAt=upload.expires_at,
            refusal=upload.refusal,
        )


def _offset_header(request: Request[Any, Any, Any]) -> int:
    raw = request.headers.get("upload-offset")
    if raw is None or not raw.isdigit():
        raise BidRefused("send the chunk's offset in Upload-Offset", field="Upload-Offset", rule="required")
    return int(raw)


def _length_header(request: Request[Any, Any, Any]) -> int:
    raw = request.headers.get("upload-length")
    if raw is None or not raw.isdigit():
        raise BidRefused("send the package's size in Upload-Length", field="Upload-Length", rule="required")
    return int(raw)


class BidController(Controller):
    path = PREFIX
    tags = ["bidding"]
    dependencies = {"intake": Provide(provide_intake)}

    @post(
        "/tenders/{code:str}/lots/{lot:str}/uploads",
        operation_id="bidding_start_upload",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def start_upload(
        self,
        code: FromPath[str],
        lot: FromPath[str],
        data: JSONBody[UploadCreate],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> UploadRead:
        """Announce a sealed container (size and SHA-256) for a lot; refused after the deadline or
        beyond the tender's size limit.
        """
        return UploadRead.of(await intake.start_upload(actor, code, lot, size=data.size, sha256=data.sha256))

    @patch(
        "/uploads/{upload_id:uuid}",
        operation_id="bidding_upload_chunk",
        status_code=HTTP_204_NO_CONTENT,
        request_max_body_size=MAX_CHUNK_BYTES,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def upload_chunk(
        self,
        request: Request[Any, Any, Any],
        upload_id: FromPath[uuid.UUID],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> Response[None]:
        """Append the raw body at ``Upload-Offset``; answers the new offset in ``Upload-Offset``."""
        offset = await intake.receive(actor, upload_id, _offset_header(request), request.stream())
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Upload-Offset": str(offset)})

    @post(
        "/tenders/{code:str}/lots/{lot:str}/bids",
        operation_id="bidding_submit_whole",
        status_code=HTTP_201_CREATED,
        request_max_body_size=MAX_CHUNK_BYTES,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def submit_whole(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        lot: FromPath[str],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> ReceiptJson:
        """A package that fits one chunk, uploaded and submitted in one request: the raw body, its
        size in ``Upload-Length``, its SHA-256 in ``Upload-Sha256`` and a key of the bidder's in
        ``Idempotency-Key``; a retry with the same key answers the same receipt (no second bid).
        """
        receipt = await intake.submit_whole(
            actor,
            code,
            lot,
            key=request.headers.get("idempotency-key", ""),
            size=_length_header(request),
            sha256=request.headers.get("upload-sha256", ""),
            chunks=request.stream(),
        )
        return receipt.to_json()

    @get(
        "/uploads/{upload_id:uuid}",
        operation_id="bidding_upload_status",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def upload_status(
        self, upload_id: FromPath[uuid.UUID], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> UploadRead:
        """Where an upload stands: resume from ``offset``; ``refusal`` says why a refused one was."""
        return UploadRead.of(await intake.status(actor, upload_id))

    @post(
        "/uploads/{upload_id:uuid}/submission",
        operation_id="bidding_submit",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def submit(
        self, upload_id: FromPath[uuid.UUID], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> ReceiptJson:
        """Check the complete container and, if it holds, record the bid and answer its signed receipt."""
        return (await intake.submit(actor, upload_id)).to_json()

    @post(
        "/tenders/{code:str}/lots/{lot:str}/withdrawal",
        operation_id="bidding_withdraw",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def withdraw(
        self,
        code: FromPath[str],
        lot: FromPath[str],
        data: JSONBody[WithdrawalCreate],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> ReceiptJson:
        """Withdraw the caller's bid for the lot before the deadline, signed by the bidder over the
        withdrawal statement (a signed withdrawal receipt).
        """
        return (await intake.withdraw(actor, code, lot, data.signature)).to_json()

    @get(
        "/tenders/{code:str}/lots/{lot:str}/revocation",
        operation_id="bidding_revocation_statement",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION) | documents_problems(HTTP_409_CONFLICT),
    )
    async def revocation_statement(
        self,
        code: FromPath[str],
        lot: FromPath[str],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> RevocationStatement:
        """The statement the caller's revocation (撤销) of its bid for the lot signs; 409 ``revocable``
        without a submitted bid.
        """
        return RevocationStatement((await intake.revocation_statement(actor, code, lot)).decode())

    @post(
        "/tenders/{code:str}/lots/{lot:str}/revocation",
        operation_id="bidding_revoke",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION) | documents_problems(HTTP_409_CONFLICT),
    )
    async def revoke(
        self,
        code: FromPath[str],
        lot: FromPath[str],
        data: JSONBody[RevocationCreate],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> ReceiptJson:
        """Revoke (撤销) the caller's bid for the lot after the deadline, within the bid validity period
        and before the contract, signed by the bidder over the revocation statement, which states that
        the bid security may be kept or claimed (实施条例 Art. 35): a signed receipt of kind
        ``revocation``. Before the deadline: 409 ``after-deadline`` (withdraw instead).
        """
        return (await intake.revoke(actor, code, lot, data.signature)).to_json()

    @get("/bids/mine", operation_id="bidding_my_bids", opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN))
    async def my_bids(
        self,
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
        tender: FromQuery[str | None] = None,
    ) -> list[dict[str, Any]]:
        """The caller's bids with every version's receipt, newest first."""
        return [
            {
                "tender": t.project_code,
                "lot": lot.code,
                "status": bid.status.value,
                "versions": [{"number": v.number, "kind": v.kind.value, **Receipt.of(v).to_json()} for v in versions],
            }
            for t, lot, bid, versions in await intake.my_bids(actor, tender)
        ]

    @get(
        "/receipts/{receipt_no:str}",
        operation_id="bidding_receipt",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def receipt(
        self, receipt_no: FromPath[str], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> ReceiptJson:
        """One of the caller's receipts (exact signed bytes and signature, base64)."""
        return (await intake.receipt(actor, receipt_no)).to_json()

    @get(
        "/tenders/{code:str}/bids",
        operation_id="bidding_list_bids",
        opt=guarded(BiddingPermission.BID_LIST, Exposure.OWNER_OR_OVERSEER),
    )
    async def list_bids(
        self, code: FromPath[str], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> list[dict[str, Any]]:
        """Who bid, after the deadline. Before it: 403 ``sealed_until_deadline`` for every role, recorded."""
        return [
            {
                "organisationId": str(row.organisation_id),
                "organisation": row.organisation_name,
                "uscc": row.uscc,
                "lot": row.lot_code,
                "status": row.status.value,
                "versions": row.versions,
                "receiptNo": row.receipt_no,
                "receivedAt": row.received_at.isoformat() if row.received_at else None,
                "containerSha256": row.container_sha256,
            }
            for row in await intake.list_bids(actor, code)
        ]


@get(
    f"{PREFIX}/receipt-signer",
    operation_id="bidding_receipt_signer",
    media_type="application/x-pem-file",
    opt=exposes(Exposure.NONE),
)
async def receipt_signer(state: State) -> bytes:
    """The receipt signer's certificate and chain (PEM), for verifying receipts (public)."""
    return signer_chain_pem(state.settings)


CONTROLLERS: list[ControllerRouterHandler] = [BidController, receipt_signer]
PUBLIC_PATHS = frozenset({f"/api/v1{PREFIX}/receipt-signer"})
