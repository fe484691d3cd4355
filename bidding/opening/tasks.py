"""Celery shells for the opening's jobs (enqueued by name after commit; the logic is in
`bidding.opening.record`).
"""

from __future__ import annotations

from bidding.opening.record import RENDER_TASK, publish_record
from trading.kernel.settings import get_settings
from trading.kernel.storage import open_store
from trading.kernel.tasks import run_async, task, worker_session_maker


@task(RENDER_TASK)
def render_opening_record(code: str) -> str | None:
    """Render, platform-sign and store the opening record of a closed opening (idempotent)."""
    settings = get_settings()
    return run_async(publish_record(worker_session_maker(), settings, open_store(settings), code))
