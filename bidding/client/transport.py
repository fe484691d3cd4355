"""The bidder client's side of the bidding API: resumable upload, submission, withdrawal, receipts.

`BidClient` is async (httpx.AsyncClient), so tests can drive it against the application through
``httpx.ASGITransport``; `SyncBidClient` wraps each call in its own event loop for the CLI.

The upload protocol (``bidding/AGENTS.md``): ``POST …/uploads`` announces size and SHA-256, then
``PATCH /uploads/{id}`` sends the file in chunks, each with the ``Upload-Offset`` it starts at.
A network error or a 409 ``upload_offset_mismatch`` is answered by asking the server where it
stands (``GET /uploads/{id}``) and continuing from its offset; the server's offset is the truth,
so nothing is sent twice into the file and nothing is skipped. Only one chunk is in memory.
Finally ``POST /uploads/{id}/submission`` turns the complete upload into a bid and returns the
signed receipt. The submission is not retried automatically: whether a lost answer recorded the
bid is for ``GET /bids/mine`` to say, not for a blind second request.

A package that fits one chunk goes in one request instead (``POST …/lots/{lot}/bids``: the body,
``Upload-Length``, ``Upload-Sha256`` and an ``Idempotency-Key`` chosen here): that request *is*
retried after a network error, with the same key, and the server answers the receipt of the bid
the first attempt made (or its refusal) rather than making a second one. A server without that
route (404 naming no field) gets the resumable upload.

Refusals are `problems`, receipts and upload states `receipts`, the opening-hall workflows `hall`,
the synchronous wrapper `sync_client`.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, Self

import httpx

from bidding.client import format as fmt
from bidding.client.hall import (
    PlatformTsa,
    decrypt_bid,
    release_holder_shares,
    sign_in_signed,
    sign_opening_record,
)
from bidding.client.problems import HTTP_ERROR, BidRejected, LocalRefusal, checked, rejection
from bidding.client.receipts import Receipt, UploadState
from bidding.client.sdk import file_digest, sign_statement_async
from certs.cms import SigningIdentity

# What BidClient raises and returns, and the hall workflows run through it, for the callers that
# import them with the client.
__all__ = [
    "BIDDING",
    "DEFAULT_CHUNK",
    "BidClient",
    "BidRejected",
    "LocalRefusal",
    "PlatformTsa",
    "ProgressCallback",
    "Receipt",
    "UploadState",
    "decrypt_bid",
    "login",
    "rejection",
    "release_holder_shares",
    "sign_in_signed",
    "sign_opening_record",
]

API: Final = "/api/v1"
BIDDING: Final = f"{API}/bidding"
DEFAULT_CHUNK: Final = 8 * 1024 * 1024
_OFFSET_MISMATCH: Final = "upload_offset_mismatch"
_HTTP_CONFLICT: Final = 409
_HTTP_NOT_FOUND: Final = 404
_ONE_WRITER: Final = "one-writer"

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes the server holds, total size) after every accepted chunk."""


