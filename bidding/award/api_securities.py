"""Claims on bid securities through the API (issue 17 point 5): the tenderee (or its agency) files a
claim (索赔) on the guarantee securing a bid, once bidding's records show the statutory trigger.

* ``POST /api/v1/award/tenders/{code}/securities/claims`` ``{"bid", "trigger", "statement", "amount"?}``
  → 201 the claim. ``trigger`` is one of ``withdrawal_after_deadline``, ``decryption_failure``,
  ``refused_to_sign``, ``no_performance_security``; ``amount`` defaults to the guarantee's amount.
  Refusals (`bidding.award.securities.file_security_claim`, then `trading.guarantees.lifecycle.file_claim`)
  name the field and the rule: ``trigger``/``choice``, ``bid``/``exists``, ``tender``/``owner``,
  ``trigger``/``trigger_not_recorded``, ``bid``/``no_guarantee``, ``amount``/``claim_amount``,
  ``guarantee_id``/``guarantee_status`` (already claimed or ended), ``guarantee_id``/``claim_after_validity``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Final

import msgspec
from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_409_CONFLICT
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.securities import file_security_claim
from bidding.policies import BiddingPermission
from bidding.schemas import Money
from bidding.visibility import Exposure, guarded
from trading.guarantees.models import ClaimTrigger
from trading.kernel.api.errors import documents_problems
from trading.kernel.auth.identity import Actor
from trading.kernel.bounds import Input, ShortText, Text
from trading.kernel.errors import ValidationFailed

PREFIX: Final = "/award/tenders"


class ClaimCreate(Input):
    bid: ShortText
    trigger: ShortText
    statement: Text
    amount: Money | None = None


class ClaimRead(msgspec.Struct, rename="camel"):
    id: str
    guarantee_id: str
    trigger: str
    amount: Decimal
    status: str
    filed_at: str


class SecurityClaimsApi(Controller):
    path = PREFIX
    tags = ["award"]

    @post(
        "/{code:str}/securities/claims",
        operation_id="award_security_claim",
        # 409: the guarantee is already claimed or has ended (`lifecycle.file_claim`'s guarantee_status).
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER) | documents_problems(HTTP_409_CONFLICT),
    )
    async def claim(
        self,
        code: FromPath[str],
        data: JSONBody[ClaimCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> ClaimRead:
        """File a claim on the guarantee securing ``bid`` for ``trigger`` (the tenderee or its agency)."""
        try:
            trigger = ClaimTrigger(data.trigger)
        except ValueError:
            raise ValidationFailed(
                f"trigger is one of {', '.join(t.value for t in ClaimTrigger)}", field="trigger", rule="choice"
            ) from None
        try:
            bid_id = uuid.UUID(data.bid)
        except ValueError:
            raise ValidationFailed("bid is the bid's id (a UUID)", field="bid", rule="exists") from None
        claim = await file_security_claim(
            db_session,
            actor,
            tender_code=code,
            bid_id=bid_id,
            trigger=trigger,
            statement=data.statement,
            amount=data.amount,
        )
        return ClaimRead(
            id=str(claim.id),
            guarantee_id=str(claim.guarantee_id),
            trigger=claim.trigger.value,
            amount=claim.amount,
            status=claim.status.value,
            filed_at=claim.filed_at.isoformat(),
        )


CONTROLLERS: list[ControllerRouterHandler] = [SecurityClaimsApi]
