"""Celery shells for integrity's screening jobs (published by name; the logic is in ``jobs.py``)."""

from __future__ import annotations

import uuid
from typing import Any

from bidding.integrity import jobs
from bidding.integrity.screening import (
    RECOMPUTE_MARKET_TASK,
    SCREEN_AWARD_TASK,
    SCREEN_EVALUATION_TASK,
    SCREEN_OPENING_TASK,
)
from trading.kernel.tasks import run_async, task, worker_session_maker


def _answer(report: jobs.ScreeningReport) -> dict[str, Any]:
    return {"lots": report.lots, "alerts": report.alerts, "failed": list(report.failed)}


@task(SCREEN_OPENING_TASK)
def screen_opening(code: str) -> dict[str, Any]:
    """Screen the lots of a tender whose opening closed (idempotent)."""
    return _answer(run_async(jobs.screen_opening(worker_session_maker(), code)))


@task(SCREEN_EVALUATION_TASK)
def screen_evaluation(evaluation_id: str) -> dict[str, Any]:
    """Screen an evaluation whose scores are all in (idempotent)."""
    return _answer(run_async(jobs.screen_evaluation(worker_session_maker(), uuid.UUID(evaluation_id))))


@task(RECOMPUTE_MARKET_TASK)
def recompute_market() -> dict[str, Any]:
    """The market batch over every tender (idempotent; beat runs it daily)."""
    return _answer(run_async(jobs.recompute_market(worker_session_maker())))


@task(SCREEN_AWARD_TASK)
def screen_award(award_id: str) -> dict[str, Any]:
    """Screen the lots of an award that decided a winner (idempotent)."""
    return _answer(run_async(jobs.screen_award(worker_session_maker(), uuid.UUID(award_id))))
