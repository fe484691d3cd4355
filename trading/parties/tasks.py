"""Celery shells for the parties jobs (scheduled by ``trading.server.wiring.beat_schedule``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from trading.kernel.settings import get_settings
from trading.kernel.tasks import run_async, task, worker_session_maker
from trading.parties import jobs

REFRESH_REVOCATION_TASK = "parties.refresh_revocation"
PURGE_CHALLENGES_TASK = "parties.purge_login_challenges"
PURGE_PDF_SIGNING_TASK = "parties.purge_pdf_signing_requests"


@task(REFRESH_REVOCATION_TASK)
def refresh_revocation() -> dict[str, Any]:
    """Fetch CRLs before they expire, and those the trust list names (idempotent)."""
    return run_async(jobs.refresh_revocation(worker_session_maker(), get_settings()))


@task(PURGE_CHALLENGES_TASK)
def purge_login_challenges() -> int:
    """Delete login challenges that expired more than a day ago (idempotent)."""
    return run_async(jobs.purge_login_challenges(worker_session_maker(), keep=timedelta(days=1)))


@task(PURGE_PDF_SIGNING_TASK)
def purge_pdf_signing_requests() -> int:
    """Delete in-page PDF signing requests that expired more than a day ago (idempotent)."""
    return run_async(jobs.purge_pdf_signing_requests(worker_session_maker(), keep=timedelta(days=1)))
