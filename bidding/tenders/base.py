"""What the tender services share: limits, the collected rule errors, the base class."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding import visibility
from bidding.errors import TenderRuleViolated, TenderStateConflict
from bidding.models import (
    Lot,
    Tender,
    TenderDocument,
    TenderStatus,
)
from bidding.repository.tenders import TenderRepository
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.ledger.service import append_entry

PROJECT_CODE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""统一交易标识码: the characters the ledger accepts in a chain name (`trading.ledger.service`)."""
PROJECT_CODE_MAX: Final = 64
LOT_CODE_MAX: Final = 40
TITLE_MAX: Final = 300
QUESTION_MAX: Final = 4000
ANSWER_MAX: Final = 8000
CRITERIA_TOTAL: Final = 100
DOCUMENTS_NAMESPACE: Final = "documents"
SEARCH_LIMIT_MAX: Final = 100
DOWNLOADABLE: Final = frozenset({TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.OPENING})


@dataclass
class RuleErrors:
    """Every rule a tender breaks, raised together as one 422 listing each field and rule."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, field_name: str, rule: str, message: str) -> None:
        self.items.append({"field": field_name, "rule": rule, "message": message})

    def rules(self) -> set[tuple[str, str]]:
        return {(item["field"], item["rule"]) for item in self.items}

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        message = first["message"] if len(self.items) == 1 else f"{len(self.items)} tender rules are broken"
        raise TenderRuleViolated(message, field=first["field"], rule=first["rule"], extra={"errors": self.items})


@dataclass(frozen=True)
class TenderView:
    tender: Tender
    lots: list[Lot]
    documents: list[TenderDocument]


class TenderBase:
    """What every tender service shares: the session, the tender lookups, the owner check and the
    ledger entry on the tender's project chain.
    """

    def __init__(self, session: AsyncSession, settings: Settings, store: Store) -> None:
        self.session = session
        self.settings = settings
        self.store = store
        self.repo = TenderRepository(session)

    async def _record(
        self,
        actor: Actor,
        action: str,
        tender: Tender,
        *,
        summary: Mapping[str, Any],
        data: Mapping[str, Any] | None = None,
        sealed: bool = False,
    ) -> None:
        await append_entry(
            self.session,
            actor=actor,
            action=f"bidding.{action}",
            subject_type="bidding.tender",
            subject_id=str(tender.id),
            data={**summary, **(data or {})},
            summary=summary,
            project_code=tender.project_code,
            sealed=sealed,
        )

    # --- lookups ---------------------------------------------------------------------------------

    async def tender(self, code: str, *, lock: bool = False) -> Tender:
        tender = await self.repo.by_code(code, lock=lock)
        if tender is None:
            raise NotFound("no such tender", field="code", rule="exists")
        return tender

    @staticmethod
    def owns(actor: Actor, tender: Tender) -> bool:
        """The tenderee or its agency (the rule is `bidding.visibility.owns`)."""
        return visibility.owns(actor, tenderee=tender.tenderee_organisation_id, agency=tender.agency_organisation_id)

    def _assert_owner(self, actor: Actor, tender: Tender) -> None:
        if not self.owns(actor, tender):
            raise PermissionDenied("only the tenderee or its agency manages this tender", field="code", rule="owner")

    async def _locked(self, tender: Tender) -> Tender:
        locked = await self.repo.by_id(tender.id, lock=True)
        if locked is None:  # pragma: no cover - tenders are never deleted
            raise NotFound("no such tender", field="code", rule="exists")
        return locked

    def _open(self, tender: Tender, now: datetime) -> datetime:
        if tender.status is not TenderStatus.PUBLISHED or tender.deadline is None:
            raise TenderStateConflict("the tender is not open", field="status", rule="published_only")
        if now >= tender.deadline:
            raise TenderStateConflict("the bid deadline has passed", field="deadline", rule="before_deadline")
        return tender.deadline
