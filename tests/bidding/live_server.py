"""The live side of `tests.bidding.harness`: ``ggzy serve`` as a subprocess and bids uploaded to it.

`ServerProcess` runs the real server on a prepared setup's database and var directory (in test mode,
with the setup's clock file, so a test moves the server's time instead of waiting for a deadline);
`submit_bid` uploads a prebuilt container through the API contract of ``bidding/AGENTS.md`` (POST,
PATCH chunks with ``Upload-Offset``, submission), recording how far it got. The harness re-exports
these names; tests and benches use them as ``harness.ServerProcess`` and so on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from bidding.client.transport import BIDDING, BidRejected, Receipt, rejection

if TYPE_CHECKING:
    from bidding.client.sdk import BuiltBid
    from tests.bidding.harness import BidderAccount, SubmissionSetup

GGZY = str(Path(sys.executable).with_name("ggzy"))
HTTP_ERROR = 400


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``ggzy serve`` (one uvicorn process) on the setup's database and var directory."""

    def __init__(
        self, setup: SubmissionSetup, log_path: Path, env: dict[str, str] | None = None, *, workers: int = 1
    ) -> None:
        self.setup = setup
        self.log_path = log_path
        self.env = env if env is not None else setup.env
        self.workers = workers  # > 1: uvicorn's supervisor and its worker processes (needs Redis)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, *, timeout: float = 60.0) -> None:
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
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == httpx.codes.OK:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        msg = f"ggzy serve did not answer /healthz:\n{self.log_path.read_text(errors='replace')[-4000:]}"
        raise RuntimeError(msg)

    def peak_rss_mib(self) -> float:
        """The server process's peak resident set (VmHWM) so far."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def rss_mib(self) -> float:
        """The server process's resident set now (VmRSS)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    @contextlib.contextmanager
    def sampling_rss(self, interval: float = 0.02) -> Iterator[list[float]]:
        """Sample VmRSS in a thread while the block runs; the list holds the samples (MiB)."""
        samples: list[float] = []
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                with contextlib.suppress(OSError, ValueError):
                    samples.append(self.rss_mib())
                stop.wait(interval)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield samples
        finally:
            stop.set()
            thread.join()

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a power cut of the process (not of the disk)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def running_server(setup: SubmissionSetup, log_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(setup, log_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- uploading -----------------------------------------------------------------------------------


@dataclass
class Attempt:
    """One upload and submission as the client saw it."""

    bidder: BidderAccount
    lot: str
    built: BuiltBid
    upload_id: str | None = None
    sent: int = 0
    receipt: Receipt | None = None
    error: str | None = None
    problem: dict[str, Any] | None = None
    started: float = 0.0
    finished: float = 0.0
    chunks: list[int] = field(default_factory=list)

    @property
    def latency(self) -> float:
        return self.finished - self.started


def _read(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as stream:
        stream.seek(offset)
        return stream.read(size)


async def send_from(
    http: httpx.AsyncClient,
    base_url: str,
    token: str,
    upload_id: str,
    path: Path,
    *,
    offset: int,
    size: int,
    chunk_size: int,
    attempt: Attempt | None = None,
    stop_at: int | None = None,
) -> int:
    """PATCH the file from ``offset`` in chunks (up to ``stop_at``); returns the server's offset."""
    end = size if stop_at is None else stop_at
    while offset < end:
        chunk = await asyncio.to_thread(_read, path, offset, min(chunk_size, end - offset))
        response = await http.patch(
            f"{base_url}{BIDDING}/uploads/{upload_id}",
            content=chunk,
            headers={
                **bearer(token),
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        if response.status_code >= HTTP_ERROR:
            raise rejection(response)
        offset = int(response.headers["Upload-Offset"])
        if attempt is not None:
            attempt.sent = offset
            attempt.chunks.append(offset)
    return offset


async def submit_bid(
    http: httpx.AsyncClient,
    base_url: str,
    attempt: Attempt,
    *,
    chunk_size: int = 8 * 1024 * 1024,
    declared_sha256: str | None = None,
    declared_size: int | None = None,
    stop_at: int | None = None,
    whole: bool = False,
) -> Attempt:
    """Announce, send and submit ``attempt.built``; fills in the receipt or the error (never raises
    for a refusal or a dead server: the caller counts outcomes). ``whole``: a package that fits
    ``chunk_size`` goes in one request (``POST …/lots/{lot}/bids``) as `BidClient.upload` sends it."""
    bidder, built = attempt.bidder, attempt.built
    attempt.started = time.perf_counter()
    try:
        if whole and built.size <= chunk_size:
            body = await asyncio.to_thread(built.path.read_bytes)
            response = await http.post(
                f"{base_url}{BIDDING}/tenders/{built.binding.tender}/lots/{attempt.lot}/bids",
                content=body,
                headers={
                    **bearer(bidder.token),
                    "Content-Type": "application/octet-stream",
                    "Upload-Length": str(built.size),
                    "Upload-Sha256": built.sha256,
                    "Idempotency-Key": uuid.uuid4().hex,
                },
            )
            del body
            if response.status_code >= HTTP_ERROR:
                raise rejection(response)
            attempt.sent = built.size
            attempt.receipt = Receipt.from_api(response.json())
            attempt.finished = time.perf_counter()
            return attempt
        response = await http.post(
            f"{base_url}{BIDDING}/tenders/{built.binding.tender}/lots/{attempt.lot}/uploads",
            json={"size": declared_size or built.size, "sha256": declared_sha256 or built.sha256},
            headers=bearer(bidder.token),
        )
        if response.status_code >= HTTP_ERROR:
            raise rejection(response)
        attempt.upload_id = str(response.json()["id"])
        await send_from(
            http,
            base_url,
            bidder.token,
            attempt.upload_id,
            built.path,
            offset=0,
            size=built.size,
            chunk_size=chunk_size,
            attempt=attempt,
            stop_at=stop_at,
        )
        response = await http.post(
            f"{base_url}{BIDDING}/uploads/{attempt.upload_id}/submission", headers=bearer(bidder.token)
        )
        if response.status_code >= HTTP_ERROR:
            raise rejection(response)
        attempt.receipt = Receipt.from_api(response.json())
    except BidRejected as error:
        attempt.error = f"{type(error).__name__}: {error}"
        attempt.problem = error.problem
    except httpx.HTTPError as error:
        attempt.error = f"{type(error).__name__}: {error}"
    attempt.finished = time.perf_counter()
    return attempt
