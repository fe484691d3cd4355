"""Test fixtures: a real PostgreSQL database built by Alembic, one rolled-back transaction per test.

* ``GGZY_TEST_PG_URL`` (default: the local server's ``postgres`` user) names the server. The
  suite builds a template database with ``alembic upgrade head`` once per run, adds the test
  editions of the calendar's next years (``tests/calendar_editions.py``), then a working database
  from it.
* ``session_maker`` / ``session``: bound to one connection inside an outer transaction that is
  rolled back after the test; code under test may commit freely (commits become savepoint
  releases), nothing survives the test.
* ``fresh_db``: a database of its own, cloned from the template, for tests that need real commits
  seen by other connections or processes (concurrency, Celery workers). Dropped afterwards.
* ``app`` / ``client``: the real application bound to the test session maker (``client`` is an
  ``httpx.AsyncClient`` on the test's loop), with a
  ``RecordingPublisher`` instead of the broker.

Under pytest-xdist (``scripts/test.sh``) every worker is its own process with its own databases
(named after the worker) and var directory; a module's tests stay on one worker, and the browser
tests share one (`pytest_xdist_make_scheduler`).

Settings are environment-driven and cached, so the environment is set here before any
application module is imported.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

_VAR = Path(tempfile.mkdtemp(prefix="ggzy-test-var-"))
# Set, not defaulted: xdist workers inherit the controller's environment, and the `settings` fixture
# and the `ggzy` subprocesses a test starts must share this process's own directory (its keys).
os.environ["GGZY_VAR_DIR"] = str(_VAR)
os.environ.setdefault("GGZY_LOG_LEVEL", "WARNING")

import httpx  # noqa: E402
import pytest  # noqa: E402
from alembic import command  # noqa: E402
from litestar import Litestar  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine  # noqa: E402

from trading.kernel.db.engine import create_engine  # noqa: E402
from trading.kernel.settings import Settings  # noqa: E402
from trading.kernel.tasks import RecordingPublisher  # noqa: E402

PG_SERVER_URL = os.environ.get("GGZY_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
# The worker id tells whoever lists the databases which process made them; the random part keeps runs apart.
RUN_ID = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
TEMPLATE_DB = f"ggzy_tpl_{RUN_ID}"
WORK_DB = f"ggzy_test_{RUN_ID}"

pytest_plugins = [
    "tests.seaweedfs",  # the `seaweedfs_s3` fixture: a real S3 server
    "tests.calendar_editions",  # `without_test_editions`
]


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Hand xdist workers whole modules, so module-scoped fixtures (PKIs, live servers) are built
    once and a module's tests keep their order, and every browser test (``tests/e2e``) to one
    worker, so two Chromiums with their servers never compete for a small machine's CPUs.

    The units listed in `LONGEST_FIRST` are handed out before all others.

    (``--dist loadgroup`` with ``xdist_group`` marks would say the same, but pytest-xdist 3.8
    renames node ids in a way pytest 9 no longer sees, so its groups are silently ignored.)
    """
    from xdist.scheduler import LoadFileScheduling

    class ModuleScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/e2e" if path.startswith("tests/e2e/") else path

        def _assign_work_unit(self, node: Any) -> None:
            # xdist hands out the units with the most tests first; the longest ones go before them.
            for scope in reversed(LONGEST_FIRST):
                if scope in self.workqueue:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return ModuleScheduling(config, log)


LONGEST_FIRST = (
    "tests/e2e",
    "tests/bidding/test_crash.py",
    "tests/scaleout/test_bid_across_processes.py",
    "tests/scaleout/test_stateless_web.py",
    "tests/bidding/client/test_cli_live.py",
    "tests/trading/ledger/test_jobs.py",
    "tests/bidding/test_visibility.py",
)
"""The work units that take longest (minutes, in ``--durations``), handed out first, so that no
worker starts one of them while the others are running out of work: xdist orders the rest by
their number of tests, which says little about their time."""


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
    from trading.server.cli import alembic_config

    command.upgrade(alembic_config(url), "head")


@pytest.fixture(scope="session")
async def pg_databases() -> AsyncIterator[None]:
    await _admin(f'CREATE DATABASE "{TEMPLATE_DB}"')
    try:
        # Alembic's env.py runs its own event loop; keep it off ours.
        import asyncio

        await asyncio.to_thread(migrate, pg_url(TEMPLATE_DB))
        # Periods counted from today reach next year in December: tests/calendar_editions.py
        # (imported here, not above: pytest_plugins loads it, so that its asserts are rewritten).
        from tests.calendar_editions import install_test_editions

        await install_test_editions(pg_url(TEMPLATE_DB))
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
    from trading.kernel.tasks import set_publisher

    recording = RecordingPublisher()
    previous = set_publisher(recording)
    yield recording
    set_publisher(previous)


@pytest.fixture
def app(settings: Settings, session_maker: async_sessionmaker[AsyncSession], publisher: RecordingPublisher) -> Litestar:
    from trading.server.app import create_app

    return create_app(settings, session_maker=session_maker, publisher=publisher)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client over the app on the test's own event loop.

    Litestar's AsyncTestClient runs the app in a portal thread with another loop, where the
    test's connection (bound to this loop) cannot be used; httpx's ASGI transport does not.
    """
    # No lifespan: with an injected session maker the app's lifespan has nothing to open, and
    # anyio's task groups cannot span pytest-asyncio's fixture setup and teardown tasks.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as client:
        yield client


@pytest.fixture
async def empty_pg_db() -> AsyncIterator[str]:
    """The URL of an empty database (no schema), for migration tests."""
    name = f"ggzy_empty_{uuid.uuid4().hex[:10]}"
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        yield pg_url(name)
    finally:
        await drop_database(name)


@pytest.fixture
async def fresh_db(pg_databases: None) -> AsyncIterator[str]:
    """The URL of a database of this test's own (real commits, any number of connections)."""
    del pg_databases
    name = f"ggzy_fresh_{uuid.uuid4().hex[:10]}"
    url = await clone_database(name)
    try:
        yield url
    finally:
        await drop_database(name)


# --- the local certificate agent (``ggzy agent``) on a SoftHSM2 token: tests/certs/agent/support.py ---


@pytest.fixture
def softhsm_token(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``make(keys, certificates=())``: a SoftHSM2 token of this test's own holding ``keys``
    ([(key id hex, Identity)]) and issuer ``certificates`` ([(id, PEM)]); its environment."""
    from tests.certs.agent.support import init_token

    def make(keys: Any, certificates: Any = ()) -> dict[str, str]:
        return init_token(tmp_path_factory.mktemp("softhsm"), keys, certificates)

    return make


@pytest.fixture
def start_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``start(token_env, origins)``: ``ggzy agent`` serving that token to ``origins`` (an
    ``AgentProcess``: its URL, its questions, answered through its stdin); stopped after the test."""
    from contextlib import ExitStack

    from tests.certs.agent.support import running_agent

    with ExitStack() as stack:
        yield lambda token_env, origins: stack.enter_context(
            running_agent(token_env, origins, tmp_path_factory.mktemp("agent"))
        )
