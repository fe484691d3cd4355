"""Selection announcements: publish one (the seed's commitment is published with it) and read them.

Time comes from ``trading.kernel.clock.now(session)`` (the database clock). Refusals are
``ValidationFailed`` subclasses naming the field and the rule; services only flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from intermediary_market import selection
from intermediary_market.audit import record
from intermediary_market.items import ItemService
from intermediary_market.models import Announcement, AnnouncementStatus, ServiceItem
from intermediary_market.schemas import AnnouncementCreate
from intermediary_market.selection import FundingType, SelectionMethod
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, ValidationFailed


class AnnouncementService(ItemService):
    """Publishing and reading selection announcements."""

    async def announce(self, data: AnnouncementCreate, *, actor: Actor) -> Announcement:
        if actor.organisation_id is None:
            raise ValidationFailed("an announcement needs the owner's organisation", rule="organisation")
        item = await self._item(data.item_code)
        self._check_announcement(data)
        self._check_time_limit(data.time_limit_days, item)
        now = await clock.now(self.session)
        if data.registration_closes <= now:
            raise ValidationFailed(
                "the registration window must end in the future", field="registration_closes", rule="in_future"
            )
        seed = selection.new_seed()
        row = Announcement(
            owner_organisation_id=actor.organisation_id,
            project_name=data.project_name,
            item_code=data.item_code,
            method=data.method,
            funding=data.funding,
            budget=data.budget,
            price_min=data.price_min,
            price_max=data.price_max,
            max_level=data.max_level,
            time_limit_days=data.time_limit_days,
            registration_opens=data.registration_opens,
            registration_closes=data.registration_closes,
            direct_organisation_id=data.direct_organisation_id,
            seed=seed,
            seed_sha256=selection.commitment(seed),
            status=AnnouncementStatus.OPEN,
            next_check=data.registration_closes,
            created_at=now,
        )
        await self.repo.add(row)
        await record(
            self.session,
            actor,
            "announcement_published",
            "announcement",
            row.id,
            {"method": row.method.value, "item_code": row.item_code, "seed_sha256": row.seed_sha256},
        )
        return row

    @staticmethod
    def _check_time_limit(days: int, item: ServiceItem) -> None:
        """限时办结: the committed time limit is at least a day and at most the item's standard."""
        if days < 1:
            raise ValidationFailed(
                "the time limit is at least one day", field="time_limit_days", rule="time_limit_positive"
            )
        if days > item.standard_days:
            raise ValidationFailed(
                f"the time limit may not exceed the item's standard of {item.standard_days} days",
                field="time_limit_days",
                rule="time_limit_within_standard",
            )

    @staticmethod
    def _check_announcement(data: AnnouncementCreate) -> None:
        if data.registration_opens >= data.registration_closes:
            raise ValidationFailed(
                "the registration window must open before it closes", field="registration_closes", rule="window_order"
            )
        if data.budget <= 0:
            raise ValidationFailed("the budget must be positive", field="budget", rule="positive")
        if data.method in selection.PRICED_METHODS:
            if data.price_min is None or data.price_max is None:
                raise ValidationFailed(
                    "price competition needs a minimum and a maximum price", field="price_max", rule="price_limits"
                )
            if not Decimal(0) <= data.price_min <= data.price_max <= data.budget:
                raise ValidationFailed(
                    "price limits must satisfy 0 ≤ min ≤ max ≤ budget", field="price_max", rule="price_limits"
                )
        if data.method is SelectionMethod.DIRECT:
            if data.funding is not FundingType.SOCIAL:
                raise ValidationFailed(
                    "direct selection is allowed for socially funded projects only",
                    field="method",
                    rule="direct_allowed",
                )
            if data.direct_organisation_id is None:
                raise ValidationFailed(
                    "direct selection names the intermediary", field="direct_organisation_id", rule="required"
                )

    async def announcement(self, announcement_id: uuid.UUID, *, lock: bool = False) -> Announcement:
        row = await self.repo.announcement(announcement_id, lock=lock)
        if row is None:
            raise NotFound("no such announcement", field="announcement_id", rule="exists")
        return row

    async def announcements(self, *, status: AnnouncementStatus | None = None) -> Sequence[Announcement]:
        return await self.repo.announcements(status=status)
