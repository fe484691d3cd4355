"""The online contract's JSON API (合同), over `bidding.award.contract` only.

* ``GET /api/v1/award/tenders/{code}/contract`` (public route; as the page, the service decides):
  the contract's state for the two parties before it is signed, for everyone once published: the
  parties, the price, the lots, the due date, the signatures so far, the performance security,
  the current revision's SHA-256 and what the caller may do next;
* ``GET …/contract.pdf``: the current revision (the parties; everyone once published);
* ``POST …/contract`` ``{"specialTerms", "performanceSecurity"}``: the tenderee drafts it once the
  notices are issued (`contract.draft_contract`), ``bidding:tender:manage``;
* ``POST …/contract/security`` ``{"amount", "form", "reference"}``: the winner records the
  performance security it gave (`contract.record_performance_security`), ``bidding:bid:submit``;
* ``POST …/contract/signatures/winner`` and ``…/signatures/tenderee``: the current revision with
  one's own incremental PAdES signature appended, as a raw ``application/pdf`` body
  (`contract.sign_contract`: the winner first, then the tenderee).

Refusals are the kernel's 4xx (problem+json) naming the field and the rule, decided by the service.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import contract as contracts
from bidding.award.contract_view import ContractView, contract_award_by_code, contract_view
from bidding.award.lookups import settings_and_store, tender_of
from bidding.award.models import Contract
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, exposes, guarded
from trading.kernel.auth.guards import current_actor
from trading.kernel.auth.identity import Actor

PREFIX: Final = "/award/tenders"
PUBLIC_PATHS: Final = frozenset({
    f"/api/v1{PREFIX}/{{code}}/contract",
    f"/api/v1{PREFIX}/{{code}}/contract.pdf",
})  # fmt: skip
MAX_BODY: Final = contracts.MAX_CONTRACT_BYTES + 64 * 1024


class ContractDraftWrite(msgspec.Struct, rename="camel"):
    special_terms: str = ""
    performance_security: str | None = None


class SecurityWrite(msgspec.Struct, rename="camel"):
    amount: str
    form: str
    reference: str


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _state(contract: Contract, shown: ContractView | None = None) -> dict[str, Any]:
    draft = contract.draft
    answer: dict[str, Any] = {
        "award": str(contract.award_id),
        "tenderee": {"name": draft["tenderee"]["name"], "uscc": draft["tenderee"]["uscc"]},
        "winner": {"name": draft["winner"]["name"], "uscc": draft["winner"]["uscc"]},
        "price": str(contract.price),
        "lots": [str(lot["code"]) for lot in draft["lots"]],
        "dueAt": contract.due_at.isoformat(),
        "deadlineState": contract.deadline_state,
        "sha256": contract.sha256,
        "signatures": {
            "winner": {"signedAt": _iso(contract.winner_signed_at), "signerSha256": contract.winner_signer_sha256},
            "tenderee": {
                "signedAt": _iso(contract.tenderee_signed_at),
                "signerSha256": contract.tenderee_signer_sha256,
            },
        },
        "performanceSecurity": contract.performance_security,
        "publishedAt": _iso(contract.published_at),
    }
    if shown is not None:
        answer |= {
            "party": shown.party or None,
            "maySign": shown.may_sign,
            "mayRecordSecurity": shown.may_record_security,
        }
    return answer


class AwardContractApi(Controller):
    path = PREFIX
    tags = ["award"]

    @get("/{code:str}/contract", operation_id="award_contract", opt=exposes(Exposure.PUBLIC))
    async def show(
        self, request: Request[Any, Any, Any], code: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> dict[str, Any]:
        """The contract's state (the parties before it is signed; everyone once published)."""
        actor = await current_actor(request)
        shown = await contract_view(db_session, await tender_of(db_session, code), actor)
        if shown.contract is None:
            return {"award": str(shown.award.id), "drafted": False, "party": shown.party or None}
        return {"drafted": True} | _state(shown.contract, shown)

    @get("/{code:str}/contract.pdf", operation_id="award_contract_pdf", opt=exposes(Exposure.PUBLIC))
    async def pdf(
        self, request: Request[Any, Any, Any], code: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> Response[bytes]:
        """The contract's current revision, to sign with ``ggzy bid sign-contract``."""
        actor = await current_actor(request)
        award = await contract_award_by_code(db_session, code)
        _, store = settings_and_store(request)
        data = await contracts.contract_pdf(db_session, store, actor, award.id)
        return Response(
            data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="contract-{code}.pdf"', "Cache-Control": "no-store"},
        )

    @post(
        "/{code:str}/contract",
        operation_id="award_contract_draft",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def draft(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[ContractDraftWrite],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """The tenderee drafts the contract: the tender's terms and the required performance security."""
        _, store = settings_and_store(request)
        award = await contract_award_by_code(db_session, code)
        contract = await contracts.draft_contract(
            db_session,
            store,
            actor,
            award.id,
            performance_security=data.performance_security or None,
            special_terms=data.special_terms,
        )
        return _state(contract)

    @post(
        "/{code:str}/contract/security",
        operation_id="award_contract_security",
        status_code=HTTP_201_CREATED,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def record_security(
        self,
        code: FromPath[str],
        data: JSONBody[SecurityWrite],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """The winner records the performance security (履约担保) it gave."""
        award = await contract_award_by_code(db_session, code)
        contract = await contracts.record_performance_security(
            db_session, actor, award.id, amount=data.amount, form=data.form, reference=data.reference
        )
        return _state(contract)

    async def _sign(self, request: Request[Any, Any, Any], db_session: AsyncSession, actor: Actor, code: str) -> Any:
        settings, store = settings_and_store(request)
        award = await contract_award_by_code(db_session, code)
        body = await request.body()
        contract = await contracts.sign_contract(
            db_session, settings, store=store, actor=actor, award_id=award.id, pdf=body
        )
        return _state(contract)

    @post(
        "/{code:str}/contract/signatures/winner",
        operation_id="award_contract_winner_sign",
        status_code=HTTP_201_CREATED,
        request_max_body_size=MAX_BODY,
        opt=guarded(BiddingPermission.BID_SUBMIT, Exposure.PARTICIPATION),
    )
    async def winner_sign(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """The winner's signed revision (raw ``application/pdf``): the winner signs first."""
        answer: dict[str, Any] = await self._sign(request, db_session, actor, code)
        return answer

    @post(
        "/{code:str}/contract/signatures/tenderee",
        operation_id="award_contract_tenderee_sign",
        status_code=HTTP_201_CREATED,
        request_max_body_size=MAX_BODY,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def tenderee_sign(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """The tenderee's signed revision over the winner's (raw ``application/pdf``): the contract
        is signed and published, and the bid securities' release event leaves after the commit.
        """
        answer: dict[str, Any] = await self._sign(request, db_session, actor, code)
        return answer


CONTROLLERS: list[ControllerRouterHandler] = [AwardContractApi]
