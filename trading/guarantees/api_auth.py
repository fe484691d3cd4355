"""The server side of the guarantor API's authentication: a Litestar dependency that verifies a request's
RFC 9421 signature (`trading.guarantees.httpsig`), checks the signer's certificate is still good, records
the nonce (a replay is refused), and an idempotency helper that answers a retried ``Idempotency-Key`` with
the response already given.

Use in an endpoint (the guarantor API is not behind bearer tokens: the signature is the credential)::

    @post("/api/v1/guarantor/…", opt=…)
    async def answer(
        request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], data: JSONBody[SomeInput]
    ) -> Response[Out]:
        caller = await authenticate(request, db_session)
        return await idempotent(db_session, caller, lambda: service.do(db_session, caller.guarantor_id, data))

`authenticate` is called first thing in the handler, not declared as a Litestar dependency: a dependency
that raises after ``db_session`` was provided leaves that generator unclosed (Litestar enters the cleanup
group only once every dependency resolved), so the session would neither roll back nor close.

Which certificate a key id names, and whether it may still be used (valid, not revoked, guarantor
onboarded), is the guarantees core's to say: it registers a `GuarantorKeys` at wiring time with
`use_guarantor_keys`; with none registered every request is refused (fail closed).

All refusals are `DomainError`s, so ``/api/v1`` renders them as RFC 9457 problem+json: 401 with the
reason as the problem ``type`` (``urn:ggzy:error:request_replayed`` …) and in ``errors[0].rule`` with
the header at fault as ``field``; 400/422 for a missing or reused ``Idempotency-Key``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cryptography import x509
from litestar import Request, Response
from litestar.serialization import encode_json
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees import api_store, httpsig
from trading.kernel import clock
from trading.kernel.errors import DomainError

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255
REPLAYED_HEADER = "Idempotent-Replayed"
"""Set to ``true`` on a response that repeats the one stored for the ``Idempotency-Key``."""

RULE_CERTIFICATE_INVALID = "request_certificate_invalid"
RULE_IDEMPOTENCY_KEY_MISSING = "idempotency_key_missing"
RULE_IDEMPOTENCY_KEY_FORMAT = "idempotency_key_format"
RULE_IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"

# The header a client should look at for each refusal (the problem's ``errors[0].field``).
_FIELD = {
    httpsig.Refusal.UNSIGNED: "Signature",
    httpsig.Refusal.SIGNATURE_INVALID: "Signature",
    httpsig.Refusal.KEY_UNKNOWN: "Signature-Input",
    httpsig.Refusal.EXPIRED: "Signature-Input",
    httpsig.Refusal.DIGEST_MISMATCH: "Content-Digest",
    httpsig.Refusal.COMPONENT_MISSING: "Signature-Input",
    httpsig.Refusal.REPLAYED: "Signature-Input",
}


class GuarantorRequestRefused(DomainError):
    """A guarantor API request whose signature, key or nonce is not acceptable (401).

    ``reason`` is one of `httpsig.Refusal` or `RULE_CERTIFICATE_INVALID`; it is the problem's ``type``.
    """

    status_code = 401
    code = "guarantor_request_refused"
    title = "The guarantor's request was refused"

    def __init__(self, reason: str, message: str, *, field: str = "Signature") -> None:
        super().__init__(message, field=field, rule=reason)
        self.reason = reason

    def problem(self) -> dict[str, Any]:
        body = super().problem()
        body["type"] = f"urn:ggzy:error:{self.reason}"
        return body


class IdempotencyKeyMissing(DomainError):
    """An unsafe request without a usable ``Idempotency-Key`` (400)."""

    status_code = 400
    code = "idempotency_key_missing"
    title = "An Idempotency-Key header is required"


class IdempotencyKeyReused(DomainError):
    """An ``Idempotency-Key`` already used for a different request (422)."""

    status_code = 422
    code = "idempotency_key_reused"
    title = "The Idempotency-Key was used for a different request"


@dataclass(frozen=True)
class GuarantorKey:
    """What the guarantees core knows about a key id: whose it is and whether it may sign now."""

    guarantor_id: str
    certificate: x509.Certificate
    refusal: str | None = None
    """Why the certificate may not be used now (revoked, expired, guarantor not onboarded), in English
    for the problem's ``detail``; None when it may."""


class GuarantorKeys(Protocol):
    """``key_id`` (hex SHA-256 of the API certificate's DER) → the guarantor's key, None when unknown."""

    async def __call__(self, session: AsyncSession, key_id: str, now: datetime, /) -> GuarantorKey | None: ...


_keys: list[GuarantorKeys] = []


def use_guarantor_keys(keys: GuarantorKeys | None) -> GuarantorKeys | None:
    """Register how key ids are looked up (``trading.server.wiring``); return the previous one (tests)."""
    previous = _keys[0] if _keys else None
    _keys.clear()
    if keys is not None:
        _keys.append(keys)
    return previous


@dataclass(frozen=True)
class GuarantorCaller:
    """A request the signature has authenticated: who sent it and the bytes it covers."""

    guarantor_id: str
    key_id: str
    certificate: x509.Certificate
    method: str
    path: str
    """Path and query as received (what the idempotency record compares)."""
    body: bytes
    idempotency_key: str | None

    @property
    def body_sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


