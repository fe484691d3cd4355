"""Every SQL statement the ledger runs.

**Appending.** Each chain has a head row; an append locks it (``SELECT … FOR UPDATE``), so appends
to one chain queue while other chains proceed. On PostgreSQL one statement does the whole append:
lock the head, compute seq, prev_hash and entry_hash, insert the entry and move the head (the lock
is then held for one statement plus the caller's commit). The database hashes the same preimage
bytes as :func:`trading.ledger.encoding.entry_preimage`, and the service re-checks the returned
hash against that Python reference, so no entry the reference would reject is ever written. On
SQLite the unit of work already holds the write lock (``BEGIN IMMEDIATE``); the head is read,
the hash computed in Python, and the entry and head written with two statements.

**Verifying.** Entries stream in (chain, seq) keyset batches. On PostgreSQL the database
assembles each preimage from the columns (the same SQL expression as the append), and the next
batch is requested before the current one is hashed, so the server's work overlaps Python's;
Python then only hashes and compares. Elsewhere rows come back as columns and Python assembles
them (the reference path, also available on PostgreSQL to cross-check).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    LargeBinary,
    Select,
    String,
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
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
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

_ENTRIES = cast("Table", LedgerEntry.__table__)
_HEADS = cast("Table", LedgerChainHead.__table__)
# (attribute, column) pairs: ``summary_json`` is stored in the column ``summary``.
_ENTRY_COLUMNS = tuple((prop.key, prop.columns[0].key) for prop in LedgerEntry.__mapper__.column_attrs)

# pg_advisory_xact_lock key that serialises checkpoint writers ("ggzyLdgr" as an int64).
_CHECKPOINT_LOCK_KEY = int.from_bytes(b"ggzyLdgr", "big") & 0x7FFF_FFFF_FFFF_FFFF


def _preimage_sql(field: Mapping[str, str]) -> str:
    """The entry preimage as a PostgreSQL expression over ``field`` (column names or parameters).

    This is :func:`encoding.entry_preimage` in SQL: the binary send formats of int8, uuid and
    timestamptz are exactly the big-endian integers the format specifies. One builder serves both
    the append and the verification, so the two cannot drift apart.
    """
    nil = "'\\x00000000000000000000000000000000'::bytea"
    text_fields = ", ".join(
        (
            field["chain"],
            field["actor_kind"],
            field["actor_label"],
            f"coalesce({field['client_ip']}, '')",
            field["action"],
            field["subject_type"],
            field["subject_id"],
            field["summary"],
        )
    )
    # textsend() gives the text in the connection's client encoding, which asyncpg always sets to
    # UTF-8; it is measurably cheaper than convert_to(), which validates every string again. Were
    # a connection ever to use another encoding, hashes would disagree (a false alarm, never a
    # false pass), and append_entry refuses to write an entry whose hash disagrees.
    return (
        f"{field['tag']} || int8send({field['seq']}) || uuid_send({field['id']})"
        f" || timestamptz_send({field['occurred_at']})"
        f" || coalesce(uuid_send({field['actor_user_id']}), {nil})"
        f" || coalesce(uuid_send({field['organisation_id']}), {nil})"
        f" || {field['data_digest']} || {field['prev_hash']}"
        f" || textsend(concat_ws(chr(31), {text_fields}))"
    )


_COLUMN_FIELDS = {name: name for name in ("chain", "seq", "id", "occurred_at", "actor_kind", "actor_user_id")}
_COLUMN_FIELDS |= {name: name for name in ("actor_label", "organisation_id", "client_ip", "action")}
_COLUMN_FIELDS |= {name: name for name in ("subject_type", "subject_id", "summary", "data_digest", "prev_hash")}

# Assembled from constant fragments only (no input reaches the SQL text): hence the S608 noqa.
_VERIFY_COLUMNS = f"chain, seq, {_preimage_sql({**_COLUMN_FIELDS, 'tag': '$1::bytea'})}, entry_hash"
_PG_FIRST_BATCH_SQL = f"SELECT {_VERIFY_COLUMNS} FROM ledger_entries ORDER BY chain, seq LIMIT $2"  # noqa: S608
_PG_NEXT_BATCH_SQL = (
    f"SELECT {_VERIFY_COLUMNS} FROM ledger_entries WHERE (chain, seq) > ($3, $4) ORDER BY chain, seq LIMIT $2"  # noqa: S608
)

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
        SELECT new.seq, new.prev_hash, new.occurred_at, sha256({_preimage_sql(_PARAM_FIELDS)}) AS entry_hash
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

# Distinct chains by a loose index scan over (chain, seq): one index probe per chain instead of a
# pass over every entry. Read from the entries, not the heads, so a chain whose head row went
# missing is still verified.
_CHAINS_SQL = text(
    """
    WITH RECURSIVE chains(chain) AS (
        SELECT min(chain) FROM ledger_entries
        UNION ALL
        SELECT (SELECT min(e.chain) FROM ledger_entries e WHERE e.chain > chains.chain)
        FROM chains WHERE chains.chain IS NOT NULL
    )
    SELECT chain FROM chains WHERE chain IS NOT NULL
    """
)


class PreimageBatch(NamedTuple):
    """Consecutive entries of one chain: their seqs, preimages (``None`` if unreadable), hashes."""

    seqs: list[int]
    preimages: list[bytes | None]
    hashes: list[bytes | None]


@dataclass(frozen=True, slots=True)
class EntryFilter:
    chain: str | None = None
    action: str | None = None
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

    # --- verification ----------------------------------------------------------------------------

    async def begin_snapshot(self) -> None:
        """Read everything verification needs from one snapshot, if this session has not begun.

        PostgreSQL: ``REPEATABLE READ``, so entries, heads and checkpoints appended while
        verification runs are either all visible or all invisible. SQLite's read transaction
        is already a snapshot.
        """
        # A session bound to a connection (tests, a caller's own unit of work) reads in whatever
        # transaction that connection is in; only a session of our own picks its isolation.
        if self.session.in_transaction() or not isinstance(self.session.bind, AsyncEngine):
            await self.session.connection()
            return
        if self.dialect == "postgresql":
            await self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        else:
            await self.session.connection()

    async def entry_chains(self) -> list[str]:
        return list((await self.session.execute(_CHAINS_SQL)).scalars())

    async def entry_id(self, chain: str, seq: int) -> uuid.UUID | None:
        """The id of the entry at ``(chain, seq)``, to name it in a report (first one if doubled)."""
        statement = select(type_coerce(_ENTRIES.c.id, String)).where(_ENTRIES.c.chain == chain, _ENTRIES.c.seq == seq)
        raw = (await self.session.execute(statement.limit(1))).scalar_one_or_none()
        return _as_uuid(raw)

    async def unsealed_chains(self) -> set[str]:
        """Sealed chains readers may now see; the others' size stays out of verification reports."""
        return set((await self.session.execute(select(LedgerUnsealedChain.chain))).scalars())

    async def preimage_stream(self, batch_size: int) -> AsyncIterator[tuple[str, PreimageBatch]]:
        """Every entry, chain by chain in seq order, as preimages ready to hash.

        Yields ``(chain, batch)`` runs; consecutive runs may belong to the same chain. No other
        statement may run on this session until the stream is exhausted or closed.
        """
        if self.dialect == "postgresql":
            async for run in self._database_assembled_stream(batch_size):
                yield run
        else:
            for chain in await self.entry_chains():
                async for batch in self.python_assembled_batches(chain, batch_size):
                    yield chain, batch

    async def _database_assembled_stream(self, batch_size: int) -> AsyncIterator[tuple[str, PreimageBatch]]:
        # The driver connection of this session's own connection: same transaction and snapshot
        # (begin_snapshot ran a statement, so the transaction has begun). asyncpg directly,
        # because SQLAlchemy's per-row result handling would cost more than the hashing itself.
        connection = await self.session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None  # noqa: S101 - a checked-out connection always has its driver connection
        first = await raw.prepare(_PG_FIRST_BATCH_SQL)
        following = await raw.prepare(_PG_NEXT_BATCH_SQL)
        rows = await first.fetch(encoding.ENTRY_TAG, batch_size)
        while rows:
            last = rows[-1]
            upcoming = asyncio.ensure_future(following.fetch(encoding.ENTRY_TAG, batch_size, last[0], last[1]))
            try:
                await asyncio.sleep(0)  # let the request for the next batch leave before hashing this one
                for run in _split_by_chain(rows):
                    yield run
            finally:
                # The connection runs one statement at a time: never leave the prefetch in flight.
                rows = await upcoming

    async def python_assembled_batches(self, chain: str, batch_size: int) -> AsyncIterator[PreimageBatch]:
        """The reference path: fetch columns, assemble with :func:`encoding.entry_preimage`.

        Columns that could be unparseable after tampering (UUIDs, times) are read raw and parsed
        here, so a damaged row becomes a reported problem instead of an exception.
        """
        table = _ENTRIES.c
        columns = (
            table.seq,
            type_coerce(table.id, String),
            type_coerce(table.occurred_at, String),
            table.chain,
            table.actor_kind,
            type_coerce(table.actor_user_id, String),
            table.actor_label,
            type_coerce(table.organisation_id, String),
            table.client_ip,
            table.action,
            table.subject_type,
            table.subject_id,
            table.summary,
            table.data_digest,
            table.prev_hash,
            table.entry_hash,
        )
        after = 0
        while True:
            statement = select(*columns).where(table.chain == chain, table.seq > after).order_by(table.seq)
            rows = (await self.session.execute(statement.limit(batch_size))).all()
            if not rows:
                return
            yield PreimageBatch([row[0] for row in rows], [_assemble(row) for row in rows], [row[15] for row in rows])
            after = rows[-1][0]

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


