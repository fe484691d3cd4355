"""Group commit: many concurrent requests recorded in one transaction per key.

At an opening, hundreds of bidders send their content keys within seconds. Each decryption must be
recorded under the session row's lock (the window's end takes the same lock), so their transactions
queue behind one another, each paying its own round trips and its own commit (WAL flush) while
holding the lock. `GroupCommit` lets them share: a request hands over what it has checked outside
any transaction and waits; one flusher per key takes everything waiting, records it in a single
transaction (``record``), and answers each request with its own result or refusal. While that
transaction runs, newcomers queue for the next one, so batches grow with the load and a lone
request is recorded at once.

``record(batch)`` resolves each item's ``done`` future with a result or a per-item exception; when
it raises instead, every unresolved item of the batch gets that exception. Requests are per event
loop, so one `GroupCommit` belongs to one application instance.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

R = TypeVar("R")


@dataclass(eq=False)
class Waiting(Generic[R]):
    """One request's part of a batch: its payload and the future its caller awaits."""

    payload: Any
    done: asyncio.Future[R] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def resolve(self, result: R) -> None:
        if not self.done.done():
            self.done.set_result(result)

    def refuse(self, error: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(error)


class GroupCommit(Generic[R]):
    def __init__(self, record: Callable[[Hashable, list[Waiting[R]]], Awaitable[None]]) -> None:
        self._record = record
        self._queues: dict[Hashable, list[Waiting[R]]] = {}
        self._flushers: dict[Hashable, asyncio.Task[None]] = {}

    async def submit(self, key: Hashable, payload: Any) -> R:
        """Queue ``payload`` under ``key`` and wait for the transaction that records it."""
        item: Waiting[R] = Waiting(payload)
        self._queues.setdefault(key, []).append(item)
        if key not in self._flushers:
            self._flushers[key] = asyncio.create_task(self._flush(key))
        # A caller that goes away (client disconnect) does not withdraw what it handed over:
        # the flusher still records it, so nothing accepted is lost.
        return await asyncio.shield(item.done)

    async def _flush(self, key: Hashable) -> None:
        try:
            while batch := self._queues.pop(key, None):
                try:
                    await self._record(key, batch)
                except BaseException as error:  # handed to every waiter, who re-raises it
                    for item in batch:
                        item.refuse(error)
                    if not isinstance(error, Exception):  # cancelled (shutdown): stop, after answering
                        raise
                for item in batch:  # a record() that forgot one must not leave its caller hanging
                    item.refuse(RuntimeError("the batch was recorded without an answer for this item"))
        finally:
            del self._flushers[key]
            for item in self._queues.pop(key, []):  # only left when the flusher was cancelled
                item.refuse(RuntimeError("the platform stopped before recording this request"))