async def authenticate(request: Request[Any, Any, Any], db_session: AsyncSession) -> GuarantorCaller:
    """Verify the request or raise the refusal naming its reason (call it first in the handler).

    Reads the raw body (the handler's ``data`` is parsed from the same cached bytes), checks the
    ``Idempotency-Key`` on unsafe methods first (a 400 names it), then the signature, then the key's
    standing, then records the nonce in the request's transaction (a refused or failed request rolls
    back and leaves no nonce: it had no effect, so its replay is harmless).
    """
    method = request.method.upper()
    lines = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.scope["headers"]]
    _check_idempotency_key(method, lines)
    body = await request.body()
    now = await clock.now(db_session)
    key = await _claimed_key(db_session, lines, now)
    try:
        verified = httpsig.verify_request(
            method=method,
            url=str(request.url),
            headers=lines,
            body=body,
            resolve=lambda kid: key.certificate if key is not None and kid == httpsig.key_id(key.certificate) else None,
            now=now,
        )
    except httpsig.SignatureRefused as exc:
        raise GuarantorRequestRefused(exc.code, exc.detail, field=_FIELD[exc.code]) from None
    if key is None:  # pragma: no cover - verify_request refuses an unknown key first
        raise GuarantorRequestRefused(httpsig.Refusal.KEY_UNKNOWN, "unknown key", field="Signature-Input")
    if key.refusal is not None:
        raise GuarantorRequestRefused(
            RULE_CERTIFICATE_INVALID, f"the signing certificate may not be used: {key.refusal}", field="Signature-Input"
        )
    if not await api_store.record_nonce(db_session, verified.key_id, verified.nonce, verified.remember_until):
        raise GuarantorRequestRefused(
            httpsig.Refusal.REPLAYED,
            f"the nonce {verified.nonce!r} was already used with this key: the request is a replay",
            field="Signature-Input",
        )
    raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    query = request.scope.get("query_string", b"").decode("latin-1")
    return GuarantorCaller(
        guarantor_id=key.guarantor_id,
        key_id=verified.key_id,
        certificate=verified.certificate,
        method=method,
        path=f"{raw_path}?{query}" if query else raw_path,
        body=body,
        idempotency_key=verified.idempotency_key,
    )


def _check_idempotency_key(method: str, lines: list[tuple[str, str]]) -> None:
    """Refuse an unsafe request without one usable ``Idempotency-Key`` before anything else is checked."""
    values = [value.strip() for name, value in lines if name.lower() == IDEMPOTENCY_HEADER.lower()]
    if method in httpsig.SAFE_METHODS:
        return
    if not values:
        raise IdempotencyKeyMissing(
            f"a {method} request needs an {IDEMPOTENCY_HEADER} header (a unique value per operation, "
            "the same on every retry)",
            field=IDEMPOTENCY_HEADER,
            rule=RULE_IDEMPOTENCY_KEY_MISSING,
        )
    value = values[0]
    if len(values) > 1 or not 1 <= len(value) <= IDEMPOTENCY_KEY_MAX or not value.isascii() or not value.isprintable():
        raise IdempotencyKeyMissing(
            f"the {IDEMPOTENCY_HEADER} header must be one value of 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII "
            "characters",
            field=IDEMPOTENCY_HEADER,
            rule=RULE_IDEMPOTENCY_KEY_FORMAT,
        )


async def _claimed_key(session: AsyncSession, lines: list[tuple[str, str]], now: datetime) -> GuarantorKey | None:
    """The key the signature names, looked up before verifying (None: unknown, refused by the verifier)."""
    try:
        kid = httpsig.claimed_key_id(lines)
    except httpsig.SignatureRefused as exc:
        raise GuarantorRequestRefused(exc.code, exc.detail, field=_FIELD[exc.code]) from None
    if not _keys:
        return None
    return await _keys[0](session, kid, now)


async def idempotent(
    session: AsyncSession,
    caller: GuarantorCaller,
    run: Callable[[], Awaitable[Any]],
    *,
    status_code: int = 201,
) -> Response[Any]:
    """Run ``run`` once per ``Idempotency-Key``: the first time its result is stored and returned as JSON
    with ``status_code``; a retry with the same method, path and body gets the stored bytes verbatim
    (``Idempotent-Replayed: true``), without running ``run``; a different request under the same key is
    refused (422 ``idempotency_key_reused``). If ``run`` raises, the transaction rolls back and the key is
    free again (nothing was done, so nothing is to be repeated).
    """
    if caller.idempotency_key is None:
        raise IdempotencyKeyMissing(
            f"this operation needs an {IDEMPOTENCY_HEADER} header",
            field=IDEMPOTENCY_HEADER,
            rule=RULE_IDEMPOTENCY_KEY_MISSING,
        )
    record = await api_store.claim_idempotency(
        session,
        key_id=caller.key_id,
        idempotency_key=caller.idempotency_key,
        method=caller.method,
        path=caller.path,
        request_sha256=caller.body_sha256,
        now=await clock.now(session),
    )
    if (record.method, record.path, record.request_sha256) != (caller.method, caller.path, caller.body_sha256):
        raise IdempotencyKeyReused(
            f"the {IDEMPOTENCY_HEADER} {caller.idempotency_key!r} was first used for {record.method} {record.path} "
            "with a different body; use a new key for a new operation",
            field=IDEMPOTENCY_HEADER,
            rule=RULE_IDEMPOTENCY_KEY_REUSED,
        )
    if record.response_status is not None:
        return Response(
            content=record.response_body or b"",
            status_code=record.response_status,
            media_type=record.response_media_type or "application/json",
            headers={REPLAYED_HEADER: "true"},
        )
    content = encode_json(await run())
    record.response_status = status_code
    record.response_media_type = "application/json"
    record.response_body = content
    await session.flush()
    return Response(content=content, status_code=status_code, media_type="application/json")
