"""Celery shells for the marketplace jobs (scheduled by ``trading.server.wiring.beat_schedule``)."""

from __future__ import annotations

from typing import Any

from intermediary_market import jobs
from trading.kernel.tasks import run_async, task, worker_session_maker

RECOMPUTE_CREDIT_TASK = "intermediary_market.recompute_credit"


@task(RECOMPUTE_CREDIT_TASK)
def recompute_credit() -> dict[str, Any]:
    """Recompute every intermediary's credit snapshot (daily; idempotent)."""
    return run_async(jobs.recompute_credit(worker_session_maker()))
