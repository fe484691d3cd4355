"""What the guarantees pages need to know of a tender, which only ``bidding`` (a layer above) knows.

``trading.guarantees`` may not import ``bidding``; ``trading.server`` (above both) registers a
``TenderFacts`` source at start-up (``trading/server/guarantee_facts.py``, called from ``app.py``).
Without one, nothing is known of any tender: the bidder types the beneficiary and the lot by hand
(validated by ``service.apply``) and the tenderee's securities page shows nothing (fail closed,
since without the deadline it cannot tell whether naming the bidders is allowed yet).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees.models import ClaimTrigger


@dataclass(frozen=True)
class TenderOwners:
    """Who owns a published tender and whether its bid deadline has passed (the database clock)."""

    project_code: str
    tenderee_organisation_id: uuid.UUID
    agency_organisation_id: uuid.UUID | None
    deadline_passed: bool


@dataclass(frozen=True)
class SecurityFacts:
    """The bid security a lot requires, as an application states it (validity as Beijing dates)."""

    project_code: str
    lot_code: str
    lot_name: str
    amount: Decimal
    currency: str
    valid_from: date
    valid_until: date
    beneficiary_name: str
    beneficiary_uscc: str


class TenderFacts(Protocol):
    async def owners(self, session: AsyncSession, project_code: str) -> TenderOwners | None: ...

    async def security(self, session: AsyncSession, project_code: str, lot_code: str) -> SecurityFacts | None: ...

    async def trigger_recorded(
        self, session: AsyncSession, project_code: str, bid_id: uuid.UUID, trigger: ClaimTrigger
    ) -> bool: ...


_source: TenderFacts | None = None


def use_tender_facts(source: TenderFacts | None) -> TenderFacts | None:
    """Register the source (None: none); returns the previous one so tests can put it back."""
    global _source
    previous, _source = _source, source
    return previous


async def owners(session: AsyncSession, project_code: str) -> TenderOwners | None:
    return None if _source is None else await _source.owners(session, project_code)


async def security(session: AsyncSession, project_code: str, lot_code: str) -> SecurityFacts | None:
    return None if _source is None else await _source.security(session, project_code, lot_code)


async def trigger_recorded(
    session: AsyncSession, project_code: str, bid_id: uuid.UUID | None, trigger: ClaimTrigger
) -> bool:
    """Whether the tender's own records show ``trigger`` for the bid a guarantee secures (a claim
    arises only from a statutory trigger, §6.1). False without a source or a bid: fail closed.
    """
    if _source is None or bid_id is None:
        return False
    return await _source.trigger_recorded(session, project_code, bid_id, trigger)
