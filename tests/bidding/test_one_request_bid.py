"""A bid in one request (issue 20, "a cheaper bid"), on PostgreSQL: the package that fits one chunk
is sent and submitted by one ``POST``, with the resumable path's guarantees — a verified receipt,
idempotent retries (the same receipt, never a second bid), the deadline by the database clock, the
size limit refused before a byte is kept, and refusals recorded. Also the digests taken while
receiving: equal to the file's, and never trusted when the local headers lie.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as container_format
from bidding.client.sdk import verify_receipt
from bidding.intake.digests import HashStates, StreamDigest
from bidding.intake.sealing import _streamed_digests
from bidding.intake.whole import upload_id_for
from bidding.models import Bid, BidUpload, BidVersion, UploadStatus
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client, build, part, rezip
from tests.bidding.factories import Party, bidder_party, published_tender, tenderee_party
from tests.trading.credit.factories import record
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")
LOT = "L1"


@dataclass
class Scene:
    http: httpx.AsyncClient
    session_maker: async_sessionmaker[AsyncSession]
    store: FileStore
    pki: DevPki
    code: str
    deadline: Any
    bidder: Party
    good: Path
    work: Path

    async def post(
        self, path: Path, *, key: str, size: int | None = None, sha256: str | None = None, lot: str = LOT
    ) -> httpx.Response:
        data = path.read_bytes()
        headers = {
            **await self.bidder.headers(self.http),
            "Content-Type": "application/octet-stream",
            "Upload-Length": str(len(data) if size is None else size),
            "Upload-Sha256": sha256 or hashlib.sha256(data).hexdigest(),
            "Idempotency-Key": key,
        }
        return await self.http.post(
            f"/api/v1/bidding/tenders/{self.code}/lots/{lot}/bids", content=data, headers=headers
        )

    async def counts(self) -> tuple[int, int]:
        """The bidder's bid rows and versions."""
        async with self.session_maker() as session:
            bids = await session.scalar(
                select(func.count()).select_from(Bid).where(Bid.organisation_id == self.bidder.organisation_id)
            )
            versions = await session.scalar(
                select(func.count())
                .select_from(BidVersion)
                .join(Bid)
                .where(Bid.organisation_id == self.bidder.organisation_id)
            )
        return int(bids or 0), int(versions or 0)

    async def upload(self, key: str) -> BidUpload | None:
        async with self.session_maker() as session:
            return await session.get(BidUpload, upload_id_for(self.bidder.organisation_id, key))


@pytest.fixture
async def scene(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> Scene:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee, max_package_bytes=2 * 1024 * 1024)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    assert tender.deadline is not None
    built = await build(tmp_path, bidder, tender=tender.project_code, lot=LOT, deadline=tender.deadline)
    return Scene(
        client, session_maker, store, dev_pki, tender.project_code, tender.deadline, bidder, built.path, tmp_path
    )


def _problem(response: httpx.Response) -> tuple[int, str | None, str | None]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    error = (response.json().get("errors") or [{}])[0]
    return response.status_code, error.get("field"), error.get("rule")


async def test_one_request_makes_a_bid_and_a_retry_answers_the_same_receipt(scene: Scene) -> None:
    key = uuid.uuid4().hex
    first = await scene.post(scene.good, key=key)
    assert first.status_code == 201, first.text
    again = await scene.post(scene.good, key=key)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()  # the exact signed bytes and signature, not a new receipt
    assert await scene.counts() == (1, 1)
    record = first.json()["record"]
    assert record["containerSha256"] == hashlib.sha256(scene.good.read_bytes()).hexdigest()
    # The bytes are in the store under the receipt's digest, the upload's copy is gone.
    upload = await scene.upload(key)
    assert upload is not None
    assert upload.status is UploadStatus.ACCEPTED
    assert upload.received == scene.good.stat().st_size
    assert not scene.store.incoming_path(upload.id).exists()
    blob = scene.store.path(FileStore.key_for("bids", record["containerSha256"]))
    assert blob.read_bytes() == scene.good.read_bytes()
    # The receipt verifies like any other (platform signature and TSA token).
    verified = verify_receipt(
        base64.b64decode(first.json()["receipt"]),
        base64.b64decode(first.json()["signature"]),
        [scene.pki.platform_root.certificate],
    )
    assert verified["receiptNo"] == first.json()["receiptNo"]


