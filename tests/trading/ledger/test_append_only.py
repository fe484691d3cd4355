"""The database itself refuses to change ledger entries and checkpoints, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.ledger.factories import append_many, new_key, new_project_code
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.ledger.service import create_checkpoint, verify_ledger
from trading.server.cli import alembic_config

REFUSED = "ggzy ledger is append-only"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET actor_label = 'mallory' WHERE chain = :chain",
        "UPDATE ledger_entries SET seq = seq + 100 WHERE chain = :chain",
        "DELETE FROM ledger_entries WHERE chain = :chain",
        "TRUNCATE ledger_entries CASCADE",
    ],
)
async def test_postgres_refuses_changes_to_entries(session: AsyncSession, statement: str) -> None:
    code = new_project_code()
    await append_many(session, 2, project_code=code)
    with pytest.raises(DBAPIError, match=REFUSED):
        async with session.begin_nested():
            await session.execute(text(statement), {"chain": f"project:{code}"})


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_checkpoints SET signature = ''::bytea",
        "DELETE FROM ledger_checkpoints",
        "TRUNCATE ledger_checkpoints",
    ],
)
async def test_postgres_refuses_changes_to_checkpoints(session: AsyncSession, statement: str) -> None:
    await append_many(session, 1, project_code=new_project_code())
    assert await create_checkpoint(session, private_key=new_key()) is not None
    with pytest.raises(DBAPIError, match=REFUSED):
        async with session.begin_nested():
            await session.execute(text(statement))


async def test_chain_heads_stay_mutable(session: AsyncSession) -> None:
    code = new_project_code()
    await append_many(session, 1, project_code=code)
    result = await session.execute(
        text("UPDATE ledger_chain_heads SET signed_seq = 0 WHERE chain = :chain"), {"chain": f"project:{code}"}
    )
    assert result.rowcount == 1  # type: ignore[attr-defined]


@pytest.fixture
async def sqlite_maker(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.sqlite3'}"
    # Alembic's env.py runs its own event loop; keep it off the test's.
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    engine = create_engine(url)
    yield create_session_maker(engine)
    await engine.dispose()


@pytest.mark.sqlite
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET actor_label = 'mallory'",
        "DELETE FROM ledger_entries WHERE seq = 1",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_checkpoints SET signature = x''",
        "DELETE FROM ledger_checkpoints",
    ],
)
async def test_sqlite_refuses_changes_to_entries_and_checkpoints(
    sqlite_maker: async_sessionmaker[AsyncSession], statement: str
) -> None:
    key = new_key()
    async with transaction(sqlite_maker, lock=True) as session:
        await append_many(session, 3)
        await append_many(session, 2, project_code=new_project_code())
        assert await create_checkpoint(session, private_key=key) is not None
    with pytest.raises(DBAPIError, match=REFUSED):
        async with transaction(sqlite_maker, lock=True) as session:
            await session.execute(text(statement))
    async with sqlite_maker() as session:
        report = await verify_ledger(session, public_keys=[key.public_key()])
    assert report.ok, report.summary()
    assert report.entries == 5
    assert report.checkpoints_checked == 1


@pytest.mark.sqlite
async def test_sqlite_tampering_behind_the_triggers_is_caught(sqlite_maker: async_sessionmaker[AsyncSession]) -> None:
    key = new_key()
    async with transaction(sqlite_maker, lock=True) as session:
        entries = await append_many(session, 4)
        assert await create_checkpoint(session, private_key=key) is not None
    async with transaction(sqlite_maker, lock=True) as session:
        # Whoever can write the file can drop a trigger; the hash chain still tells.
        await session.execute(text("DROP TRIGGER ledger_entries_no_update"))
        await session.execute(text("UPDATE ledger_entries SET subject_id = 'forged' WHERE seq = 2"))
    async with sqlite_maker() as session:
        report = await verify_ledger(session, public_keys=[key.public_key()])
    assert not report.ok
    first = report.first_problem
    assert first is not None
    assert (first.chain, first.seq, first.entry_id, first.code) == ("platform", 2, entries[1].id, "entry_hash_mismatch")
