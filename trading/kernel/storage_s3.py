"""The S3 backend of `trading.kernel.storage.Store`: one bucket shared by every web process and node.

Client: **obstore** (Rust ``object_store`` under a thin Python layer) rather than aioboto3: no
botocore request building per call (the per-chunk CPU that matters in the deadline rush), native
async and blocking calls from the same store object, streaming ``get`` in bounded pieces, and
conditional writes (``PutMode.create`` = ``If-None-Match: *``, ``UpdateVersion`` = ``If-Match``),
which is all the write-once discipline needs. It installs as one abi3 wheel with no dependencies.

Objects in the bucket (under ``GGZY_STORAGE_PREFIX`` if set):

* ``blobs/<namespace>/<sha[:2]>/<sha256>`` — the content-addressed blobs, written once with
  ``If-None-Match: *``: the server refuses a second write of a key (`SealedObject`), so a sealed
  container or an archive is never overwritten, not even by two processes racing. Checked on
  SeaweedFS by the contract tests.
* ``incoming/<upload id>/<offset, 16 digits>`` — an upload in progress, one object per received
  piece of at most ``part_bytes`` (8 MiB): a request's bytes are stored as they arrive, each
  object complete or absent (S3 writes are atomic), so any process can resume the upload at the
  offset the database recorded. `S3Writer.write` first deletes the objects at or past that offset
  (the bytes of an interrupted attempt), like the local backend's ``ftruncate``.
* ``locks/<upload id>`` — the hold of the one request writing an upload (`S3Store.exclusive`),
  created with ``If-None-Match: *``; a hold older than ``lock_lease_seconds`` (its process died)
  is taken over with ``If-Match`` on its ETag, so two takers cannot both win. The writer renews
  its hold (``If-Match`` on its own ETag) every third of the lease while bytes arrive and before
  each piece it stores, so a slow but live request keeps it, and a writer whose hold was taken over
  stops (`UploadBusy`) instead of writing beside the new one. The lease is short (60 s) because a
  bidder whose web process died waits that long before the upload resumes elsewhere.

`S3Store.promote` reads the pieces in order and streams them into the blob while hashing them;
a digest that differs from the key aborts the write, so a key always names its own bytes. Up to
``single_put_bytes`` the blob is one conditional PUT; above, a multipart upload (S3 has no
conditional multipart completion on every server), done only when the key does not exist yet —
the digest check makes a racing second writer's bytes identical to the first's.

Submitting goes through a local file (`S3Store.assembled`, `S3Store.receive_whole`): the checks
read it and the blob is written from it, so a one-request bid's body reaches the bucket exactly
once (no pieces, no hold, no copy back), and a resumable upload's pieces are read back once.

Durability is the server's: a PUT returns once the object is stored (SeaweedFS: written to its
volume servers with the configured replication), so the local backend's fsync steps have no
counterpart here.

Local files (``<var>/tmp``, shared by the node's processes) are named ``<kind>-<pid>-…tmp`` after
the process that spools them: a process killed mid-request (kill -9, OOM) cannot delete its own,
so every web process removes, when it starts, the files of processes that no longer run on this
node and any older than `SCRATCH_MAX_AGE` (`clean_scratch`): a sibling's live spool stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, cast

import obstore
from obstore.exceptions import AlreadyExistsError, PreconditionError
from obstore.store import S3Store as _Bucket

from trading.kernel.storage import (
    READ_CHUNK,
    SealedObject,
    ServedFile,
    UploadBusy,
    UploadTooLarge,
    check_key,
    write_chunks,
)

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from trading.kernel.settings import StorageSettings

_OFFSET_DIGITS: Final = 16


class _RangeReader(io.RawIOBase):
    """A seekable raw reader over one object: each read is a ranged GET (wrapped in a buffer)."""

    def __init__(self, bucket: _Bucket, path: str, size: int) -> None:
        super().__init__()
        self._bucket = bucket
        self._path = path
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._position)
        if wanted <= 0:
            return 0
        data = memoryview(obstore.get_range(self._bucket, self._path, start=self._position, length=wanted))
        view[: len(data)] = data
        self._position += len(data)
        return len(data)


class _Hold:
    """One request's hold of an upload (``locks/<id>``): its ETag, renewed while the request writes."""

    def __init__(self, store: S3Store, path: str, e_tag: str | None) -> None:
        self._store = store
        self._path = path
        self._e_tag = e_tag
        self._renewed = time.monotonic()

    async def keep(self, *, now: bool = False) -> None:
        """Renew the hold when a third of the lease has passed (or ``now``); `UploadBusy` when
        another request took it over meanwhile (this one was presumed dead).
        """
        if not now and time.monotonic() - self._renewed < self._store.lease_seconds / 3:
            return
        try:
            result = await obstore.put_async(
                self._store.bucket, self._path, uuid.uuid4().hex.encode(), mode={"e_tag": self._e_tag or ""}
            )
        except (PreconditionError, FileNotFoundError):
            raise UploadBusy("another request took over this upload") from None
        self._e_tag = result["e_tag"]
        self._renewed = time.monotonic()

    @property
    def e_tag(self) -> str | None:
        return self._e_tag


