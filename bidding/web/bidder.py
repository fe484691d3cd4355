"""The bidder's pages: "my bids" with every version's receipt, the sealing-and-upload page, and the
JSON routes the page's script (``bidding/static/js/bidding.js``) drives the resumable upload through — the
same `IntakeService` calls as the bearer-only API (`bidding.api`), with the session cookie and CSRF.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.api.bids import MAX_CHUNK_BYTES
from bidding.client import format as fmt
from bidding.deps import provide_intake, provide_tenders
from bidding.errors import BidRefused
from bidding.evaluation.requirementset import service as requirementset
from bidding.intake.base import Receipt
from bidding.intake.service import IntakeService
from bidding.models import (
    Bid,
    BidStatus,
    BidVersion,
    Lot,
    Tender,
    TenderStatus,
)
from bidding.policies import BiddingPermission
from bidding.tenders import security
from bidding.tenders.service import TenderService
from bidding.visibility import Exposure, guarded
from bidding.web.common import CHUNK_BYTES, PREFIX, attachment, path_to, problem_json
from bidding.web.forms import WithdrawalForm
from bidding.web.labels import BIDDING, TEMPLATE_LABELS
from bidding.web.platform_root import platform_root
from bidding.web.receipt_pdf import RootReference, render_receipt
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import DomainError, NotFound
from trading.kernel.web.forms import SEE_OTHER, UNPROCESSABLE, FormBody, field_errors, is_client_error
from trading.kernel.web.pages import page
from trading.kernel.web.templating import DISPLAY_TZ
from trading.parties.models import Organisation

# --- the bidder ----------------------------------------------------------------------------------


class BidPages(Controller):
    """The bidder's bids, the sealing-and-upload page and the browser's upload routes."""

    path = PREFIX
    include_in_schema = False
    dependencies = {
        "intake": Provide(provide_intake),
        "tenders": Provide(provide_tenders),
    }

    @get("/bids", name="bidding.my_bids", opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN))
    async def my_bids(
        self,
        request: Request[Any, Any, Any],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Every bid of the bidder's organisation, each version with its receipt."""
        bids = await intake.my_bids(actor)
        return await page(
            request,
            "bidding/my_bids.html",
            {
                "bids": bids,
                "withdrawal_statements": withdrawal_statements(bids),
                "revocation_statements": revocation_statements(bids),
                "device_hashes": device_hashes(bids),  # issue 19: disclosed to the bidder
                "server_time": await clock.now(db_session),
                "withdrawn": request.query_params.get("withdrawn"),
                "revoked": request.query_params.get("revoked"),
                **TEMPLATE_LABELS,
            },
        )

    @get(
        "/receipts/{receipt_no:str}/receipt.json",
        name="bidding.receipt_json",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def receipt_json(
        self, receipt_no: FromPath[str], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> Response[bytes]:
        """The receipt record exactly as the platform signed it (the owner's only)."""
        receipt = await intake.receipt(actor, receipt_no)
        return attachment(receipt.receipt, f"{receipt_no}.json", "application/json")

    @get(
        "/receipts/{receipt_no:str}/receipt.p7s",
        name="bidding.receipt_signature",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def receipt_signature(
        self, receipt_no: FromPath[str], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> Response[bytes]:
        """The platform's detached CAdES-B-T signature over the receipt (the owner's only)."""
        receipt = await intake.receipt(actor, receipt_no)
        return attachment(receipt.signature, f"{receipt_no}.p7s", "application/pkcs7-signature")

    @get(
        "/receipts/{receipt_no:str}/receipt.pdf",
        name="bidding.receipt_pdf",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def receipt_pdf(
        self,
        request: Request[Any, Any, Any],
        receipt_no: FromPath[str],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[bytes]:
        """The printable receipt (递交回执, PDF): its fields and how to verify it (the owner's only),
        with where to download the platform's root certificate and its fingerprint.
        """
        receipt = await intake.receipt(actor, receipt_no)
        code = str(receipt.record.get("tender", ""))
        title = await db_session.scalar(sa.select(Tender.title).where(Tender.project_code == code))
        root = platform_root(request.app.state.settings)
        reference = (
            RootReference(str(request.base_url).rstrip("/") + path_to(request, "bidding.platform_root"), root.sha256)
            if root is not None
            else None
        )
        pdf = await asyncio.to_thread(render_receipt, receipt, tender_title=title or "", root=reference)
        return attachment(pdf, f"{receipt_no}.pdf", "application/pdf")

    @get(
        "/tenders/{code:str}/lots/{lot:str}/bid",
        name="bidding.upload_page",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def upload_page(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        lot: FromPath[str],
        tenders: NamedDependency[TenderService],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """How to seal the bid for this tender and lot, and the browser upload of the sealed container;
        the latest receipt of the caller's bid on the lot (with its printable PDF) when there is one.
        """
        view = await tenders.detail(code, actor)
        chosen = next((item for item in view.lots if item.code == lot), None)
        if chosen is None or view.tender.status is TenderStatus.DRAFT:
            raise NotFound("no such lot", field="lot", rule="exists")
        holders = view.tender.key_holders.get("holders", [])
        bidder = await db_session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
        latest = next(
            (
                version
                for tender, bid_lot, bid, versions in await intake.my_bids(actor)
                if tender.id == view.tender.id and bid_lot.code == chosen.code
                for version in versions
                if version.id == bid.current_version_id
            ),
            None,
        )
        requirement_set = await requirementset.published(db_session, view.tender)
        return await page(
            request,
            "bidding/upload.html",
            {
                "latest_receipt": latest,
                "tender": view.tender,
                "lot": chosen,
                # The forms of bid security this lot accepts (intake refuses another one).
                "security": security.lot_terms(view.tender, chosen),
                "holders": holders,
                "threshold": view.tender.key_holders.get("threshold"),
                "requirement_set": requirement_set,
                "seal_command": seal_command(
                    view.tender, chosen.code, bidder.uscc if bidder else "", with_response=requirement_set is not None
                ),
                "bidder_uscc": bidder.uscc if bidder else "",
                "server_time": await clock.now(db_session),
                "chunk_bytes": CHUNK_BYTES,
                **TEMPLATE_LABELS,
            },
        )

    @post(
        "/tenders/{code:str}/lots/{lot:str}/uploads",
        name="bidding.web_start_upload",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def start_upload(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        lot: FromPath[str],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Announce the sealed container (size and SHA-256 the browser computed)."""
        try:
            body = json.loads(await request.body() or b"{}")
            size, sha256 = body.get("size"), body.get("sha256")
            if not isinstance(size, int) or isinstance(size, bool) or not isinstance(sha256, str):
                raise BidRefused("send the size and the SHA-256 of the container", field="size", rule="required")
            upload = await intake.start_upload(actor, code, lot, size=size, sha256=sha256)
        except (ValueError, AttributeError, RecursionError):  # RecursionError: nested too deep for the reader
            return problem_json(BidRefused("the body is not a JSON object", field="body", rule="format"))
        except DomainError as exc:
            return problem_json(exc)
        return Response(
            {"id": str(upload.id), "offset": upload.received, "size": upload.declared_size},
            status_code=201,
            media_type="application/json",
        )

    @patch(
        "/uploads/{upload_id:uuid}",
        name="bidding.web_upload_chunk",
        request_max_body_size=MAX_CHUNK_BYTES,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def upload_chunk(
        self,
        request: Request[Any, Any, Any],
        upload_id: FromPath[uuid.UUID],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Append the raw body at ``Upload-Offset``; the new offset comes back in ``Upload-Offset``."""
        raw = request.headers.get("upload-offset")
        if raw is None or not raw.isdigit():
            return problem_json(BidRefused("send the chunk's offset", field="Upload-Offset", rule="required"))
        try:
            offset = await intake.receive(actor, upload_id, int(raw), request.stream())
        except DomainError as exc:
            return problem_json(exc)
        return Response(None, status_code=204, headers={"Upload-Offset": str(offset)})

    @get(
        "/uploads/{upload_id:uuid}",
        name="bidding.web_upload_status",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def upload_status(
        self, upload_id: FromPath[uuid.UUID], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        """Where the upload stands: the script resumes from ``offset`` after an interruption."""
        try:
            upload = await intake.status(actor, upload_id)
        except DomainError as exc:
            return problem_json(exc)
        return Response(
            {
                "id": str(upload.id),
                "offset": upload.received,
                "size": upload.declared_size,
                "status": upload.status.value,
                "refusal": upload.refusal,
            },
            media_type="application/json",
        )

    @post(
        "/uploads/{upload_id:uuid}/submission",
        name="bidding.web_submit",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.OWN),
    )
    async def submit(
        self,
        request: Request[Any, Any, Any],
        upload_id: FromPath[uuid.UUID],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Check the complete container; answer the signed receipt or the refusal (field and rule)."""
        try:
            receipt = await intake.submit(actor, upload_id)
        except DomainError as exc:
            return problem_json(exc)
        return Response(receipt_view(request, receipt), status_code=201, media_type="application/json")

    @post(
        "/tenders/{code:str}/lots/{lot:str}/withdrawal",
        name="bidding.web_withdraw",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def withdraw(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        lot: FromPath[str],
        data: FormBody[WithdrawalForm],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Withdraw the bid for the lot with the bidder's CAdES signature (base64) over the
        withdrawal statement the page shows (a signed withdrawal receipt); earlier versions stay.

        Intake commits in its own unit of work, so this route, like the upload routes, takes no
        ``db_session``: on SQLite an unsafe request's session begins with ``BEGIN IMMEDIATE``, the one
        write lock intake's unit of work would then wait for until the busy timeout ("database is
        locked"). For the same reason it is not on `submit` (its savepoint on the request's session).
        The refusal page reads the clock through intake too.
        """
        try:
            receipt = await intake.withdraw(actor, code, lot, data.signature.strip())
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            return await _refused(request, intake, actor, exc)
        url = path_to(request, "bidding.my_bids") + f"?withdrawn={receipt.receipt_no}"
        return Redirect(url, status_code=SEE_OTHER)

    @post(
        "/tenders/{code:str}/lots/{lot:str}/revocation",
        name="bidding.web_revoke",
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def revoke(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        lot: FromPath[str],
        data: FormBody[WithdrawalForm],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Revoke (撤销) the bid for the lot after the deadline with the bidder's CAdES signature (base64)
        over the revocation statement the page shows, which states that the bid security may be kept
        or claimed (实施条例 Art. 35); a signed revocation receipt. No ``db_session``, as `withdraw`.
        """
        try:
            receipt = await intake.revoke(actor, code, lot, data.signature.strip())
        except DomainError as exc:
            if not is_client_error(exc):
                raise
            return await _refused(request, intake, actor, exc)
        url = path_to(request, "bidding.my_bids") + f"?revoked={receipt.receipt_no}"
        return Redirect(url, status_code=SEE_OTHER)


async def _refused(
    request: Request[Any, Any, Any], intake: IntakeService, actor: Actor, exc: DomainError
) -> Response[Any]:
    """The bids page again with a withdrawal's or revocation's refusal (422); the clock read through
    intake (the route holds no ``db_session``).
    """
    bids = await intake.my_bids(actor)
    context = {
        "bids": bids,
        "withdrawal_statements": withdrawal_statements(bids),
        "revocation_statements": revocation_statements(bids),
        "device_hashes": device_hashes(bids),
        "server_time": await intake.now(),
        "withdrawn": None,
        "revoked": None,
        "errors": field_errors(exc, BIDDING),
    }
    return await page(request, "bidding/my_bids.html", {**context, **TEMPLATE_LABELS}, status_code=UNPROCESSABLE)


def device_hashes(bids: Sequence[tuple[Tender, Lot, Bid, Sequence[BidVersion]]]) -> dict[uuid.UUID, str]:
    """Per version, the device fingerprint its signed manifest carries (``signals.deviceHash``,
    `bidding.client.fingerprint`): shown to the bidder, who sealed it, beside the receipt.
    """
    found: dict[uuid.UUID, str] = {}
    for _tender, _lot, _bid, versions in bids:
        for version in versions:
            try:
                signals = json.loads(version.manifest or b"{}").get("signals") or {}
            except (ValueError, AttributeError):  # a withdrawal keeps its statement here: no signals
                continue
            if isinstance(signals, dict) and isinstance(signals.get("deviceHash"), str):
                found[version.id] = signals["deviceHash"]
    return found


def withdrawal_statements(bids: Sequence[tuple[Tender, Lot, Bid, Sequence[BidVersion]]]) -> dict[uuid.UUID, str]:
    """Per submitted bid, the statement its withdrawal signs (`format.withdrawal_statement`): the
    tender, the lot, the bidder as the current receipt names it and that receipt's number.
    """
    return _statements(bids, fmt.withdrawal_statement)


def revocation_statements(bids: Sequence[tuple[Tender, Lot, Bid, Sequence[BidVersion]]]) -> dict[uuid.UUID, str]:
    """Per submitted bid, the statement its revocation (撤销) signs (`format.revocation_statement`),
    built like `withdrawal_statements`; it states the consequence the bidder acknowledges.
    """
    return _statements(bids, fmt.revocation_statement)


def _statements(
    bids: Sequence[tuple[Tender, Lot, Bid, Sequence[BidVersion]]], statement: Callable[[str, str, str, str], bytes]
) -> dict[uuid.UUID, str]:
    """Per submitted bid, ``statement(tender, lot, bidder, receipt_no)`` of its current version."""
    statements: dict[uuid.UUID, str] = {}
    for tender, lot, bid, versions in bids:
        current = next((v for v in versions if v.id == bid.current_version_id), None)
        if bid.status is not BidStatus.SUBMITTED or current is None:
            continue
        bidder = str(json.loads(current.receipt).get("bidder", ""))
        statements[bid.id] = statement(tender.project_code, lot.code, bidder, current.receipt_no).decode()
    return statements


def receipt_view(request: Request[Any, Any, Any], receipt: Receipt) -> dict[str, Any]:
    """What the upload page shows of a receipt, with links to its exact bytes and signature."""
    record = receipt.record
    return {
        "receiptNo": receipt.receipt_no,
        "receivedAt": record.get("receivedAt"),
        "receivedAtLocal": _local(record.get("receivedAt")),
        "containerSha256": record.get("containerSha256"),
        "manifestSha256": record.get("manifestSha256"),
        "record": record,
        "json": path_to(request, "bidding.receipt_json", receipt_no=receipt.receipt_no),
        "signature": path_to(request, "bidding.receipt_signature", receipt_no=receipt.receipt_no),
        "pdf": path_to(request, "bidding.receipt_pdf", receipt_no=receipt.receipt_no),
    }


def _local(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


def seal_command(tender: Tender, lot: str, bidder_uscc: str, *, with_response: bool = False) -> str:
    """The ``ggzy bid seal`` command line for this tender, lot and bidder (`bidding.client.cli`):
    the bidder supplies its certificates, prices and files; ``with_response`` (the tender publishes
    a requirement set) adds the structured response and the set it is checked against
    (``ggzy bid requirements`` saves it).
    """
    deadline = tender.deadline.isoformat() if tender.deadline else ""
    holders = tender.key_holders.get("holders", [])
    parts = [
        "ggzy bid seal",
        f"--tender {tender.project_code}",
        f"--lot {lot}",
        f"--bidder {bidder_uscc}",
        f"--deadline {deadline}",
        "--p12 sign.p12",
        "--encryption-cert encryption.pem",
    ]
    parts += [f"--key-holder key-holder-{number}.pem" for number in range(1, len(holders) + 1)]
    if holders:
        parts.append(f"--threshold {tender.key_holders.get('threshold')}")
    parts.append("--total-price 1234567.89 --duration-days 365")
    if with_response:
        parts.append("--response response.json --requirements requirements.json")
    parts += ["--out bid.zip", "技术标.pdf 商务标.pdf"]
    return " \\\n  ".join(parts)
