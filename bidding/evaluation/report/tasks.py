"""Celery shell for the report's rendering (enqueued by name after commit; the logic is in
`bidding.evaluation.report.service.publish_report`).
"""

from __future__ import annotations

import uuid

from bidding.evaluation.report.service import RENDER_TASK, publish_report
from trading.kernel.settings import get_settings
from trading.kernel.storage import open_store
from trading.kernel.tasks import run_async, task, worker_session_maker


@task(RENDER_TASK)
def render_evaluation_report(evaluation_id: str) -> str | None:
    """Render and store the current revision of an evaluation's report (idempotent)."""
    settings = get_settings()
    store = open_store(settings)
    return run_async(publish_report(worker_session_maker(), settings, store, uuid.UUID(evaluation_id)))
