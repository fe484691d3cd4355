"""The contract's pages (合同), in Chinese with the English switch.

* ``/bidding/tenders/{code}/contract`` (public route; the service decides what it shows): the two
  parties review the contract before it is signed (its data, the PDF, who signed when, the
  performance security) with their forms: the tenderee drafts it once the notices are issued
  (``/bidding/manage/tenders/{code}/contract``), the winner records its performance security and
  uploads its signed revision (``/bidding/tenders/{code}/contract/signatures``), then the tenderee
  (``/bidding/manage/tenders/{code}/contract/signatures``). Once both signed, everyone sees the
  contract and its signing date. ``…/contract.pdf`` is the current revision (parties; everyone
  once published). The signature is made offline with ``ggzy bid sign-contract``.
* ``/bidding/supervision/contracts/overdue`` (supervisors and admins): contracts not signed by both
  parties whose deadline passed.

Forms go the kernel's way (`submit`: savepoint, 303 or 422 naming field and rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import contract as contracts
from bidding.award.contract_view import contract_award_by_code, contract_award_of, contract_view
from bidding.award.lookups import settings_and_store, tender_of
from bidding.award.models import Contract
from bidding.award.signed_act import submit_act
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, exposes, guarded
from trading.kernel import clock
from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.errors import PermissionDenied, ValidationFailed
from trading.kernel.web.forms import FieldError, read_form
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

PAGE: Final = "award.contract"
PDF: Final = "award.contract_pdf"
DRAFT: Final = "award.contract_draft"
WINNER_SIGN: Final = "award.contract_winner_sign"
TENDEREE_SIGN: Final = "award.contract_tenderee_sign"
SECURITY: Final = "award.contract_security"
OVERDUE: Final = "award.contracts_overdue"
PUBLIC_PATHS: Final = frozenset({"/bidding/tenders/{code}/contract", "/bidding/tenders/{code}/contract.pdf"})
CHOOSE_PDF: Final = N_("Choose the signed contract (PDF).")
FORM_LABELS: Final = {
    "bank_guarantee": N_("Bank guarantee"),
    "guarantee_insurance": N_("Guarantee insurance"),
    "guarantee": N_("Guarantor's letter of guarantee"),
    "cash": N_("Cash"),
}


@dataclass(frozen=True)
class ContractPage:
    """The contract's page (also where a page signature's refusal is shown)."""

    request: Request[Any, Any, Any]
    db_session: AsyncSession
    actor: Actor
    code: str

    async def render(self, errors: list[FieldError], values: dict[str, str]) -> Response[Any]:
        tender = await tender_of(self.db_session, self.code)
        shown = await contract_view(self.db_session, tender, self.actor)
        base = str(self.request.base_url).rstrip("/")
        pdf_url = self.request.app.route_reverse(PDF, code=tender.project_code)
        context = {
            "tender": tender,
            "shown": shown,
            "draft": shown.contract.draft if shown.contract is not None else {},
            "security": {"required": None, "recorded": None}
            | ((shown.contract.performance_security or {}) if shown.contract is not None else {}),
            "form_labels": FORM_LABELS,
            "pdf_url": pdf_url,
            "download": f"curl -o contract.pdf {base}{pdf_url}",
            "command": "ggzy bid sign-contract --p12 my-signing.p12 --in contract.pdf --out contract-signed.pdf"
            f" --tsa {base}/api/v1/tsa",
            "errors": errors,
            "values": values,
            "done": self.request.query_params.get("done", ""),
            "server_time": await clock.now(self.db_session),
        }
        return await page(self.request, "award/contract.html", context)


async def _signed_pdf(request: Request[Any, Any, Any]) -> bytes:
    form = await read_form(request)
    upload = form.get("pdf")
    data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else b""
    if not data:
        raise ValidationFailed(CHOOSE_PDF, field="pdf", rule="required")
    return data


class ContractPages(Controller):
    path = "/bidding"
    include_in_schema = False

    @get("/tenders/{code:str}/contract", name=PAGE, opt=exposes(Exposure.PUBLIC))
    async def show(
        self, *, request: Request[Any, Any, Any], code: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        """The contract: the parties review and sign it; everyone sees it once both signed."""
        actor = await current_actor(request)
        return await ContractPage(request, db_session, actor, code).render([], {})

    @get("/tenders/{code:str}/contract.pdf", name=PDF, opt=exposes(Exposure.PUBLIC))
    async def pdf(
        self, *, request: Request[Any, Any, Any], code: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        """The current revision (the parties; everyone once published)."""
        actor = await current_actor(request)
        tender = await tender_of(db_session, code)
        award = await contract_award_of(db_session, tender)
        _, store = settings_and_store(request)
        data = await contracts.contract_pdf(db_session, store, actor, award.id)
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="contract-{tender.project_code}.pdf"'},
        )

    @post(
        "/manage/tenders/{code:str}/contract",
        name=DRAFT,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def draft(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Draft the contract (the tenderee): the tender's terms and the required performance security."""
        _, store = settings_and_store(request)
        form = await read_form(request)
        values = {k: str(form.get(k) or "") for k in ("special_terms", "performance_security")}
        shown = ContractPage(request, db_session, actor, code)

        async def run() -> Contract:
            award = await contract_award_by_code(db_session, code)
            return await contracts.draft_contract(
                db_session,
                store,
                actor,
                award.id,
                performance_security=values["performance_security"] or None,
                special_terms=values["special_terms"],
            )

        return await submit_act(
            request,
            db_session,
            run,
            back=PAGE,
            code=code,
            done="done=drafted",
            refusal=lambda errors: shown.render(errors, values),
        )

    @post(
        "/tenders/{code:str}/contract/security",
        name=SECURITY,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def record_security(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The winner records the performance security it gave."""
        form = await read_form(request)
        values = {k: str(form.get(k) or "") for k in ("amount", "form", "reference")}
        shown = ContractPage(request, db_session, actor, code)

        async def run() -> Contract:
            award = await contract_award_by_code(db_session, code)
            return await contracts.record_performance_security(
                db_session, actor, award.id, amount=values["amount"], form=values["form"], reference=values["reference"]
            )

        return await submit_act(
            request,
            db_session,
            run,
            back=PAGE,
            code=code,
            done="done=security",
            refusal=lambda errors: shown.render(errors, values),
        )

    async def _sign(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, actor: Actor, code: str
    ) -> Response[Any]:
        settings, store = settings_and_store(request)
        shown = ContractPage(request, db_session, actor, code)

        async def run() -> Contract:
            data = await _signed_pdf(request)
            award = await contract_award_by_code(db_session, code)
            return await contracts.sign_contract(
                db_session, settings, store=store, actor=actor, award_id=award.id, pdf=data
            )

        return await submit_act(
            request,
            db_session,
            run,
            back=PAGE,
            code=code,
            done="done=signed",
            refusal=lambda errors: shown.render(errors, {}),
        )

    @post(
        "/tenders/{code:str}/contract/signatures",
        name=WINNER_SIGN,
        request_max_body_size=contracts.MAX_CONTRACT_BYTES + 64 * 1024,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def winner_sign(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The winner uploads the contract with its signature appended (``ggzy bid sign-contract``)."""
        return await self._sign(request, db_session, actor, code)

    @post(
        "/manage/tenders/{code:str}/contract/signatures",
        name=TENDEREE_SIGN,
        request_max_body_size=contracts.MAX_CONTRACT_BYTES + 64 * 1024,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def tenderee_sign(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The tenderee uploads the winner-signed contract with its own signature appended: complete."""
        return await self._sign(request, db_session, actor, code)

    @get(
        "/supervision/contracts/overdue",
        name=OVERDUE,
        opt=guarded(BiddingPermission.BID_LIST, Exposure.OWNER_OR_OVERSEER),
    )
    async def overdue(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Contracts not signed by both parties after their deadline (supervisors and admins)."""
        if not actor.roles & {Role.SUPERVISOR, Role.ADMIN}:
            raise PermissionDenied("only supervisors see overdue contracts", field="actor", rule="supervisors_only")
        now = await clock.now(db_session)
        rows = await contracts.overdue_contracts(db_session, now)
        return await page(request, "award/contracts_overdue.html", {"rows": rows, "server_time": now})


CONTROLLERS = (ContractPages,)
