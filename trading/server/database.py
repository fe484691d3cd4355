"""The request's unit of work: one session per request, committed by the boundary.

The handler (through services) only flushes. When the handler returns, the session commits
*before* the response is sent, so a commit failure becomes an error response instead of a
success that did not happen; if the handler raises, everything rolls back and after-commit tasks
are dropped.

Unsafe methods take SQLite's write lock at BEGIN. The flag that asks for ``BEGIN IMMEDIATE`` is a
context variable, and Litestar may resolve sibling dependencies in other tasks (other contexts),
so the transaction is begun here, while the flag is set in this context, rather than lazily by
the handler's first query. A GET that records something says so in its route's ``opt``
(`RECORDS_ON_READ`) and takes the lock the same way.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

# Runtime imports: Litestar resolves dependency signatures at start-up.
from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.db.engine import RECORDS_ON_READ, sqlite_immediate

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def provide_db_session(state: State, request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    async with state.session_maker() as session:
        if request.method not in _SAFE_METHODS or request.route_handler.opt.get(RECORDS_ON_READ):
            token = sqlite_immediate.set(True)
            try:
                await session.connection()  # BEGIN (IMMEDIATE on SQLite) happens now
            finally:
                sqlite_immediate.reset(token)
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
