"""The Celery application: broker from settings, every package's tasks, one merged beat schedule.

Production uses Redis as the broker. The embedded default uses kombu's SQLAlchemy transport on a
SQLite file, so a real worker and beat run with no broker server to install.

Task shells live in each package's ``tasks.py`` (``@trading.kernel.tasks.task(name)``) and are imported here;
services never import them, they enqueue by name (``trading.kernel.tasks.enqueue``).
"""

from __future__ import annotations

from typing import Any

import structlog
from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init, worker_process_init

import bidding.evaluation.report.tasks
import bidding.integrity.tasks  # registers the integrity screenings by name
import bidding.opening.tasks  # noqa: F401 - registers the opening record's rendering by name
import intermediary_market.tasks  # noqa: F401 - registers the credit recomputation by name
import trading.guarantees.api_tasks  # registers the guarantor API's purge by name
import trading.guarantees.callback_tasks  # registers the pushes to guarantors' callback URLs
import trading.guarantees.release_tasks  # registers the release of bid securities after the award
import trading.ledger.tasks  # noqa: F401 - importing a tasks module registers its tasks by name
from trading.kernel import clock, sweep
from trading.kernel.logging import bind_correlation_id, configure_logging
from trading.kernel.settings import get_settings
from trading.kernel.tasks import TaskMessage, run_async, set_publisher, worker_loop, worker_session_maker
from trading.kernel.tasks import task as task_shell
from trading.notifications import tasks as notifications_tasks  # noqa: F401 - registers the notice e-mails by name
from trading.parties import tasks as parties_tasks  # noqa: F401 - registers the certificate jobs by name
from trading.parties.sessions import broadcast_forgotten_actors
from trading.server import wiring
from trading.server.live import plug_worker

log = structlog.get_logger(__name__)


def build_celery() -> Celery:
    settings = get_settings()
    wiring.check_settings(settings)  # a worker with a bad GGZY_BIDDING_RULES fails at start too
    app = Celery("ggzy")
    app.conf.update(
        broker_url=settings.celery.broker_url,
        result_backend=settings.celery.result_backend or None,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_acks_late=True,  # a task lost with its worker is redelivered; jobs are idempotent
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        task_default_queue="default",
        broker_connection_retry_on_startup=True,
        beat_schedule=wiring.beat_schedule(
            sweep_seconds=settings.celery.sweep_interval_seconds,
            checkpoint_seconds=settings.celery.checkpoint_interval_seconds,
            revocation_seconds=settings.certs.revocation_refresh_seconds,
        ),
    )
    return app


celery = build_celery()


class CeleryPublisher:
    """Publishes after-commit task messages to the broker by task name."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def publish(self, messages: list[TaskMessage]) -> None:
        for message in messages:
            self.app.send_task(message.name, kwargs=message.kwargs)


@task_shell("kernel.sweep_due_checks")
def sweep_due_checks() -> dict[str, Any]:
    """Run every due ``next_check`` transition (idempotent; safe on several workers at once)."""
    report = run_async(sweep.run_sweep(worker_session_maker()))
    return {"changed": report.changed, "failed": report.failed}


def _init_worker_process(**_: Any) -> None:
    # One loop per process, created before the first task so the engine binds to it.
    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    worker_loop()
    set_publisher(CeleryPublisher(celery))
    wiring.register_sweep_handlers()
    wiring.use_platform_tsa(settings)  # ledger checkpoints are timestamped
    # Jobs change memberships too (the expiry sweep): tell the web processes' actor caches.
    broadcast_forgotten_actors(settings.redis_url or None)
    plug_worker(settings)  # the sweep's opening events reach the live hall's pages


# Receivers are connected by call: Celery's decorators are untyped and would hide their signatures.
worker_process_init.connect(_init_worker_process)


def _bind_task_context(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    bind_correlation_id(task_id or "-")
    if task is not None:
        log.info("task.start", task_name=task.name)


task_prerun.connect(_bind_task_context)


def _log_task_end(task: Any = None, state: str | None = None, **_: Any) -> None:
    if task is not None:
        log.info("task.end", task_name=task.name, state=state)


task_postrun.connect(_log_task_end)


# Solo and thread pools never fire worker_process_init; register handlers at import as well.
clock.install_test_clock(get_settings())  # forked pool processes inherit it
wiring.register_sweep_handlers()
wiring.use_platform_tsa(get_settings())
wiring.register_integrity_hooks(get_settings())  # the sweep closes openings in the worker too
set_publisher(CeleryPublisher(celery))
broadcast_forgotten_actors(get_settings().redis_url or None)


def _plug_live_hall(**_: Any) -> None:
    # In the worker only (every pool fires this; web processes import this module too, for the
    # task publisher, and publish the hall's events through their own broker).
    plug_worker(get_settings())


worker_init.connect(_plug_live_hall)
