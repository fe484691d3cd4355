"""One migration chain, both backends: upgrade, no drift against the models, down and up again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from trading.server.cli import alembic_config


def _roundtrip(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.check(config)  # raises when models and migrations disagree
    command.downgrade(config, "base")
    command.upgrade(config, "head")


def test_chain_has_a_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, heads


async def test_postgresql_upgrade_check_downgrade(empty_pg_db: str) -> None:
    await asyncio.to_thread(_roundtrip, empty_pg_db)


@pytest.mark.sqlite
def test_sqlite_upgrade_check_downgrade(tmp_path: Path) -> None:
    _roundtrip(f"sqlite+aiosqlite:///{tmp_path / 'migrations.sqlite3'}")
