"""Background work: enqueue after commit, and run async jobs inside Celery workers.

* ``enqueue(session, "package.verb_object", **kwargs)`` buffers a task *on the session*. The buffer
  is handed to the publisher only after the session's transaction commits and is dropped on
  rollback, so a task never runs for data that does not exist (Warehouse's after-commit hook,
  Polar's reset-on-rollback).
* Services name tasks as strings and never import task modules; the composition root installs the
  publisher (Celery's ``send_task`` in production, a recording one in tests).
* ``run_async(coro)`` is the bridge Celery task shells use: one persistent event loop per worker
  process, so pooled asyncpg connections stay on the loop that created them.
* ``@task("package.verb_object")`` declares a shell: Celery's ``shared_task`` (acknowledged late, so
  a task lost with its worker runs again) with the function's own signature for the type checker.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from celery import shared_task

from trading.kernel.after_commit import AfterCommit
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class TaskMessage:
    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)


class Publisher(Protocol):
    def publish(self, messages: list[TaskMessage]) -> None:
        """Send messages to the broker. Called after commit, from a synchronous context."""
        ...


class DroppingPublisher:
    """Until the composition root installs a publisher, refuse loudly rather than lose tasks."""

    def publish(self, messages: list[TaskMessage]) -> None:
        names = ", ".join(m.name for m in messages)
        msg = f"no task publisher installed; would lose: {names}"
        raise RuntimeError(msg)


class RecordingPublisher:
    """Keeps what was published; used by tests and by tools that inspect enqueued work."""

    def __init__(self) -> None:
        self.published: list[TaskMessage] = []

    def publish(self, messages: list[TaskMessage]) -> None:
        self.published.extend(messages)


_publisher: Publisher = DroppingPublisher()


def set_publisher(publisher: Publisher) -> Publisher:
    """Install the process-wide publisher; returns the previous one so callers can restore it."""
    global _publisher
    previous, _publisher = _publisher, publisher
    return previous


def _publish(messages: list[TaskMessage]) -> None:
    # The publisher is looked up at delivery, not bound once: the composition root and tests swap it.
    _publisher.publish(messages)


_held: AfterCommit[TaskMessage] = AfterCommit("ggzy.after_commit_tasks", _publish)


def enqueue(session: AsyncSession, name: str, **kwargs: Any) -> None:
    """Send task ``name`` with JSON-serialisable ``kwargs`` once ``session``'s outermost
    transaction commits; dropped if it (or the savepoint the call was made in) rolls back.
    """
    _held.add(session, TaskMessage(name, kwargs))


def publish_now(name: str, **kwargs: Any) -> None:
    """Send task ``name`` at once, for code that runs after a commit with no session of its own
    (an event sink: the change it reacts to is already durable).
    """
    _publish([TaskMessage(name, kwargs)])


def pending(session: AsyncSession) -> list[TaskMessage]:
    """Tasks buffered on ``session`` and not yet published (for tests and diagnostics)."""
    return _held.pending(session)


# --- the async bridge for Celery worker processes ---------------------------------------------

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def worker_loop() -> asyncio.AbstractEventLoop:
    """This process's persistent event loop, created on first use (and anew after a fork)."""
    global _loop, _loop_pid  # noqa: PLW0603 - one loop per process is the point
    if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
        _loop = asyncio.new_event_loop()
        _loop_pid = os.getpid()
    return _loop


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run an async job to completion on this worker process's loop."""
    return worker_loop().run_until_complete(coro)


_session_maker: async_sessionmaker[AsyncSession] | None = None


def worker_session_maker() -> async_sessionmaker[AsyncSession]:
    """The worker process's session maker, its engine created on the worker loop (lazily, so a
    forked child never inherits the parent's connections).
    """
    global _session_maker  # noqa: PLW0603 - one engine per worker process
    if _session_maker is None or _loop_pid != os.getpid():
        settings = get_settings()
        worker_loop()
        engine = create_engine(
            settings.db.url,
            pool_size=settings.db.pool_size,
            busy_timeout_ms=settings.db.sqlite_busy_timeout_ms,
        )
        _session_maker = create_session_maker(engine)
    return _session_maker


def task(name: str, **options: Any) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Register a Celery task shell under ``name`` (``shared_task(name=name, acks_late=True)``;
    ``options`` such as ``autoretry_for``/``retry_backoff`` go to Celery as they are).

    Celery ships no types, so its decorator would erase the shell's signature; this keeps it. The
    result is Celery's task, which calls the function when called directly (tests do).
    """

    def register(function: Callable[P, T]) -> Callable[P, T]:
        registered: Callable[P, T] = shared_task(name=name, acks_late=True, **options)(function)
        return registered

    return register