class S3Writer:
    """Writes one upload's bytes at the recorded offset as objects of at most ``part_bytes``."""

    def __init__(self, store: S3Store, upload_id: uuid.UUID, hold: _Hold) -> None:
        self._store = store
        self._upload_id = upload_id
        self._hold = hold

    async def write(self, offset: int, chunks: AsyncIterator[bytes], *, limit: int) -> int:
        """Store ``chunks`` from ``offset``; returns the new size once every object is stored.

        Objects at or past ``offset`` (an interrupted attempt's) are deleted first, so the
        database's recorded offset is the only truth. `UploadTooLarge` when the total would pass
        ``limit``. Memory: at most one part is buffered.
        """
        store = self._store
        await self._hold.keep(now=True)  # a request presumed dead must not cut the new writer's bytes
        await store.truncate(self._upload_id, offset)
        size = part_start = offset
        buffer = bytearray()
        async for chunk in chunks:
            if not chunk:
                continue
            size += len(chunk)
            if size > limit:
                raise UploadTooLarge(f"more than the declared {limit} bytes")
            await self._hold.keep()
            buffer += chunk
            while len(buffer) >= store.part_bytes:
                piece = bytes(buffer[: store.part_bytes])
                del buffer[: store.part_bytes]
                await self._hold.keep(now=True)  # never store a piece after losing the hold
                await obstore.put_async(store.bucket, store.piece_path(self._upload_id, part_start), piece)
                part_start += len(piece)
        if buffer:
            await self._hold.keep(now=True)
            await obstore.put_async(store.bucket, store.piece_path(self._upload_id, part_start), bytes(buffer))
        return size


class S3Assembled:
    """A local file of an upload's bytes, stored as one object (the blob) by `promote`.

    `S3Store.assembled` (a resumable upload's pieces copied once, ``checked`` holding their
    SHA-256 taken on the way) and, as `S3WholeUpload`, `S3Store.receive_whole` (one request's body).
    """

    def __init__(self, store: S3Store, path: Path, *, upload_id: uuid.UUID | None = None) -> None:
        self._store = store
        self._path = path
        self._upload_id = upload_id
        self.checked: str | None = None

    @property
    def path(self) -> Path:
        return self._path

    def promote(self, namespace: str, sha256: str) -> str:
        """Blocking: the spooled bytes stored as the blob ``namespace``/``sha256``, once.

        ``sha256`` is the digest of these very bytes: taken on the way when the file was copied
        (``checked``, compared here), or by the caller as a body was spooled (and compared by the
        checks with the declared one), so the bytes are not hashed again. Up to
        ``single_put_bytes``: one PUT with ``If-None-Match: *`` (an existing object, the same
        bytes from an earlier attempt, is kept, never overwritten); above: a multipart upload in
        parts of ``part_bytes`` read from the file, only when the key does not exist yet.
        """
        if self.checked is not None and self.checked != sha256:
            msg = f"{self._path.name} does not have SHA-256 {sha256}"
            raise ValueError(msg)
        store = self._store
        key = store.key_for(namespace, sha256)
        target = store.blob_path(key)
        if self._path.stat().st_size <= store.single_put_bytes:
            with contextlib.suppress(AlreadyExistsError):
                obstore.put(store.bucket, target, self._path, mode="create")
        elif not store.exists(key):
            obstore.put(
                store.bucket, target, self._path, use_multipart=True, chunk_size=store.part_bytes, max_concurrency=2
            )
        return key

    def discard(self) -> None:
        """The local file, and a resumable upload's pieces in the bucket."""
        self._path.unlink(missing_ok=True)
        if self._upload_id is not None:
            self._store.discard(self._upload_id)


