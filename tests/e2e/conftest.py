"""What the browser tests share: one headless Debian Chromium per test (skipped where none is
installed), and the seeded embedded demo every demo server starts from (`demo_template`)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from tests.calendar_editions import EDITION_YEARS, edition
from tests.e2e.test_login_locale import CHROMIUM, CHROMIUM_ARGS, CLOCK_FILE, GGZY, ROOT, _environment
from trading.kernel.clock import OffsetFileClock


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


@dataclass(frozen=True)
class DemoTemplate:
    """A var directory holding the embedded demo as ``ggzy db upgrade`` and ``ggzy demo`` leave it
    (``ggzy.sqlite3``, ``dev-ca/``, ``files/``, ``secrets.json``), and the time the seeding ended.

    No server ever runs on it: `copy` gives each module a directory of its own.
    """

    var_dir: Path
    seeded_at: float  # time.time()

    def copy(self) -> Path:
        """A fresh copy whose test clock (``clock-offset``) is set back by the time since the
        seeding, so the server starts at the instant the demo was seeded, as if it had just been
        run: the demo's tenders due in minutes (`trading.server.demo_opening`,
        `trading.server.demo_evaluation`) are exactly as far away as after a fresh ``ggzy demo``."""
        var_dir = Path(tempfile.mkdtemp(prefix="ggzy-e2e-"))
        shutil.copytree(self.var_dir, var_dir, dirs_exist_ok=True)
        OffsetFileClock(var_dir / CLOCK_FILE).advance(timedelta(seconds=self.seeded_at - time.time()))
        return var_dir


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> DemoTemplate:
    """The demo, seeded once per worker (all browser tests run on one, `tests.conftest`) instead of
    once per module: the seeding is most of a demo server's start-up (half a minute of CPU)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    var_dir = tmp_path_factory.mktemp("demo-template")
    env = _environment(var_dir)
    # The next years' test editions, loaded as an administrator would: the periods of a tender
    # published in December reach next year (tests/calendar_editions.py).
    loads = []
    for year in EDITION_YEARS:
        schedule = var_dir / f"test-edition-{year}.json"
        schedule.write_bytes(edition(year))
        loads.append(["calendar", "load", str(schedule)])
    for command in (["db", "upgrade"], *loads, ["demo"]):
        done = subprocess.run([str(GGZY), *command], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"ggzy {' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    assert not (var_dir / CLOCK_FILE).exists()  # the seeding ran on the real clock
    return DemoTemplate(var_dir, time.time())
