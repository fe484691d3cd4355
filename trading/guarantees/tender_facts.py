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
