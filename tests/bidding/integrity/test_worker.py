"""The screening tasks through a real Celery worker on Redis: the opening's ``closed`` event, once
committed, reaches integrity's sink, which publishes ``integrity.screen_opening`` to the broker; the
worker (its own process and engine) runs it, and ``integrity.recompute_market`` enqueued by name.

The worker has none of this test's screeners (the integrator registers the real ones in wiring), so
the jobs find nothing to record: what is proven here is the path, from the event to a task that ran
to success in the worker.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.integrity import screening
from bidding.integrity.screening import Trigger, register_screener, unregister_screener
from bidding.integrity.screens.model import Scope
from bidding.opening import events as opening_events
from tests.bidding.integrity.support import PriceScreener
from tests.trading.server.test_celery_worker import app_side, worker, worker_env  # noqa: F401 - fixtures
from trading.kernel.db.uow import transaction
from trading.kernel.tasks import enqueue

# The plumbing under test, with screeners of its own (conftest `only_test_screeners`).
pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("only_test_screeners")]


@pytest.fixture
def results_env(worker_env: dict[str, str]) -> dict[str, str]:  # noqa: F811 - the fixture imported above
    """The worker stores each task's outcome in Redis (the same database as the broker)."""
    worker_env["GGZY_CELERY_RESULT_BACKEND"] = worker_env["GGZY_CELERY_BROKER_URL"]
    return worker_env


def _outcomes(url: str) -> list[tuple[str, object]]:
    """(status, result) of every outcome the worker stored (the broker was flushed before the test)."""
    client = redis.Redis.from_url(url)
    found: list[tuple[str, object]] = []
    for key in client.scan_iter("celery-task-meta-*"):
        raw = client.get(key)
        if raw:
            meta = json.loads(raw)
            found.append((str(meta.get("status")), meta.get("result")))
    return found


async def _ran(url: str, count: int, *, seconds: float = 60.0) -> list[tuple[str, object]]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = _outcomes(url)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.25)
    return _outcomes(url)


async def test_the_screening_tasks_run_in_a_real_worker(
    results_env: dict[str, str],
    app_side: async_sessionmaker[AsyncSession],  # noqa: F811 - the fixture imported above
    worker: subprocess.Popen[bytes],  # noqa: F811
    tmp_path: Path,
) -> None:
    screener = PriceScreener()
    screening.plug()
    register_screener(Trigger.OPENING, Scope.LOT_PRICES, screener)
    try:
        async with transaction(app_side) as session:
            opening_events.publish_after_commit(session, "NO-SUCH-TENDER", {"type": "stage", "state": "closed"})
            enqueue(session, "integrity.recompute_market")
    finally:
        unregister_screener(screener)
    # Both tasks ran to success: the opening's screening of an unknown tender screened nothing; the
    # market batch ran the platform's market screens (registered in the worker by celery_app) over
    # the whole market, an empty one here, and raised nothing.
    outcomes = await _ran(results_env["GGZY_CELERY_RESULT_BACKEND"], 2)
    nothing = ("SUCCESS", {"lots": 0, "alerts": 0, "failed": []})
    market = ("SUCCESS", {"lots": 1, "alerts": 0, "failed": []})
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert sorted(outcomes, key=str) == sorted([nothing, market], key=str), log
    assert worker.poll() is None
