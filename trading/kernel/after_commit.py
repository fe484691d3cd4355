"""Work held on a database session until its outermost transaction commits.

Tasks to enqueue, live events, cache invalidations: each is a side effect that must happen only
for a change that is durable, and never for one that was rolled back. An `AfterCommit` buffer keeps
such items on the session (``session.info``) and hands them to its ``deliver`` function when the
transaction commits.

Savepoints are why this is one mechanism and not a listener per module. SQLAlchemy fires
``after_commit`` also when a savepoint is *released* (``begin_nested()`` ends without error; the
pages' `trading.kernel.web.forms.submit` runs every action in one), while the outer transaction is
still open and may yet roll back. So:

* delivery waits for the outermost commit (a release only keeps the items for it);
* a savepoint rolled back drops exactly the items added inside it (a refused action on a page
  leaves no task or event behind, though the request itself commits);
* the outermost rollback drops everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

T = TypeVar("T")

_MARKS_KEY = "ggzy.after_commit.savepoint_marks"
_buffers: list[AfterCommit[Any]] = []


class AfterCommit(Generic[T]):
    """One kind of held item (``key`` names its slot in ``session.info``), delivered in the order
    added. ``deliver`` runs synchronously inside SQLAlchemy's commit hook: it must not raise for
    a committed change (catch and log) and must not block for long.
    """

    def __init__(self, key: str, deliver: Callable[[list[T]], None]) -> None:
        self.key = key
        self.deliver = deliver
        _buffers.append(self)

    def add(self, session: AsyncSession | Session, item: T) -> None:
        """Hold ``item`` until ``session`` commits."""
        _sync(session).info.setdefault(self.key, []).append(item)

    def pending(self, session: AsyncSession | Session) -> list[T]:
        """The items held and not yet delivered (tests and diagnostics)."""
        return list(_sync(session).info.get(self.key, []))


def _sync(session: AsyncSession | Session) -> Session:
    return session.sync_session if isinstance(session, AsyncSession) else session


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if not transaction.nested:
        return
    # How many items each buffer held when the savepoint began: a rollback of the savepoint
    # truncates back to this.
    marks = session.info.setdefault(_MARKS_KEY, {})
    marks[transaction] = {buffer.key: len(session.info.get(buffer.key, ())) for buffer in _buffers}


@event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: the outer transaction has not committed yet
    # The savepoints' marks live until the outermost transaction ends (SQLAlchemy ends a
    # savepoint's transaction before it reports the savepoint's rollback).
    session.info.pop(_MARKS_KEY, None)
    for buffer in _buffers:
        items = session.info.pop(buffer.key, None)
        if items:
            buffer.deliver(items)


@event.listens_for(Session, "after_soft_rollback")
def _drop(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:
        for buffer in _buffers:
            session.info.pop(buffer.key, None)
        session.info.pop(_MARKS_KEY, None)
        return
    if not previous_transaction.nested:
        return  # a subtransaction of the ORM, not a savepoint: nothing of ours ends here
    mark = session.info.get(_MARKS_KEY, {}).get(previous_transaction)
    if mark is None:
        return
    for buffer in _buffers:
        items = session.info.get(buffer.key)
        if items is not None:
            del items[mark.get(buffer.key, 0) :]
