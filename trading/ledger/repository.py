"""Every SQL statement the ledger runs but verification's (`preimage_repository`).

**Appending.** Each chain has a head row; an append locks it (``SELECT … FOR UPDATE``), so appends
to one chain queue while other chains proceed. On PostgreSQL one statement does the whole append:
lock the head, compute seq, prev_hash and entry_hash, insert the entry and move the head (the lock
is then held for one statement plus the caller's commit). The database hashes the same preimage
bytes as :func:`trading.ledger.encoding.entry_preimage`, and the service re-checks the returned
hash against that Python reference, so no entry the reference would reject is ever written. On
SQLite the unit of work already holds the write lock (``BEGIN IMMEDIATE``); the head is read,
the hash computed in Python, and the entry and head written with two statements.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    LargeBinary,
    Select,
    Table,
    Uuid,
    bindparam,
    false,
    func,
    insert,
    not_,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import UTCDateTime
from trading.ledger import encoding, policies
from trading.ledger.models import (
    SEALED_CHAIN_PREFIX,
    LedgerChainHead,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerUnsealedChain,
    LedgerWithheldChain,
)
from trading.ledger.preimage_repository import preimage_sql

_ENTRIES = cast("Table", LedgerEntry.__table__)
_HEADS = cast("Table", LedgerChainHead.__table__)
# (attribute, column) pairs: ``summary_json`` is stored in the column ``summary``.
_ENTRY_COLUMNS = tuple((prop.key, prop.columns[0].key) for prop in LedgerEntry.__mapper__.column_attrs)

# pg_advisory_xact_lock key that serialises checkpoint writers ("ggzyLdgr" as an int64).
_CHECKPOINT_LOCK_KEY = int.from_bytes(b"ggzyLdgr", "big") & 0x7FFF_FFFF_FFFF_FFFF


# One statement per append on PostgreSQL. `head` locks the chain's head row (and, under READ
# COMMITTED, re-reads it once a concurrent append commits); `new` derives seq and prev_hash from
# it and takes the time (the given one, or the database's now() when the platform clock is the
# database's own); `hashed` hashes the preimage; `moved` advances the head; the INSERT writes the
# entry. No head row, no rows: the caller creates the head and runs it again.
_PARAM_FIELDS = {
    "tag": "CAST(:tag AS bytea)",
    "seq": "new.seq",
    "id": "CAST(:id AS uuid)",
    "occurred_at": "new.occurred_at",
    "data_digest": "CAST(:data_digest AS bytea)",
    "prev_hash": "new.prev_hash",
    "chain": "CAST(:chain AS text)",
    "actor_kind": "CAST(:actor_kind AS text)",
    "actor_user_id": "CAST(:actor_user_id AS uuid)",
    "actor_label": "CAST(:actor_label AS text)",
    "organisation_id": "CAST(:organisation_id AS uuid)",
    "client_ip": "CAST(:client_ip AS text)",
    "action": "CAST(:action AS text)",
    "subject_type": "CAST(:subject_type AS text)",
    "subject_id": "CAST(:subject_id AS text)",
    "summary": "CAST(:summary AS text)",
}
_PG_APPEND_SQL = f"""
    WITH head AS (
        SELECT seq, entry_hash FROM ledger_chain_heads WHERE chain = CAST(:chain AS text) FOR UPDATE
    ), new AS (
        SELECT head.seq + 1 AS seq, head.entry_hash AS prev_hash,
               coalesce(CAST(:occurred_at AS timestamptz), now()) AS occurred_at
        FROM head
    ), hashed AS (
        SELECT new.seq, new.prev_hash, new.occurred_at, sha256({preimage_sql(_PARAM_FIELDS)}) AS entry_hash
        FROM new
    ), moved AS (
        UPDATE ledger_chain_heads
        SET seq = hashed.seq, entry_hash = hashed.entry_hash, updated_at = hashed.occurred_at
        FROM hashed WHERE ledger_chain_heads.chain = CAST(:chain AS text)
    )
    INSERT INTO ledger_entries (id, chain, seq, occurred_at, actor_kind, actor_user_id, actor_label,
                                organisation_id, client_ip, action, subject_type, subject_id,
                                data_digest, summary, prev_hash, entry_hash)
    SELECT CAST(:id AS uuid), CAST(:chain AS text), hashed.seq, hashed.occurred_at,
           CAST(:actor_kind AS text), CAST(:actor_user_id AS uuid), CAST(:actor_label AS text),
           CAST(:organisation_id AS uuid), CAST(:client_ip AS text), CAST(:action AS text),
           CAST(:subject_type AS text), CAST(:subject_id AS text), CAST(:data_digest AS bytea),
           CAST(:summary AS text), hashed.prev_hash, hashed.entry_hash
    FROM hashed
    RETURNING seq, occurred_at, prev_hash, entry_hash
