"""Helpers shared by the benchmarks: a throwaway PostgreSQL database, servers, wrk."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_SERVER_URL = os.environ.get("GGZY_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


async def _admin(sql: str) -> None:
    engine = create_async_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


@contextlib.contextmanager
def scratch_database(prefix: str = "ggzy_bench") -> Iterator[str]:
    """A migrated PostgreSQL database that exists for the duration of the block."""
    from trading.server.cli import alembic_config

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        command.upgrade(alembic_config(url), "head")
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def uvicorn_server(app: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve ``app`` (module:attr) with one uvicorn worker; yields the base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(base + "/", timeout=0.5)
                break
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wrk(url: str, *, seconds: int = 8, connections: int = 32, header: str | None = None) -> float:
    """Requests per second as measured by wrk (2 threads; the machine has 2 cores)."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if header:
        args += ["-H", header]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        msg = f"{url}: {non2xx.group(1)} failed responses; the figure would be meaningless"
        raise RuntimeError(msg)
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


@contextlib.contextmanager
def configured_storage(root: Path, *, s3: bool) -> Iterator[None]:
    """The file store the bench's own `Settings` select: with ``s3`` a SeaweedFS started under
    ``root`` for the run (its ``GGZY_STORAGE_*`` set in this process's environment while the block
    runs); otherwise whatever ``GGZY_STORAGE_*`` already says (the local disk by default).
    """
    if not s3:
        yield
        return
    from tests.seaweedfs import running_seaweedfs

    root.mkdir(parents=True, exist_ok=True)
    with running_seaweedfs(root) as server:
        saved = {name: os.environ.get(name) for name in server.environment()}
        os.environ.update(server.environment())
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
