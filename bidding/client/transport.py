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
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Self, TypeVar

import httpx
from cryptography import x509

from bidding.client import format as fmt
from bidding.client.sdk import (
    content_keys,
    file_digest,
    holder_shares,
    price_table_sha256,
    sign_record,
    sign_statement_async,
    verify_receipt,
)
from certs.cms import SigningIdentity
from certs.envelope.keywrap import UnwrapKey

API: Final = "/api/v1"
BIDDING: Final = f"{API}/bidding"
DEFAULT_CHUNK: Final = 8 * 1024 * 1024
_PROBLEM_PREFIX: Final = "urn:ggzy:error:"
_OFFSET_MISMATCH: Final = "upload_offset_mismatch"
_HTTP_CONFLICT: Final = 409
_HTTP_ERROR: Final = 400

ProgressCallback = Callable[[int, int], None]
"""Called with (bytes the server holds, total size) after every accepted chunk."""

T = TypeVar("T")


class BidRejected(Exception):
    """The server refused a request; ``field`` and ``rule`` name why (from its problem+json)."""

    def __init__(
        self,
        status: int,
        code: str,
        field: str | None,
        rule: str | None,
        detail: str,
        *,
        problem: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}" + (f" ({field}: {rule})" if field or rule else ""))
        self.status = status
        self.code = code
        self.field = field
        self.rule = rule
        self.detail = detail
        self.problem = dict(problem or {})


