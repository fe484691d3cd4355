"""Celery shell for the release of bid securities (logic in `release_jobs`).

Its own module rather than ``tasks.py``: the guarantees parts are built in parallel, each with its own files.
"""

from __future__ import annotations

from typing import Any

from trading.guarantees import release_jobs
from trading.kernel.tasks import run_async, task, worker_session_maker


@task(release_jobs.RELEASE_TASK)
def release_bid_securities(**event: Any) -> dict[str, int]:
    """The award stage's event after the contract is signed: release and refund (idempotent)."""
    outcome = run_async(release_jobs.release_bid_securities(worker_session_maker(), **event))
    return {"released": outcome.released, "refunds": outcome.refunds, "skipped": outcome.skipped}
