"""SoftHSM2 tokens holding development-PKI keys, and ``ggzy agent`` serving one as a real process.

Shared by the agent's own tests (``tests/certs/agent``) and the browser flows through the agent
(``tests/e2e``), through the factory fixtures ``softhsm_token`` and ``start_agent`` of
``tests/conftest.py``. A token lives in its own ``SOFTHSM2_CONF`` directory; the agent is started
with the installed ``ggzy`` console script and answered through its stdin, as a user at the
terminal would.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from certs.devpki.authority import Identity

ORIGIN = "https://ggzy.example"
PIN = "739146"  # distinctive, so the logs can be searched for it
TOKEN_LABEL = "ggzy-test-key"
ROOT = Path(__file__).resolve().parents[3]


def softhsm_module() -> str:
    for candidate in ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"):
        if Path(candidate).exists():
            return candidate
    pytest.fail("SoftHSM2 is not installed (apt-get install softhsm2; scripts/bootstrap.sh --test)")


def init_token(
    base: Path, keys: Iterable[tuple[str, Identity]], certificates: Iterable[tuple[str, bytes]] = ()
) -> dict[str, str]:
    """A SoftHSM2 under ``base`` with one initialised token holding ``keys`` (key id hex, identity:
    private key and certificate) and ``certificates`` (id, PEM: issuers, without keys); the
    environment (``SOFTHSM2_CONF``) that finds it."""
    if shutil.which("softhsm2-util") is None:
        pytest.fail("softhsm2-util is missing (apt-get install softhsm2; scripts/bootstrap.sh --test)")
    (base / "tokens").mkdir(parents=True)
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    subprocess.run(
        ["softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL, "--so-pin", "12345678", "--pin", PIN],
        env=env,
        check=True,
        capture_output=True,
    )
    objects: list[dict[str, Any]] = [
        {"id": key_id, "key": identity.key_pem.decode(), "cert": identity.cert_pem.decode()}
        for key_id, identity in keys
    ]
    objects += [{"id": key_id, "key": None, "cert": pem.decode()} for key_id, pem in certificates]
    spec = base / "spec.json"
    spec.write_text(json.dumps({"module": softhsm_module(), "label": TOKEN_LABEL, "pin": PIN, "objects": objects}))
    subprocess.run(
        [sys.executable, "-m", "tests.certs.agent.softhsm", str(spec)], env=env, cwd=ROOT, check=True, timeout=120
    )
    spec.unlink()  # it held the private keys
    return {"SOFTHSM2_CONF": str(conf)}


@dataclass
class AgentProcess:
    process: subprocess.Popen[str]
    stderr_path: Path
    port: int = 0
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def next_line(self, timeout: float = 30) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"the agent printed nothing for {timeout}s; output so far:\n{self.logs()}")
        return line

    def request(
        self, method: str, path: str, *, origin: str | None = ORIGIN, body: Any = None, **headers: str
    ) -> httpx.Response:
        sent = dict(headers)
        if origin is not None:
            sent["Origin"] = origin
        return httpx.request(method, self.base + path, json=body, headers=sent, timeout=60)

    def ask(self, path: str, body: dict[str, Any], answer: str) -> tuple[httpx.Response, str]:
        """POST an operation, wait for the agent's question, answer it; the response and the question."""
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(self.request, "POST", path, body=body)
            question = self.next_line()
            assert question.endswith("[y/N]"), question
            self.answer(answer)
            response = future.result(timeout=60)
        self.next_line()  # the agent's echo of the decision
        return response, question

    def answer(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def logs(self) -> str:
        return "\n".join(self.seen) + "\n" + self.stderr_path.read_text()


def _pump(process: subprocess.Popen[str], agent: AgentProcess) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        agent.seen.append(line.rstrip("\n"))
        agent.lines.put(line.rstrip("\n"))


@contextmanager
def running_agent(token_env: dict[str, str], origins: Iterable[str], log_dir: Path) -> Iterator[AgentProcess]:
    """``ggzy agent`` on any free port for the token of ``token_env``, allowing ``origins``."""
    ggzy = Path(sys.executable).with_name("ggzy")
    stderr_path = log_dir / "agent-stderr.log"
    env = {**os.environ, **token_env, "GGZY_AGENT_PIN": PIN, "PYTHONUNBUFFERED": "1"}
    allowed = [argument for origin in origins for argument in ("--allow-origin", origin)]
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [str(ggzy), "agent", "--module", softhsm_module(), "--token-label", TOKEN_LABEL, *allowed, "--port", "0"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    running = AgentProcess(process, stderr_path)
    threading.Thread(target=_pump, args=(process, running), daemon=True).start()
    try:
        while True:
            line = running.next_line(timeout=60)
            if found := re.search(r"listening on http://127\.0\.0\.1:(\d+)", line):
                running.port = int(found.group(1))
                break
        yield running
    finally:
        process.terminate()
        process.wait(timeout=20)
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
