"""Several real ``ggzy serve`` processes on one PostgreSQL database and one Redis, as separate nodes.

`cluster` (a factory fixture) prepares a migrated database once (``fresh_db``: cloned from the
template Alembic built, so migrations ran once) with `tests.bidding.harness.prepare` (development
PKI, trust lists, CRLs, a published tender, bidders with API tokens), then starts N ``ggzy serve``
subprocesses on free ports, each a node of its own:

* its own ``GGZY_VAR_DIR`` (``<tmp>/node-a/var``…): no disk is shared between nodes. The
  configuration an operator ships to every machine (the trust list, the pinned operator
  certificates, the TSA and receipt keys: the ``dev-ca`` directory) is copied into each var
  directory, as a deployment tool would copy it;
* the platform's secrets (``GGZY_SECRET_KEY``, ``GGZY_PII_HASH_KEY``, ``GGZY_SIGNING_KEY``) come from
  the environment, the same for every node (`Cluster.assert_no_local_secrets` checks that no node
  wrote a ``secrets.json`` of its own);
* Redis (``GGZY_TEST_SCALEOUT_REDIS_URL``, database 11 by default) carries rate limits, live-page
  events, actor-cache invalidations and the Celery broker;
* the file store: each node's own ``<var>/files`` by default; ``shared_storage=<dir>`` points every
  node at one directory instead, which stands in for the object store (S3) until the S3 backend is
  merged, for the tests that move bid files between nodes.

The test clock (``GGZY_TESTING_CLOCK_OFFSET_FILE``) is test tooling, not platform state: every node
reads the one file the test moves, as every machine's clock follows the same real time.

Requests carry ``X-Forwarded-For`` with an address of the test's own (the nodes trust 127.0.0.1 as
their proxy), so rate-limit counters of one test never meet another's.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from certs.keys import generate_private_key_pem
from tests.bidding import harness
from tests.bidding.live_server import GGZY, ServerProcess
from trading.kernel.tasks import RecordingPublisher

REDIS_URL = os.environ.get("GGZY_TEST_SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/11")
NODE_NAMES = "abcdefgh"


def cluster_secrets() -> dict[str, str]:
    """The three platform secrets, as an operator passes them to every node."""
    return {
        "GGZY_SECRET_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "GGZY_PII_HASH_KEY": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "GGZY_SIGNING_KEY": generate_private_key_pem().decode(),
    }


def client_address() -> str:
    """An address of this test's own (TEST-NET-2 and -3 are never real clients)."""
    return str(ipaddress.ip_address("198.51.100.0") + secrets.randbelow(256 * 256))


class Node(ServerProcess):
    """``ggzy serve`` (optionally ``--workers N``) as one node."""

    def __init__(self, name: str, setup: harness.SubmissionSetup, var: Path, env: dict[str, str], workers: int = 1):
        super().__init__(setup, var.parent / f"node-{name}.log", env)
        self.name = name
        self.var = var
        self.workers = workers

    def start(self, *, timeout: float = 240.0) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [GGZY, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == httpx.codes.OK:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        msg = f"node {self.name} did not answer /healthz:\n{self.log_path.read_text(errors='replace')[-4000:]}"
        raise RuntimeError(msg)

    def __repr__(self) -> str:
        return f"Node({self.name}, {self.base_url})"


@dataclass
class Cluster:
    setup: harness.SubmissionSetup
    nodes: list[Node]
    env: dict[str, str]
    """What every node shares (secrets, database, Redis), without the per-node var directory."""
    address: str = field(default_factory=client_address)
    storage: Path | None = None

    def __getitem__(self, index: int) -> Node:
        return self.nodes[index]

    @property
    def headers(self) -> dict[str, str]:
        """Headers every request of the test carries: the client's address, through the proxy."""
        return {"X-Forwarded-For": self.address}

    def bearer(self, token: str) -> dict[str, str]:
        return {**self.headers, "Authorization": f"Bearer {token}"}

    def assert_no_local_secrets(self) -> None:
        for node in self.nodes:
            assert not (node.var / "secrets.json").exists(), f"node {node.name} generated secrets of its own"

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


ClusterFactory = Callable[..., Awaitable[Cluster]]


def _cleanup_redis() -> None:
    """Drop what the nodes' Celery publisher queued (no worker runs in these tests)."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = [*client.scan_iter("_kombu*"), *client.scan_iter("celery*"), *client.scan_iter("unacked*")]
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(autouse=True)
def _record_tasks(publisher: RecordingPublisher) -> RecordingPublisher:
    """Sweeps run in the test process (as a worker would run them) enqueue tasks (the ledger's
    milestone checkpoint); they are recorded here, the default publisher refuses to drop them."""
    return publisher


@pytest.fixture
async def cluster(fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ClusterFactory]:
    """``await cluster(nodes=3, bidders=3, shared_storage=None, workers=1, env={}, prepare={},
    start=True)``: a prepared database and ``nodes`` nodes, started unless ``start=False`` (see the
    module docstring); all stopped after the test."""
    made: list[Cluster] = []
    shared_secrets = cluster_secrets()
    for key, value in shared_secrets.items():
        # The test process's own settings (harness.prepare, sweeps run in-process) use them too.
        monkeypatch.setenv(key, value)

    async def make(
        *,
        nodes: int = 3,
        bidders: int = 3,
        shared_storage: Path | None = None,
        workers: int = 1,
        env: dict[str, str] | None = None,
        prepare: dict[str, Any] | None = None,
        start: bool = True,
    ) -> Cluster:
        setup = await harness.prepare(fresh_db, tmp_path / "operator", bidders=bidders, **(prepare or {}))
        common = setup.env | shared_secrets
        common |= {
            "GGZY_REDIS_URL": REDIS_URL,
            "GGZY_CELERY_BROKER_URL": REDIS_URL,
            "GGZY_WEB_TRUSTED_PROXIES": json.dumps(["127.0.0.1"]),
        }
        del common["GGZY_VAR_DIR"]
        if shared_storage is not None:
            shared_storage.mkdir(parents=True, exist_ok=True)
            common["GGZY_STORAGE_DIR"] = str(shared_storage)
        common |= env or {}
        started: list[Node] = []
        for name in NODE_NAMES[:nodes]:
            var = tmp_path / f"node-{name}" / "var"
            var.mkdir(parents=True)
            shutil.copytree(setup.dev_ca_dir, var / "dev-ca")
            started.append(Node(name, setup, var, common | {"GGZY_VAR_DIR": str(var)}, workers=workers))
        result = Cluster(setup, started, common, storage=shared_storage)
        made.append(result)
        if start:
            await asyncio.gather(*(asyncio.to_thread(node.start) for node in started))
        return result

    try:
        yield make
    finally:
        for each in made:
            each.stop()
        await asyncio.to_thread(_cleanup_redis)


async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