"""  # noqa: S608 - constant fragments only, like the statements above
_PG_APPEND = text(_PG_APPEND_SQL).bindparams(
    bindparam("tag", type_=LargeBinary()),
    bindparam("id", type_=Uuid()),
    bindparam("occurred_at", type_=UTCDateTime()),
    bindparam("data_digest", type_=LargeBinary()),
    bindparam("actor_user_id", type_=Uuid()),
    bindparam("organisation_id", type_=Uuid()),
)

# SQLite: the same work as separate statements, built once. Parameter names carry a prefix so
# none equals a column name (SQLAlchemy would add such a key to the SET clause of the UPDATE).
_LOCK_HEAD = select(_HEADS.c.seq, _HEADS.c.entry_hash).where(_HEADS.c.chain == bindparam("chain")).with_for_update()
_INSERT_ENTRY = insert(_ENTRIES).values({c.key: bindparam(f"e_{c.key}", type_=c.type) for c in _ENTRIES.c})
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.chain == bindparam("e_chain", type_=_HEADS.c.chain.type))
    .values(
        seq=bindparam("e_seq", type_=_HEADS.c.seq.type),
        entry_hash=bindparam("e_entry_hash", type_=_HEADS.c.entry_hash.type),
        updated_at=bindparam("e_occurred_at", type_=_HEADS.c.updated_at.type),
    )
)


@dataclass(frozen=True, slots=True)
class EntryFilter:
    chain: str | None = None
    action: str | None = None
    actions: tuple[str, ...] | None = None
    """Any of these action codes (the page's filter by label); an empty tuple matches nothing."""
    actor: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class LedgerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # --- appending -------------------------------------------------------------------------------

    @property
    def stamps_time_itself(self) -> bool:
        """Whether an append without ``occurred_at`` takes the database's ``now()`` in its statement."""
        return self.dialect == "postgresql"

    async def append(self, entry: LedgerEntry) -> None:
        """Give ``entry`` its place at the end of its chain and write it (caller's transaction).

        Sets ``seq``, ``prev_hash`` and ``entry_hash`` (and ``occurred_at`` if it was left unset,
        see :attr:`stamps_time_itself`). Afterwards the entry is attached to the session as
        persistent, as if it had been flushed.
        """
        if self.dialect == "postgresql":
            await self._append_in_one_statement(entry)
        else:
            await self._append_in_steps(entry)
        make_transient_to_detached(entry)
        self.session.add(entry)

    async def _append_in_one_statement(self, entry: LedgerEntry) -> None:
        params = {
            "tag": encoding.ENTRY_TAG,
            "id": entry.id,
            "chain": entry.chain,
            "occurred_at": entry.occurred_at,
            "actor_kind": entry.actor_kind,
            "actor_user_id": entry.actor_user_id,
            "actor_label": entry.actor_label,
            "organisation_id": entry.organisation_id,
            "client_ip": entry.client_ip,
            "action": entry.action,
            "subject_type": entry.subject_type,
            "subject_id": entry.subject_id,
            "data_digest": entry.data_digest,
            "summary": entry.summary_json,
        }
        row = (await self.session.execute(_PG_APPEND, params)).one_or_none()
        if row is None:
            await self._create_head(entry.chain, entry.occurred_at)
            row = (await self.session.execute(_PG_APPEND, params)).one()
        entry.seq, entry.occurred_at = row.seq, row.occurred_at.astimezone(UTC)
        entry.prev_hash, entry.entry_hash = bytes(row.prev_hash), bytes(row.entry_hash)

    async def _append_in_steps(self, entry: LedgerEntry) -> None:
        row = (await self.session.execute(_LOCK_HEAD, {"chain": entry.chain})).one_or_none()
        if row is None:
            await self._create_head(entry.chain, entry.occurred_at)
            row = (await self.session.execute(_LOCK_HEAD, {"chain": entry.chain})).one()
        entry.seq, entry.prev_hash = row.seq + 1, bytes(row.entry_hash)
        entry.entry_hash = encoding.sha256(entry.preimage())
        params = {f"e_{column}": getattr(entry, attribute) for attribute, column in _ENTRY_COLUMNS}
        await self.session.execute(_MOVE_HEAD, params)
        await self.session.execute(_INSERT_ENTRY, params)

    async def _create_head(self, chain: str, now: datetime | None) -> None:
        """Create the chain's head (seq 0) unless it exists.

        Two first appends may race to create it: exactly one insert wins, the other does nothing
        and then waits on the winner's row lock like any later append.
        """
        values = {
            "chain": chain,
            "seq": 0,
            "entry_hash": encoding.GENESIS_HASH,
            "updated_at": now if now is not None else func.now(),
            "signed_seq": 0,
        }
        if self.dialect == "postgresql":
            statement: Any = postgresql.insert(_HEADS).values(values).on_conflict_do_nothing(index_elements=["chain"])
        elif self.dialect == "sqlite":
            statement = sqlite.insert(_HEADS).values(values).on_conflict_do_nothing(index_elements=["chain"])
        else:
            msg = f"the ledger supports PostgreSQL and SQLite, not {self.dialect}"
            raise NotImplementedError(msg)
        await self.session.execute(statement)

    # --- checkpoints -----------------------------------------------------------------------------

    async def lock_checkpointing(self) -> None:
        """Serialise checkpoint writers (two beat ticks or a CLI run at once write one checkpoint).

        PostgreSQL: a transaction-scoped advisory lock. SQLite: the caller's ``BEGIN IMMEDIATE``.
        """
        if self.dialect == "postgresql":
            await self.session.execute(select(func.pg_advisory_xact_lock(_CHECKPOINT_LOCK_KEY)))

    async def current_heads(self) -> dict[str, tuple[int, bytes]]:
        """Every chain's head as committed (one statement, so one consistent snapshot)."""
        rows = await self.session.execute(select(_HEADS.c.chain, _HEADS.c.seq, _HEADS.c.entry_hash))
        return {chain: (seq, bytes(entry_hash)) for chain, seq, entry_hash in rows}

    async def signed_seqs(self) -> dict[str, int]:
        """Every chain's ``signed_seq``: how far the head row says checkpoints have signed it."""
        rows = await self.session.execute(select(_HEADS.c.chain, _HEADS.c.signed_seq).where(_HEADS.c.signed_seq > 0))
        return {str(row.chain): int(row.signed_seq) for row in rows}

    async def unsigned_heads(self) -> dict[str, tuple[int, bytes, int]]:
        """Heads that moved since the checkpoint that last signed them: ``(seq, hash, signed_seq)``."""
        rows = await self.session.execute(
            select(_HEADS.c.chain, _HEADS.c.seq, _HEADS.c.entry_hash, _HEADS.c.signed_seq)
            .where(_HEADS.c.seq > _HEADS.c.signed_seq)
            .order_by(_HEADS.c.chain)
        )
        return {chain: (seq, bytes(entry_hash), signed) for chain, seq, entry_hash, signed in rows}

    async def entry_hashes(self, chain: str, first: int, last: int) -> list[tuple[int, bytes]]:
        """``(seq, entry_hash)`` of the chain's entries ``first`` … ``last``, in seq order."""
        statement = (
            select(_ENTRIES.c.seq, _ENTRIES.c.entry_hash)
            .where(_ENTRIES.c.chain == chain, _ENTRIES.c.seq >= first, _ENTRIES.c.seq <= last)
            .order_by(_ENTRIES.c.seq)
        )
        return [(seq, bytes(entry_hash)) for seq, entry_hash in await self.session.execute(statement)]

    async def unsealed_among(self, chains: Sequence[str]) -> set[str]:
        """Which of these sealed chains readers may see by now."""
        if not chains:
            return set()
        statement = select(LedgerUnsealedChain.chain).where(LedgerUnsealedChain.chain.in_(chains))
        return set((await self.session.execute(statement)).scalars())

    async def withheld_among(self, chains: Sequence[str]) -> set[str]:
        """Which of these chains are withheld from public checkpoints and not yet disclosed."""
        if not chains:
            return set()
        statement = select(LedgerWithheldChain.chain).where(
            LedgerWithheldChain.chain.in_(chains), LedgerWithheldChain.disclosed_at.is_(None)
        )
        return set((await self.session.execute(statement)).scalars())

    async def republish_chain(self, chain: str) -> None:
        """Make the next checkpoint sign the chain from seq 1 again (a sealed chain just unsealed)."""
        await self.session.execute(update(_HEADS).where(_HEADS.c.chain == chain).values(signed_seq=0))

    async def checkpoint(self, number: int) -> LedgerCheckpoint | None:
        statement = select(LedgerCheckpoint).where(LedgerCheckpoint.number == number)
        return (await self.session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()

    async def last_checkpoint(self, *, format_at_least: int = 1) -> LedgerCheckpoint | None:
        statement = (
            select(LedgerCheckpoint)
            .where(LedgerCheckpoint.format >= format_at_least)
            .order_by(LedgerCheckpoint.number.desc())
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def save_checkpoint(self, checkpoint: LedgerCheckpoint, signed: Mapping[str, int]) -> None:
        """Write the checkpoint and mark the heads it signed.

        ``signed_seq`` takes the seq that was signed, not the head's current one: an append that
        committed since the heads were read stays unsigned and goes into the next checkpoint.
        """
        self.session.add(checkpoint)
        await self.session.flush()
        # ORM bulk UPDATE by primary key: one executemany for all the signed heads.
        await self.session.execute(
            update(LedgerChainHead), [{"chain": chain, "signed_seq": seq} for chain, seq in signed.items()]
        )

    async def checkpoints(self, batch_size: int = 500) -> AsyncIterator[LedgerCheckpoint]:
        """All checkpoints in order, a batch at a time."""
        after = 0
        while True:
            statement = (
                select(LedgerCheckpoint)
                .where(LedgerCheckpoint.number > after)
                .order_by(LedgerCheckpoint.number)
                .limit(batch_size)
                # What the database holds, not what this session has in memory: that is the point.
                .execution_options(populate_existing=True)
            )
            batch = list((await self.session.execute(statement)).scalars())
            for checkpoint in batch:
                yield checkpoint
            if len(batch) < batch_size:
                return
            after = batch[-1].number
            # Checkpoints are read once; do not keep them all in the identity map.
            for checkpoint in batch:
                self.session.expunge(checkpoint)

    # --- reading ---------------------------------------------------------------------------------

    def readable(self, actor: Actor) -> Select[LedgerEntry]:
        """Entries ``actor`` may see: all of them with ``ledger:entry:read``, none otherwise."""
        if not policies.can_read_entries(actor):
            return select(LedgerEntry).where(false())
        # Sealed chains stay hidden until unsealed (their tender's deadline): even a supervisor
        # must not learn who bid or downloaded before it.
        unsealed = select(LedgerUnsealedChain.chain)
        return select(LedgerEntry).where(
            or_(not_(LedgerEntry.chain.startswith(SEALED_CHAIN_PREFIX)), LedgerEntry.chain.in_(unsealed))
        )

    async def list_entries(
        self,
        actor: Actor,
        filters: EntryFilter,
        *,
        limit: int,
        before: tuple[datetime, int, uuid.UUID] | None = None,
    ) -> Sequence[LedgerEntry]:
        """Newest first; ``before`` is the keyset cursor (occurred_at, seq, id) of the last row shown.

        Entries of one transaction share its time, so seq (then id) orders them: a total order,
        newest first within a chain.
        """
        statement = self.readable(actor)
        column = LedgerEntry
        if filters.chain:
            statement = statement.where(column.chain == filters.chain)
        if filters.action:
            statement = statement.where(column.action == filters.action)
        if filters.actions is not None:
            statement = statement.where(column.action.in_(filters.actions) if filters.actions else false())
        if filters.actor:
            statement = statement.where(column.actor_label == filters.actor)
        if filters.subject_type:
            statement = statement.where(column.subject_type == filters.subject_type)
        if filters.subject_id:
            statement = statement.where(column.subject_id == filters.subject_id)
        if filters.since:
            statement = statement.where(column.occurred_at >= filters.since)
        if filters.until:
            statement = statement.where(column.occurred_at < filters.until)
        if before is not None:
            statement = statement.where(tuple_(column.occurred_at, column.seq, column.id) < tuple_(*before))
        statement = statement.order_by(column.occurred_at.desc(), column.seq.desc(), column.id.desc()).limit(limit)
        return list((await self.session.execute(statement)).scalars())
