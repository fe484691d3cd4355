"""Celery shell for the guarantor API's housekeeping (scheduled by ``trading.server.wiring.beat_schedule``).

Its own module rather than ``tasks.py``: the guarantees parts were built in parallel, each with its own files.
"""

from __future__ import annotations

from trading.guarantees import api_store
from trading.kernel.tasks import run_async, task, worker_session_maker

PURGE_API_RECORDS_TASK = "guarantees.purge_api_records"


@task(PURGE_API_RECORDS_TASK)
def purge_api_records() -> int:
    """Forget nonces whose window has closed and idempotent responses past their retention (idempotent)."""
    return run_async(api_store.purge_api_records(worker_session_maker()))
