"""The guarantor's console (``/guarantees/console``), for a bank, insurer or guarantee company that
works on the platform's pages instead of its own system (which uses the guarantor API): the queue
of applications (applied, paid), mark paid, refuse with a reason, issue by uploading the signed
JSON, its CAdES signature and the signed PDF (``issuing.accept_issuance``, the same check as the
API's), answer claims (pay or reject with a statement) and acknowledge releases.

The caller's organisation must be an onboarded guarantor; it sees and acts on its own rows only
(another guarantor's: 404, checked before any change).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees import issuing, lifecycle, service
from trading.guarantees.errors import GuaranteeRefused
from trading.guarantees.models import (
    ClaimStatus,
    Guarantee,
    GuaranteeApplication,
    GuaranteeClaim,
    GuaranteeRelease,
    Guarantor,
)
from trading.guarantees.payer import BANK_LIMIT, account_problems, mask_account, payer_account
from trading.guarantees.policies import GuaranteesPermission
from trading.guarantees.public import KIND_LABELS
from trading.guarantees.repository import GuaranteesRepository
from trading.guarantees.rules import verification_code_for
from trading.guarantees.web_beneficiary import TRIGGER_LABELS
from trading.guarantees.web_bidder import APPLICATION_STATUS_LABELS
from trading.guarantees.web_supervisor import RELEASE_REASONS
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound
from trading.kernel.settings import Settings
from trading.kernel.storage import open_store
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, Labels, read_form, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page
from trading.parties.certificates.trust import PlatformRefused, trust_context

CONSOLE = "guarantees.console"
UPLOAD_MAX = 10 * 1024 * 1024
LABELS = Labels(
    fields={
        "reason": N_("Reason for refusing"),
        "json": N_("Guarantee (canonical JSON)"),
        "cades": N_("Signature of the JSON (CAdES, .p7s)"),
        "pdf": N_("Signed guarantee (PDF)"),
        "decision": N_("Decision"),
        "answer": N_("Statement"),
        "guarantee_no": N_("Guarantee number"),
        "signer_cert_sha256": N_("Signing certificate"),
        "application_id": N_("Application"),
        "payer_account_no": N_("Payer's account number"),
        "payer_bank": N_("Payer's bank"),
    },
    rules={
        "account-number-format": N_("An account number has 8 to 32 digits."),
        "bank-name": N_("Give the bank's name, at most 100 characters."),
    },
)
CHOOSE_FILE = N_("Choose the file to upload.")


@dataclass
class PaidForm:
    payer_account_no: str = ""
    payer_bank: str = ""


@dataclass
class RefuseForm:
    reason: str = ""


@dataclass
class AnswerForm:
    decision: str = ""
    answer: str = ""


async def guarantor_of(session: AsyncSession, actor: Actor) -> Guarantor:
    found = (
        await GuaranteesRepository(session).guarantor_of_organisation(actor.organisation_id)
        if actor.organisation_id is not None
        else None
    )
    if found is None:
        raise NotFound("your organisation is not an onboarded guarantor", field="guarantor", rule="exists")
    return found


async def _own_application(session: AsyncSession, actor: Actor, application_id: uuid.UUID) -> GuaranteeApplication:
    guarantor = await guarantor_of(session, actor)
    row = await GuaranteesRepository(session).get(GuaranteeApplication, application_id)
    if row is None or row.guarantor_id != guarantor.id:
        raise NotFound("no such application to you", field="application_id", rule="exists")
    return row


async def _own_guarantee(session: AsyncSession, actor: Actor, guarantee_id: uuid.UUID) -> Guarantee:
    guarantor = await guarantor_of(session, actor)
    row = await GuaranteesRepository(session).get(Guarantee, guarantee_id)
    if row is None or row.guarantor_id != guarantor.id:
        raise NotFound("no such guarantee of yours", field="guarantee_id", rule="exists")
    return row


async def _file(form: Any, name: str) -> bytes:
    upload = form.get(name)
    data = await upload.read(UPLOAD_MAX + 1) if isinstance(upload, UploadFile) and upload.filename else b""
    if not data:
        raise GuaranteeRefused(CHOOSE_FILE, field=name, rule="required")
    if len(data) > UPLOAD_MAX:
        raise GuaranteeRefused("the file is larger than 10 MB", field=name, rule="max-size")
    return data


class GuarantorConsolePages(Controller):
    path = "/guarantees/console"
    include_in_schema = False

    @get("/", name=CONSOLE, opt=requires(GuaranteesPermission.ISSUE))
    async def overview(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        return await self._page(request, db_session, actor, [])

    @post("/{application_id:uuid}/paid", name="guarantees.mark_paid", opt=requires(GuaranteesPermission.ISSUE))
    async def mark_paid(
        self,
        request: Request[Any, Any, Any],
        application_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[PaidForm],
    ) -> Response[Any]:
        """The fee has arrived: applied → paid, with the account it was paid from (issue 19)."""
        await _own_application(db_session, actor, application_id)

        async def work() -> object:
            parser = FieldParser()
            number = parser.required("payer_account_no", data.payer_account_no, max_length=64)
            bank = parser.required("payer_bank", data.payer_bank, max_length=BANK_LIMIT)
            named = {p["field"] for p in parser.problems}  # a field already refused (required) once
            for name, rule, message in account_problems(number, bank):
                if name not in named:
                    parser.add(name, rule, message)
            parser.done()
            return await service.mark_paid(db_session, actor, application_id, payer_account(number, bank))

        return await self._submit(request, db_session, actor, work, application_id)

    @post("/{application_id:uuid}/refuse", name="guarantees.refuse", opt=requires(GuaranteesPermission.ISSUE))
    async def refuse(
        self,
        request: Request[Any, Any, Any],
        application_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[RefuseForm],
    ) -> Response[Any]:
        await _own_application(db_session, actor, application_id)

        async def work() -> object:
            parser = FieldParser()
            reason = parser.required("reason", data.reason, max_length=2000, single_line=False)
            parser.done()
            return await service.refuse(db_session, actor, application_id, reason)

        return await self._submit(request, db_session, actor, work, application_id)

    @post("/{application_id:uuid}/issue", name="guarantees.issue", opt=requires(GuaranteesPermission.ISSUE))
    async def issue(
        self,
        request: Request[Any, Any, Any],
        application_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Upload the signed guarantee: verified against the application, then recorded (paid → issued)."""
        application = await _own_application(db_session, actor, application_id)
        settings: Settings = request.app.state.settings
        # The code the page showed for this application, as the guarantor API's read gives it.
        code = verification_code_for(settings.secret("secret_key"), application.application_no)

        async def work() -> object:
            form = await read_form(request)
            files = {name: await _file(form, name) for name in ("json", "cades", "pdf")}
            now = await clock.now(db_session)
            try:
                context = await trust_context(db_session, settings, now)
            except PlatformRefused as exc:  # no trust list loaded: no issuer can be recognised
                raise GuaranteeRefused(exc.text, field="cades", rule=exc.reason.value) from exc
            return await issuing.accept_issuance(
                db_session,
                actor,
                application_id,
                json_bytes=files["json"],
                cades_bytes=files["cades"],
                pdf_bytes=files["pdf"],
                validator=context.validator,
                store=open_store(settings),
                verification_code=code,
                clock=lambda: now,
            )

        return await self._submit(request, db_session, actor, work, application_id)

    @post("/claims/{claim_id:uuid}/answer", name="guarantees.answer_claim", opt=requires(GuaranteesPermission.ISSUE))
    async def answer_claim(
        self,
        request: Request[Any, Any, Any],
        claim_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[AnswerForm],
    ) -> Response[Any]:
        """Pay the claim or reject it, with a statement either way."""
        claim = await GuaranteesRepository(db_session).get(GuaranteeClaim, claim_id)
        if claim is None:
            raise NotFound("no such claim", field="claim_id", rule="exists")
        await _own_guarantee(db_session, actor, claim.guarantee_id)

        async def work() -> object:
            parser = FieldParser()
            decision = data.decision.strip()
            if decision not in {"pay", "reject"}:
                parser.add("decision", "choice", "choose to pay or to reject the claim")
            answer = parser.required("answer", data.answer, max_length=4000, single_line=False)
            parser.done()
            return await lifecycle.answer_claim(db_session, actor, claim_id, pay=decision == "pay", answer=answer)

        return await self._submit(request, db_session, actor, work, claim_id, anchor="claims")

    @post(
        "/releases/{guarantee_id:uuid}/acknowledge",
        name="guarantees.acknowledge_release",
        opt=requires(GuaranteesPermission.ISSUE),
    )
    async def acknowledge(
        self,
        request: Request[Any, Any, Any],
        guarantee_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The guarantor has taken note that the guarantee is released (it no longer answers claims)."""
        await _own_guarantee(db_session, actor, guarantee_id)
        return await self._submit(
            request,
            db_session,
            actor,
            lambda: lifecycle.acknowledge_release(db_session, actor, guarantee_id),
            guarantee_id,
            anchor="releases",
        )

    async def _submit(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        work: Any,
        row_id: uuid.UUID,
        *,
        anchor: str = "queue",
    ) -> Response[Any]:
        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._page(request, db_session, actor, errors, failed=str(row_id))

        return await submit(
            db_session, work, labels=LABELS, redirect=request.app.route_reverse(CONSOLE) + f"#{anchor}", refusal=refused
        )

    @staticmethod
    async def _page(
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        errors: list[FieldError],
        *,
        failed: str = "",
    ) -> Response[Any]:
        guarantor = (
            await GuaranteesRepository(db_session).guarantor_of_organisation(actor.organisation_id)
            if actor.organisation_id is not None
            else None
        )
        if guarantor is None:  # a guarantor's user whose organisation the centre has not onboarded yet
            return await page(request, "guarantees/console.html", {"guarantor": None})
        claims = (
            await db_session.execute(
                sa.select(GuaranteeClaim, Guarantee)
                .join(Guarantee, Guarantee.id == GuaranteeClaim.guarantee_id)
                .where(Guarantee.guarantor_id == guarantor.id, GuaranteeClaim.status == ClaimStatus.FILED)
                .order_by(GuaranteeClaim.filed_at)
            )
        ).all()
        releases = (
            await db_session.execute(
                sa.select(GuaranteeRelease, Guarantee)
                .join(Guarantee, Guarantee.id == GuaranteeRelease.guarantee_id)
                .where(Guarantee.guarantor_id == guarantor.id, GuaranteeRelease.acknowledged_at.is_(None))
                .order_by(GuaranteeRelease.requested_at)
            )
        ).all()
        queue = await service.guarantor_queue(db_session, guarantor.id)
        secret = request.app.state.settings.secret("secret_key")
        context = {
            "guarantor": guarantor,
            "queue": queue,
            "masked_accounts": {a.id: mask_account(a.payer_account_no) for a in queue},
            # What each guarantee must print (`rules.verification_code_for`), shown before issue.
            "codes": {row.id: verification_code_for(secret, row.application_no) for row in queue},
            "claims": claims,
            "releases": releases,
            "errors": errors,
            "failed": failed,
            "labels": LABELS.fields,
            "kind_labels": KIND_LABELS,
            "application_status_labels": APPLICATION_STATUS_LABELS,
            "trigger_labels": TRIGGER_LABELS,
            "reasons": RELEASE_REASONS,
        }
        return await page(request, "guarantees/console.html", context)


CONTROLLERS = (GuarantorConsolePages,)
