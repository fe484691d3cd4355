"""The certificate JSON API under ``/api/v1``: certificate and QR login, bindings, the trust list, the TSA.

Public (``PUBLIC_ROUTES``): issuing a login challenge and answering it, the holder app's answer to
a QR challenge, downloading the trust list in force and its signature, and the RFC 3161 TSA. The
rest needs a bearer token and a permission. Every refusal is problem+json whose ``reason`` is the
stable code (certs' ``expired``, ``revoked``, ``ca-not-recognised-for-usage``,
``challenge-reused`` … or the platform's ``party-not-registered`` …) and ``reason_text`` says why.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from typing import Any, TypedDict

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.params import FromPath, JSONBody
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_201_CREATED,
    HTTP_204_NO_CONTENT,
    HTTP_404_NOT_FOUND,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
)
from sqlalchemy.ext.asyncio import AsyncSession

from certs.auth.challenge import Challenge
from trading.kernel.api.errors import documents_problems, problem_response
from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import DomainError, ValidationFailed
from trading.kernel.ratelimit import throttle
from trading.parties.api import token_created
from trading.parties.certificates import tsa as platform_tsa
from trading.parties.certificates.bindings import BindingService
from trading.parties.certificates.login import CertificateService
from trading.parties.certificates.trust import PlatformReason, Refusal, TrustListService
from trading.parties.deps import provide_binding_service, provide_certificate_service, provide_trust_list_service
from trading.parties.errors import (
    CertificateAlreadyBound,
    CertificateNotAccepted,
    CertificateRefused,
    TrustListNotLoaded,
    TrustListRefused,
)
from trading.parties.models import ChallengePurpose, SessionKind, TrustListVersion
from trading.parties.policies import CertificatePermission
from trading.parties.repository import TrustListRepository
from trading.parties.schemas import (
    BindingRead,
    CertificateResponse,
    ChallengeRead,
    QrResponseCreate,
    QrVerifiedRead,
    TokenRead,
    TrustListCreate,
    TrustListRead,
)

SIGNATURE_TYPE = "application/pkcs7-signature"


class SchemeOperator(TypedDict):
    name: str
    uscc: str
    territory: str


class TrustListDocument(TypedDict):
    """The published list's shape (``certs.trustlist.model``, ggzy-tl/1), for the API document: the
    envelope is typed, providers and pointers are described in the model's docs.
    """

    # The document's own camelCase field names.
    schemaVersion: str
    listType: str
    schemeOperator: SchemeOperator
    sequenceNumber: int
    issueDate: str
    nextUpdate: str
    distributionPoints: list[str]
    validationPolicy: dict[str, str]
    pointersToOtherLists: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    critical: list[str]


def challenge_read(challenge: Challenge) -> ChallengeRead:
    return ChallengeRead(
        nonce=challenge.nonce,
        origin=challenge.origin,
        purpose=challenge.purpose,
        issued_at=challenge.issued_at,
        expires_at=challenge.expires_at,
        challenge=challenge.to_dict(),
        to_sign=base64.b64encode(challenge.to_sign()).decode(),
    )


def refusal_response(refusal: Refusal, error: type[DomainError] = CertificateRefused) -> Response[Any]:
    """The problem+json of a refusal: ``reason`` (the code), ``reason_text``, ``reason_at``."""
    exc = error(refusal.text, field="certificate", rule=refusal.reason, extra=refusal.problem_extra())
    return problem_response(exc.problem())


def _b64(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(f"{field} is not base64", field=field, rule="base64") from None


class CertificateAuthController(Controller):
    """Logging in with a certificate (USB key) or with the e-licence / e-ID holder app."""

    path = "/auth"
    tags = ["auth"]
    dependencies = {"certificates": Provide(provide_certificate_service)}

    @post(
        "/certificate/challenges",
        operation_id="parties_create_certificate_challenge",
        status_code=HTTP_201_CREATED,
        summary="Issue a certificate-login challenge",
        guards=[throttle("certificate_login")],
    )
    async def create_challenge(
        self, request: Request[Any, Any, Any], certificates: NamedDependency[CertificateService]
    ) -> ChallengeRead:
        """A one-time challenge bound to the requesting origin (``Origin`` header, else the
        platform's) and an expiry. Sign ``to_sign`` with the certificate's key.
        """
        actor = await current_actor(request)
        challenge = await certificates.issue_challenge(
            ChallengePurpose.LOGIN, actor=actor, origin=request.headers.get("origin")
        )
        return challenge_read(challenge)

    @post(
        "/certificate/sessions",
        operation_id="parties_create_certificate_session",
        status_code=HTTP_201_CREATED,
        summary="Exchange a signed challenge for an API token",
        guards=[throttle("certificate_login")],
    )
    async def create_session(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[CertificateResponse],
        certificates: NamedDependency[CertificateService],
    ) -> Response[TokenRead]:
        """Validates the signature, the chain to a CA recognised for ``login``, revocation, and maps
        the certificate to an account; a refusal is 401 naming the reason.
        """
        actor = await current_actor(request)
        result = await certificates.login(msgspec.to_builtins(data), kind=SessionKind.API, actor=actor)
        if result.refusal is not None:
            # Returned, not raised: the refusal's ledger entry and the used-up challenge must commit.
            return refusal_response(result.refusal)
        assert result.token is not None  # noqa: S101 - success carries the token
        assert result.session is not None  # noqa: S101
        return token_created(result.token, result.session.expires_at)

    @post(
        "/qr/responses",
        operation_id="parties_answer_qr_challenge",
        status_code=HTTP_200_OK,
        summary="The holder app answers a login QR code",
        guards=[throttle("certificate_login")],
    )
    async def answer_qr(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[QrResponseCreate],
        certificates: NamedDependency[CertificateService],
    ) -> Response[QrVerifiedRead]:
        """The e-licence / e-ID holder app posts the signed challenge with its credential; the
        browser showing the QR code is logged in on its next poll. A refusal is 401 naming the reason.
        """
        actor = await current_actor(request)
        result = await certificates.verify_qr(msgspec.to_builtins(data), actor=actor)
        if result.refusal is not None:
            return refusal_response(result.refusal)
        assert result.kind is not None  # noqa: S101 - success names the credential
        return Response(QrVerifiedRead(credential=result.kind.value), status_code=HTTP_200_OK)


class CertsController(Controller):
    """The trust list and one's certificate bindings."""

    path = "/certs"
    tags = ["certs"]
    dependencies = {
        "bindings": Provide(provide_binding_service),
        "trust_lists": Provide(provide_trust_list_service),
    }

    @get(
        "/trust-list",
        operation_id="parties_get_trust_list",
        summary="The trust list in force",
        responses={
            HTTP_200_OK: ResponseSpec(
                TrustListDocument,
                description="The signed list's exact bytes (a ggzy-tl/1 JSON document)",
                generate_examples=False,
            )
        },
        opt=documents_problems(HTTP_404_NOT_FOUND),  # none loaded yet
    )
    async def trust_list(self, db_session: NamedDependency[AsyncSession]) -> Response[bytes]:
        """Our list exactly as published (verify these bytes against ``/trust-list/signature``)."""
        version = await self._in_force(db_session)
        return Response(
            version.document,
            media_type="application/json",
            headers={
                "ETag": f'"{version.sha256}"',
                "X-Trust-List-Sequence": str(version.sequence),
                "Link": '</api/v1/certs/trust-list/signature>; rel="signature"',
            },
        )

    @get(
        "/trust-list/signature",
        operation_id="parties_get_trust_list_signature",
        summary="The detached signature of the trust list in force",
        media_type=SIGNATURE_TYPE,
        opt=documents_problems(HTTP_404_NOT_FOUND),  # none loaded yet
    )
    async def trust_list_signature(self, db_session: NamedDependency[AsyncSession]) -> Response[bytes]:
        """The operator's detached, timestamped CAdES signature (DER) over the list's bytes."""
        version = await self._in_force(db_session)
        return Response(version.signature, media_type=SIGNATURE_TYPE, headers={"ETag": f'"{version.sha256}"'})

    @staticmethod
    async def _in_force(session: AsyncSession) -> TrustListVersion:
        version = await TrustListRepository(session).latest_own()
        if version is None:
            raise TrustListNotLoaded("no trust list has been loaded", rule=PlatformReason.TRUST_LIST_MISSING.value)
        return version

    @get(
        "/trust-lists",
        operation_id="parties_list_trust_lists",
        opt=requires(CertificatePermission.TRUST_LIST_READ),
    )
    async def versions(self, db_session: NamedDependency[AsyncSession]) -> list[TrustListRead]:
        """Every loaded version, ours and peers', newest first."""
        return [
            TrustListRead.of(version, created=True)
            for version in await TrustListRepository(db_session).history(limit=200)
        ]

    @post(
        "/trust-lists",
        operation_id="parties_load_trust_list",
        status_code=HTTP_201_CREATED,
        responses={HTTP_200_OK: ResponseSpec(TrustListRead, description="This version was already loaded")},
        opt=requires(CertificatePermission.TRUST_LIST_MANAGE),
    )
    async def load(
        self,
        data: JSONBody[TrustListCreate],
        trust_lists: NamedDependency[TrustListService],
        actor: NamedDependency[Actor],
    ) -> Response[TrustListRead]:
        """Load our signed list, or a peer platform's (``peer``): refused when forged, rolled back,
        expired, or (peer) not pinned by a pointer of our list; 422 naming the reason.
        """
        outcome = await trust_lists.load(
            _b64(data.document, "document"), _b64(data.signature, "signature"), actor=actor, peer=data.peer
        )
        if outcome.refusal is not None:
            return refusal_response(outcome.refusal, TrustListRefused)
        assert outcome.version is not None  # noqa: S101
        return Response(
            TrustListRead.of(outcome.version, created=outcome.created),
            status_code=HTTP_201_CREATED if outcome.created else HTTP_200_OK,
        )

    @post(
        "/bindings/challenges",
        operation_id="parties_create_binding_challenge",
        status_code=HTTP_201_CREATED,
        opt=requires(CertificatePermission.CERTIFICATE_BIND),
    )
    async def binding_challenge(
        self,
        request: Request[Any, Any, Any],
        bindings: NamedDependency[BindingService],
        actor: NamedDependency[Actor],
    ) -> ChallengeRead:
        """A challenge to sign with the certificate to bind (it belongs to this account only)."""
        challenge = await bindings.issue_challenge(
            ChallengePurpose.BIND, actor=actor, origin=request.headers.get("origin")
        )
        return challenge_read(challenge)

    @post(
        "/bindings",
        operation_id="parties_bind_certificate",
        status_code=HTTP_201_CREATED,
        opt=requires(CertificatePermission.CERTIFICATE_BIND),
    )
    async def bind(
        self,
        data: JSONBody[CertificateResponse],
        bindings: NamedDependency[BindingService],
        actor: NamedDependency[Actor],
    ) -> Response[BindingRead]:
        """Bind the certificate that signed the binding challenge to this account."""
        outcome = await bindings.bind(msgspec.to_builtins(data), actor=actor)
        if outcome.refusal is not None:
            error = (
                CertificateAlreadyBound
                if outcome.refusal.reason == PlatformReason.ALREADY_BOUND
                else CertificateNotAccepted
            )
            return refusal_response(outcome.refusal, error)
        assert outcome.binding is not None  # noqa: S101
        return Response(BindingRead.of(outcome.binding), status_code=HTTP_201_CREATED)

    @get(
        "/bindings",
        operation_id="parties_list_bindings",
        opt=requires(CertificatePermission.CERTIFICATE_READ),
    )
    async def list_bindings(
        self, bindings: NamedDependency[BindingService], actor: NamedDependency[Actor]
    ) -> list[BindingRead]:
        """This account's certificate bindings, live and ended."""
        return [BindingRead.of(binding) for binding in await bindings.bindings_of(actor)]

    @delete(
        "/bindings/{binding_id:uuid}",
        operation_id="parties_unbind_certificate",
        status_code=HTTP_204_NO_CONTENT,
        opt=requires(CertificatePermission.CERTIFICATE_BIND),
    )
    async def unbind(
        self,
        binding_id: FromPath[uuid.UUID],
        bindings: NamedDependency[BindingService],
        actor: NamedDependency[Actor],
    ) -> None:
        """End a binding: the certificate no longer opens this account by itself."""
        await bindings.unbind(binding_id, actor=actor)


@dataclass
class TimestampOperation(Operation):
    """The TSA reads its DER request itself (RFC 3161 media types, not JSON); this documents it."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={platform_tsa.QUERY_TYPE: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
            description="A DER TimeStampReq",
            required=True,
        )


@post(
    "/tsa",
    operation_id="parties_timestamp",
    tags=["certs"],
    status_code=HTTP_200_OK,
    summary="RFC 3161 time-stamping",
    guards=[throttle("tsa")],
    media_type=platform_tsa.REPLY_TYPE,
    opt=documents_problems(HTTP_415_UNSUPPORTED_MEDIA_TYPE),
    operation_class=TimestampOperation,
)
async def timestamp_authority(
    request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], state: State
) -> Response[bytes]:
    """POST a DER TimeStampReq as ``application/timestamp-query``; the answer is a DER
    TimeStampResp (``application/timestamp-reply``) signed by the platform TSA.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != platform_tsa.QUERY_TYPE:
        return _plain_problem(415, "unsupported_media_type", f"send {platform_tsa.QUERY_TYPE}")
    body = await request.body()
    if len(body) > platform_tsa.MAX_QUERY_BYTES:
        return _plain_problem(413, "request_too_large", "a time-stamp query is a few hundred bytes")
    actor = await current_actor(request)
    answer = await platform_tsa.timestamp(db_session, state.settings, body, client_ip=actor.client_ip)
    return Response(answer, media_type=platform_tsa.REPLY_TYPE, headers={"Cache-Control": "no-store"})


def _plain_problem(status: int, code: str, detail: str) -> Response[Any]:
    return problem_response(
        {
            "type": f"urn:ggzy:error:{code}",
            "title": code.replace("_", " ").capitalize(),
            "status": status,
            "detail": detail,
        }
    )


CONTROLLERS = (CertificateAuthController, CertsController, timestamp_authority)
PUBLIC_PATHS = (
    "/api/v1/auth/certificate/challenges",
    "/api/v1/auth/certificate/sessions",
    "/api/v1/auth/qr/responses",
    "/api/v1/certs/trust-list",
    "/api/v1/certs/trust-list/signature",
    "/api/v1/tsa",
)
