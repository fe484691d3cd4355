"""The guarantor API: what a guarantor's own system (``python -m trading.guarantees.client`` or a bank's)
calls to work its queue — read applications, decide, upload the signed guarantee, answer claims and
acknowledge releases.

Every request is signed with the guarantor's certificate (RFC 9421, `trading.guarantees.httpsig`;
`api_auth.authenticate` is the first thing each handler does) — that signature is the credential, so
the routes are in ``PUBLIC_ROUTES`` (no bearer token) and the OpenAPI document names the scheme
``guarantorSignature``. Unsafe calls need an ``Idempotency-Key`` (`api_auth.idempotent`). A guarantor
sees only its own applications, claims and releases: another's is a 404, as if it did not exist.

**Decision.** ``approve`` means the guarantor accepts the application and confirms the fee is settled
(the fee is paid to the guarantor, outside the platform): the application moves applied → paid
(`service.mark_paid`), and the guarantee may then be uploaded. Approving a paid application changes
nothing. ``refuse`` (with a reason) ends it (`service.refuse`).

**Upload.** The platform verifies the uploaded JSON, CAdES and PDF (`verify.verify_guarantee`): signed
by this very guarantor's issuing certificate, recognised for the usage ``guarantee`` and not revoked,
and stating the application's facts (kind, applicant, beneficiary, project, lot, amount ≥ the applied
amount, currency, validity covering the applied days), the verification code the application's read
gave; then records it (`service.record_issuance`). Any finding is a 422 naming every reason.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Body, FromPath, FromQuery
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees import lifecycle, service
from trading.guarantees.api_auth import GuarantorCaller, authenticate, idempotent
from trading.guarantees.api_schemas import (
    EXAMPLE_DETAIL,
    ApplicationDetail,
    ApplicationSummary,
    ClaimAnswer,
    ClaimRead,
    DecisionInput,
    GuaranteeRecorded,
    GuaranteeUpload,
    Party,
    ReleaseRead,
)
from trading.guarantees.api_upload import claim_conditions, verify_upload
from trading.guarantees.errors import GuaranteeRefused
from trading.guarantees.models import (
    ApplicationStatus,
    ClaimStatus,
    Guarantee,
    GuaranteeApplication,
    GuaranteeClaim,
    GuaranteeProduct,
    GuaranteeRelease,
    Guarantor,
)
from trading.guarantees.payer import payer_account
from trading.guarantees.rules import verification_code_for
from trading.kernel import clock
from trading.kernel.api.errors import documents_problems
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.errors import NotFound
from trading.kernel.storage import open_store

PREFIX = "/api/v1/guarantor"
PUBLIC_PATHS = frozenset(
    {
        f"{PREFIX}/applications",
        f"{PREFIX}/applications/{{application_no}}",
        f"{PREFIX}/applications/{{application_no}}/decision",
        f"{PREFIX}/applications/{{application_no}}/guarantee",
        f"{PREFIX}/claims",
        f"{PREFIX}/claims/{{claim_id}}/answer",
        f"{PREFIX}/releases",
        f"{PREFIX}/releases/{{guarantee_no}}/acknowledge",
    }
)
"""No bearer token: the RFC 9421 signature is the credential (checked first in every handler)."""

SIGNATURE_SCHEME = "guarantorSignature"
SECURITY: list[dict[str, list[str]]] = [{SIGNATURE_SCHEME: []}]
SIGNATURE_DESCRIPTION = (
    "RFC 9421 HTTP Message Signatures with the guarantor's onboarded certificate (label `ggzy`, "
    "tag `ggzy-guarantor-api`). Covered components, in order: `@method`, `@path`, `@query`, `content-digest` "
    "and, on POST, `content-type` and `idempotency-key`. Parameters: `created` (within ±300 s of the "
    "platform's clock), `expires`, a fresh `nonce` (a replay is refused), `keyid` = lower-case hex SHA-256 of "
    "the certificate's DER, `alg` = `ecdsa-p256-sha256` or `rsa-pss-sha512`. Send `Content-Digest: "
    "sha-256=:<base64>:` (RFC 9530) of the exact body bytes, `Signature-Input` and `Signature`; every POST "
    "also carries an `Idempotency-Key` (the same on every retry of one operation). Refusals are 401 "
    "problems whose `type` names the reason (`urn:ggzy:error:request_replayed` …)."
)

# 400 (no Idempotency-Key / unparsable), 401 (signature), 404 (not this guarantor's), 409 (state),
# 422 (a rule, or the Idempotency-Key reused for another request).
SIGNED_PROBLEMS = documents_problems(400, 401, 404, 409, 422)
# A guarantor's system has a role of its own on the platform, but holds no user session: the ledger
# names the guarantor's organisation as the actor.
API_ACTOR_NAME = "guarantor API"


# --- helpers -----------------------------------------------------------------------------------------


def _secret(request: Request[Any, Any, Any]) -> bytes:
    return bytes(request.app.state.settings.secret("secret_key"))


def _verification_url(request: Request[Any, Any, Any], code: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/guarantees/verify/{code}"


async def _guarantor(session: AsyncSession, caller: GuarantorCaller) -> Guarantor:
    row = await session.get(Guarantor, uuid.UUID(caller.guarantor_id))
    if row is None:  # pragma: no cover - the key lookup found it in this transaction
        raise NotFound("no such guarantor", field="Signature-Input", rule="exists")
    return row


def _actor(guarantor: Guarantor) -> Actor:
    return Actor(
        kind=ActorKind.SYSTEM,
        display_name=f"{guarantor.display_name} ({API_ACTOR_NAME})",
        organisation_id=guarantor.organisation_id,
        organisation_name=guarantor.display_name,
    )


async def _application(session: AsyncSession, caller: GuarantorCaller, application_no: str) -> GuaranteeApplication:
    """This guarantor's application by number; another guarantor's is as unknown as a missing one."""
    query = select(GuaranteeApplication).where(
        GuaranteeApplication.application_no == application_no,
        GuaranteeApplication.guarantor_id == uuid.UUID(caller.guarantor_id),
    )
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound("no such application for this guarantor", field="application_no", rule="exists")
    return row


async def _detail(
    session: AsyncSession, request: Request[Any, Any, Any], application: GuaranteeApplication
) -> ApplicationDetail:
    product = await session.get(GuaranteeProduct, application.product_id)
    guarantee = await service.guarantee_of_application(session, application.id)
    code = (
        guarantee.verification_code
        if guarantee is not None
        else verification_code_for(_secret(request), application.application_no)
    )
    return ApplicationDetail(
        application_no=application.application_no,
        status=application.status,
        kind=application.kind,
        product=product.name if product is not None else "",
        applicant=Party(application.applicant_name, application.applicant_uscc),
        beneficiary=Party(application.beneficiary_name, application.beneficiary_uscc),
        project_code=application.project_code,
        lot_code=application.lot_code,
        lot_name=application.lot_name,
        amount=application.amount,
        currency=application.currency,
        valid_from=application.valid_from,
        valid_until=application.valid_until,
        fee=application.fee,
        applied_at=application.applied_at,
        paid_at=application.paid_at,
        refusal_reason=application.refusal_reason,
        verification_code=code,
        verification_url=_verification_url(request, code),
        guarantee_no=guarantee.guarantee_no if guarantee is not None else None,
    )


def _decode(field: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise GuaranteeRefused(f"{field} is not base64", field=field, rule="base64") from None


def _statuses(raw: str, allowed: type[ApplicationStatus | ClaimStatus], default: Sequence[str]) -> list[str]:
    """``?status=a,b`` → the values; an unknown one is a 422 naming it."""
    wanted = [part.strip() for part in raw.split(",") if part.strip()] or list(default)
    known = {member.value for member in allowed}
    for value in wanted:
        if value not in known:
            raise GuaranteeRefused(
                f"unknown status {value!r}; one of {', '.join(sorted(known))}", field="status", rule="status"
            )
    return wanted


# --- the API -----------------------------------------------------------------------------------------


class GuarantorApi(Controller):
    path = "/guarantor"
    tags = ["guarantor"]

    @get(
        "/applications",
        operation_id="guarantor_applications",
        security=SECURITY,
        opt=documents_problems(401),
    )
    async def applications(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str] = "applied,paid",
    ) -> list[ApplicationSummary]:
        """This guarantor's applications, oldest first; ``status`` is a comma-separated list
        (``applied``, ``paid``, ``issued``, ``refused``, ``withdrawn``; default ``applied,paid``).
        """
        caller = await authenticate(request, db_session)
        wanted = _statuses(status, ApplicationStatus, ("applied", "paid"))
        rows = await service.guarantor_queue(
            db_session, uuid.UUID(caller.guarantor_id), [ApplicationStatus(value) for value in wanted]
        )
        return [
            ApplicationSummary(
                application_no=row.application_no,
                status=row.status,
                kind=row.kind,
                applicant_name=row.applicant_name,
                project_code=row.project_code,
                lot_code=row.lot_code,
                amount=row.amount,
                currency=row.currency,
                applied_at=row.applied_at,
            )
            for row in rows
        ]

    @get(
        "/applications/{application_no:str}",
        operation_id="guarantor_application",
        security=SECURITY,
        opt=documents_problems(401, 404),
        responses={
            200: ResponseSpec(
                data_container=ApplicationDetail,
                description="The application",
                examples=[Example(summary="a paid bid-guarantee application", value=EXAMPLE_DETAIL)],
            )
        },
    )
    async def application(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], application_no: FromPath[str]
    ) -> ApplicationDetail:
        """The facts the guarantee must state, the fee, and the verification code to print on it."""
        caller = await authenticate(request, db_session)
        return await _detail(db_session, request, await _application(db_session, caller, application_no))

    @post(
        "/applications/{application_no:str}/decision",
        operation_id="guarantor_decide",
        security=SECURITY,
        opt=SIGNED_PROBLEMS,
    )
    async def decide(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        application_no: FromPath[str],
        data: Annotated[
            DecisionInput,
            Body(
                examples=[
                    Example(summary="accept; the fee is settled", value={"decision": "approve"}),
                    Example(summary="decline", value={"decision": "refuse", "reason": "申请人授信额度不足"}),
                ]
            ),
        ],
    ) -> Response[ApplicationDetail]:
        """Approve (the guarantor accepts and confirms the fee is settled: applied → paid) or refuse
        (with a reason). Approving a paid application changes nothing.
        """
        caller = await authenticate(request, db_session)

        async def run() -> ApplicationDetail:
            application = await _application(db_session, caller, application_no)
            actor = _actor(await _guarantor(db_session, caller))
            if data.decision == "approve":
                if application.status != ApplicationStatus.PAID:
                    payer = (
                        payer_account(data.payer_account_no or "", data.payer_bank or "")
                        if data.payer_account_no is not None or data.payer_bank is not None
                        else None
                    )
                    application = await service.mark_paid(db_session, actor, application.id, payer)
            else:
                application = await service.refuse(db_session, actor, application.id, data.reason)
            return await _detail(db_session, request, application)

        return await idempotent(db_session, caller, run, status_code=200)

    @post(
        "/applications/{application_no:str}/guarantee",
        operation_id="guarantor_issue",
        security=SECURITY,
        opt=SIGNED_PROBLEMS,
    )
    async def issue(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        application_no: FromPath[str],
        data: Annotated[
            GuaranteeUpload,
            Body(
                examples=[
                    Example(
                        summary="the three signed files",
                        value={
                            "guarantee_no": "BH2026120600001",
                            "json": "eyJhbW91bnQiOi…",
                            "cades": "MIAGCSqG…",
                            "pdf": "JVBERi0xLjcK…",
                        },
                    )
                ]
            ),
        ],
    ) -> Response[GuaranteeRecorded]:
        """Upload the issued guarantee of a paid application. Verified before it is recorded; a 422
        names every reason found (``guarantee_signature_invalid``, ``guarantee_issuer_not_recognised``,
        ``guarantee_issuer_revoked``, ``guarantee_*_mismatch``, ``guarantee_amount_insufficient``,
        ``guarantee_validity_short``, ``guarantee_malformed``, ``signer_not_guarantor``,
        ``verification_code``, ``guarantee_no``).
        """
        caller = await authenticate(request, db_session)

        async def run() -> GuaranteeRecorded:
            application = await _application(db_session, caller, application_no)
            guarantor = await _guarantor(db_session, caller)
            json_bytes = _decode("json", data.json)
            cades_bytes = _decode("cades", data.cades)
            pdf_bytes = _decode("pdf", data.pdf)
            code = verification_code_for(_secret(request), application.application_no)
            signer_sha256 = await verify_upload(
                db_session,
                request,
                application,
                guarantor,
                code,
                data.guarantee_no,
                (json_bytes, cades_bytes, pdf_bytes),
            )
            guarantee = await service.record_issuance(
                db_session,
                _actor(guarantor),
                application.id,
                guarantee_no=data.guarantee_no,
                json_bytes=json_bytes,
                cades_bytes=cades_bytes,
                pdf_bytes=pdf_bytes,
                signer_cert_sha256=signer_sha256,
                claim_conditions=claim_conditions(json_bytes),
                issued_at=await clock.now(db_session),
                store=open_store(request.app.state.settings),
                verification_code=code,  # printed on the signed guarantee: the one the public page answers
            )
            return GuaranteeRecorded(
                guarantee_no=guarantee.guarantee_no,
                application_no=application.application_no,
                status=guarantee.status.value,
                verification_code=code,
                json_sha256=guarantee.json_sha256,
            )

        return await idempotent(db_session, caller, run)

    @get("/claims", operation_id="guarantor_claims", security=SECURITY, opt=documents_problems(401))
    async def claims(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[str] = "filed",
    ) -> list[ClaimRead]:
        """Claims on this guarantor's guarantees (``status``: ``filed``, ``paid``, ``rejected``; default ``filed``)."""
        caller = await authenticate(request, db_session)
        wanted = _statuses(status, ClaimStatus, ("filed",))
        query = (
            select(GuaranteeClaim, Guarantee.guarantee_no)
            .join(Guarantee, Guarantee.id == GuaranteeClaim.guarantee_id)
            .where(Guarantee.guarantor_id == uuid.UUID(caller.guarantor_id), GuaranteeClaim.status.in_(wanted))
            .order_by(GuaranteeClaim.filed_at)
        )
        return [_claim_read(claim, number) for claim, number in (await db_session.execute(query)).all()]

    @post(
        "/claims/{claim_id:uuid}/answer",
        operation_id="guarantor_answer_claim",
        security=SECURITY,
        opt=SIGNED_PROBLEMS,
    )
    async def answer(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        claim_id: FromPath[uuid.UUID],
        data: Annotated[
            ClaimAnswer,
            Body(
                examples=[
                    Example(summary="pay", value={"pay": True, "answer": "投标人在投标截止后撤回投标文件，依约赔付。"})
                ]
            ),
        ],
    ) -> Response[ClaimRead]:
        """Pay (the guarantee is paid out) or reject (it is live again) a filed claim, with the answer's words."""
        caller = await authenticate(request, db_session)

        async def run() -> ClaimRead:
            number = await _own_claim(db_session, caller, claim_id)
            actor = _actor(await _guarantor(db_session, caller))
            claim = await lifecycle.answer_claim(db_session, actor, claim_id, pay=data.pay, answer=data.answer)
            return _claim_read(claim, number)

        return await idempotent(db_session, caller, run, status_code=200)

    @get("/releases", operation_id="guarantor_releases", security=SECURITY, opt=documents_problems(401))
    async def releases(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        status: FromQuery[Literal["pending", "acknowledged"]] = "pending",
    ) -> list[ReleaseRead]:
        """Releases (注销) of this guarantor's guarantees: ``pending`` (not yet acknowledged) or ``acknowledged``."""
        caller = await authenticate(request, db_session)
        query = (
            select(GuaranteeRelease, Guarantee.guarantee_no)
            .join(Guarantee, Guarantee.id == GuaranteeRelease.guarantee_id)
            .where(Guarantee.guarantor_id == uuid.UUID(caller.guarantor_id))
            .order_by(GuaranteeRelease.requested_at)
        )
        pending = GuaranteeRelease.acknowledged_at.is_(None)
        query = query.where(pending if status == "pending" else ~pending)
        return [_release_read(release, number) for release, number in (await db_session.execute(query)).all()]

    @post(
        "/releases/{guarantee_no:str}/acknowledge",
        operation_id="guarantor_acknowledge_release",
        security=SECURITY,
        opt=SIGNED_PROBLEMS,
    )
    async def acknowledge(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], guarantee_no: FromPath[str]
    ) -> Response[ReleaseRead]:
        """The guarantor's system took note of the release (send an empty body). Acknowledging again changes nothing."""
        caller = await authenticate(request, db_session)

        async def run() -> ReleaseRead:
            query = select(Guarantee).where(
                Guarantee.guarantee_no == guarantee_no, Guarantee.guarantor_id == uuid.UUID(caller.guarantor_id)
            )
            guarantee = (await db_session.execute(query)).scalar_one_or_none()
            if guarantee is None:
                raise NotFound("no such guarantee of this guarantor", field="guarantee_no", rule="exists")
            actor = _actor(await _guarantor(db_session, caller))
            release = await lifecycle.acknowledge_release(db_session, actor, guarantee.id)
            return _release_read(release, guarantee.guarantee_no)

        return await idempotent(db_session, caller, run, status_code=200)


