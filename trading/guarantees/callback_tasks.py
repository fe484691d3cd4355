"""Celery shell for the callbacks to guarantors (logic in `trading.guarantees.callbacks`; scheduled by
``trading.server.wiring.beat_schedule``). Its own module: the guarantees parts were built in parallel.
"""

from __future__ import annotations

from trading.guarantees import callbacks
from trading.kernel.settings import get_settings
from trading.kernel.tasks import run_async, task, worker_session_maker

PUSH_CALLBACKS_TASK = "guarantees.push_callbacks"


@task(PUSH_CALLBACKS_TASK)
def push_callbacks() -> dict[str, int]:
    """Record new events for guarantors with a callback URL and push the due ones (idempotent)."""
    return run_async(callbacks.push_callbacks(worker_session_maker(), get_settings()))
