"""Celery shell for sending notice e-mails (enqueued by name after commit; the logic is in jobs)."""

from __future__ import annotations

import uuid

from trading.kernel.tasks import run_async, task, worker_session_maker
from trading.notifications import jobs
from trading.notifications.service import SEND_TASK
from trading.notifications.smtp import TemporaryFailure


@task(
    SEND_TASK,
    autoretry_for=(TemporaryFailure,),
    retry_backoff=2,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=jobs.MAX_ATTEMPTS,
)
def send_email(delivery_id: str) -> str:
    """Send one notice e-mail (idempotent: a sent delivery is not sent again)."""
    return run_async(jobs.send_email(worker_session_maker(), uuid.UUID(delivery_id)))
