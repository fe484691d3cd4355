"""Celery shells for the opening's jobs (enqueued by name after commit; the logic is in
`bidding.opening.record`).
"""

from __future__ import annotations

from celery import shared_task

from bidding.opening.record import RENDER_TASK, publish_record
from trading.kernel.settings import get_settings
from trading.kernel.storage import FileStore
from trading.kernel.tasks import run_async, worker_session_maker


@shared_task(name=RENDER_TASK, acks_late=True)  # type: ignore[untyped-decorator]  # Celery's is untyped
def render_opening_record(code: str) -> str | None:
    """Render, platform-sign and store the opening record of a closed opening (idempotent)."""
    settings = get_settings()
    assert settings.storage_dir is not None  # noqa: S101 - filled by Settings' validator
    return run_async(publish_record(worker_session_maker(), settings, FileStore(settings.storage_dir), code))
