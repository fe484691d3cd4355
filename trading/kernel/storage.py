"""The file store: uploads in progress and immutable, content-addressed files.

`Store` is the interface every caller uses; `open_store` picks the backend from the settings
(``GGZY_STORAGE_BACKEND``): `FileStore` below (the local disk, the embedded default) or
`trading.kernel.storage_s3.S3Store` (any S3 API: SeaweedFS, MinIO, Ceph RGW, AWS; production
with several web processes or nodes and no shared disk). ``docs/storage.md`` has the design;
``tests/trading/kernel/test_storage_contract.py`` runs the same contract against both.

Keys are ``<namespace>/<sha[:2]>/<sha256>``; the bytes under a key are written once and never
replaced (`Store.create` refuses with `SealedObject`, `Store.put` keeps what is there).

Local layout under ``settings.storage_dir``:

* ``incoming/<upload id>.part`` — an upload being received; appended to at its recorded offset,
  so an interrupted upload resumes where it stopped. Never read as a bid.
* ``blobs/<namespace>/<sha[:2]>/<sha256>`` — accepted files, written once. A file is moved here
  (fsync, then atomic rename) *before* the database row that names it commits, so a committed row
  always finds its bytes; a crash in between leaves at most an unreferenced blob, never a row
  without one.

Durability, because a receipt or a recorded offset is a promise about bytes on disk (a power cut
must not take back what the platform confirmed):

* an upload's file is fsynced, with ``incoming/`` and every directory up to the store's root, when
  `FileStore.start` creates it (before the caller commits the upload's row); from then on the name
  is durable, so each chunk needs only the file's own fsync before `UploadWriter.write` returns and
  the offset the caller then records never runs ahead of the bytes;
* a promoted or stored file is fsynced, and so is every directory from its own up to the store's
  root: a new ``<sha[:2]>`` or namespace folder is an entry in its parent, which must reach the
  disk too. Bid intake signs the receipt only after `FileStore.promote` has returned.

Writes go straight to the page cache in the event loop (small chunks); reads for hashing happen
in a worker thread by the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, Protocol

if TYPE_CHECKING:
    from trading.kernel.settings import Settings

_KEY: Final = re.compile(r"^[a-z-]+/[0-9a-f]{2}/[0-9a-f]{64}$")
READ_CHUNK: Final = 1024 * 1024
"""Streaming reads hand out pieces of about this size (memory stays flat in the file size)."""


class UploadTooLarge(Exception):
    """More bytes arrived than the upload declared."""


class UploadBusy(Exception):
    """Another request holds the upload (same upload sent twice at once)."""


class SealedObject(Exception):
    """The key already holds bytes; stored objects are written once and never replaced."""


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        msg = f"not a storage key: {key!r}"
        raise ValueError(msg)
    return key


class Writer(Protocol):
    async def write(self, offset: int, chunks: AsyncIterator[bytes], *, limit: int) -> int:
        """Write ``chunks`` at ``offset`` (cutting off anything stored past it); the new size."""
        ...


class Assembled(Protocol):
    """A complete upload's bytes as a local file for the checks, then stored once under their
    digest (`Store.assembled`, and `WholeUpload` for one request's own bytes).
    """

    @property
    def path(self) -> Path:
        """The bytes as a local file, for the checks that read them."""
        ...

    def promote(self, namespace: str, sha256: str) -> str:
        """Blocking: store the bytes under their digest ``sha256`` (the checks' digest of this very
        file, or checked again while the file was made), durably, written once; the key.
        """
        ...

    def discard(self) -> None:
        """Forget the upload's bytes (after the row naming the blob committed, or a refusal)."""
        ...


class WholeUpload(Assembled, Protocol):
    """An upload that one request sends whole (`Store.receive_whole`): written once from byte 0,
    then checked and promoted as `Assembled`.
    """

    async def write(self, chunks: AsyncIterator[bytes], *, limit: int) -> int:
        """Receive the whole upload (`path` holds it after); its size. `UploadTooLarge` past ``limit``."""
        ...


class Store(Protocol):
    """What the platform asks of its file storage; `FileStore` and `S3Store` implement it.

    Upload methods take the upload's id; the database's recorded offset is the truth about how
    much arrived. Blob methods take keys from `key_for`. ``put``/``promote``/``discard`` are
    blocking (call them in a worker thread when the bytes are large); reads are async.
    """

    def start(self, upload_id: uuid.UUID) -> object:
        """Make the (empty) upload durable before its row commits."""
        ...

    def exclusive(self, upload_id: uuid.UUID) -> AbstractContextManager[Writer]:
        """Hold the upload for one writer; a concurrent second one gets `UploadBusy`."""
        ...

    def upload_file(self, upload_id: uuid.UUID) -> AbstractAsyncContextManager[Path]:
        """The upload's bytes as a local file (for checks that need a path), while in the block."""
        ...

    def assembled(self, upload_id: uuid.UUID) -> AbstractAsyncContextManager[Assembled]:
        """A complete resumable upload, for its checks and promotion: the local disk's upload file
        itself; on S3 the pieces copied once to a local file (hashed on the way) and the blob
        written from that file, not read from the bucket a second time.
        """
        ...

    def receive_whole(self, upload_id: uuid.UUID) -> AbstractAsyncContextManager[WholeUpload]:
        """One request sending the whole upload, held until the block ends: the local disk writes
        the upload's file under `exclusive` (a concurrent second request gets `UploadBusy`); S3
        spools to a private local file and writes one object, the blob (no pieces, no copy back).
        """
        ...

    def promote(self, upload_id: uuid.UUID, namespace: str, sha256: str) -> str:
        """Store a complete upload under its digest (durably) and return the key."""
        ...

    def discard(self, upload_id: uuid.UUID) -> None:
        """Forget an upload's bytes (idempotent)."""
        ...

    @staticmethod
    def key_for(namespace: str, sha256: str) -> str: ...

    def create(self, key: str, data: bytes) -> None:
        """Write ``data`` under ``key`` once; `SealedObject` if the key already holds bytes."""
        ...

    def put(self, namespace: str, sha256: str, data: bytes) -> str:
        """Store small bytes under their digest; idempotent (an existing object is kept)."""
        ...

    def exists(self, key: str) -> bool: ...

    async def read_bytes(self, key: str) -> bytes: ...

    def open_read(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in pieces of about `READ_CHUNK` (bounded memory)."""
        ...

    def local_file(self, key: str) -> AbstractAsyncContextManager[Path]:
        """The object as a local file path (a library that wants a path), while in the block."""
        ...

    def open_file(self, key: str) -> AbstractContextManager[BinaryIO]:
        """Blocking, seekable reads of the object (S3: ranged GETs); for worker threads that read
        parts of a large container (the opening's decryption) without fetching all of it.
        """
        ...

    async def served_file(self, key: str) -> ServedFile:
        """The object as a file a response can send (`litestar.response.File`): the blob itself on
        the local disk, a temporary copy on S3 that ``cleanup`` removes once it has been sent.
        """
        ...


@dataclass(frozen=True)
class ServedFile:
    path: Path
    cleanup: Callable[[], None] | None = None


def open_store(settings: Settings) -> Store:
    """The configured backend: ``GGZY_STORAGE_BACKEND=s3`` (production) or the local disk."""
    storage = settings.storage
    if storage.backend == "s3":
        from trading.kernel.storage_s3 import S3Store  # noqa: PLC0415 - only production needs obstore

        return S3Store.from_settings(storage, scratch=scratch_dir(settings))
    return FileStore(settings.storage_dir)


def scratch_dir(settings: Settings) -> Path:
    """The node's folder for the S3 backend's local spool files (shared by its processes)."""
    return settings.var_dir / "tmp"


def clean_scratch_at_start(settings: Settings) -> int:
    """Blocking: a starting process removes the spool files of the node's dead processes (S3 only;
    `trading.kernel.storage_s3.clean_scratch`); the count.
    """
    if settings.storage.backend != "s3":
        return 0
    from trading.kernel.storage_s3 import clean_scratch  # noqa: PLC0415 - only production needs obstore

    return clean_scratch(scratch_dir(settings), now=time.time())


class UploadWriter:
    """Writes an upload at the offset the database recorded (see `FileStore.exclusive`)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    async def write(self, offset: int, chunks: AsyncIterator[bytes], *, limit: int) -> int:
        """Write ``chunks`` at ``offset``; returns the new size once the bytes are on disk.

        Bytes past ``offset`` from an earlier interrupted attempt are cut off first, so what the
        database recorded is the only truth about how much arrived. Raises `UploadTooLarge` when
        the total would pass ``limit`` (the bytes written so far stay until the upload is
        discarded or resumed, which truncates them again). The file is fsynced before returning
        (in a worker thread: a large chunk can take a while), so the caller may record the new
        size; its directory entry was made durable when `FileStore.start` created it.
        """
        os.ftruncate(self._fd, offset)
        os.lseek(self._fd, offset, os.SEEK_SET)
        size = await write_chunks(self._fd, chunks, size=offset, limit=limit)
        await asyncio.to_thread(os.fsync, self._fd)
        return size


async def write_chunks(fd: int, chunks: AsyncIterator[bytes], *, size: int, limit: int) -> int:
    """Write ``chunks`` at ``fd``'s position; returns ``size`` plus the bytes written.

    Raises `UploadTooLarge` before writing the chunk that would take the total past ``limit``.
    No fsync: the caller decides when the bytes must be durable.
    """
    async for chunk in chunks:
        if not chunk:
            continue
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(f"more than the declared {limit} bytes")
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]
    return size


class FileStore:
    """The local-disk backend (embedded mode, one machine or a shared POSIX file system)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / "incoming"
        self.blobs = root / "blobs"

    # --- uploads in progress ---------------------------------------------------------------------

    def incoming_path(self, upload_id: uuid.UUID) -> Path:
        return self.incoming / f"{upload_id}.part"

    def start(self, upload_id: uuid.UUID) -> Path:
        """The upload's file, created empty if missing; a file created here is made durable with
        its name (``incoming/`` and each folder up to the root) before returning, once, so that
        later chunks only fsync their own bytes.
        """
        self.incoming.mkdir(parents=True, exist_ok=True)
        path = self.incoming_path(upload_id)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            return path
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        self._fsync_dirs_up_from(self.incoming)
        return path

    @contextmanager
    def exclusive(self, upload_id: uuid.UUID) -> Iterator[UploadWriter]:
        """Hold the upload's file exclusively (``flock``) while one request writes to it.

        A second concurrent writer of the same upload gets `UploadBusy` instead of interleaving
        bytes; the caller re-reads the recorded offset *under* this lock before writing.
        """
        path = self.start(upload_id)
        fd = os.open(path, os.O_WRONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadBusy("another request is writing this upload") from None
            yield UploadWriter(fd)
        finally:
            os.close(fd)  # releases the lock

    def discard(self, upload_id: uuid.UUID) -> None:
        self.incoming_path(upload_id).unlink(missing_ok=True)

    @asynccontextmanager
    async def assembled(self, upload_id: uuid.UUID) -> AsyncIterator[LocalUpload]:
        yield LocalUpload(self, upload_id)

    @asynccontextmanager
    async def receive_whole(self, upload_id: uuid.UUID) -> AsyncIterator[LocalWholeUpload]:
        """The upload's own file under `exclusive`, held until the block ends (checks and promote
        included, so a retry sent meanwhile cannot rewrite the file being checked).
        """
        with self.exclusive(upload_id) as writer:
            yield LocalWholeUpload(self, upload_id, writer)

    @asynccontextmanager
    async def upload_file(self, upload_id: uuid.UUID) -> AsyncIterator[Path]:
        yield self.incoming_path(upload_id)

    # --- immutable files -------------------------------------------------------------------------

    @staticmethod
    def key_for(namespace: str, sha256: str) -> str:
        return f"{namespace}/{sha256[:2]}/{sha256}"

    def path(self, key: str) -> Path:
        """The blob's file (local backend only; callers go through `Store`'s read methods)."""
        return self.blobs / check_key(key)

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    async def read_bytes(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    async def open_read(self, key: str) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self.path(key).open, "rb")
        try:
            while chunk := await asyncio.to_thread(handle.read, READ_CHUNK):
                yield chunk
        finally:
            handle.close()

    @asynccontextmanager
    async def local_file(self, key: str) -> AsyncIterator[Path]:
        path = self.path(key)
        if not path.exists():
            raise FileNotFoundError(key)
        yield path

    def open_file(self, key: str) -> AbstractContextManager[BinaryIO]:
        return self.path(key).open("rb")

    async def served_file(self, key: str) -> ServedFile:
        return ServedFile(self.path(key))

    def promote(self, upload_id: uuid.UUID, namespace: str, sha256: str) -> str:
        """Link a complete upload into the blob store (durably) and return its key; the caller
        discards the upload once the row naming the key has committed.
        """
        key = self.key_for(namespace, sha256)
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        source = self.incoming_path(upload_id)
        fd = os.open(source, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        # A hard link, not a rename: the upload keeps its bytes until the caller's transaction has
        # committed (then it calls `discard`), so a crash in between leaves an upload that can
        # still be submitted. The key is the content's digest: an existing target holds the same
        # bytes (from such an earlier attempt).
        with contextlib.suppress(FileExistsError):
            os.link(source, target)
        self._fsync_dirs_up_from(target.parent)
        return key

    def put(self, namespace: str, sha256: str, data: bytes) -> str:
        """Store small bytes (a tender document) under their digest; idempotent."""
        key = self.key_for(namespace, sha256)
        with contextlib.suppress(SealedObject):
            self.create(key, data)
        return key

    def create(self, key: str, data: bytes) -> None:
        """Write once: the bytes go to a temporary file (fsynced), which is then *linked* to the
        key — ``link`` fails when the name exists, so a sealed object is never replaced, not even
        by a concurrent writer (a ``rename`` would replace it silently).
        """
        target = self.path(key)
        if target.exists():
            raise SealedObject(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
        try:
            with temporary.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, target)
            except FileExistsError:
                raise SealedObject(key) from None
        finally:
            temporary.unlink(missing_ok=True)
        self._fsync_dirs_up_from(target.parent)

    def _fsync_dirs_up_from(self, directory: Path) -> None:
        """Make ``directory``'s entries durable, and its own entry in each parent up to the root
        (any of them may have been created just now, by this call or a concurrent one).
        """
        current = directory
        while True:
            _fsync_dir(current)
            if current == self.root or self.root not in current.parents:
                return
            current = current.parent


class LocalUpload:
    """`FileStore.assembled`: the upload's own file, linked into the blobs by `promote`."""

    def __init__(self, store: FileStore, upload_id: uuid.UUID) -> None:
        self._store = store
        self._upload_id = upload_id

    @property
    def path(self) -> Path:
        return self._store.incoming_path(self._upload_id)

    def promote(self, namespace: str, sha256: str) -> str:
        return self._store.promote(self._upload_id, namespace, sha256)

    def discard(self) -> None:
        self._store.discard(self._upload_id)


class LocalWholeUpload(LocalUpload):
    """`FileStore.receive_whole`: the resumable path's file and steps, written from byte 0."""

    def __init__(self, store: FileStore, upload_id: uuid.UUID, writer: UploadWriter) -> None:
        super().__init__(store, upload_id)
        self._writer = writer

    async def write(self, chunks: AsyncIterator[bytes], *, limit: int) -> int:
        return await self._writer.write(0, chunks, limit=limit)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
