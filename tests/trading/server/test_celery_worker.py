"""A real Celery worker on Redis runs what a committed transaction enqueued, end to end.

The test commits a membership that is already past its end date and, in the same transaction,
enqueues the sweep and a ledger checkpoint by name. The publisher sends them to Redis after the
commit; a prefork worker (its own process, its own event loop, its own engine) picks them up,
expires the membership through the sweep handler and signs the chain heads.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.tasks import enqueue, set_publisher
from trading.ledger.models import LedgerCheckpoint, LedgerEntry
from trading.parties.identifiers import uscc_check_char
from trading.parties.models import Membership, MembershipStatus, Organisation, OrganisationKind, User

pytestmark = pytest.mark.worker

BROKER = os.environ.get("GGZY_TEST_REDIS_BROKER", "redis://127.0.0.1:6379/14")


@pytest.fixture
def worker_env(fresh_db: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    redis.Redis.from_url(BROKER).flushdb()  # no stale messages from an earlier run
    env = {
        **os.environ,
        "GGZY_DB_URL": fresh_db,
        "GGZY_CELERY_BROKER_URL": BROKER,
        "GGZY_VAR_DIR": str(tmp_path),
        "GGZY_LOG_LEVEL": "INFO",
    }
    yield env
    redis.Redis.from_url(BROKER).flushdb()


@pytest.fixture
def worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "trading.server.celery_app:celery",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=worker_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


@pytest.fixture
async def app_side(worker_env: dict[str, str]) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The web side: its own engine on the fresh database and the Celery publisher on Redis."""
    from trading.server.celery_app import CeleryPublisher, build_celery

    celery = build_celery()
    celery.conf.broker_url = worker_env["GGZY_CELERY_BROKER_URL"]
    previous = set_publisher(CeleryPublisher(celery))
    engine = create_engine(worker_env["GGZY_DB_URL"])
    yield create_session_maker(engine)
    await engine.dispose()
    set_publisher(previous)


async def _wait_for(predicate: object, *, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.25)
    return False


async def test_worker_runs_tasks_enqueued_by_a_committed_transaction(
    app_side: async_sessionmaker[AsyncSession], worker: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    async with transaction(app_side) as session:
        now = await clock.now(session)
        base = "91320800" + uuid.uuid4().hex[:9].upper().translate(str.maketrans("IOZSV", "12345"))
        org = Organisation(
            uscc=base + uscc_check_char(base),
            name="过期测试公司",
            kind=OrganisationKind.ENTERPRISE,
            region_code="320800",
        )
        user = User(username=f"expiring-{uuid.uuid4().hex[:6]}", display_name="测试", password_hash="x")
        session.add_all([org, user])
        await session.flush()
        membership = Membership(
            user_id=user.id,
            organisation_id=org.id,
            role=Role.BIDDER,
            valid_from=now - timedelta(days=30),
            valid_until=now - timedelta(minutes=1),
            next_check=now - timedelta(minutes=1),
        )
        session.add(membership)
        await session.flush()
        membership_id = membership.id
        enqueue(session, "kernel.sweep_due_checks")

    async def expired() -> bool:
        async with app_side() as session:
            status = await session.scalar(select(Membership.status).where(Membership.id == membership_id))
            return status is MembershipStatus.EXPIRED

    assert await _wait_for(expired), (tmp_path / "worker.log").read_text()

    async with app_side() as session:
        entries = await session.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.subject_id == str(membership_id))
        )
    assert entries == 1  # the expiry, recorded once by the worker

    async with transaction(app_side) as session:
        enqueue(session, "ledger.checkpoint_chains")

    async def checkpointed() -> bool:
        async with app_side() as session:
            return bool(await session.scalar(select(func.count()).select_from(LedgerCheckpoint)))

    assert await _wait_for(checkpointed), (tmp_path / "worker.log").read_text()
    assert worker.poll() is None  # the worker is still alive after both tasks


async def test_rolled_back_transaction_sends_nothing_to_the_broker(
    app_side: async_sessionmaker[AsyncSession], worker_env: dict[str, str]
) -> None:
    async def enqueue_then_fail() -> None:
        async with transaction(app_side) as session:
            enqueue(session, "kernel.sweep_due_checks")
            msg = "abandon"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="abandon"):
        await enqueue_then_fail()
    queue_length = redis.Redis.from_url(worker_env["GGZY_CELERY_BROKER_URL"]).llen("default")
    assert queue_length == 0
