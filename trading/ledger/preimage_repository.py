"""Every SQL statement verification runs: a snapshot, and every entry streamed as the preimage to hash.

Entries stream in (chain, seq) keyset batches. On PostgreSQL the database
assembles each preimage from the columns (the same SQL expression as the append), and the next
batch is requested before the current one is hashed, so the server's work overlaps Python's;
Python then only hashes and compares. Elsewhere rows come back as columns and Python assembles
them (the reference path, also available on PostgreSQL to cross-check).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    String,
    Table,
    select,
    text,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from trading.ledger import encoding
from trading.ledger.models import (
    LedgerEntry,
    LedgerUnsealedChain,
)

_ENTRIES = cast("Table", LedgerEntry.__table__)


def preimage_sql(field: Mapping[str, str]) -> str:
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
_VERIFY_COLUMNS = f"chain, seq, {preimage_sql({**_COLUMN_FIELDS, 'tag': '$1::bytea'})}, entry_hash"
_PG_FIRST_BATCH_SQL = f"SELECT {_VERIFY_COLUMNS} FROM ledger_entries ORDER BY chain, seq LIMIT $2"  # noqa: S608
_PG_NEXT_BATCH_SQL = (
    f"SELECT {_VERIFY_COLUMNS} FROM ledger_entries WHERE (chain, seq) > ($3, $4) ORDER BY chain, seq LIMIT $2"  # noqa: S608
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


class PreimageRepository:
    """What `trading.ledger.verification` reads, from one snapshot (`begin_snapshot` first)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

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
        return as_uuid(raw)

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


def as_uuid(raw: Any) -> uuid.UUID | None:
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
        entry_uuid = as_uuid(entry_id)
        if entry_uuid is None:
            return None
        return encoding.entry_preimage(
            chain=chain,
            seq=seq,
            entry_id=entry_uuid,
            occurred_at=_as_time(occurred_at),
            actor_kind=actor_kind,
            actor_user_id=as_uuid(actor_user_id),
            actor_label=actor_label,
            organisation_id=as_uuid(organisation_id),
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