class S3WholeUpload(S3Assembled):
    """`S3Store.receive_whole`: the body spooled to a local file, then one object (the blob)."""

    def __init__(self, store: S3Store, path: Path, fd: int) -> None:
        super().__init__(store, path)
        self._fd = fd

    async def write(self, chunks: AsyncIterator[bytes], *, limit: int) -> int:
        """Spool ``chunks`` (page cache, no fsync: the bytes become durable as the blob's PUT)."""
        return await write_chunks(self._fd, chunks, size=0, limit=limit)


class S3Store:
    """Uploads and blobs in one S3 bucket (see the module docstring for the layout)."""

    def __init__(
        self,
        bucket: _Bucket,
        *,
        scratch: Path,
        lease_seconds: int = 60,
        part_bytes: int = 8 * 1024 * 1024,
        single_put_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.bucket = bucket
        self.scratch = scratch
        self.lease_seconds = lease_seconds
        self.part_bytes = part_bytes
        self.single_put_bytes = single_put_bytes

    @classmethod
    def from_settings(cls, storage: StorageSettings, *, scratch: Path) -> S3Store:
        secret = storage.secret_key.get_secret_value() if storage.secret_key is not None else ""
        options: dict[str, str] = {}
        if storage.endpoint:
            options["endpoint"] = storage.endpoint
        bucket = _Bucket(
            storage.bucket,
            prefix=storage.prefix or None,
            access_key_id=storage.access_key,
            secret_access_key=secret,
            region=storage.region,
            client_options={"allow_http": storage.endpoint.startswith("http://")},
            **options,  # type: ignore[arg-type]
        )
        return cls(bucket, scratch=scratch, lease_seconds=storage.lock_lease_seconds, part_bytes=storage.part_bytes)

    # --- names -----------------------------------------------------------------------------------

    @staticmethod
    def key_for(namespace: str, sha256: str) -> str:
        return f"{namespace}/{sha256[:2]}/{sha256}"

    @staticmethod
    def blob_path(key: str) -> str:
        return f"blobs/{check_key(key)}"

    @staticmethod
    def piece_path(upload_id: uuid.UUID, offset: int) -> str:
        return f"incoming/{upload_id}/{offset:0{_OFFSET_DIGITS}d}"

    @staticmethod
    def _lock_path(upload_id: uuid.UUID) -> str:
        return f"locks/{upload_id}"

    # --- uploads in progress ---------------------------------------------------------------------

    def start(self, upload_id: uuid.UUID) -> None:
        """Nothing to create: an upload with no pieces is empty, and its name is its row's."""

    @contextmanager
    def exclusive(self, upload_id: uuid.UUID) -> Iterator[S3Writer]:
        """Hold the upload (``locks/<id>``, created only if absent) while one request writes it;
        `UploadBusy` when another process holds it and its hold is younger than the lease.
        """
        token = uuid.uuid4().hex.encode()
        path = self._lock_path(upload_id)
        try:
            e_tag = obstore.put(self.bucket, path, token, mode="create")["e_tag"]
        except AlreadyExistsError:
            e_tag = self._take_over(path, token)
        hold = _Hold(self, path, e_tag)
        try:
            yield S3Writer(self, upload_id, hold)
        finally:
            # Released only if still ours (the ETag of our last renewal): never another's hold.
            with contextlib.suppress(FileNotFoundError):
                if obstore.head(self.bucket, path)["e_tag"] == hold.e_tag:
                    obstore.delete(self.bucket, path)

    def _take_over(self, path: str, token: bytes) -> str | None:
        try:
            meta = obstore.head(self.bucket, path)
        except FileNotFoundError:  # released meanwhile: try once more, plainly
            try:
                return obstore.put(self.bucket, path, token, mode="create")["e_tag"]
            except AlreadyExistsError:
                raise UploadBusy("another request is writing this upload") from None
        age = (datetime.now(UTC) - meta["last_modified"]).total_seconds()
        if age < self.lease_seconds:
            raise UploadBusy("another request is writing this upload")
        try:
            return obstore.put(self.bucket, path, token, mode={"e_tag": meta["e_tag"]})["e_tag"]
        except (PreconditionError, FileNotFoundError):
            raise UploadBusy("another request took over this upload") from None

    async def pieces(self, upload_id: uuid.UUID) -> list[tuple[int, int]]:
        """The stored pieces as (offset, size), in order."""
        prefix = f"incoming/{upload_id}/"
        listed = await obstore.list(self.bucket, prefix=prefix).collect_async()
        return sorted((int(meta["path"].rsplit("/", 1)[1]), meta["size"]) for meta in listed)

    async def truncate(self, upload_id: uuid.UUID, offset: int) -> None:
        """Delete the bytes at or past ``offset`` (a piece straddling it is cut)."""
        for start, size in await self.pieces(upload_id):
            path = self.piece_path(upload_id, start)
            if start >= offset:
                await obstore.delete_async(self.bucket, path)
            elif start + size > offset:
                head = await (await obstore.get_async(self.bucket, path)).bytes_async()
                await obstore.put_async(self.bucket, path, bytes(head)[: offset - start])

    async def _chain(self, upload_id: uuid.UUID) -> list[tuple[int, int]]:
        """The pieces from offset 0 that follow on each other (what `write` recorded)."""
        chain: list[tuple[int, int]] = []
        end = 0
        for start, size in await self.pieces(upload_id):
            if start != end:
                break
            chain.append((start, size))
            end += size
        return chain

    async def _upload_stream(self, upload_id: uuid.UUID) -> AsyncIterator[bytes]:
        for start, _size in await self._chain(upload_id):
            result = await obstore.get_async(self.bucket, self.piece_path(upload_id, start))
            async for piece in result.stream(min_chunk_size=READ_CHUNK):
                yield bytes(piece)

    @asynccontextmanager
    async def upload_file(self, upload_id: uuid.UUID) -> AsyncIterator[Path]:
        async with self._spooled(self._upload_stream(upload_id)) as path:
            yield path

    @asynccontextmanager
    async def assembled(self, upload_id: uuid.UUID) -> AsyncIterator[S3Assembled]:
        """The pieces copied once to a local file, hashed on the way (`S3Assembled.checked`);
        `S3Assembled.promote` writes the blob from that file: two crossings of the bytes after the
        pieces, not three (the copy for the checks and a second read for the blob).
        """
        digest = hashlib.sha256()

        async def hashed() -> AsyncIterator[bytes]:
            async for piece in self._upload_stream(upload_id):
                digest.update(piece)
                yield piece

        async with self._spooled(hashed()) as path:
            assembled = S3Assembled(self, path, upload_id=upload_id)
            assembled.checked = digest.hexdigest()
            yield assembled

    @asynccontextmanager
    async def receive_whole(self, upload_id: uuid.UUID) -> AsyncIterator[S3WholeUpload]:
        """A private local file for one request's whole upload, deleted when the block ends.

        No hold object and no pieces: the bytes reach the bucket once, as the blob
        (`S3WholeUpload.promote`). Two requests for one upload each spool their own copy; the
        upload's row lock at acceptance lets one of them make the bid, and both would write the
        same content-addressed object, which exists once (``If-None-Match: *``).
        """
        self.scratch.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.scratch, prefix=f"whole-{os.getpid()}-{upload_id}-", suffix=".tmp")
        whole = S3WholeUpload(self, Path(name), fd)
        try:
            yield whole
        finally:
            os.close(fd)
            whole.discard()

    def promote(self, upload_id: uuid.UUID, namespace: str, sha256: str) -> str:
        """Blocking (run it in a worker thread): store the upload under its digest, checked."""
        return asyncio.run(self.promote_async(upload_id, namespace, sha256))

    async def promote_async(self, upload_id: uuid.UUID, namespace: str, sha256: str) -> str:
        key = self.key_for(namespace, sha256)
        path = self.blob_path(key)
        if await self._exists_async(path):  # content-addressed: an earlier attempt stored these bytes
            return key
        total = sum(size for _start, size in await self._chain(upload_id))
        digest = hashlib.sha256()

        async def checked() -> AsyncIterator[bytes]:
            async for piece in self._upload_stream(upload_id):
                digest.update(piece)
                yield piece
            if digest.hexdigest() != sha256:
                msg = f"upload {upload_id} does not have SHA-256 {sha256}"
                raise ValueError(msg)

        if total <= self.single_put_bytes:
            data = b"".join([piece async for piece in checked()])
            with contextlib.suppress(AlreadyExistsError):  # a racing promote stored the same bytes
                await obstore.put_async(self.bucket, path, data, mode="create")
        else:
            await obstore.put_async(
                self.bucket, path, checked(), use_multipart=True, chunk_size=self.part_bytes, max_concurrency=2
            )
        return key

    def discard(self, upload_id: uuid.UUID) -> None:
        prefix = f"incoming/{upload_id}/"
        paths = [meta["path"] for meta in obstore.list(self.bucket, prefix=prefix).collect()]
        if paths:
            obstore.delete(self.bucket, paths)

    # --- immutable files -------------------------------------------------------------------------

    def create(self, key: str, data: bytes) -> None:
        try:
            obstore.put(self.bucket, self.blob_path(key), data, mode="create")
        except AlreadyExistsError:
            raise SealedObject(key) from None

    def put(self, namespace: str, sha256: str, data: bytes) -> str:
        key = self.key_for(namespace, sha256)
        with contextlib.suppress(SealedObject):
            self.create(key, data)
        return key

    def exists(self, key: str) -> bool:
        try:
            obstore.head(self.bucket, self.blob_path(key))
        except FileNotFoundError:
            return False
        return True

    async def _exists_async(self, path: str) -> bool:
        try:
            await obstore.head_async(self.bucket, path)
        except FileNotFoundError:
            return False
        return True

    async def read_bytes(self, key: str) -> bytes:
        try:
            result = await obstore.get_async(self.bucket, self.blob_path(key))
        except FileNotFoundError:
            raise FileNotFoundError(key) from None
        return bytes(await result.bytes_async())

    async def open_read(self, key: str) -> AsyncIterator[bytes]:
        try:
            result = await obstore.get_async(self.bucket, self.blob_path(key))
        except FileNotFoundError:
            raise FileNotFoundError(key) from None
        async for piece in result.stream(min_chunk_size=READ_CHUNK):
            yield bytes(piece)

    @asynccontextmanager
    async def local_file(self, key: str) -> AsyncIterator[Path]:
        async with self._spooled(self.open_read(key)) as path:
            yield path

    @contextmanager
    def open_file(self, key: str) -> Iterator[BinaryIO]:
        path = self.blob_path(key)
        size = obstore.head(self.bucket, path)["size"]
        with io.BufferedReader(_RangeReader(self.bucket, path, size), buffer_size=READ_CHUNK) as reader:
            yield cast("BinaryIO", reader)

    async def served_file(self, key: str) -> ServedFile:
        async with self._spooled(self.open_read(key), keep=True) as path:
            return ServedFile(path, cleanup=lambda: path.unlink(missing_ok=True))

    @asynccontextmanager
    async def _spooled(self, pieces: AsyncIterator[bytes], *, keep: bool = False) -> AsyncIterator[Path]:
        """``pieces`` written to a private temporary file, deleted when the block ends (or on an
        error only, with ``keep``: then the caller deletes it).
        """
        self.scratch.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.scratch, prefix=f"s3-{os.getpid()}-", suffix=".tmp")
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                async for piece in pieces:
                    await asyncio.to_thread(handle.write, piece)
            yield path
        except BaseException:
            await asyncio.to_thread(path.unlink, missing_ok=True)
            raise
        if not keep:
            await asyncio.to_thread(path.unlink, missing_ok=True)


SCRATCH_MAX_AGE: Final = 24 * 3600
"""Seconds after which a spool file is removed even if a process with its pid runs (the pid was
reused): a spool lives for one request; a day is far past any upload or download."""


def _process_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: existence only
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def clean_scratch(scratch: Path, *, now: float) -> int:
    """Blocking: remove the spool files in ``scratch`` whose process no longer runs or that are
    older than `SCRATCH_MAX_AGE`; files not named by this module are left alone.
    """
    if not scratch.is_dir():
        return 0
    removed = 0
    for path in scratch.glob("*-*-*.tmp"):
        kind, _, rest = path.name.partition("-")
        pid_text = rest.split("-", 1)[0]
        if kind not in {"s3", "whole"} or not pid_text.isdigit():
            continue
        try:
            age = now - path.stat().st_mtime
        except FileNotFoundError:
            continue  # its process finished with it meanwhile
        if age > SCRATCH_MAX_AGE or (int(pid_text) != os.getpid() and not _process_runs(int(pid_text))):
            path.unlink(missing_ok=True)
            removed += 1
    return removed
