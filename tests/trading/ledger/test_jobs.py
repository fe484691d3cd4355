"""Checkpoint job, its Celery shell and beat entry, and the ``ggzy ledger`` commands."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs import keys
from tests.trading.ledger.factories import append_many, new_key, new_project_code
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.ledger import encoding, jobs
from trading.ledger.models import LedgerCheckpoint
from trading.ledger.service import platform_private_key, verify_ledger

GGZY = str(Path(sys.executable).parent / "ggzy")


async def test_checkpoints_sign_only_moved_heads_and_link_to_the_previous(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    key = new_key()
    first, second = new_project_code(), new_project_code()
    async with session_maker() as session:
        await append_many(session, 2, project_code=first)
        await session.commit()
    assert await jobs.checkpoint_chains(session_maker, private_key=key) == {"checkpoint": 1, "chains": 1}
    # Nothing moved: nothing signed, however often the beat fires.
    assert await jobs.checkpoint_chains(session_maker, private_key=key) == {"checkpoint": None, "chains": 0}
    async with session_maker() as session:
        await append_many(session, 1, project_code=second)
        await session.commit()
    assert await jobs.checkpoint_chains(session_maker, private_key=key) == {"checkpoint": 2, "chains": 1}
    async with session_maker() as session:
        one = await session.get(LedgerCheckpoint, 1)
        two = await session.get(LedgerCheckpoint, 2)
        assert one is not None
        assert two is not None
        assert list(one.heads) == [f"project:{first}"]
        assert list(two.heads) == [f"project:{second}"]
        assert one.previous_digest == encoding.GENESIS_HASH
        assert two.previous_digest == one.digest
        assert two.key_id == keys.key_id(key.public_key())
        assert two.public_key_pem == keys.public_key_pem(key).decode()
        report = await verify_ledger(session, public_keys=[key.public_key()])
    assert report.ok, report.summary()
    assert report.checkpoints_checked == 2


def test_the_task_is_registered_and_scheduled() -> None:
    from trading.server.celery_app import celery
    from trading.server.wiring import beat_schedule

    assert "ledger.checkpoint_chains" in celery.tasks
    schedule = beat_schedule(sweep_seconds=30, checkpoint_seconds=120)
    assert schedule["ledger.checkpoint_chains"]["task"] == "ledger.checkpoint_chains"
    assert schedule["ledger.checkpoint_chains"]["schedule"].total_seconds() == 120
    assert celery.conf.beat_schedule["ledger.checkpoint_chains"]["task"] == "ledger.checkpoint_chains"


def _ggzy(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GGZY_DB_URL": url}
    return subprocess.run([GGZY, "ledger", *args], env=env, capture_output=True, text=True, timeout=120, check=False)


async def test_cli_verify_and_checkpoint(pg_databases: None, fresh_db: str, settings: Settings) -> None:
    engine = create_engine(fresh_db)
    maker = create_session_maker(engine)
    try:
        async with transaction(maker) as session:
            entries = await append_many(session, 3)
        checkpoint = await asyncio.to_thread(_ggzy, fresh_db, "checkpoint")
        assert checkpoint.returncode == 0, checkpoint.stderr
        assert "checkpoint 1 signed 1 chain heads" in checkpoint.stdout
        again = await asyncio.to_thread(_ggzy, fresh_db, "checkpoint")
        assert "nothing signed" in again.stdout

        ok = await asyncio.to_thread(_ggzy, fresh_db, "verify")
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert ok.stdout.startswith("ledger OK: 3 entries in 1 chains, 1 checkpoints verified")
        # The checkpoint was signed by the platform key the settings hold.
        async with maker() as session:
            report = await verify_ledger(session, public_keys=[platform_private_key(settings).public_key()])
        assert report.ok

        async with transaction(maker) as session:
            await session.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only"))
            await session.execute(text("UPDATE ledger_entries SET client_ip = '192.0.2.66' WHERE seq = 2"))
            await session.execute(text("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only"))
        broken = await asyncio.to_thread(_ggzy, fresh_db, "verify")
        assert broken.returncode == 1
        assert f"chain platform, seq 2, entry {entries[1].id}: entry_hash_mismatch" in broken.stdout

        as_json = await asyncio.to_thread(_ggzy, fresh_db, "verify", "--json")
        assert as_json.returncode == 1
        assert f'"entry_id": "{entries[1].id}"' in as_json.stdout
    finally:
        await engine.dispose()


async def test_cli_verify_trusts_a_given_public_key_only(pg_databases: None, fresh_db: str, tmp_path: Path) -> None:
    outside_key = new_key()
    engine = create_engine(fresh_db)
    try:
        maker = create_session_maker(engine)
        async with transaction(maker) as session:
            await append_many(session, 1)
        await jobs.checkpoint_chains(maker, private_key=outside_key)
    finally:
        await engine.dispose()
    pem = tmp_path / "platform.pub.pem"
    pem.write_bytes(keys.public_key_pem(outside_key))
    trusted = await asyncio.to_thread(_ggzy, fresh_db, "verify", "--public-key", str(pem))
    assert trusted.returncode == 0, trusted.stdout
    untrusted = await asyncio.to_thread(_ggzy, fresh_db, "verify")
    assert untrusted.returncode == 1
    assert "checkpoint_unknown_key" in untrusted.stdout