def _read_chunk(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as stream:
        stream.seek(offset)
        return stream.read(size)


class BidClient:
    """Async client of the bidding API, authenticated with a bearer token.

    ``base_url`` is the server's root (``https://ggzy.example``); pass ``http`` to reuse a client
    (tests pass one on an ASGI transport) — it is then not closed here.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        http: httpx.AsyncClient | None = None,
        max_retries: int = 5,
        retry_delay: float = 1.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(120.0, connect=15.0))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    def _url(self, path: str) -> str:
        return f"{self.base_url}{BIDDING}{path}"

    @property
    def _auth(self) -> dict[str, str]:
        # Public resources (a published tender) need no token; an empty one is no header at all.
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = checked(await self.http.request(method, self._url(path), headers=self._auth, **kwargs))
        return response.json()

    # --- reading ---

    async def tender(self, code: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._json("GET", f"/tenders/{code}")
        return data

    async def my_bids(self, tender: str | None = None) -> Any:
        return await self._json("GET", "/bids/mine", params={"tender": tender} if tender else None)

    async def requirements(self, code: str) -> tuple[bytes, str]:
        """The tender's published requirement set (``ggzy-requirements/…``) and the SHA-256 the
        platform states for it (``X-Content-SHA256``); public, no token needed.
        """
        response = checked(await self.http.get(self._url(f"/tenders/{code}/requirements"), headers=self._auth))
        return response.content, response.headers.get("X-Content-SHA256", "")

    async def receipt_signer_pem(self) -> bytes:
        response = checked(await self.http.get(self._url("/receipt-signer"), headers=self._auth))
        return response.content

    async def download_document(self, code: str, document_id: str, out: Path) -> Path:
        """Stream a tender document to ``out`` (the server records the download, sealed until the deadline)."""
        async with self.http.stream(
            "GET", self._url(f"/tenders/{code}/documents/{document_id}"), headers=self._auth
        ) as r:
            if r.status_code >= HTTP_ERROR:
                await r.aread()
                raise rejection(r)
            sink = await asyncio.to_thread(out.open, "wb")
            try:
                async for chunk in r.aiter_bytes():
                    await asyncio.to_thread(sink.write, chunk)
            finally:
                await asyncio.to_thread(sink.close)
        return out

    # --- uploading ---

    async def start_upload(self, tender: str, lot: str, *, size: int, sha256: str) -> UploadState:
        data = await self._json("POST", f"/tenders/{tender}/lots/{lot}/uploads", json={"size": size, "sha256": sha256})
        return UploadState.from_api({"status": "open", **data})

    async def upload_state(self, upload_id: str) -> UploadState:
        return UploadState.from_api(await self._json("GET", f"/uploads/{upload_id}"))

    async def submit(self, upload_id: str) -> Receipt:
        return Receipt.from_api(await self._json("POST", f"/uploads/{upload_id}/submission"))

    async def upload(
        self,
        tender: str,
        lot: str,
        container_path: Path,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        """Upload a container resumably and submit it; returns the platform's signed receipt."""
        size, sha256 = await asyncio.to_thread(file_digest, container_path)
        if size <= chunk_size:
            receipt = await self._upload_whole(tender, lot, container_path, size=size, sha256=sha256)
            if receipt is not None:
                if on_progress is not None:
                    on_progress(size, size)
                return receipt
        state = await self.start_upload(tender, lot, size=size, sha256=sha256)
        return await self._finish(
            state.id, container_path, size=size, offset=state.offset, chunk_size=chunk_size, on_progress=on_progress
        )

    async def _upload_whole(self, tender: str, lot: str, path: Path, *, size: int, sha256: str) -> Receipt | None:
        """Send and submit in one request, retried with the same ``Idempotency-Key`` after a network
        error or while an earlier attempt is still being received; None when the server has no
        such route (then the caller uploads resumably).
        """
        body = await asyncio.to_thread(path.read_bytes)
        headers = {
            **self._auth,
            "Content-Type": "application/octet-stream",
            "Upload-Length": str(size),
            "Upload-Sha256": sha256,
            "Idempotency-Key": uuid.uuid4().hex,
        }
        failures = 0
        while True:
            try:
                response = await self.http.post(
                    self._url(f"/tenders/{tender}/lots/{lot}/bids"), content=body, headers=headers
                )
            except httpx.TransportError:
                failures = await self._back_off(failures)
                continue
            if response.status_code == _HTTP_NOT_FOUND and rejection(response).field is None:
                return None
            if response.status_code == _HTTP_CONFLICT and rejection(response).rule == _ONE_WRITER:
                failures = await self._back_off(failures)
                continue
            return Receipt.from_api(checked(response).json())

    async def resume(
        self,
        upload_id: str,
        container_path: Path,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        """Continue an interrupted upload from where the server stands, then submit it."""
        state = await self._state_with_retries(upload_id)
        size = (await asyncio.to_thread(container_path.stat)).st_size
        if state.size and state.size != size:
            raise BidRejected(
                _HTTP_CONFLICT, "upload_size_mismatch", "size", "declared", "this file is not the one announced"
            )
        return await self._finish(
            upload_id, container_path, size=size, offset=state.offset, chunk_size=chunk_size, on_progress=on_progress
        )

    async def _finish(
        self,
        upload_id: str,
        path: Path,
        *,
        size: int,
        offset: int,
        chunk_size: int,
        on_progress: ProgressCallback | None,
    ) -> Receipt:
        await self._send_chunks(
            upload_id, path, size=size, offset=offset, chunk_size=chunk_size, on_progress=on_progress
        )
        return await self.submit(upload_id)

    async def _send_chunks(
        self,
        upload_id: str,
        path: Path,
        *,
        size: int,
        offset: int,
        chunk_size: int,
        on_progress: ProgressCallback | None,
    ) -> None:
        failures = 0
        while offset < size:
            chunk = await asyncio.to_thread(_read_chunk, path, offset, chunk_size)
            try:
                response = await self.http.patch(
                    self._url(f"/uploads/{upload_id}"),
                    content=chunk,
                    headers={
                        **self._auth,
                        "Upload-Offset": str(offset),
                        "Content-Type": "application/offset+octet-stream",
                    },
                )
            except httpx.TransportError:
                failures = await self._back_off(failures)
                offset = (await self._state_with_retries(upload_id)).offset
                continue
            if response.status_code == _HTTP_CONFLICT and rejection(response).code == _OFFSET_MISMATCH:
                failures = await self._back_off(failures)
                offset = (await self._state_with_retries(upload_id)).offset
                continue
            checked(response)
            offset = int(response.headers.get("Upload-Offset", offset + len(chunk)))
            failures = 0
            if on_progress is not None:
                on_progress(offset, size)

    async def _state_with_retries(self, upload_id: str) -> UploadState:
        failures = 0
        while True:
            try:
                state = await self.upload_state(upload_id)
            except httpx.TransportError:
                failures = await self._back_off(failures)
                continue
            if state.refusal or state.status == "refused":
                raise BidRejected(422, "bid_refused", None, None, f"the upload was refused: {state.refusal}")
            return state

    async def _back_off(self, failures: int) -> int:
        failures += 1
        if failures > self.max_retries:
            raise BidRejected(503, "upload_interrupted", None, None, f"gave up after {self.max_retries} retries")
        await asyncio.sleep(self.retry_delay * failures)
        return failures

    # --- after submitting ---

    async def withdraw(self, tender: str, lot: str, signer: SigningIdentity) -> Receipt:
        """Withdraw the bid for a lot before the deadline (Order 20 Art. 27), signed here with the
        bidder's certificate over `fmt.withdrawal_statement` (the current version's receipt, read
        from our receipts); a receipt of kind ``withdrawal``.
        """
        bidder, receipt_no = await self._current_submission(tender, lot)
        statement = fmt.withdrawal_statement(tender, lot, bidder, receipt_no)
        signature = await sign_statement_async(statement, signer)
        body = {"signature": base64.b64encode(signature).decode()}
        return Receipt.from_api(await self._json("POST", f"/tenders/{tender}/lots/{lot}/withdrawal", json=body))

    async def revoke(self, tender: str, lot: str, signer: SigningIdentity) -> Receipt:
        """Revoke (撤销) the bid for a lot after the deadline, within the bid validity period
        (实施条例 Art. 35: the bid security may be kept or claimed), signed here with the bidder's
        certificate over `fmt.revocation_statement`, which states that consequence; a receipt of
        kind ``revocation``.
        """
        bidder, receipt_no = await self._current_submission(tender, lot)
        statement = fmt.revocation_statement(tender, lot, bidder, receipt_no)
        signature = await sign_statement_async(statement, signer)
        body = {"signature": base64.b64encode(signature).decode()}
        return Receipt.from_api(await self._json("POST", f"/tenders/{tender}/lots/{lot}/revocation", json=body))

    async def _current_submission(self, tender: str, lot: str) -> tuple[str, str]:
        """Our USCC and the receipt number of our current submitted version for ``lot``."""
        for entry in await self.my_bids(tender):
            if entry.get("lot") != lot or entry.get("status") != "submitted" or not entry.get("versions"):
                continue
            current = entry["versions"][0]  # newest first
            return str(current["record"]["bidder"]), str(current["receiptNo"])
        raise LocalRefusal("bid", "submitted", f"no submitted bid of ours for tender {tender}, lot {lot}")

    # --- the opening hall ---

    async def opening(self, tender: str) -> dict[str, Any]:
        """The hall's state (stage, countdown from the server's clock, price table from 唱标 on)."""
        data: dict[str, Any] = await self._json("GET", f"/opening/{tender}")
        return data

    async def sign_in(self, tender: str, signature: bytes) -> Any:
        """签到 with the bidder's CAdES signature over `fmt.sign_in_statement` (see `sign_in_signed`)."""
        body = {"signature": base64.b64encode(signature).decode()}
        return await self._json("POST", f"/opening/{tender}/sign-in", json=body)

    async def envelopes(self, tender: str) -> list[dict[str, Any]]:
        """The caller's bids at the opening: each part's envelope header (wrapped keys, binding)."""
        data: list[dict[str, Any]] = await self._json("GET", f"/opening/{tender}/envelopes")
        return data

    async def holder_envelopes(self, tender: str, lot: str, bidder: str) -> list[dict[str, Any]]:
        """A bid's envelope headers, for a key holder releasing its share (escrow remedy)."""
        data: list[dict[str, Any]] = await self._json("GET", f"/opening/{tender}/lots/{lot}/bids/{bidder}/envelopes")
        return data

    async def send_backup(self, tender: str, lot: str, part: str, content: bytes) -> dict[str, Any]:
        """The backup channel: one part's backup (generated with the sealed file, `build_container`'s
        ``backup_dir``), inside the decryption window, when the tender's remedy plan names it.
        """
        response = checked(
            await self.http.post(
                self._url(f"/opening/{tender}/backups/{lot}/{part}"),
                content=content,
                headers={**self._auth, "Content-Type": "application/octet-stream"},
            )
        )
        data: dict[str, Any] = response.json()
        return data

    async def send_content_key(self, tender: str, lot: str, part: str, content_key: bytes) -> dict[str, Any]:
        """Send one part's content key (never the private key) inside the decryption window."""
        body = {"lot": lot, "part": part, "contentKey": base64.b64encode(content_key).decode()}
        data: dict[str, Any] = await self._json("POST", f"/opening/{tender}/decryption", json=body)
        return data

    async def release_shares(
        self, tender: str, lot: str, bidder: str, shares: Mapping[str, str], signature: bytes
    ) -> dict[str, Any]:
        """A key holder's signed shares (base64 per part) of one bid."""
        body = {
            "lot": lot,
            "bidder": bidder,
            "shares": dict(shares),
            "signature": base64.b64encode(signature).decode(),
        }
        data: dict[str, Any] = await self._json("POST", f"/opening/{tender}/shares", json=body)
        return data

    async def file_objection(self, tender: str, text: str, signature: bytes) -> dict[str, Any]:
        body = {"text": text, "signature": base64.b64encode(signature).decode()}
        data: dict[str, Any] = await self._json("POST", f"/opening/{tender}/objections", json=body)
        return data

    # --- objections to the candidates' publicity (``/api/v1/award``) ---

    async def _award_json(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}{API}/award/tenders{path}"
        return checked(await self.http.request(method, url, headers=self._auth, **kwargs)).json()

    async def publicities(self, tender: str) -> list[dict[str, Any]]:
        """The tender's opened candidates' publicities (award id, lot group, content SHA-256, period)."""
        data: list[dict[str, Any]] = await self._award_json("GET", f"/{tender}/publicity")
        return data

    async def file_publicity_objection(self, tender: str, award: str, text: str, signature: bytes) -> dict[str, Any]:
        body = {"award": award, "text": text, "signature": base64.b64encode(signature).decode()}
        data: dict[str, Any] = await self._award_json("POST", f"/{tender}/objections", json=body)
        return data

    # --- complaints to the supervisor (``/api/v1/award``) ---

    async def complaint_objections(self, tender: str) -> list[dict[str, Any]]:
        """Our objections to the tender's result, each with its complaint window and our complaints."""
        data: list[dict[str, Any]] = await self._award_json("GET", f"/{tender}/complaints/mine")
        return data

    async def file_complaint(
        self, tender: str, award: str, objection: str, text: str, signature: bytes
    ) -> dict[str, Any]:
        body = {
            "award": award,
            "objection": objection,
            "text": text,
            "signature": base64.b64encode(signature).decode(),
        }
        data: dict[str, Any] = await self._award_json("POST", f"/{tender}/complaints", json=body)
        return data

    # --- the evaluation's clarification requests (``/api/v1/evaluation``) ---

    async def _evaluation_json(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}{API}/evaluation{path}"
        return checked(await self.http.request(method, url, headers=self._auth, **kwargs)).json()

    async def clarifications(self) -> list[dict[str, Any]]:
        """Our organisation's clarification requests (澄清), newest first."""
        data: list[dict[str, Any]] = await self._evaluation_json("GET", "/clarifications/mine")
        return data

    async def clarification(self, clarification_id: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._evaluation_json("GET", f"/clarifications/{clarification_id}")
        return data

    async def answer_clarification(self, clarification_id: str, answer: str, signature: bytes) -> dict[str, Any]:
        """The signed answer (see `hall.answer_clarification_signed`)."""
        body = {"answer": answer, "signature": base64.b64encode(signature).decode()}
        data: dict[str, Any] = await self._evaluation_json(
            "POST", f"/clarifications/{clarification_id}/answer", json=body
        )
        return data

    async def confirm(self, tender: str, signature: bytes) -> dict[str, Any]:
        body = {"signature": base64.b64encode(signature).decode()}
        data: dict[str, Any] = await self._json("POST", f"/opening/{tender}/confirmation", json=body)
        return data

    async def opening_record_pdf(self, tender: str) -> bytes:
        """The opening record's current PDF (platform-signed; host-signed once published)."""
        response = checked(await self.http.get(self._url(f"/opening/{tender}/record.pdf"), headers=self._auth))
        return response.content

    async def upload_host_signed_record(self, tender: str, pdf: bytes) -> dict[str, Any]:
        """The host sends the record with its incremental signature; it becomes the published one."""
        response = checked(
            await self.http.post(
                self._url(f"/opening/{tender}/record/host-signature"),
                content=pdf,
                headers={**self._auth, "Content-Type": "application/pdf"},
            )
        )
        data: dict[str, Any] = response.json()
        return data


async def login(
    base_url: str,
    username: str,
    password: str,
    *,
    totp: str | None = None,
    organisation_id: str | None = None,
    http: httpx.AsyncClient | None = None,
) -> str:
    """A bearer token from ``POST /api/v1/auth/tokens`` (username, password, TOTP when enabled)."""
    body: dict[str, Any] = {"username": username, "password": password}
    if totp:
        body["totp"] = totp
    if organisation_id:
        body["organisation_id"] = organisation_id
    client = http or httpx.AsyncClient(timeout=30.0)
    try:
        response = checked(await client.post(f"{base_url.rstrip('/')}{API}/auth/tokens", json=body))
    finally:
        if http is None:
            await client.aclose()
    return str(response.json()["token"])
