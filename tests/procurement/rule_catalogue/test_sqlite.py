"""The embedded default: the catalogue on SQLite (migrated by Alembic), seeded, edited, read."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command

from procurement.rule_catalogue.service import active_rules, new_version, rule_version
from tests.procurement.rule_catalogue.support import NEW_SUGGESTION, RULE, draft
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.server.cli import alembic_config


@pytest.mark.sqlite
async def test_the_catalogue_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rules.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    engine = create_engine(url)
    try:
        maker = create_session_maker(engine)
        async with transaction(maker, lock=True) as session:
            assert RULE.id in {rule.id for rule in await active_rules(session)}
        async with transaction(maker, lock=True) as session:
            await new_version(session, draft(), actor=Actor.system())
        async with transaction(maker) as session:
            in_force = {rule.id: rule for rule in await active_rules(session)}
            assert (in_force[RULE.id].version, in_force[RULE.id].suggestion) == (2, NEW_SUGGESTION)
            assert (await rule_version(session, RULE.id, 1)).suggestion == RULE.suggestion
    finally:
        await engine.dispose()
