"""Units of work for jobs, the CLI and tests: the one place outside the web boundary that commits.

Services never commit; whoever opens the transaction owns it (see AGENTS.md).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from trading.kernel.db.engine import sqlite_immediate

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@asynccontextmanager
async def transaction(
    session_maker: async_sessionmaker[AsyncSession], *, lock: bool = False
) -> AsyncIterator[AsyncSession]:
    """Open a session, commit when the block ends, roll back if it raises.

    ``lock=True`` asks for the write lock at BEGIN on SQLite (``BEGIN IMMEDIATE``); on
    PostgreSQL row locks come from ``SELECT … FOR UPDATE`` in repositories and this flag changes
    nothing.
    """
    token = sqlite_immediate.set(lock)
    try:
        async with session_maker() as session:
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            # Outside the rollback path: once committed, a failure of an after-commit hook (a task
            # publisher that refuses) must surface as itself, not as a rollback of a closed transaction.
            await session.commit()
    finally:
        sqlite_immediate.reset(token)
