"""The platform clock is the database's, and tests move it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel import clock
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Mode, Settings


async def test_database_clock_is_aware_utc_and_close_to_host_time(session: AsyncSession) -> None:
    now = await clock.now(session)
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=5)


async def test_shifted_clock_moves_time_and_restores(session: AsyncSession) -> None:
    real = await clock.now(session)
    with use_clock(ShiftedClock(timedelta(days=3))) as shifted:
        assert await clock.now(session) - real >= timedelta(days=3)
        assert isinstance(shifted, ShiftedClock)
        shifted.advance(timedelta(days=1))
        assert await clock.now(session) - real >= timedelta(days=4)
    assert await clock.now(session) - real < timedelta(days=1)


async def test_offset_file_clock_follows_the_file_another_process_writes(session: AsyncSession, tmp_path: Path) -> None:
    path = tmp_path / "clock-offset"
    reader, writer = clock.OffsetFileClock(path), clock.OffsetFileClock(path)
    assert reader.offset == timedelta(0)  # no file yet: no shift
    real = await clock.now(session)
    writer.advance(timedelta(seconds=90))
    writer.advance(timedelta(seconds=30))
    assert reader.offset == timedelta(minutes=2)
    with use_clock(reader):
        assert await clock.now(session) - real >= timedelta(minutes=2)


def test_the_test_clock_is_installed_only_in_test_mode(tmp_path: Path) -> None:
    path = tmp_path / "clock-offset"
    with pytest.raises(ValidationError, match="only in test mode"):
        Settings(var_dir=tmp_path, testing={"clock_offset_file": path})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="production mode never runs in test mode"):
        Settings(
            mode=Mode.PRODUCTION,
            var_dir=tmp_path,
            secret_key="s" * 32,
            pii_hash_key="p" * 32,
            signing_key="k",
            testing={"enabled": True, "clock_offset_file": path},  # type: ignore[arg-type]
        )
    with use_clock(clock.DatabaseClock()):
        clock.install_test_clock(Settings(var_dir=tmp_path))
        assert isinstance(clock.get_clock(), clock.DatabaseClock)  # nothing named: nothing installed
        clock.install_test_clock(Settings(var_dir=tmp_path, testing={"enabled": True, "clock_offset_file": path}))  # type: ignore[arg-type]
        installed = clock.get_clock()
        assert isinstance(installed, clock.OffsetFileClock)
        assert installed.path == path
