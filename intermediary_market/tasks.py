"""Celery shells for the marketplace jobs (scheduled by ``trading.server.wiring.beat_schedule``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from intermediary_market import jobs
from trading.kernel.tasks import run_async, worker_session_maker

RECOMPUTE_CREDIT_TASK = "intermediary_market.recompute_credit"


@shared_task(name=RECOMPUTE_CREDIT_TASK, acks_late=True)  # type: ignore[untyped-decorator]  # Celery's is untyped
def recompute_credit() -> dict[str, Any]:
    """Recompute every intermediary's credit snapshot (daily; idempotent)."""
    return run_async(jobs.recompute_credit(worker_session_maker()))
