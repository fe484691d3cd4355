"""The service-item list (服务事项清单): publish an item or a new version of one, read the
current list and an item's versions.

Time comes from ``trading.kernel.clock.now(session)`` (the database clock). Refusals are
``ValidationFailed`` subclasses naming the field and the rule; services only flush.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.audit import record
from intermediary_market.models import ServiceItem
from intermediary_market.repository import MarketRepository
from intermediary_market.schemas import ServiceItemCreate
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, ValidationFailed

# A service item's standard time limit (承诺时限) in days: ten years is beyond any real one, and
# the column is a 32-bit integer that a larger number would overflow (a 500, not a refusal).
MAX_STANDARD_DAYS = 3650


class ItemService:
    """The service-item list; the base of the marketplace's services (session and repository)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = MarketRepository(session)

    async def publish_item(self, data: ServiceItemCreate, *, actor: Actor) -> ServiceItem:
        """A new item, or a new version superseding the current version of the same code."""
        if not data.code.strip() or not data.name.strip():
            raise ValidationFailed("the item needs a code and a name", field="code", rule="required")
        if not data.legal_basis.strip():
            # An approval-related service exists only because a law or regulation requires it.
            raise ValidationFailed(
                "the item needs its legal basis (the provision that requires the service)",
                field="legal_basis",
                rule="legal_basis_required",
            )
        if data.standard_days < 1:
            raise ValidationFailed("the standard time limit is at least one day", field="standard_days", rule="min")
        if data.standard_days > MAX_STANDARD_DAYS:
            raise ValidationFailed(
                f"the standard time limit is at most {MAX_STANDARD_DAYS} days", field="standard_days", rule="max"
            )
        previous = await self.repo.retire_item(data.code)
        item = ServiceItem(
            code=data.code.strip(),
            version=previous + 1,
            current=True,
            name=data.name,
            legal_basis=data.legal_basis,
            approval=data.approval,
            required_qualification=data.required_qualification,
            fee_basis=data.fee_basis,
            standard_days=data.standard_days,
            created_at=await clock.now(self.session),
        )
        await self.repo.add(item)
        await record(
            self.session, actor, "item_published", "service_item", item.id, {"code": item.code, "version": item.version}
        )
        return item

    async def items(self) -> Sequence[ServiceItem]:
        return await self.repo.current_items()

    async def item_versions(self, code: str) -> Sequence[ServiceItem]:
        versions = await self.repo.item_versions(code)
        if not versions:
            raise NotFound("no such service item", field="code", rule="exists")
        return versions

    async def _item(self, code: str) -> ServiceItem:
        item = await self.repo.current_item(code)
        if item is None:
            raise ValidationFailed("no such service item", field="item_code", rule="item_exists")
        return item
