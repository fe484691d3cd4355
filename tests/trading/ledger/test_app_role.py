"""The application's database role owns no table: it appends to the ledger, nothing more.

Migrations run as the owner; ``ggzy db grant-app-role`` gives the application role its rights.
The triggers that make the ledger append-only can be disabled only by a table's owner (or a
superuser), so connecting as this role leaves no way to rewrite an entry from the application.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import _admin, drop_database, migrate, pg_url
from tests.trading.ledger.factories import append_many, new_key
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.ledger.service import create_checkpoint, verify_ledger
from trading.server.dbroles import RoleRefused, grant_app_role

GGZY = str(Path(sys.executable).parent / "ggzy")
OWNER = "ggzy_test_owner"
APP = "ggzy_test_app"
OWNER_MEMBER = "ggzy_test_owner_member"
ROLE_MAKER = "ggzy_test_role_maker"


async def _create_role(name: str) -> None:
    # Roles are cluster-wide and other test processes may create the same one concurrently.
    await _admin(
        f"DO $$ BEGIN CREATE ROLE {name} LOGIN NOSUPERUSER; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )


def _as(url: str, role: str) -> str:
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


@pytest.fixture
async def owned_db(pg_databases: None) -> AsyncIterator[str]:
    """A database owned by a non-superuser owner role, migrated as that role; its owner URL."""
    del pg_databases
    for role in (OWNER, APP):
        await _create_role(role)
    name = f"ggzy_roles_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}" OWNER {OWNER}')
    try:
        owner_url = _as(pg_url(name), OWNER)
        await asyncio.to_thread(migrate, owner_url)
        yield owner_url
    finally:
        await drop_database(name)


async def _refused(engine: AsyncEngine, statement: str) -> str:
    async with engine.connect() as connection:
        with pytest.raises(DBAPIError) as caught:
            await connection.execute(text(statement))
        await connection.rollback()
    return str(caught.value.orig)


async def test_the_application_role_cannot_disable_ledger_triggers_or_change_entries(owned_db: str) -> None:
    granted = await asyncio.to_thread(
        subprocess.run,
        [GGZY, "db", "grant-app-role", APP],
        env={**os.environ, "GGZY_DB_URL": owned_db},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert granted.returncode == 0, granted.stdout + granted.stderr
    assert "REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON ledger_entries" in granted.stdout

    app = create_engine(_as(owned_db, APP))
    owner = create_engine(owned_db)
    try:
        # The application works as this role: it appends, moves heads, signs checkpoints, verifies.
        maker = create_session_maker(app)
        key = new_key()
        async with transaction(maker) as session:
            await append_many(session, 3)
            assert await create_checkpoint(session, private_key=key) is not None
        async with maker() as session:
            assert (await verify_ledger(session, public_keys=[key.public_key()])).ok

        for table in ("ledger_entries", "ledger_checkpoints"):
            disabled = await _refused(app, f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
            assert "must be owner" in disabled
            assert "permission denied" in await _refused(app, f"DELETE FROM {table}")  # noqa: S608
            assert "permission denied" in await _refused(app, f"TRUNCATE {table}")
        assert "permission denied" in await _refused(app, "UPDATE ledger_entries SET client_ip = '192.0.2.1'")
        assert "permission denied" in await _refused(app, "UPDATE ledger_checkpoints SET number = number + 1")
        assert "permission denied" in await _refused(app, "DELETE FROM ledger_unsealed_chains")

        # The owner can (that is why migrations, not the application, run as the owner).
        async with owner.connect() as connection:
            await connection.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only"))
            await connection.rollback()
    finally:
        await app.dispose()
        await owner.dispose()


async def test_a_role_that_could_rewrite_the_ledger_is_refused(owned_db: str) -> None:
    await _create_role(OWNER_MEMBER)
    await _admin(f"GRANT {OWNER} TO {OWNER_MEMBER}")
    await _admin(
        f"DO $$ BEGIN CREATE ROLE {ROLE_MAKER} LOGIN NOSUPERUSER CREATEROLE; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    )
    owner = create_engine(owned_db)
    try:
        async with owner.connect() as connection:
            with pytest.raises(RoleRefused, match="owns tables"):
                await grant_app_role(connection, OWNER)
            with pytest.raises(RoleRefused, match="superuser"):
                await grant_app_role(connection, "postgres")
            with pytest.raises(RoleRefused, match="does not exist"):
                await grant_app_role(connection, "ggzy_no_such_role")
            # A member of the owner role may SET ROLE to it; a CREATEROLE role may grant itself that.
            with pytest.raises(RoleRefused, match="member of their owner"):
                await grant_app_role(connection, OWNER_MEMBER)
            with pytest.raises(RoleRefused, match="CREATEROLE"):
                await grant_app_role(connection, ROLE_MAKER)
            with pytest.raises(RoleRefused, match="identifier"):
                await grant_app_role(connection, "app; DROP TABLE ledger_entries")
            await connection.rollback()
    finally:
        await owner.dispose()