def rejection(response: httpx.Response) -> BidRejected:
    """The `BidRejected` for an error response (problem+json, or whatever else came back)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    problem_type = str(body.get("type", ""))
    code = problem_type.removeprefix(_PROBLEM_PREFIX) if problem_type else f"http_{response.status_code}"
    errors = body.get("errors") or [{}]
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return BidRejected(
        response.status_code,
        code,
        first.get("field"),
        first.get("rule"),
        str(body.get("detail") or response.reason_phrase or response.text[:200]),
        problem=body,
    )


class LocalRefusal(Exception):
    """The client refused before sending anything; ``field`` and ``rule`` name why, as the server's
    refusals do (e.g. the price table changed from the one the bidder reviewed).
    """

    def __init__(self, field: str, rule: str, detail: str) -> None:
        super().__init__(f"{detail} ({field}: {rule})")
        self.field = field
        self.rule = rule
        self.detail = detail


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= _HTTP_ERROR:
        raise rejection(response)
    return response


@dataclass(frozen=True)
class Receipt:
    """The platform's signed receipt: the exact bytes signed and the detached CAdES signature."""

    receipt_no: str
    record: dict[str, Any]
    receipt: bytes
    signature: bytes

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Receipt:
        return cls(
            receipt_no=str(data["receiptNo"]),
            record=dict(data.get("record") or {}),
            receipt=base64.b64decode(data["receipt"], validate=True),
            signature=base64.b64decode(data["signature"], validate=True),
        )

    def save(self, directory: Path) -> tuple[Path, Path]:
        """Write ``<receiptNo>.json`` (the exact signed bytes) and ``<receiptNo>.p7s`` (DER), so
        ``openssl cms -verify -binary -inform DER -in R.p7s -content R.json -CAfile root.pem
        -purpose any`` checks them without this tool.
        """
        directory.mkdir(parents=True, exist_ok=True)
        stem = Path(self.receipt_no).name  # a receipt number is never a path
        json_path, p7s_path = directory / f"{stem}.json", directory / f"{stem}.p7s"
        json_path.write_bytes(self.receipt)
        p7s_path.write_bytes(self.signature)
        return json_path, p7s_path

    def verify(
        self, trust_roots: Sequence[x509.Certificate], *, expected: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """`verify_receipt` over the exact bytes received (never over ``record``, which is a convenience)."""
        return verify_receipt(self.receipt, self.signature, trust_roots, expected=expected)


@dataclass(frozen=True)
class UploadState:
    id: str
    offset: int
    size: int
    status: str
    refusal: Any = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> UploadState:
        return cls(
            id=str(data["id"]),
            offset=int(data.get("offset", 0)),
            size=int(data.get("size", 0)),
            status=str(data.get("status", "")),
            refusal=data.get("refusal"),
        )


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
        response = _checked(await self.http.request(method, self._url(path), headers=self._auth, **kwargs))
        return response.json()

    # --- reading ---

    async def tender(self, code: str) -> dict[str, Any]:
        data: dict[str, Any] = await self._json("GET", f"/tenders/{code}")
        return data

    async def my_bids(self, tender: str | None = None) -> Any:
        return await self._json("GET", "/bids/mine", params={"tender": tender} if tender else None)

    async def receipt_signer_pem(self) -> bytes:
        response = _checked(await self.http.get(self._url("/receipt-signer"), headers=self._auth))
        return response.content

    async def download_document(self, code: str, document_id: str, out: Path) -> Path:
        """Stream a tender document to ``out`` (the server records the download, sealed until the deadline)."""
        async with self.http.stream(
            "GET", self._url(f"/tenders/{code}/documents/{document_id}"), headers=self._auth
        ) as r:
            if r.status_code >= _HTTP_ERROR:
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
        state = await self.start_upload(tender, lot, size=size, sha256=sha256)
        return await self._finish(
            state.id, container_path, size=size, offset=state.offset, chunk_size=chunk_size, on_progress=on_progress
        )

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
            _checked(response)
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
        response = _checked(
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

    async def confirm(self, tender: str, signature: bytes) -> dict[str, Any]:
        body = {"signature": base64.b64encode(signature).decode()}
        data: dict[str, Any] = await self._json("POST", f"/opening/{tender}/confirmation", json=body)
        return data

    async def opening_record_pdf(self, tender: str) -> bytes:
        """The opening record's current PDF (platform-signed; host-signed once published)."""
        response = _checked(await self.http.get(self._url(f"/opening/{tender}/record.pdf"), headers=self._auth))
        return response.content

    async def upload_host_signed_record(self, tender: str, pdf: bytes) -> dict[str, Any]:
        """The host sends the record with its incremental signature; it becomes the published one."""
        response = _checked(
            await self.http.post(
                self._url(f"/opening/{tender}/record/host-signature"),
                content=pdf,
                headers={**self._auth, "Content-Type": "application/pdf"},
            )
        )
        data: dict[str, Any] = response.json()
        return data


class PlatformTsa:
    """The platform's RFC 3161 TSA (``POST /api/v1/tsa``) through a `BidClient`'s HTTP client, as
    a `certs.tsa.client.TsaTransport` (for `bidding.client.sdk.sign_record`).
    """

    def __init__(self, client: BidClient) -> None:
        self.client = client

    async def request(self, request_der: bytes) -> bytes:
        response = _checked(
            await self.client.http.post(
                f"{self.client.base_url}{API}/tsa",
                content=request_der,
                headers={"Content-Type": "application/timestamp-query"},
            )
        )
        return response.content


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
        response = _checked(await client.post(f"{base_url.rstrip('/')}{API}/auth/tokens", json=body))
    finally:
        if http is None:
            await client.aclose()
    return str(response.json()["token"])


class SyncBidClient:
    """`BidClient` for synchronous callers: each call runs in its own event loop and HTTP client."""

    def __init__(self, base_url: str, token: str, *, max_retries: int = 5, retry_delay: float = 1.0) -> None:
        self.base_url = base_url
        self.token = token
        self.max_retries = max_retries
        self.retry_delay = retry_delay

    def _run(self, call: Callable[[BidClient], Awaitable[T]]) -> T:
        async def run() -> T:
            async with BidClient(
                self.base_url, self.token, max_retries=self.max_retries, retry_delay=self.retry_delay
            ) as client:
                return await call(client)

        return asyncio.run(run())

    def tender(self, code: str) -> dict[str, Any]:
        return self._run(lambda c: c.tender(code))

    def my_bids(self, tender: str | None = None) -> Any:
        return self._run(lambda c: c.my_bids(tender))

    def receipt_signer_pem(self) -> bytes:
        return self._run(lambda c: c.receipt_signer_pem())

    def download_document(self, code: str, document_id: str, out: Path) -> Path:
        return self._run(lambda c: c.download_document(code, document_id, out))

    def upload(
        self,
        tender: str,
        lot: str,
        container_path: Path,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        return self._run(
            lambda c: c.upload(tender, lot, container_path, chunk_size=chunk_size, on_progress=on_progress)
        )

    def resume(
        self,
        upload_id: str,
        container_path: Path,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        return self._run(lambda c: c.resume(upload_id, container_path, chunk_size=chunk_size, on_progress=on_progress))

    def withdraw(self, tender: str, lot: str, signer: SigningIdentity) -> Receipt:
        return self._run(lambda c: c.withdraw(tender, lot, signer))

    def run(self, call: Callable[[BidClient], Awaitable[T]]) -> T:
        """Any `BidClient` coroutine, in its own event loop (the opening commands use it)."""
        return self._run(call)


async def decrypt_bid(client: BidClient, tender: str, lot: str, bidder: str, key: UnwrapKey) -> dict[str, Any]:
    """Join the decryption: fetch this bid's envelope headers, unwrap both content keys here, send the
    price summary's key, then the package's. Returns the platform's answer for the package.
    """
    envelopes = [e for e in await client.envelopes(tender) if e.get("lot") == lot]
    if not envelopes:
        raise BidRejected(404, "not_found", "lot", "exists", f"no bid of ours for lot {lot} at this opening")
    envelope = envelopes[0]
    keys = content_keys(envelope, key, tender=tender, lot=lot, bidder=bidder)
    answer: dict[str, Any] = {}
    for kind in (fmt.PRICE_SUMMARY, fmt.PACKAGE):
        if envelope["parts"][kind].get("status") == "opened":
            continue
        answer = await client.send_content_key(tender, lot, kind, keys[kind])
    return answer


async def sign_in_signed(client: BidClient, tender: str, bidder: str, signer: SigningIdentity) -> dict[str, Any]:
    """签到: sign `fmt.sign_in_statement` (tender, our USCC, the action) here and send it; our rows
    plus the statement's SHA-256.
    """
    statement = fmt.sign_in_statement(tender, bidder)
    rows = await client.sign_in(tender, await sign_statement_async(statement, signer))
    return {"tender": tender, "bidder": bidder, "rows": rows, "statementSha256": hashlib.sha256(statement).hexdigest()}


async def sign_opening_record(client: BidClient, tender: str, signer: SigningIdentity) -> dict[str, Any]:
    """The host's round trip: download the platform-signed record, sign it here (the key stays on
    this machine; the timestamp comes from the platform TSA), upload it.
    """
    pdf = await client.opening_record_pdf(tender)
    signed = await sign_record(pdf, signer, tsa=PlatformTsa(client))
    return await client.upload_host_signed_record(tender, signed)


async def release_holder_shares(
    client: BidClient,
    tender: str,
    lot: str,
    bidder: str,
    *,
    holder: x509.Certificate,
    key: UnwrapKey,
    signer: SigningIdentity,
) -> dict[str, Any]:
    """A key holder's release: fetch the bid's headers, unwrap its shares, sign the statement, send."""
    [envelope] = await client.holder_envelopes(tender, lot, bidder)
    shares = holder_shares(envelope, holder, key, tender=tender, lot=lot, bidder=bidder)
    signature = await sign_statement_async(fmt.share_release_statement(tender, lot, bidder, shares), signer)
    return await client.release_shares(tender, lot, bidder, shares, signature)


async def our_bidder_uscc(client: BidClient, tender: str) -> str:
    """Our organisation's USCC as the platform recorded it on our bids for ``tender`` (every receipt
    names it): the bidder the hall's statements must name.
    """
    named = {
        str(version["record"]["bidder"])
        for entry in await client.my_bids(tender)
        for version in entry.get("versions", [])
        if isinstance(version.get("record"), dict) and version["record"].get("bidder")
    }
    if len(named) != 1:
        raise LocalRefusal("bidder", "exists", f"no bid of ours for tender {tender} names our USCC; give it")
    return named.pop()


def checked_price_table(view: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The hall view's price table and its SHA-256, recomputed here from the lines (so what is signed
    is the digest of what is shown) and compared with the platform's ``priceTableSha256``.
    """
    table = view.get("priceTable")
    if not isinstance(table, list):
        raise LocalRefusal(
            "priceTable", "published", f"the opening is at {view.get('stage')}: no price table before 唱标"
        )
    digest = price_table_sha256(table)
    if digest != view.get("priceTableSha256"):
        raise LocalRefusal(
            "priceTableSha256",
            "digest-mismatch",
            f"the platform names {view.get('priceTableSha256')}, but the table it shows hashes to {digest}",
        )
    return table, digest


def expect_price_table(digest: str, expected: str | None) -> None:
    """Refuse (before signing or sending anything) when the table is not the one the bidder reviewed."""
    if expected is not None and expected.strip().lower() != digest:
        raise LocalRefusal(
            "priceTableSha256",
            "expect-sha256",
            f"the price table is now {digest}, not the {expected.strip()} you reviewed; nothing was sent",
        )


async def file_signed_objection(
    client: BidClient, tender: str, bidder: str, text: str, signer: SigningIdentity
) -> dict[str, Any]:
    """异议: sign `fmt.objection_statement` (tender, our USCC, the text) here and file it; the
    platform's answer plus the statement's SHA-256.
    """
    statement = fmt.objection_statement(tender, bidder, text)
    answer = await client.file_objection(tender, text, await sign_statement_async(statement, signer))
    return {**answer, "tender": tender, "bidder": bidder, "statementSha256": hashlib.sha256(statement).hexdigest()}


async def confirm_price_table(
    client: BidClient, tender: str, bidder: str, table_sha256: str, signer: SigningIdentity
) -> dict[str, Any]:
    """Confirm the opening result: sign `fmt.confirmation_statement` naming the price table's digest."""
    statement = fmt.confirmation_statement(tender, bidder, table_sha256)
    answer = await client.confirm(tender, await sign_statement_async(statement, signer))
    return {
        **answer,
        "tender": tender,
        "bidder": bidder,
        "priceTableSha256": table_sha256,
        "statementSha256": hashlib.sha256(statement).hexdigest(),
    }


def login_sync(base_url: str, username: str, password: str, *, totp: str | None = None) -> str:
    return asyncio.run(login(base_url, username, password, totp=totp))


def receipt_json(receipt: Receipt) -> str:
    """The receipt as the CLI prints it: number, record, and where the exact bytes live."""
    return json.dumps({"receiptNo": receipt.receipt_no, "record": receipt.record}, ensure_ascii=False, indent=2)
