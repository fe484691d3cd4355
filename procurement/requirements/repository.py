"""All SQL of the requirements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.requirements.models import (
    Requirement,
    RequirementFinding,
    RequirementJustification,
    RequirementReview,
)
from trading.parties.models import Organisation, User


class RequirementRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: object) -> None:
        self.session.add(row)
        await self.session.flush()

    async def get(self, requirement_id: uuid.UUID, *, lock: bool = False) -> Requirement | None:
        query = select(Requirement).where(Requirement.id == requirement_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def of_organisation(self, organisation_id: uuid.UUID, *, states: Sequence[str] = ()) -> list[Requirement]:
        query = select(Requirement).where(Requirement.organisation_id == organisation_id)
        if states:
            query = query.where(Requirement.state.in_(states))
        return list(await self.session.scalars(query.order_by(Requirement.updated_at.desc())))

    async def findings(self, requirement_id: uuid.UUID) -> list[RequirementFinding]:
        query = (
            select(RequirementFinding)
            .where(RequirementFinding.requirement_id == requirement_id)
            .order_by(RequirementFinding.field_path, RequirementFinding.start)
        )
        return list(await self.session.scalars(query))

    async def finding(self, finding_id: uuid.UUID) -> RequirementFinding | None:
        return await self.session.get(RequirementFinding, finding_id)

    async def clear_findings(self, requirement_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(RequirementFinding).where(RequirementFinding.requirement_id == requirement_id)
        )

    async def justifications(self, requirement_id: uuid.UUID) -> list[RequirementJustification]:
        query = (
            select(RequirementJustification)
            .where(RequirementJustification.requirement_id == requirement_id)
            .order_by(RequirementJustification.filed_at.desc())
        )
        return list(await self.session.scalars(query))

    async def justification(
        self, justification_id: uuid.UUID, *, lock: bool = False
    ) -> RequirementJustification | None:
        query = select(RequirementJustification).where(RequirementJustification.id == justification_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def all_justifications(self, *, limit: int = 500) -> list[tuple[RequirementJustification, Requirement]]:
        query = (
            select(RequirementJustification, Requirement)
            .join(Requirement, Requirement.id == RequirementJustification.requirement_id)
            .order_by(RequirementJustification.filed_at.desc())
            .limit(limit)
        )
        return [(j, r) for j, r in (await self.session.execute(query)).all()]

    async def reviews(self, requirement_id: uuid.UUID) -> list[RequirementReview]:
        query = (
            select(RequirementReview)
            .where(RequirementReview.requirement_id == requirement_id)
            .order_by(RequirementReview.decided_at)
        )
        return list(await self.session.scalars(query))

    async def organisation(self, organisation_id: uuid.UUID) -> Organisation | None:
        return await self.session.get(Organisation, organisation_id)

    async def user_names(self, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not user_ids:
            return {}
        rows = await self.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids)))
        return {row.id: row.display_name for row in rows}
