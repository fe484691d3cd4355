"""The opening's stage of tenders, for the pages' status column: a tender stays ``opening`` after its
hall closed, so its status alone would still say 开标中.

Read through a lightweight table reference rather than `bidding.opening.models`: core may not import
the opening (import contract in pyproject.toml), and the stage values are core's own
`bidding.opening_stage.Stage`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Bid
from bidding.opening_stage import Stage

_OPENING_SESSIONS = sa.table(
    "bidding_opening_sessions",
    sa.column("tender_id", sa.Uuid),
    sa.column("stage", sa.String),
    sa.column("record_sha256", sa.String),
)


async def opening_stages(session: AsyncSession, tender_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Stage]:
    """Each listed tender's opening stage; tenders without an opening are absent."""
    if not tender_ids:
        return {}
    rows = await session.execute(
        sa.select(_OPENING_SESSIONS.c.tender_id, _OPENING_SESSIONS.c.stage).where(
            _OPENING_SESSIONS.c.tender_id.in_(list(tender_ids))
        )
    )
    return {tender_id: Stage(stage) for tender_id, stage in rows.all()}


async def has_bid(session: AsyncSession, tender_id: uuid.UUID, organisation_id: uuid.UUID | None) -> bool:
    """Whether the organisation bid in the tender (its hall link is then its seat)."""
    if organisation_id is None:
        return False
    statement = sa.select(sa.exists().where(Bid.tender_id == tender_id, Bid.organisation_id == organisation_id))
    return bool(await session.scalar(statement))


async def record_published(session: AsyncSession, tender_id: uuid.UUID) -> bool:
    """Whether the tender's opening record is published: the platform has signed it, which is all
    `bidding.visibility.OpeningPolicy.may_read_record_pdf` asks, whoever the reader.
    """
    statement = sa.select(_OPENING_SESSIONS.c.record_sha256).where(_OPENING_SESSIONS.c.tender_id == tender_id)
    return await session.scalar(statement) is not None
