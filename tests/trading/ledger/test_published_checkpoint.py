"""The published checkpoint: public API and page, and the CLI an outsider runs against a copy."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.ledger.factories import append_many, behind_the_triggers, new_project_code, rewrite_entry
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.ledger import jobs, timestamping
from trading.ledger.service import create_checkpoint, platform_private_key, published_checkpoint, verify_ledger

GGZY = str(Path(sys.executable).parent / "ggzy")


async def test_anyone_can_fetch_the_latest_checkpoint_and_verify_with_it(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    platform_tsa: Settings,
) -> None:
    del platform_tsa
    key = platform_private_key(settings)
    code = new_project_code()
    async with session_maker() as session:
        await append_many(session, 3, project_code=code)
        checkpoint = await create_checkpoint(session, private_key=key)
        await session.commit()
    assert checkpoint is not None

    response = await client.get("/api/v1/ledger/checkpoints/latest")  # no credentials
    assert response.status_code == 200, response.text
    copy = response.json()
    assert copy == json.loads(json.dumps(published_checkpoint(checkpoint)))
    assert copy["timestamp_token"]
    by_number = await client.get(f"/api/v1/ledger/checkpoints/{checkpoint.number}")
    assert by_number.json() == copy

    async with session_maker() as session:
        report = await verify_ledger(session, public_keys=[key.public_key()], against=[copy])
    assert report.ok, report.summary()

    page = await client.get("/ledger/checkpoint")  # the public page, no login
    assert page.status_code == 200
    assert f'data-checkpoint="{checkpoint.number}"' in page.text
    assert copy["digest"] in page.text
    assert "/api/v1/ledger/checkpoints/latest" in page.text


async def test_an_unknown_checkpoint_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/ledger/checkpoints/987654321")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    huge = await client.get(f"/api/v1/ledger/checkpoints/{2**63}")
    assert huge.status_code in {400, 404}


def _ggzy(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GGZY_DB_URL": url}
    return subprocess.run([GGZY, "ledger", *args], env=env, capture_output=True, text=True, timeout=180, check=False)


async def test_cli_verify_against_an_outsiders_copy(
    pg_databases: None, fresh_db: str, settings: Settings, tmp_path: Path
) -> None:
    """Delete every checkpoint and rewrite entry 2 with recomputed hashes: the plain verify passes
    (the finding), ``--against`` fails with exit 1 and names seq 2."""
    engine = create_engine(fresh_db)
    maker = create_session_maker(engine)
    try:
        async with transaction(maker) as session:
            entries = await append_many(session, 4)
        await jobs.checkpoint_chains(maker, private_key=platform_private_key(settings))
        printed = await asyncio.to_thread(_ggzy, fresh_db, "published-checkpoint")
        assert printed.returncode == 0, printed.stderr
        async with maker() as session:
            assert json.loads(printed.stdout) == json.loads(json.dumps(published_checkpoint(await _latest(session))))
        saved = tmp_path / "CHECKPOINT.json"
        saved.write_text(printed.stdout)
        async with transaction(maker) as session:
            await behind_the_triggers(
                session, "DELETE FROM ledger_checkpoints", "UPDATE ledger_chain_heads SET signed_seq = 0"
            )
            await rewrite_entry(session, "platform", 2, subject_id="forged")
        async with maker() as session:
            plain = await verify_ledger(session, public_keys=[platform_private_key(settings).public_key()])
        assert plain.ok, "the database alone cannot tell"

        broken = await asyncio.to_thread(_ggzy, fresh_db, "verify", "--against", str(saved))
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert f"chain platform, seq 2, entry {entries[1].id}, checkpoint 1: checkpoint_mismatch" in broken.stdout
        assert "your copy of checkpoint 1" in broken.stdout

        unreadable = tmp_path / "garbage.json"
        unreadable.write_text("{not json")
        refused = await asyncio.to_thread(_ggzy, fresh_db, "verify", "--against", str(unreadable))
        assert refused.returncode == 2
        assert "garbage.json: not JSON" in refused.stderr
    finally:
        await engine.dispose()


async def _latest(session: AsyncSession):  # type: ignore[no-untyped-def]
    from trading.ledger.service import latest_published_checkpoint

    checkpoint = await latest_published_checkpoint(session)
    assert checkpoint is not None
    return checkpoint


async def test_the_public_checkpoint_page_verifies_each_token_once(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    platform_tsa: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page is public and not throttled: the TSA token's signature is checked once per
    checkpoint, not on every view (the real check runs; a spy counts it)."""
    del platform_tsa
    verified: list[bytes] = []
    real_timestamp_time = timestamping.timestamp_time

    def counting(token: bytes, digest: bytes) -> datetime:
        verified.append(token)
        return real_timestamp_time(token, digest)

    monkeypatch.setattr(timestamping, "timestamp_time", counting)
    async with session_maker() as session:
        await append_many(session, 2, project_code=new_project_code())
        checkpoint = await create_checkpoint(session, private_key=platform_private_key(settings))
        await session.commit()
    assert checkpoint is not None
    assert checkpoint.timestamp_token is not None

    views = [await client.get("/ledger/checkpoint") for _ in range(3)]
    assert [view.status_code for view in views] == [200, 200, 200]
    assert views[0].text == views[2].text
    assert f'data-checkpoint="{checkpoint.number}"' in views[0].text
    assert verified.count(bytes(checkpoint.timestamp_token)) == 1
