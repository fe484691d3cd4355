"""0018_expert_pool on both backends: its tables appear on upgrade and go on downgrade to 0017,
and the partial unique index on a specialty code's current version holds on each backend.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from bidding.evaluation.pool.models import Specialty
from trading.server.cli import alembic_config

TABLES = {
    "evaluation_specialties",
    "evaluation_specialty_lists",
    "evaluation_experts",
    "evaluation_expert_specialties",
    "evaluation_expert_unavailability",
    "evaluation_expert_conflicts",
    "evaluation_expert_status_changes",
    "evaluation_expert_ratings",
    "evaluation_expert_draws",
    "evaluation_expert_attendances",
}


async def _tables_async(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


def _tables(url: str) -> set[str]:
    return asyncio.run(_tables_async(url))


async def _current_versions(url: str) -> None:
    engine = create_async_engine(url)
    table = Specialty.__table__

    def row(version: int, *, current: bool) -> dict[str, object]:
        return {
            "id": uuid.uuid4(),
            "code": "A01",
            "version": version,
            "current": current,
            "name": "房屋建筑工程",
            "name_en": "Building works",
            "level": 2,
            "list_version": "test",
            "created_at": datetime.now(UTC),
        }

    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(table), [row(1, current=False), row(2, current=True)])
            with pytest.raises(sa.exc.IntegrityError):
                async with connection.begin_nested():
                    await connection.execute(sa.insert(table), [row(3, current=True)])
            await connection.execute(sa.delete(table))
    finally:
        await engine.dispose()


def _one_current_version_per_code(url: str) -> None:
    asyncio.run(_current_versions(url))


def _roundtrip(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "head")
    assert _tables(url) >= TABLES
    _one_current_version_per_code(url)
    command.downgrade(config, "0017_agency_mandates")
    assert not TABLES & _tables(url)
    command.upgrade(config, "0018_expert_pool")
    assert _tables(url) >= TABLES


async def test_postgresql(empty_pg_db: str) -> None:
    await asyncio.to_thread(_roundtrip, empty_pg_db)


@pytest.mark.sqlite
def test_sqlite(tmp_path: Path) -> None:
    _roundtrip(f"sqlite+aiosqlite:///{tmp_path / 'pool.sqlite3'}")
