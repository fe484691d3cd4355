"""The online contract as its page and its API read it: which award the contract is of, and what
the caller (a party or a visitor) sees and may do next. Both `web_contract` and `api_contract`
answer from here, so the page and the API never disagree on who may draft, sign or record the
performance security.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import contract as contracts
from bidding.award import publicity
from bidding.award.lookups import tender_of
from bidding.award.models import Award, Contract
from bidding.award.states import AwardState
from bidding.models import Tender
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound


@dataclass(frozen=True)
class ContractView:
    """The contract as the caller may see it, and what the caller may do next."""

    award: Award
    contract: Contract | None
    party: str
    """``tenderee``, ``winner`` or ``""`` (a visitor: the published contract only)."""
    may_draft: bool
    may_sign: bool
    may_record_security: bool


async def contract_award_of(db_session: AsyncSession, tender: Tender) -> Award:
    """The tender's award that reached the notices (the latest), else NotFound."""
    for award in reversed(await publicity.awards_of_tender(db_session, tender.id)):
        if award.state in {AwardState.NOTICES_ISSUED, AwardState.CONTRACT_SIGNED, AwardState.CLOSED}:
            return award
    raise NotFound("no contract for this tender", field="code", rule="exists")


async def contract_view(db_session: AsyncSession, tender: Tender, actor: Actor) -> ContractView:
    """What the contract's page and ``GET …/contract`` show the actor (NotFound while unpublished to a
    visitor).
    """
    award = await contract_award_of(db_session, tender)
    contract = await contracts.contract_of(db_session, award.id)
    party = ""
    if publicity.is_tenderee(actor, tender):
        party = "tenderee"
    elif actor.organisation_id is not None and actor.organisation_id == award.chosen_organisation_id:
        party = "winner"
    if not party and (contract is None or contract.published_at is None):
        raise NotFound("the contract is not published", field="code", rule="exists")
    open_state = award.state is AwardState.NOTICES_ISSUED
    unsigned_by_tenderee = contract is not None and contract.tenderee_signed_at is None
    return ContractView(
        award=award,
        contract=contract,
        party=party,
        may_draft=party == "tenderee" and open_state and contract is None,
        may_sign=open_state
        and unsigned_by_tenderee
        and contract is not None
        and (
            (party == "winner" and contract.winner_signed_at is None)
            or (party == "tenderee" and contract.winner_signed_at is not None)
        ),
        may_record_security=party == "winner"
        and unsigned_by_tenderee
        and contract is not None
        and bool((contract.performance_security or {}).get("required")),
    )


async def contract_award_by_code(db_session: AsyncSession, code: str) -> Award:
    """`contract_award_of` the tender ``code`` names."""
    return await contract_award_of(db_session, await tender_of(db_session, code))
