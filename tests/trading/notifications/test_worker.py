"""A real Celery worker sends a notice e-mail once: the first try meets 451, the task retries with
backoff, then a duplicate task message and two sweeps change nothing at the SMTP server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.notifications.conftest import SmtpServer, account_with_email
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.tasks import set_publisher
from trading.notifications import service
from trading.notifications.models import DeliveryStatus, EmailDelivery
from trading.notifications.repository import NotificationRepository
from trading.notifications.service import SEND_TASK, Recipient

pytestmark = pytest.mark.worker

# Its own Redis database (broker and results): the other worker test flushes 14.
BROKER = os.environ.get("GGZY_TEST_REDIS_NOTIFICATIONS_BROKER", "redis://127.0.0.1:6379/12")


@pytest.fixture
def worker_env(fresh_db: str, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[dict[str, str]]:
    redis.Redis.from_url(BROKER).flushdb()
    yield {
        **os.environ,
        "GGZY_DB_URL": fresh_db,
        "GGZY_CELERY_BROKER_URL": BROKER,
        "GGZY_CELERY_RESULT_BACKEND": BROKER,
        "GGZY_VAR_DIR": str(tmp_path),
        "GGZY_LOG_LEVEL": "INFO",
        "GGZY_SMTP_HOST": smtp_server.host,
        "GGZY_SMTP_PORT": str(smtp_server.port),
    }
    redis.Redis.from_url(BROKER).flushdb()


@pytest.fixture
def worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Path]:
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
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
        yield log_path
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def celery(worker_env: dict[str, str]) -> Celery:
    from trading.server.celery_app import build_celery

    app = build_celery()
    app.conf.broker_url = worker_env["GGZY_CELERY_BROKER_URL"]
    app.conf.result_backend = worker_env["GGZY_CELERY_RESULT_BACKEND"]
    return app


@pytest.fixture
async def app_side(worker_env: dict[str, str], celery: Celery) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The web side: its own engine on the fresh database and the Celery publisher on Redis."""
    from trading.server.celery_app import CeleryPublisher

    previous = set_publisher(CeleryPublisher(celery))
    engine = create_engine(worker_env["GGZY_DB_URL"])
    yield create_session_maker(engine)
    await engine.dispose()
    set_publisher(previous)


async def _wait_for(predicate: Callable[[], Awaitable[bool]], *, seconds: float = 90.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.25)
    return False


async def _run(celery: Celery, name: str, **kwargs: str) -> object:
    """Send a task straight to the worker and wait for its result."""
    result = celery.send_task(name, kwargs=kwargs)
    return await asyncio.to_thread(result.get, timeout=90)


async def test_worker_sends_once_through_a_451_a_retry_a_duplicate_and_two_sweeps(
    app_side: async_sessionmaker[AsyncSession],
    worker: Path,
    smtp_server: SmtpServer,
    settings: Settings,
    celery: Celery,
) -> None:
    account = await account_with_email(app_side, settings, "worker@example.cn")
    async with transaction(app_side) as session:
        notice = await service.publish(
            session,
            recipient=Recipient.user(account.user_id),
            template="notifications.message",
            key=f"test:{uuid.uuid4()}",
            params={"title": "中标候选人公示", "text": "公示期三日。"},
        )
        [delivery] = await NotificationRepository(session).deliveries_of(notice.id)
        delivery_id = delivery.id

    async def sent() -> bool:
        async with app_side() as session:
            row = await session.get_one(EmailDelivery, delivery_id, populate_existing=True)
            return row.status is DeliveryStatus.SENT

    assert await _wait_for(sent), (smtp_server.handler, worker.read_text())
    assert smtp_server.handler.refused == 1  # the first try met 451 and the task was retried
    assert len(smtp_server.handler.received) == 1

    # A duplicate message (as after a lost acknowledgement) and two sweeps: nothing more is sent.
    assert await _run(celery, SEND_TASK, delivery_id=str(delivery_id)) == "sent"
    for _ in range(2):
        assert await _run(celery, "kernel.sweep_due_checks") == {"changed": {}, "failed": {}}
    [message] = smtp_server.handler.received
    assert message["Subject"] == "中标候选人公示"
    async with app_side() as session:
        row = await session.get_one(EmailDelivery, delivery_id)
        assert row.attempts == 2
