"""Celery shells for the ledger's jobs (scheduled by ``trading.server.wiring.beat_schedule``)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from trading.kernel.tasks import run_async, worker_session_maker
from trading.ledger import jobs

CHECKPOINT_TASK = "ledger.checkpoint_chains"


@shared_task(name=CHECKPOINT_TASK, acks_late=True)
def checkpoint_chains() -> dict[str, Any]:
    """Sign the chain heads that moved since the last checkpoint (idempotent)."""
    return run_async(jobs.checkpoint_chains(worker_session_maker()))