def _claim_read(claim: GuaranteeClaim, guarantee_no: str) -> ClaimRead:
    return ClaimRead(
        claim_id=claim.id,
        guarantee_no=guarantee_no,
        trigger=claim.trigger.value,
        amount=claim.amount,
        statement=claim.statement,
        status=claim.status,
        filed_at=claim.filed_at,
        answer=claim.answer,
        answered_at=claim.answered_at,
    )


def _release_read(release: GuaranteeRelease, guarantee_no: str) -> ReleaseRead:
    return ReleaseRead(
        guarantee_no=guarantee_no,
        reason=release.reason.value,
        requested_at=release.requested_at,
        acknowledged_at=release.acknowledged_at,
        attempts=release.attempts,
    )


async def _own_claim(session: AsyncSession, caller: GuarantorCaller, claim_id: uuid.UUID) -> str:
    query = (
        select(Guarantee.guarantee_no)
        .join(GuaranteeClaim, GuaranteeClaim.guarantee_id == Guarantee.id)
        .where(GuaranteeClaim.id == claim_id, Guarantee.guarantor_id == uuid.UUID(caller.guarantor_id))
    )
    number = (await session.execute(query)).scalar_one_or_none()
    if number is None:
        raise NotFound("no such claim on this guarantor's guarantees", field="claim_id", rule="exists")
    return number


CONTROLLERS = (GuarantorApi,)