async def test_a_new_key_is_a_new_version_and_a_key_names_one_package(scene: Scene) -> None:
    assert (await scene.post(scene.good, key="first-key-0000001")).status_code == 201
    assert (await scene.post(scene.good, key="second-key-000002")).status_code == 201
    assert await scene.counts() == (1, 2)  # a replacement, as the bidder asked twice with two keys
    tampered = scene.work / "tampered.zip"
    data = bytearray(scene.good.read_bytes())
    data[-1] ^= 0x01
    tampered.write_bytes(bytes(data))
    reused = await scene.post(tampered, key="first-key-0000001")
    assert _problem(reused) == (409, "Idempotency-Key", "same-request"), reused.text
    assert await scene.counts() == (1, 2)


async def test_the_deadline_is_the_database_clocks(scene: Scene) -> None:
    async with scene.session_maker() as session:
        now = await clock.now(session)
    with clock.use_clock(clock.ShiftedClock(scene.deadline - now + timedelta(seconds=1))):
        late = await scene.post(scene.good, key="late-key-00000001")
    assert _problem(late) == (409, "deadline", "before-deadline"), late.text
    assert await scene.counts() == (0, 0)
    assert await scene.upload("late-key-00000001") is None


async def test_a_package_beyond_the_limit_is_refused_naming_the_header(scene: Scene) -> None:
    response = await scene.post(scene.good, key="big-key-000000001", size=3 * 1024 * 1024)
    assert _problem(response) == (413, "Upload-Length", "max-package-bytes"), response.text
    assert await scene.upload("big-key-000000001") is None
    assert await scene.counts() == (0, 0)


async def test_a_body_longer_than_declared_is_refused_and_the_refusal_replayed(scene: Scene) -> None:
    size = scene.good.stat().st_size
    response = await scene.post(scene.good, key="long-key-00000001", size=size - 10)
    assert _problem(response) == (422, "Upload-Length", "declared-size"), response.text
    upload = await scene.upload("long-key-00000001")
    assert upload is not None
    assert upload.status is UploadStatus.REFUSED
    assert not scene.store.incoming_path(upload.id).exists()
    again = await scene.post(scene.good, key="long-key-00000001", size=size - 10)
    assert _problem(again) == (422, "Upload-Length", "declared-size"), again.text
    assert await scene.counts() == (0, 0)


async def test_a_barred_bidder_gets_no_receipt_and_the_refusal_is_recorded(scene: Scene) -> None:
    """The credit question is asked once, at acceptance, in the transaction that would record the bid."""
    async with scene.session_maker() as session:
        await record(session, scene.bidder.organisation_id, await clock.now(session) - timedelta(days=1))
        await session.commit()
    response = await scene.post(scene.good, key="barred-key-000001")
    assert response.status_code == 403, response.text
    assert response.json()["errors"][0]["rule"] == "credit-blacklisted"
    assert await scene.counts() == (0, 0)
    upload = await scene.upload("barred-key-000001")
    assert upload is not None
    assert upload.status is UploadStatus.REFUSED
    assert not scene.store.incoming_path(upload.id).exists()


async def test_a_bad_package_is_refused_with_its_rule_and_nothing_kept(scene: Scene) -> None:
    package = bytearray(part(scene.good, container_format.PACKAGE))
    package[-1] ^= 0x01
    altered = rezip(scene.good, scene.work / "altered.zip", replace={"package.sealed": bytes(package)})
    response = await scene.post(altered, key="bad-key-000000001")
    assert _problem(response) == (422, "parts.package", "digest-mismatch"), response.text
    assert await scene.counts() == (0, 0)
    upload = await scene.upload("bad-key-000000001")
    assert upload is not None
    assert upload.status is UploadStatus.REFUSED
    assert upload.refusal is not None
    assert upload.refusal["rule"] == "digest-mismatch"
    assert not scene.store.incoming_path(upload.id).exists()
    assert not (scene.store.blobs / "bids").exists() or not any((scene.store.blobs / "bids").rglob("*.*"))


