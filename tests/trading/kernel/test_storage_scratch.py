"""The S3 backend's local spool files after a process dies: a web process killed (SIGKILL) while a
one-request bid was spooling leaves its file in the node's ``<var>/tmp``; the next web process to
start on the node removes it, and leaves a live sibling's spool, old-enough leftovers aside
(`trading.kernel.storage_s3.clean_scratch`). On a real SeaweedFS server, with real processes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.seaweedfs import SeaweedS3
from trading.kernel.settings import Settings
from trading.kernel.storage import open_store, scratch_dir
from trading.kernel.storage_s3 import SCRATCH_MAX_AGE, S3Store
from trading.kernel.tasks import RecordingPublisher

# A web process in the middle of receiving a bid: half the body spooled, then it waits to be killed.
SPOOLING = """
import asyncio, sys, uuid
from trading.kernel.settings import get_settings
from trading.kernel.storage import open_store

async def chunks():
    yield b"x" * 65536

async def main():
    store = open_store(get_settings())
    upload = uuid.uuid4()
    async with store.receive_whole(upload) as whole:
        await whole.write(chunks(), limit=10 * 65536)
        print("spooling", flush=True)
        await asyncio.sleep(600)

asyncio.run(main())
"""


def _node_settings(var: Path, server: SeaweedS3, db_url: str) -> Settings:
    return Settings(db={"url": db_url}, var_dir=var, storage=server.settings())  # type: ignore[arg-type]


def _killed_mid_spool(var: Path, server: SeaweedS3) -> Path:
    """Run a spooling process and kill it with SIGKILL; the spool file it leaves behind."""
    env = {**os.environ, "GGZY_VAR_DIR": str(var), **server.environment()}
    with subprocess.Popen([sys.executable, "-c", SPOOLING], env=env, stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "spooling"
            [left] = list((var / "tmp").glob(f"whole-{child.pid}-*.tmp"))
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.kill()
            child.wait(timeout=30)
    assert left.exists()  # nobody ran its clean-up
    return left


async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    """Drive the ASGI lifespan by hand (startup, then shutdown) on this test's own event loop."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await incoming.get()

    async def send(message: dict[str, Any]) -> None:
        await outgoing.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    running = asyncio.create_task(app(scope, receive, send))  # type: ignore[arg-type]
    await incoming.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(outgoing.get(), 60)
    assert started["type"] == "lifespan.startup.complete", started
    yield
    await incoming.put({"type": "lifespan.shutdown"})
    stopped = await asyncio.wait_for(outgoing.get(), 60)
    assert stopped["type"] == "lifespan.shutdown.complete", stopped
    await running


async def test_a_starting_web_process_removes_a_killed_process_spool_and_keeps_a_live_one(
    seaweedfs_s3: SeaweedS3,
    tmp_path: Path,
    settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    publisher: RecordingPublisher,
) -> None:
    var = tmp_path / "var"
    node = _node_settings(var, seaweedfs_s3, settings.db.url)
    left = await asyncio.to_thread(_killed_mid_spool, var, seaweedfs_s3)
    scratch = scratch_dir(node)
    assert left.parent == scratch
    # Not ours: a file of another tool in the same folder, and an old spool whose pid runs again.
    foreign = scratch / "notes.tmp"
    foreign.write_bytes(b"kept")
    stale = scratch / f"s3-{os.getpid()}-reused.tmp"
    stale.write_bytes(b"old")
    old = time.time() - SCRATCH_MAX_AGE - 60
    os.utime(stale, (old, old))

    store = open_store(node)
    assert isinstance(store, S3Store)
    from trading.server.app import create_app

    app = create_app(node, session_maker=session_maker, publisher=publisher)
    # A sibling process of the node (here: this one) is receiving a bid while the new one starts.
    async with store.receive_whole(uuid.uuid4()) as live:

        async def body() -> AsyncIterator[bytes]:
            yield b"live"

        await live.write(body(), limit=4)
        async for _ in _lifespan(app):
            assert not left.exists()
            assert not stale.exists()
            assert live.path.exists()
            assert foreign.read_bytes() == b"kept"
    assert not live.path.exists()  # its own block removed it as usual
