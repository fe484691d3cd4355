"""Where the packages' declarations meet: permission grants, sweep handlers, beat schedule.

Each package declares what it contributes in its own modules (``policies.ROLE_GRANTS``,
``jobs.SWEEP_HANDLERS``, ``tasks.BEAT_SCHEDULE``); this module is the one list of them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from trading.kernel import sweep
from trading.kernel.auth.permissions import Grants


def grants() -> Grants:
    return Grants()


def register_sweep_handlers() -> None:
    handlers: tuple[sweep.DueHandler, ...] = ()
    for handler in handlers:
        sweep.register(handler)


def beat_schedule(*, sweep_seconds: float, checkpoint_seconds: float) -> dict[str, Any]:
    del checkpoint_seconds
    return {
        "kernel.sweep_due_checks": {"task": "kernel.sweep_due_checks", "schedule": timedelta(seconds=sweep_seconds)},
    }
