"""The storage contract, run against both backends: the local disk and S3 on a real SeaweedFS server
(`tests.seaweedfs`, started once per session by the suite, no mock).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import obstore
import pytest

from tests.seaweedfs import SeaweedS3
from trading.kernel.storage import (
    READ_CHUNK,
    FileStore,
    SealedObject,
    Store,
    UploadBusy,
    UploadTooLarge,
)
from trading.kernel.storage_s3 import S3Store

NAMESPACE = "contract"
PART = 64 * 1024  # small S3 pieces in the tests, so a request spans several objects


def _s3(server: SeaweedS3, scratch: Path, **options: int) -> S3Store:
    settings = server.settings()
    settings.prefix = f"t-{uuid.uuid4().hex}"  # each test its own folder of the session's bucket
    store = S3Store.from_settings(settings, scratch=scratch)
    store.part_bytes = options.get("part_bytes", PART)
    store.single_put_bytes = options.get("single_put_bytes", 8 * 1024 * 1024)
    store.lease_seconds = options.get("lease_seconds", 900)
    return store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "local":
        return FileStore(tmp_path / "files")
    server: SeaweedS3 = request.getfixturevalue("seaweedfs_s3")
    return _s3(server, tmp_path / "scratch")


async def _chunks(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def _upload(store: Store, upload_id: uuid.UUID) -> bytes:
    async with store.upload_file(upload_id) as path:
        return path.read_bytes() if path.exists() else b""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def test_put_then_read_by_content_address(store: Store) -> None:
    data = b"tender document \x00\xff" * 100
    key = await asyncio.to_thread(store.put, NAMESPACE, _sha(data), data)
    assert key == f"{NAMESPACE}/{_sha(data)[:2]}/{_sha(data)}" == store.key_for(NAMESPACE, _sha(data))
    assert store.exists(key)
    assert await store.read_bytes(key) == data
    assert b"".join([piece async for piece in store.open_read(key)]) == data
    async with store.local_file(key) as path:
        assert path.read_bytes() == data
    assert await asyncio.to_thread(store.put, NAMESPACE, _sha(data), data) == key  # idempotent


async def test_missing_key_and_bad_key(store: Store) -> None:
    missing = store.key_for(NAMESPACE, "0" * 64)
    assert not store.exists(missing)
    with pytest.raises(FileNotFoundError):
        await store.read_bytes(missing)
    with pytest.raises(ValueError, match="not a storage key"):
        await store.read_bytes("../etc/passwd")


async def test_a_sealed_key_is_never_overwritten(store: Store) -> None:
    original = b"sealed container"
    key = store.key_for(NAMESPACE, _sha(original))
    store.create(key, original)
    with pytest.raises(SealedObject):
        store.create(key, b"something else")
    assert store.put(NAMESPACE, _sha(original), b"something else") == key
    assert await store.read_bytes(key) == original


async def test_concurrent_creates_of_one_key_store_exactly_one(store: Store) -> None:
    key = store.key_for(NAMESPACE, "ab" * 32)
    outcomes = await asyncio.gather(
        *(asyncio.to_thread(store.create, key, f"writer {n}".encode()) for n in range(6)), return_exceptions=True
    )
    assert sum(outcome is None for outcome in outcomes) == 1
    assert all(isinstance(outcome, SealedObject) for outcome in outcomes if outcome is not None)
    winner = outcomes.index(None)
    assert await store.read_bytes(key) == f"writer {winner}".encode()


async def test_resumable_upload_truncates_past_the_recorded_offset(store: Store) -> None:
    upload = uuid.uuid4()
    store.start(upload)
    first = os.urandom(3 * PART + 17)
    with store.exclusive(upload) as writer:
        recorded = await writer.write(0, _chunks(first[:PART], first[PART:]), limit=1 << 30)
    assert recorded == len(first)

    async def interrupted() -> AsyncIterator[bytes]:
        yield os.urandom(2 * PART + 5)  # stored, then the connection drops: never recorded
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError), store.exclusive(upload) as writer:
        await writer.write(recorded, interrupted(), limit=1 << 30)
    # Another request (on S3: maybe another process) resumes at the offset the database holds.
    second = os.urandom(PART + 3)
    with store.exclusive(upload) as writer:
        assert await writer.write(recorded, _chunks(second), limit=1 << 30) == len(first) + len(second)
    assert await _upload(store, upload) == first + second
    # Resuming at an earlier recorded offset cuts everything after it, inside a piece too.
    with store.exclusive(upload) as writer:
        assert await writer.write(PART + 1, _chunks(b"tail"), limit=1 << 30) == PART + 5
    assert await _upload(store, upload) == first[: PART + 1] + b"tail"


async def test_more_than_the_declared_size_is_refused(store: Store) -> None:
    upload = uuid.uuid4()
    store.start(upload)
    with pytest.raises(UploadTooLarge), store.exclusive(upload) as writer:
        await writer.write(0, _chunks(b"x" * 60, b"y" * 60), limit=100)
    with store.exclusive(upload) as writer:  # the next attempt starts again from the recorded 0
        assert await writer.write(0, _chunks(b"z" * 100), limit=100) == 100
    assert await _upload(store, upload) == b"z" * 100


async def test_a_second_concurrent_writer_is_refused(store: Store) -> None:
    upload = uuid.uuid4()
    store.start(upload)
    with store.exclusive(upload), pytest.raises(UploadBusy), store.exclusive(upload):
        pass
    with store.exclusive(upload) as writer:  # released: the next request writes
        assert await writer.write(0, _chunks(b"ok"), limit=10) == 2


async def test_s3_takes_over_a_hold_older_than_the_lease(seaweedfs_s3: SeaweedS3, tmp_path: Path) -> None:
    store = _s3(seaweedfs_s3, tmp_path, lease_seconds=0)
    upload = uuid.uuid4()
    with store.exclusive(upload) as writer:  # a hold left by a process that died mid-request …
        await asyncio.sleep(1.1)
        with store.exclusive(upload) as other:  # … is taken over once the lease has run out
            assert await other.write(0, _chunks(b"new"), limit=10) == 3
        del writer
    assert await _upload(store, upload) == b"new"


async def test_s3_a_writer_whose_hold_was_taken_over_stores_nothing_more(
    seaweedfs_s3: SeaweedS3, tmp_path: Path
) -> None:
    store = _s3(seaweedfs_s3, tmp_path, lease_seconds=1)
    upload = uuid.uuid4()
    with store.exclusive(upload) as stale:  # a request that stalled past the lease …
        await asyncio.sleep(1.2)
        with store.exclusive(upload) as other:
            assert await other.write(0, _chunks(b"new"), limit=10) == 3
        with pytest.raises(UploadBusy):  # … finds its hold gone and neither cuts nor writes
            await stale.write(0, _chunks(b"old!"), limit=10)
    assert await _upload(store, upload) == b"new"


async def test_s3_a_live_writer_renews_its_hold_past_the_lease(seaweedfs_s3: SeaweedS3, tmp_path: Path) -> None:
    store = _s3(seaweedfs_s3, tmp_path, lease_seconds=1)
    upload = uuid.uuid4()

    async def slowly() -> AsyncIterator[bytes]:
        for piece in (b"a", b"b", b"c", b"d"):
            await asyncio.sleep(0.5)
            yield piece

    with store.exclusive(upload) as writer:
        assert await writer.write(0, slowly(), limit=10) == 4  # 2 s, twice the lease: renewed meanwhile
        with pytest.raises(UploadBusy), store.exclusive(upload):
            pass
    assert await _upload(store, upload) == b"abcd"


async def test_promote_then_discard(store: Store) -> None:
    upload = uuid.uuid4()
    store.start(upload)
    data = os.urandom(5 * PART + 11)
    with store.exclusive(upload) as writer:
        await writer.write(0, _chunks(data), limit=len(data))
    key = await asyncio.to_thread(store.promote, upload, NAMESPACE, _sha(data))
    assert key == store.key_for(NAMESPACE, _sha(data))
    # A retried promote (crash before the row committed) finds the same bytes and keeps them.
    assert await asyncio.to_thread(store.promote, upload, NAMESPACE, _sha(data)) == key
    store.discard(upload)
    store.discard(upload)  # idempotent
    assert await _upload(store, upload) == b""
    assert await store.read_bytes(key) == data
    with pytest.raises(SealedObject):
        store.create(key, b"not the bid")


async def test_a_whole_upload_is_checked_locally_and_stored_once(store: Store) -> None:
    """One request's body (`receive_whole`): a local file for the checks, then the blob; on S3
    exactly one object reaches the bucket (no pieces, no hold), and it is never overwritten.
    """
    upload = uuid.uuid4()
    store.start(upload)
    data = os.urandom(3 * PART + 9)
    async with store.receive_whole(upload) as whole:
        assert await whole.write(_chunks(data[:PART], data[PART:]), limit=len(data)) == len(data)
        assert whole.path.read_bytes() == data
        key = await asyncio.to_thread(whole.promote, NAMESPACE, _sha(data))
        assert await asyncio.to_thread(whole.promote, NAMESPACE, _sha(data)) == key  # a retry keeps it
        whole.discard()
    assert key == store.key_for(NAMESPACE, _sha(data))
    assert await store.read_bytes(key) == data
    with pytest.raises(SealedObject):
        store.create(key, b"not the bid")
    assert await store.read_bytes(key) == data
    if isinstance(store, S3Store):
        assert {meta["path"] for meta in obstore.list(store.bucket).collect()} == {store.blob_path(key)}
        assert not list(store.scratch.glob("whole-*"))


async def test_a_whole_upload_past_its_size_is_refused_and_a_second_request_waits(store: Store) -> None:
    upload = uuid.uuid4()
    store.start(upload)
    async with store.receive_whole(upload) as whole:
        with pytest.raises(UploadTooLarge):
            await whole.write(_chunks(b"x" * 60, b"y" * 60), limit=100)
        if isinstance(store, FileStore):  # one shared file: a second request is refused meanwhile
            with pytest.raises(UploadBusy):
                async with store.receive_whole(upload):
                    pass
        whole.discard()


async def test_an_assembled_upload_is_checked_locally_then_promoted(store: Store) -> None:
    """A resumable upload's last step (`assembled`): a local file, then the blob from it."""
    upload = uuid.uuid4()
    store.start(upload)
    data = os.urandom(4 * PART + 1)
    with store.exclusive(upload) as writer:
        await writer.write(0, _chunks(data), limit=len(data))
    async with store.assembled(upload) as assembled:
        assert assembled.path.read_bytes() == data
        if isinstance(store, S3Store):  # the copy was hashed: other bytes cannot take this key
            with pytest.raises(ValueError, match="does not have SHA-256"):
                await asyncio.to_thread(assembled.promote, NAMESPACE, _sha(b"claimed"))
        key = await asyncio.to_thread(assembled.promote, NAMESPACE, _sha(data))
        assembled.discard()
    assert await store.read_bytes(key) == data
    assert await _upload(store, upload) == b""
    if isinstance(store, S3Store):
        assert {meta["path"] for meta in obstore.list(store.bucket).collect()} == {store.blob_path(key)}


