"""The request's unit of work: one session per request, committed by the boundary.

The handler (through services) only flushes. When the handler returns, the session commits
*before* the response is sent, so a commit failure becomes an error response instead of a
success that did not happen; if the handler raises, everything rolls back and after-commit tasks
are dropped. Unsafe methods take SQLite's write lock at BEGIN.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

# Runtime imports: Litestar resolves dependency signatures at start-up.
from litestar import Request
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.db.engine import sqlite_immediate

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def provide_db_session(state: State, request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    token = sqlite_immediate.set(request.method not in _SAFE_METHODS)
    try:
        async with state.session_maker() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()
    finally:
        sqlite_immediate.reset(token)