async def test_the_client_sends_a_small_package_in_one_request(scene: Scene) -> None:
    requests: list[str] = []

    async def count(request: httpx.Request) -> None:
        requests.append(f"{request.method} {request.url.path}")

    scene.http.event_hooks["request"].append(count)
    client = await bid_client(scene.http, scene.bidder)
    requests.clear()
    receipt = await client.upload(scene.code, LOT, scene.good)
    assert requests == [f"POST /api/v1/bidding/tenders/{scene.code}/lots/{LOT}/bids"]
    assert receipt.record["containerSha256"] == hashlib.sha256(scene.good.read_bytes()).hexdigest()
    # Larger than a chunk: the resumable path (announce, chunks, submit).
    requests.clear()
    await client.upload(scene.code, LOT, scene.good, chunk_size=scene.good.stat().st_size // 2 + 1)
    assert [r.split()[0] for r in requests] == ["POST", "PATCH", "PATCH", "POST"]
    assert await scene.counts() == (1, 2)


# --- the digests taken while receiving ------------------------------------------------------------


def _streamed(data: bytes, seed: int) -> StreamDigest:
    digest = StreamDigest()
    rng = random.Random(seed)  # noqa: S311 - chunk boundaries, not secrets
    position = 0
    while position < len(data):
        step = rng.choice((1, 7, 29, 30, 31, 100, 4096, 65536))
        digest.update(data[position : position + step])
        position += step
    return digest


async def test_streamed_digests_equal_the_files_at_any_chunk_boundaries(scene: Scene) -> None:
    data = scene.good.read_bytes()
    layout = container_format.inspect_container(scene.good, max_package_bytes=1 << 30)
    expected = container_format.digest_parts(scene.good, layout)
    for seed in range(5):
        result = _streamed(data, seed).result()
        assert result.sha256 == expected[0]
        assert {e.offset: e.sha256 for e in result.entries.values()} == {
            entry.offset: expected[1][name] for name, entry in layout.entries.items()
        }


def test_a_lying_local_header_makes_the_checks_hash_the_file(tmp_path: Path) -> None:
    """A local header whose size differs from the central directory's: the streamed entry does not
    match the layout, so the digests come from the file (and name the right bytes).
    """
    path = tmp_path / "lie.zip"
    names = sorted(container_format.ENTRY_NAMES)
    with zipfile.ZipFile(path, "w") as archive:
        for index, name in enumerate(names):
            archive.writestr(name, bytes([65 + index]) * 100)
    data = bytearray(path.read_bytes())
    data[18:22] = (60).to_bytes(4, "little")  # the first entry: stored size 100 → 60 in its local header
    path.write_bytes(bytes(data))
    streamed = _streamed(bytes(data), 1).result()
    first = 30 + len(names[0])
    assert streamed.entries[first].size == 60  # what the lie announced
    layout = container_format.inspect_container(path, max_package_bytes=1 << 30)
    assert layout.entries[names[0]].size == 100
    assert _streamed_digests(path, layout, streamed) is None  # so check_container reads the file
    honest = _streamed(bytes(data[:18]) + (100).to_bytes(4, "little") + bytes(data[22:]), 2).result()
    (tmp_path / "honest.zip").write_bytes(bytes(data[:18]) + (100).to_bytes(4, "little") + bytes(data[22:]))
    assert _streamed_digests(tmp_path / "honest.zip", layout, honest) is not None


def test_hash_states_resume_only_at_the_exact_offset() -> None:
    states = HashStates(capacity=2)
    upload = uuid.uuid4()
    first = states.take(upload, 0)
    assert first is not None
    first.update(b"x" * 10)
    states.keep(upload, first)
    assert states.take(upload, 5) is None  # another offset: the submission will hash the file
    assert states.take(upload, 10) is None  # and the state is gone once mismatched
    again = states.take(upload, 0)
    assert again is not None
    again.update(b"y" * 4)
    states.keep(upload, again)
    assert states.take(upload, 4) is again
    for _ in range(3):  # bounded: the oldest state is dropped
        other = StreamDigest()
        states.keep(uuid.uuid4(), other)
    assert states.finished(upload) is None
