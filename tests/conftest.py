"""Test fixtures: a real PostgreSQL database built by Alembic, one rolled-back transaction per test.

* ``GGZY_TEST_PG_URL`` (default: the local server's ``postgres`` user) names the server. The
  suite builds a template database with ``alembic upgrade head`` once per run, then a working
  database from it.
* ``session_maker`` / ``session``: bound to one connection inside an outer transaction that is
  rolled back after the test; code under test may commit freely (commits become savepoint
  releases), nothing survives the test.
* ``fresh_db``: a database of its own, cloned from the template, for tests that need real commits
  seen by other connections or processes (concurrency, Celery workers). Dropped afterwards.
* ``app`` / ``client``: the real application bound to the test session maker, with a
  ``RecordingPublisher`` instead of the broker.

Settings are environment-driven and cached, so the environment is set here before any
application module is imported.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

_VAR = Path(tempfile.mkdtemp(prefix="ggzy-test-var-"))
os.environ.setdefault("GGZY_VAR_DIR", str(_VAR))
os.environ.setdefault("GGZY_LOG_LEVEL", "WARNING")

import pytest  # noqa: E402
from alembic import command  # noqa: E402
from litestar import Litestar  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine  # noqa: E402

from trading.kernel.db.engine import create_engine  # noqa: E402
from trading.kernel.settings import Settings  # noqa: E402
from trading.kernel.tasks import RecordingPublisher  # noqa: E402

PG_SERVER_URL = os.environ.get("GGZY_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
RUN_ID = uuid.uuid4().hex[:8]
TEMPLATE_DB = f"ggzy_tpl_{RUN_ID}"
WORK_DB = f"ggzy_test_{RUN_ID}"


def pg_url(database: str) -> str:
    return make_url(PG_SERVER_URL).set(database=database).render_as_string(hide_password=False)


async def _admin(sql: str) -> None:
    engine = create_async_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def clone_database(name: str) -> str:
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    return pg_url(name)


async def drop_database(name: str) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(url: str) -> None:
    from trading.server.cli import alembic_config  # noqa: PLC0415 - after the environment is set

    command.upgrade(alembic_config(url), "head")


@pytest.fixture(scope="session")
async def pg_databases() -> AsyncIterator[None]:
    await _admin(f'CREATE DATABASE "{TEMPLATE_DB}"')
    try:
        # Alembic's env.py runs its own event loop; keep it off ours.
        import asyncio  # noqa: PLC0415

        await asyncio.to_thread(migrate, pg_url(TEMPLATE_DB))
        await clone_database(WORK_DB)
        yield
    finally:
        await drop_database(WORK_DB)
        await drop_database(TEMPLATE_DB)


@pytest.fixture(scope="session")
async def engine(pg_databases: None) -> AsyncIterator[AsyncEngine]:
    del pg_databases
    engine = create_engine(pg_url(WORK_DB), pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
def settings() -> Settings:
    return Settings(db={"url": pg_url(WORK_DB)}, var_dir=_VAR)  # type: ignore[arg-type]


@pytest.fixture
async def session_maker(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with engine.connect() as connection:
        outer = await connection.begin()
        yield async_sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
        await outer.rollback()


@pytest.fixture
async def session(session_maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_maker() as session:
        yield session


@pytest.fixture
def publisher() -> Iterator[RecordingPublisher]:
    from trading.kernel.tasks import set_publisher  # noqa: PLC0415

    recording = RecordingPublisher()
    previous = set_publisher(recording)
    yield recording
    set_publisher(previous)


@pytest.fixture
def app(
    settings: Settings, session_maker: async_sessionmaker[AsyncSession], publisher: RecordingPublisher
) -> Litestar:
    from trading.server.app import create_app  # noqa: PLC0415

    return create_app(settings, session_maker=session_maker, publisher=publisher)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as client:
        yield client


@pytest.fixture
async def fresh_db() -> AsyncIterator[str]:
    """The URL of a database of this test's own (real commits, any number of connections)."""
    name = f"ggzy_fresh_{uuid.uuid4().hex[:10]}"
    url = await clone_database(name)
    try:
        yield url
    finally:
        await drop_database(name)
