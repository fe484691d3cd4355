"""Closing a tender into its archive (电子档案, issue 16 item 6).

Once the contract is signed by both parties (`AwardState.CONTRACT_SIGNED`) and nothing is left to
decide (no unanswered objection, no complaint pending, no supervisor's suspension: the state
machine's ``close`` refuses otherwise), the platform closes the award (`AwardEvent.CLOSE`, no
party's act) and writes the tender's archive in the same unit of work: the close is journalled
and in the ledger first, so the archive's chain ends with it, then
`bidding.award.archive.builder.build_archive` signs a checkpoint and stores the ZIP
content-addressed (never overwritten) with its ``bidding.tender_archived`` entry.

The sweep does it (`jobs.AwardCloseDue`): the award of a signed contract is due at once, and a
complaint decided later (the award continuing) makes it due again by its state alone, so nothing
else has to remember to close. A build that fails rolls the whole unit of work back: the award
stays ``contract_signed`` and the next sweep tries again; a ZIP already written by the failed try
is an unreferenced file under a digest no entry names (the manifest's instant differs each try).

The archives of a tender are read from its ledger entries (`archives_of`): version, SHA-256,
size, retention; pages offer them for download with the offline verifier's command.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.archive.builder import ARCHIVED, BuiltArchive, build_archive
from bidding.award.models import Award
from bidding.award.publicity import position_of, record_step, rules_of
from bidding.award.states import AwardEvent, AwardState, transition
from bidding.models import Tender
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.ledger.models import LedgerEntry
from trading.ledger.service import append_entry, chain_for

CLOSED_ACTION: Final = "award.closed"


async def closable_awards(session: AsyncSession, limit: int) -> Sequence[uuid.UUID]:
    """Awards whose contract is signed and which nothing holds open any more."""
    rows = await session.scalars(
        sa.select(Award.id)
        .where(
            Award.state == AwardState.CONTRACT_SIGNED,
            Award.objections_pending == 0,
            Award.complaints_pending == 0,
            Award.suspended.is_(False),
        )
        .order_by(Award.id)
        .limit(limit)
    )
    return rows.all()


async def close_award(
    session: AsyncSession, settings: Settings, store: Store, award_id: uuid.UUID, now: datetime
) -> BuiltArchive | None:
    """Close one award (locked, re-checked) and archive its tender; None when it is not closable
    (already closed, or something still pending: the state machine's refusal is not an error here,
    the sweep simply looks again later).
    """
    award = await session.scalar(sa.select(Award).where(Award.id == award_id).with_for_update())
    if award is None or award.state is not AwardState.CONTRACT_SIGNED:
        return None
    position = position_of(award)
    if position.objections or position.complaints or position.suspended:
        return None
    after = transition(position, AwardEvent.CLOSE, award.sector, rules_of(award))
    tender = await session.get_one(Tender, award.tender_id)
    await record_step(session, award, AwardEvent.CLOSE, after, actor=Actor.system(), now=now)
    award.next_check = None
    await append_entry(
        session,
        actor=Actor.system(),
        action=CLOSED_ACTION,
        subject_type="award.award",
        subject_id=str(award.id),
        summary={"award": str(award.id), "state": after.state.value},
        project_code=tender.project_code,
    )
    return await build_archive(session, settings, store, tender.project_code, actor=Actor.system())


@dataclass(frozen=True)
class ArchiveVersion:
    """One stored archive of a tender, as its ledger entry records it."""

    version: int
    sha256: str
    files: int
    entries: int
    retention_until: str
    recorded_at: datetime


async def archives_of(session: AsyncSession, code: str) -> list[ArchiveVersion]:
    """The tender's archives, oldest first (from the ``bidding.tender_archived`` entries of its chain)."""
    rows = await session.scalars(
        sa.select(LedgerEntry)
        .where(LedgerEntry.chain == chain_for(code), LedgerEntry.action == ARCHIVED)
        .order_by(LedgerEntry.seq)
    )
    versions = []
    for entry in rows:
        summary = json.loads(entry.summary_json)
        versions.append(
            ArchiveVersion(
                version=int(summary["version"]),
                sha256=str(summary["archiveSha256"]),
                files=int(summary["files"]),
                entries=int(summary["entries"]),
                retention_until=str(summary["retentionUntil"]),
                recorded_at=entry.occurred_at,
            )
        )
    return versions
