"""Celery shells for the ledger's jobs (scheduled by ``trading.server.wiring.beat_schedule``)."""

from __future__ import annotations

from typing import Any

from trading.kernel.tasks import run_async, task, worker_session_maker
from trading.ledger import jobs
from trading.ledger.service import CHECKPOINT_TASK


@task(CHECKPOINT_TASK)
def checkpoint_chains(milestone: str | None = None, project_code: str | None = None) -> dict[str, Any]:
    """Sign the chain heads that moved since the last checkpoint (idempotent).

    Run by beat every ``GGZY_CELERY_CHECKPOINT_INTERVAL_SECONDS`` and enqueued at legal milestones
    (``service.request_checkpoint``); the milestone only labels the log line.
    """
    return run_async(jobs.checkpoint_chains(worker_session_maker(), milestone=milestone, project_code=project_code))
