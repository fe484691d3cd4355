"""JSON API of the audit ledger: browse entries, run a verification (``/api/v1/ledger``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.status_codes import HTTP_404_NOT_FOUND
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.api.errors import documents_problems
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound
from trading.ledger import service
from trading.ledger.errors import LedgerFieldInvalid
from trading.ledger.policies import LedgerPermission
from trading.ledger.schemas import EntryPage, EntryRead, PublishedCheckpointRead, VerificationRead

PUBLIC_PATHS = frozenset({"/api/v1/ledger/checkpoints/latest", "/api/v1/ledger/checkpoints/{number}"})
"""Published checkpoints are public: whoever keeps a copy can later hold the platform to it.
They reveal chain names (project codes, public anyway), seqs and hashes of public chains, and of
the still-sealed chains only one digest over all of them (see ``encoding``)."""


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise LedgerFieldInvalid(
            f"{name} needs a UTC offset, e.g. 2026-11-26T10:00:00+08:00", field=name, rule="timezone"
        )
    return value


class LedgerApiController(Controller):
    path = "/ledger"
    tags = ["ledger"]

    @get("/entries", operation_id="ledger_list_entries", opt=requires(LedgerPermission.ENTRY_READ))
    async def list_entries(
        self,
        *,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        chain: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        username: Annotated[str | None, QueryParameter(description="the actor's username (ledger label)")] = None,
        subject_type: FromQuery[str | None] = None,
        subject_id: FromQuery[str | None] = None,
        since: Annotated[datetime | None, QueryParameter(description="at or after; ISO 8601 with offset")] = None,
        until: Annotated[datetime | None, QueryParameter(description="before; ISO 8601 with offset")] = None,
        cursor: Annotated[str | None, QueryParameter(description="next_cursor of the previous page")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> EntryPage:
        """Ledger entries, newest first, filtered; follow ``next_cursor`` for older ones."""
        filters = service.EntryFilter(
            chain=chain,
            action=action,
            actor=username,
            subject_type=subject_type,
            subject_id=subject_id,
            since=_aware("since", since),
            until=_aware("until", until),
        )
        entries, next_cursor = await service.list_entries(db_session, actor, filters, limit=limit, cursor=cursor)
        return EntryPage(items=[EntryRead.from_entry(entry) for entry in entries], next_cursor=next_cursor)

    @get("/verification", operation_id="ledger_verify_chains", opt=requires(LedgerPermission.CHAIN_VERIFY))
    async def verify(self, db_session: NamedDependency[AsyncSession], state: State) -> VerificationRead:
        """Recompute every chain and checkpoint now; ``first_problem`` names the first broken entry."""
        report = await service.verify_ledger(db_session, public_keys=service.platform_public_keys(state.settings))
        return VerificationRead.from_report(report)


class LedgerCheckpointApiController(Controller):
    """Published checkpoints (public): the newest, and any earlier one by number (for archives)."""

    path = "/ledger/checkpoints"
    tags = ["ledger"]

    @get("/latest", operation_id="ledger_latest_checkpoint", opt=documents_problems(HTTP_404_NOT_FOUND))
    async def latest(self, db_session: NamedDependency[AsyncSession]) -> PublishedCheckpointRead:
        """The newest signed, timestamped checkpoint: save it as ``CHECKPOINT.json`` and verify later."""
        checkpoint = await service.latest_published_checkpoint(db_session)
        if checkpoint is None:
            raise NotFound("no checkpoint has been published yet")
        return PublishedCheckpointRead.from_published(service.published_checkpoint(checkpoint))

    @get("/{number:int}", operation_id="ledger_get_checkpoint")
    async def by_number(
        self, db_session: NamedDependency[AsyncSession], number: FromPath[int]
    ) -> PublishedCheckpointRead:
        """An earlier published checkpoint, to keep the whole series (each signs its predecessor)."""
        checkpoint = await service.published_checkpoint_number(db_session, number)
        if checkpoint is None:
            raise NotFound(f"checkpoint {number} is not published")
        return PublishedCheckpointRead.from_published(service.published_checkpoint(checkpoint))
