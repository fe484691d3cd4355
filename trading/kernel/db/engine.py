"""Engines for PostgreSQL (asyncpg) and SQLite (aiosqlite), configured in lockstep.

SQLite gets what a serious embedded database needs: WAL so readers do not block the writer,
foreign keys enforced, a busy timeout instead of instant "database is locked" errors, and explicit
``BEGIN`` handling so a unit of work that will write can take the write lock up front
(``BEGIN IMMEDIATE``), which is SQLite's answer to ``SELECT … FOR UPDATE``.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# Set by `uow.transaction(lock=True)` and the web boundary for unsafe methods.
sqlite_immediate: ContextVar[bool] = ContextVar("sqlite_immediate", default=False)

RECORDS_ON_READ = "records_on_read"
"""Route ``opt`` key (value True) of a GET that records something (a tender document download, an
expert's reading of a bid document): the web boundary begins it with the write lock like an unsafe
method, so on SQLite concurrent readers that write wait for the lock instead of failing to upgrade."""


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False, busy_timeout_ms: int = 30_000) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy (pysqlite's implicit BEGIN is deferred and
        # happens too late for locking); the "begin" listener below issues BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
        cursor.execute("PRAGMA foreign_keys = ON")  # SQLite leaves them off by default
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")  # wait, don't fail
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL, far fewer fsyncs
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_immediate.get() else "BEGIN")


def create_session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after the boundary commits (templates,
    # responses) without a lazy reload, which `lazy="raise"` relationships would refuse anyway.
    return async_sessionmaker(engine, expire_on_commit=False)
