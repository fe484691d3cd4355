"""The tenderee's (or its agency's) securities of a tender (``/guarantees/securities?project=CODE``):
the guarantees naming the tenderee as beneficiary, with their status, claims and releases; and
filing a claim on one of them (one of the four statutory triggers, an amount, a statement).

**Who bid is confidential until the bid deadline** (Order 20 Art. 21; ``bidding/visibility.py``),
and a guarantee names its applicant, so the list is shown only when the tender is known through
``tender_facts.owners`` (wired from bidding), the caller's organisation is its tenderee or its
agency, and the deadline has passed by the database clock. Before the deadline the page says the
list opens at the deadline and shows nothing, not even a count. A tender that is unknown or not the
caller's is a 404; without a registered facts source every tender is unknown (fail closed).
The claimant is always the tenderee (the beneficiary), also when its agency files the claim.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees import lifecycle, service, tender_facts
from trading.guarantees.errors import GuaranteeRefused
from trading.guarantees.models import ClaimStatus, ClaimTrigger, Guarantee, GuaranteeClaim, GuaranteeRelease
from trading.guarantees.policies import GuaranteesPermission
from trading.guarantees.public import KIND_LABELS, STATUS_LABELS
from trading.guarantees.repository import LIVE, GuaranteesRepository
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, Labels, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

SECURITIES = "guarantees.securities"
MAX_CODE = 64
TRIGGER_LABELS = {
    ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE: N_("The bidder revoked its bid after the deadline"),
    ClaimTrigger.DECRYPTION_FAILURE: N_("The bidder failed to decrypt its bid at the opening"),
    ClaimTrigger.REFUSED_TO_SIGN: N_("The winning bidder refused to sign the contract"),
    ClaimTrigger.NO_PERFORMANCE_SECURITY: N_("The winning bidder did not give the performance security"),
}
CLAIM_STATUS_LABELS = {
    ClaimStatus.FILED: N_("Filed, awaiting the guarantor"),
    ClaimStatus.PAID: N_("Paid"),
    ClaimStatus.REJECTED: N_("Rejected"),
}
LABELS = Labels(
    fields={
        "trigger": N_("Trigger"),
        "amount": N_("Amount claimed (yuan)"),
        "statement": N_("Statement of the facts"),
        "guarantee_id": N_("Guarantee"),
        "claimant_organisation_id": N_("Claimant"),
    }
)


@dataclass
class ClaimForm:
    trigger: str = ""
    amount: str = ""
    statement: str = ""


@dataclass(frozen=True)
class Security:
    guarantee: Guarantee
    claims: list[GuaranteeClaim]
    release: GuaranteeRelease | None


async def _access(
    session: AsyncSession, actor: Actor, project_code: str
) -> tuple[tender_facts.TenderOwners, str] | None:
    """The tender and its tenderee's USCC when the caller owns it; None when unknown or not its."""
    owners = await tender_facts.owners(session, project_code[:MAX_CODE])
    if owners is None or actor.organisation_id is None:
        return None
    if actor.organisation_id not in {owners.tenderee_organisation_id, owners.agency_organisation_id}:
        return None
    tenderee = await GuaranteesRepository(session).organisation(owners.tenderee_organisation_id)
    return (owners, tenderee.uscc) if tenderee is not None else None


class BeneficiaryPages(Controller):
    path = "/guarantees/securities"
    include_in_schema = False

    @get("/", name=SECURITIES, opt=requires(GuaranteesPermission.CLAIM))
    async def overview(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        project: FromQuery[str] = "",
    ) -> Response[Any]:
        """The form asking for the project code; with ``?project=`` the tender's securities."""
        return await self._page(request, db_session, actor, project.strip(), [])

    @post("/{guarantee_id:uuid}/claim", name="guarantees.file_claim", opt=requires(GuaranteesPermission.CLAIM))
    async def file_claim(
        self,
        request: Request[Any, Any, Any],
        guarantee_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[ClaimForm],
    ) -> Response[Any]:
        guarantee = await GuaranteesRepository(db_session).get(Guarantee, guarantee_id)
        access = await _access(db_session, actor, guarantee.project_code) if guarantee is not None else None
        if (
            guarantee is None
            or access is None
            or not access[0].deadline_passed
            or access[1] != guarantee.beneficiary_uscc
        ):
            raise NotFound("no such guarantee of your tender", field="guarantee_id", rule="exists")
        owners, _ = access

        async def work() -> GuaranteeClaim:
            parser = FieldParser()
            trigger = parser.choice("trigger", data.trigger, ClaimTrigger)
            amount = parser.decimal("amount", data.amount, digits=16)
            statement = parser.required("statement", data.statement, max_length=4000, single_line=False)
            parser.done()
            assert trigger is not None  # noqa: S101 - done() raised otherwise
            assert amount is not None  # noqa: S101
            if not await tender_facts.trigger_recorded(db_session, guarantee.project_code, guarantee.bid_id, trigger):
                raise GuaranteeRefused(
                    f"the tender's records do not show {trigger.value} for the bid this guarantee secures",
                    field="trigger",
                    rule="trigger_not_recorded",
                )
            return await lifecycle.file_claim(
                db_session,
                actor,
                guarantee_id,
                trigger=trigger,
                claimant_organisation_id=owners.tenderee_organisation_id,
                amount=amount,
                statement=statement,
            )

        async def refused(errors: list[FieldError]) -> Response[Any]:
            return await self._page(
                request, db_session, actor, guarantee.project_code, errors, form=vars(data), failed=str(guarantee_id)
            )

        url = request.app.route_reverse(SECURITIES) + f"?project={guarantee.project_code}#g-{guarantee_id}"
        return await submit(db_session, work, labels=LABELS, redirect=url, refusal=refused)

    @staticmethod
    async def _page(
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        project: str,
        errors: list[FieldError],
        *,
        form: dict[str, str] | None = None,
        failed: str = "",
    ) -> Response[Any]:
        access = await _access(db_session, actor, project) if project else None
        securities: list[Security] = []
        if access is not None and access[0].deadline_passed:
            repo = GuaranteesRepository(db_session)
            for guarantee in await service.guarantees_of_project(db_session, access[0].project_code):
                if guarantee.beneficiary_uscc != access[1]:
                    continue
                claims = list(await lifecycle.claims_of(db_session, guarantee.id))
                securities.append(Security(guarantee, claims, await repo.release_of(guarantee.id)))
        context = {
            "project": project[:MAX_CODE],
            "known": access is not None,
            "open": access is not None and access[0].deadline_passed,
            "securities": securities,
            "live": LIVE,
            "errors": errors,
            "form": form or {},
            "failed": failed,
            "labels": LABELS.fields,
            "kind_labels": KIND_LABELS,
            "status_labels": STATUS_LABELS,
            "trigger_labels": TRIGGER_LABELS,
            "claim_status_labels": CLAIM_STATUS_LABELS,
        }
        status = 404 if project and access is None else 200
        return await page(request, "guarantees/securities.html", context, status_code=status)


CONTROLLERS = (BeneficiaryPages,)
