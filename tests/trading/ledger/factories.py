"""Helpers for ledger tests: actors, a batch of appends, a platform key."""

from __future__ import annotations

import uuid

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from certs import keys
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.ledger import encoding
from trading.ledger.models import LedgerEntry
from trading.ledger.service import append_entry, preimage_of


def user_actor(username: str = "alice", *, roles: frozenset[Role] = frozenset(), ip: str = "203.0.113.7") -> Actor:
    return Actor(
        kind=ActorKind.USER,
        user_id=uuid.uuid4(),
        username=username,
        organisation_id=uuid.uuid4(),
        roles=roles,
        client_ip=ip,
    )


def new_project_code() -> str:
    return f"TEST-{uuid.uuid4().hex[:12].upper()}"


async def append_many(
    session: AsyncSession, count: int, *, project_code: str | None = None, actor: Actor | None = None
) -> list[LedgerEntry]:
    who = actor or user_actor()
    return [
        await append_entry(
            session,
            actor=who,
            action="tests.thing_changed",
            subject_type="thing",
            subject_id=str(index),
            data={"index": index, "secret": f"s3cret-{index}"},
            summary={"index": index},
            project_code=project_code,
        )
        for index in range(count)
    ]


def new_key() -> keys.PrivateKey:
    return keys.load_private_key(keys.generate_private_key_pem())


async def behind_the_triggers(session: AsyncSession, *statements: str, **params: object) -> None:
    """Run statements with the append-only triggers disabled, as a superuser (or the owner) could."""
    tables = ("ledger_entries", "ledger_checkpoints")
    for table in tables:
        await session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
    for statement in statements:
        await session.execute(text(statement), params)
    for table in tables:
        await session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))


async def rewrite_entry(session: AsyncSession, chain: str, seq: int, subject_id: str) -> None:
    """Change one entry and re-hash it and every later entry of its chain, and the head: the
    edit a tamperer who knows the format makes, consistent in itself."""
    rows = list(
        await session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.chain == chain, LedgerEntry.seq >= seq)
            .order_by(LedgerEntry.seq)
            .execution_options(populate_existing=True)
        )
    )
    columns = [attribute.key for attribute in LedgerEntry.__mapper__.column_attrs]
    previous = bytes(rows[0].prev_hash)
    statements: list[str] = []
    params: dict[str, object] = {}
    for index, row in enumerate(rows):
        forged = LedgerEntry(**{name: getattr(row, name) for name in columns})
        if index == 0:
            forged.subject_id = subject_id
        forged.prev_hash = previous
        forged.entry_hash = previous = encoding.sha256(preimage_of(forged))
        names = f"subject_id = :s{index}, prev_hash = :p{index}, entry_hash = :h{index}"
        statements.append(f"UPDATE ledger_entries SET {names} WHERE id = :i{index}")  # noqa: S608 - names only
        params |= {f"s{index}": forged.subject_id, f"p{index}": forged.prev_hash, f"h{index}": forged.entry_hash}
        params[f"i{index}"] = row.id
    statements.append("UPDATE ledger_chain_heads SET entry_hash = :head WHERE chain = :chain")
    await behind_the_triggers(session, *statements, head=previous, chain=chain, **params)
    session.expunge_all()
