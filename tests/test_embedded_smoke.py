"""The embedded default, as a newcomer runs it: ``ggzy run`` on SQLite with demo data.

One process tree on a temporary ``GGZY_VAR_DIR``: migrations, demo seeding, the web app, and a
real Celery worker with beat on the broker that lives in a SQLite file. The test logs in through
the page (CSRF and all), uses the API with a bearer token, waits for beat to have the worker sign
a ledger checkpoint, then checks the ledger with ``ggzy ledger verify``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.sqlite

GGZY = str(Path(sys.executable).with_name("ggzy"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str], Path, int]]:
    var = tmp_path_factory.mktemp("embedded-var")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GGZY_")} | {
        "GGZY_VAR_DIR": str(var),
        "GGZY_WEB_PORT": str(port),
        "GGZY_CELERY_CHECKPOINT_INTERVAL_SECONDS": "2",
        "GGZY_CELERY_SWEEP_INTERVAL_SECONDS": "2",
    }
    log = (var / "run.log").open("wb")
    proc = subprocess.Popen([GGZY, "run"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (var / "run.log").read_text()
            time.sleep(0.3)
        else:
            pytest.fail("ggzy run did not answer /healthz:\n" + (var / "run.log").read_text())
        yield base, env, var, proc.pid
    finally:
        with contextlib.suppress(ProcessLookupError):  # the last test stops it itself
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_embedded_runs_on_sqlite(embedded: tuple[str, dict[str, str], Path, int]) -> None:
    _, _, var, _ = embedded
    assert (var / "ggzy.sqlite3").exists()


def test_bidder_logs_in_through_the_page(embedded: tuple[str, dict[str, str], Path, int]) -> None:
    base, _, _, _ = embedded
    with httpx.Client(base_url=base, follow_redirects=False) as browser:
        form = browser.get("/login")
        assert form.status_code == 200
        token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
        assert token, "the login form carries a CSRF token"
        refused = browser.post("/login", data={"username": "bidder1", "password": "ggzy-demo-2026"})
        assert refused.status_code == 403  # no CSRF token: refused before the password is looked at
        response = browser.post(
            "/login", data={"username": "bidder1", "password": "ggzy-demo-2026", "_csrf_token": token.group(1)}
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/dashboard"
        dashboard = browser.get("/dashboard")
        assert dashboard.status_code == 200
        assert "bidder1" in dashboard.text or "投标人" in dashboard.text


def test_api_token_and_checkpoint_signed_by_the_embedded_worker(
    embedded: tuple[str, dict[str, str], Path, int],
) -> None:
    base, env, var, _ = embedded
    issued = httpx.post(f"{base}/api/v1/auth/tokens", json={"username": "supervisor", "password": "ggzy-demo-2026"})
    assert issued.status_code == 201, issued.text
    headers = {"Authorization": f"Bearer {issued.json()['token']}"}
    me = httpx.get(f"{base}/api/v1/auth/me", headers=headers)
    assert me.status_code == 200
    # Beat fires the checkpoint task every 2 s; the worker signs the chain heads.
    deadline = time.monotonic() + 60
    report: dict[str, object] = {}
    while time.monotonic() < deadline:
        report = httpx.get(f"{base}/api/v1/ledger/verification", headers=headers).json()
        if report.get("ok") and int(str(report.get("checkpoints_checked", 0))) >= 1:
            break
        time.sleep(1)
    assert report.get("ok") is True, report
    assert int(str(report.get("checkpoints_checked", 0))) >= 1, report

    assert (var / "celery-broker.sqlite3").exists()  # the worker's broker: a file, no server
    verify = subprocess.run([GGZY, "ledger", "verify"], env=env, capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")  # a zombie has ended


def test_sigterm_stops_ggzy_run_with_its_worker_and_guarantor_client(
    embedded: tuple[str, dict[str, str], Path, int],
) -> None:
    """As a service manager stops it (``systemctl stop``, ``docker stop``): SIGTERM to ``ggzy run``
    alone, not to its process group. Its worker and the demo guarantor's client end with it. Last in
    this module: it stops the platform the tests above share.
    """
    _, _, _, pid = embedded
    children = _children(pid)
    assert len(children) >= 2, children  # the Celery worker (with beat) and the demo guarantor's client
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and any(_alive(p) for p in [pid, *children]):
        time.sleep(0.3)
    assert not [p for p in [pid, *children] if _alive(p)], "still running after SIGTERM"
