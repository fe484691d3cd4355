"""All of the catalogue's SQL."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.rule_catalogue.models import RuleHead, RuleVersion


class RuleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def stored_ids(self) -> set[str]:
        return set((await self.session.scalars(sa.select(RuleHead.rule_id))).all())

    async def current(self) -> Sequence[RuleVersion]:
        """Every rule's current version (in force or retired), by rule id."""
        query = (
            sa.select(RuleVersion)
            .join(RuleHead, sa.and_(RuleHead.rule_id == RuleVersion.rule_id, RuleHead.version == RuleVersion.version))
            .order_by(RuleVersion.rule_id)
        )
        return (await self.session.scalars(query)).all()

    async def version(self, rule_id: str, version: int) -> RuleVersion | None:
        query = sa.select(RuleVersion).where(RuleVersion.rule_id == rule_id, RuleVersion.version == version)
        return (await self.session.scalars(query)).one_or_none()

    async def versions(self, rule_id: str) -> Sequence[RuleVersion]:
        """Newest first."""
        query = sa.select(RuleVersion).where(RuleVersion.rule_id == rule_id).order_by(RuleVersion.version.desc())
        return (await self.session.scalars(query)).all()

    async def head(self, rule_id: str, *, lock: bool = False) -> RuleHead | None:
        query = sa.select(RuleHead).where(RuleHead.rule_id == rule_id)
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).one_or_none()