async def test_s3_promote_refuses_bytes_that_do_not_match_the_key(seaweedfs_s3: SeaweedS3, tmp_path: Path) -> None:
    store = _s3(seaweedfs_s3, tmp_path)
    upload = uuid.uuid4()
    with store.exclusive(upload) as writer:
        await writer.write(0, _chunks(b"actual bytes"), limit=100)
    wrong = _sha(b"claimed bytes")
    with pytest.raises(ValueError, match="does not have SHA-256"):
        await asyncio.to_thread(store.promote, upload, NAMESPACE, wrong)
    assert not store.exists(store.key_for(NAMESPACE, wrong))


async def _warm_up(store: Store) -> None:
    """One 20 MiB round (a multipart promote on S3): the client's runtime, pools and allocator
    arenas exist before the baseline, so what the 50 MiB round adds is what grows with size.
    """
    upload = uuid.uuid4()
    data = os.urandom(20 * 1024 * 1024)
    with store.exclusive(upload) as writer:
        await writer.write(0, _chunks(data), limit=len(data))
    key = await asyncio.to_thread(store.promote, upload, NAMESPACE, _sha(data))
    assert [piece async for piece in store.open_read(key)]
    store.discard(upload)


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def _rss_growth(store: Store, size: int) -> int:
    """Write ``size`` bytes as one upload, promote it and read it back; the peak RSS growth."""
    block = os.urandom(READ_CHUNK)
    digest = hashlib.sha256()
    peak = baseline = _rss()

    async def sent() -> AsyncIterator[bytes]:
        nonlocal peak
        for n in range(size // READ_CHUNK):
            piece = block[n % 7 :] + block[: n % 7]  # not one block repeated
            digest.update(piece)
            peak = max(peak, _rss())
            yield piece

    upload = uuid.uuid4()
    store.start(upload)
    with store.exclusive(upload) as writer:
        assert await writer.write(0, sent(), limit=size) == size
    key = await asyncio.to_thread(store.promote, upload, NAMESPACE, digest.hexdigest())
    read = hashlib.sha256()
    total = 0
    async for piece in store.open_read(key):
        read.update(piece)
        total += len(piece)
        peak = max(peak, _rss())
    assert (total, read.hexdigest()) == (size, digest.hexdigest())
    store.discard(upload)
    return peak - baseline


async def test_memory_stays_flat_as_the_file_grows(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """20 MiB and 100 MiB through each backend: the peak grows by less than a few parts between
    them (flat), and stays under 64 MiB. The S3 client's own buffers and runtime cost a fixed
    ≈ 35-40 MiB the first time bytes go through it, whatever the size; the local disk ≈ 4 MiB."""
    backends: list[Store] = [FileStore(tmp_path / "files")]
    server: SeaweedS3 = request.getfixturevalue("seaweedfs_s3")
    # Above single_put_bytes: the promote is a streamed multipart upload, in S3's smallest parts.
    backends.append(_s3(server, tmp_path / "scratch", part_bytes=5 * 1024 * 1024, single_put_bytes=10 * 1024 * 1024))
    mib = 1024 * 1024
    for store in backends:
        await _warm_up(store)  # the client's runtime and pools exist before the baseline
        small = await _rss_growth(store, 20 * mib)
        large = await _rss_growth(store, 100 * mib)
        name = type(store).__name__
        assert large - small < 16 * mib, f"{name}: +{small >> 20} MiB for 20 MiB, +{large >> 20} MiB for 100 MiB"
        assert large < 64 * mib, f"{name}: +{large >> 20} MiB for 100 MiB"


async def test_seekable_reads_and_served_files(store: Store) -> None:
    data = os.urandom(3 * READ_CHUNK + 123)
    key = await asyncio.to_thread(store.put, NAMESPACE, _sha(data), data)

    def ranges() -> list[bytes]:
        with store.open_file(key) as stream:
            stream.seek(READ_CHUNK + 5)
            middle = stream.read(1000)
            stream.seek(-10, os.SEEK_END)
            tail = stream.read(100)  # past the end: what there is
            return [middle, tail, stream.read(1)]

    assert await asyncio.to_thread(ranges) == [data[READ_CHUNK + 5 : READ_CHUNK + 1005], data[-10:], b""]
    served = await store.served_file(key)
    assert served.path.read_bytes() == data
    if served.cleanup is not None:  # S3: a temporary copy, removed once the response is sent
        served.cleanup()
        assert not served.path.exists()
