"""What the guarantor API remembers between requests: the nonces it has seen (replay protection) and the
responses it gave per ``Idempotency-Key`` (a retried request gets the same answer, the work is done once).

Both tables are bounded: a nonce is only kept while its signature's ``created`` window could still admit it
(`trading.guarantees.httpsig.Verified.remember_until`), a response for `IDEMPOTENCY_RETENTION`; the beat task
``guarantees.purge_api_records`` deletes the rest (`purge_expired`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel import clock
from trading.kernel.db.base import Base, UUIDPrimaryKey
from trading.kernel.db.uow import transaction

IDEMPOTENCY_RETENTION = timedelta(hours=24)
"""How long a stored response answers a retry; a guarantor's system retries within minutes, not days."""


class ApiNonce(Base):
    """A signature nonce seen from one key; the primary key makes a second use impossible."""

    __tablename__ = "guarantees_api_nonces"

    key_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ApiIdempotency(UUIDPrimaryKey, Base):
    """The first request under an ``Idempotency-Key`` of one key, and the response it got."""

    __tablename__ = "guarantees_api_idempotency"
    __table_args__ = (sa.UniqueConstraint("key_id", "idempotency_key"),)

    key_id: Mapped[str] = mapped_column(sa.String(64))
    idempotency_key: Mapped[str] = mapped_column(sa.String(255))
    method: Mapped[str] = mapped_column(sa.String(16))
    path: Mapped[str] = mapped_column(sa.String(1024))
    request_sha256: Mapped[str] = mapped_column(sa.String(64))
    response_status: Mapped[int | None]
    response_media_type: Mapped[str | None] = mapped_column(sa.String(128))
    response_body: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(index=True)


def _insert(session: AsyncSession, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    msg = f"the guarantor API store supports PostgreSQL and SQLite, not {dialect}"
    raise NotImplementedError(msg)


async def record_nonce(session: AsyncSession, key_id: str, nonce: str, expires_at: datetime) -> bool:
    """Remember ``nonce`` for ``key_id``; False when it was already there (a replay).

    An ``ON CONFLICT DO NOTHING`` insert, not a read-then-write: two copies of one request racing in
    parallel cannot both see "new" (the second waits on the first's uncommitted row, then does nothing).
    """
    statement = (
        _insert(session, ApiNonce.__table__)  # type: ignore[arg-type]
        .values(key_id=key_id, nonce=nonce, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["key_id", "nonce"])
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0))


async def claim_idempotency(
    session: AsyncSession,
    *,
    key_id: str,
    idempotency_key: str,
    method: str,
    path: str,
    request_sha256: str,
    now: datetime,
) -> ApiIdempotency:
    """The record for (``key_id``, ``idempotency_key``), created if new, locked for this transaction.

    A concurrent retry of the same key waits here until the first request's transaction ends, then sees
    its stored response. The caller compares method, path and body digest with the request's.
    """
    statement = (
        _insert(session, ApiIdempotency.__table__)  # type: ignore[arg-type]
        .values(
            id=uuid.uuid4(),
            key_id=key_id,
            idempotency_key=idempotency_key,
            method=method,
            path=path,
            request_sha256=request_sha256,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["key_id", "idempotency_key"])
    )
    await session.execute(statement)
    return (
        await session.execute(
            sa.select(ApiIdempotency)
            .where(ApiIdempotency.key_id == key_id, ApiIdempotency.idempotency_key == idempotency_key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete nonces past their window and responses older than `IDEMPOTENCY_RETENTION`; how many."""
    deleted = 0
    for statement in (
        sa.delete(ApiNonce).where(ApiNonce.expires_at < now),
        sa.delete(ApiIdempotency).where(ApiIdempotency.created_at < now - IDEMPOTENCY_RETENTION),
    ):
        result = await session.execute(statement.execution_options(synchronize_session=False))
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted


async def purge_api_records(session_maker: async_sessionmaker[AsyncSession]) -> int:
    """The beat job ``guarantees.purge_api_records``: `purge_expired` in its own unit of work (idempotent)."""
    async with transaction(session_maker, lock=True) as session:
        return await purge_expired(session, await clock.now(session))