def _columns(rows: Sequence[Any]) -> PreimageBatch:
    return PreimageBatch([row[1] for row in rows], [row[2] for row in rows], [row[3] for row in rows])


def _split_by_chain(rows: Sequence[Any]) -> list[tuple[str, PreimageBatch]]:
    """Cut a (chain, seq)-ordered batch into one run per chain."""
    first = rows[0][0]
    if first == rows[-1][0]:  # sorted: equal ends mean one chain throughout (the common case)
        return [(first, _columns(rows))]
    chains = [row[0] for row in rows]
    count = len(chains)
    starts = [0, *(index for index in range(1, count) if chains[index] != chains[index - 1]), count]
    return [(chains[begin], _columns(rows[begin:end])) for begin, end in pairwise(starts)]


def _as_uuid(raw: Any) -> uuid.UUID | None:
    if raw is None:
        return None
    if isinstance(raw, uuid.UUID):
        return raw
    return uuid.UUID(str(raw))


def _as_time(raw: Any) -> datetime:
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)


def _assemble(row: Any) -> bytes | None:
    (seq, entry_id, occurred_at, chain, actor_kind, actor_user_id, actor_label, organisation_id, client_ip) = row[:9]
    (action, subject_type, subject_id, summary, digest, prev_hash) = row[9:15]
    try:
        entry_uuid = _as_uuid(entry_id)
        if entry_uuid is None:
            return None
        return encoding.entry_preimage(
            chain=chain,
            seq=seq,
            entry_id=entry_uuid,
            occurred_at=_as_time(occurred_at),
            actor_kind=actor_kind,
            actor_user_id=_as_uuid(actor_user_id),
            actor_label=actor_label,
            organisation_id=_as_uuid(organisation_id),
            client_ip=client_ip,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            summary_json=summary,
            data_digest=bytes(digest),
            prev_hash=bytes(prev_hash),
        )
    except (TypeError, ValueError, AttributeError):
        # A NULL where the schema says NOT NULL, a malformed UUID or time: only tampering does that.
        return None
