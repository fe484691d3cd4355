"""Hashing while receiving: the container's SHA-256 and each ZIP entry's, computed over the chunks as
they are written, so the checks at submission read no byte a second time.

`StreamDigest` wraps the chunk iterator the store writes from (storage-agnostic: it sees the bytes,
not the disk or the object store). It follows the ZIP's local headers as they pass: each header
gives an entry's name and stored size, and the bytes after it are hashed into that entry's digest.
What it finds is only a proposal: `bidding.intake.sealing.check_container` still reads the layout
from the central directory and uses a streamed digest only for an entry found at the same offset
with the same size (the digest of exactly those bytes); anything else (a data descriptor, ZIP64
sizes, a header that lies) is hashed from the file as before. So a hostile container can make the
server do the second pass, never accept a wrong digest.

Resumable uploads keep their digest between chunks in this process (`HashStates`), keyed by
upload and offset. hashlib's state cannot be exported, so it is not persisted: after a restart,
or when a chunk arrives at another web process, the state is missing and the submission hashes the
file in one read pass (the old way). Bytes below an upload's recorded offset never change (a write
starts at the recorded offset and cuts off what lies beyond it), so a state found at exactly the
recorded offset covers exactly the bytes on disk.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

_LOCAL_HEADER: Final = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIGNATURE: Final = 0x04034B50
_DATA_DESCRIPTOR_FLAG: Final = 0x8
_ZIP64_SIZE: Final = 0xFFFFFFFF

_HEADER, _NAME, _DATA, _DONE = range(4)


@dataclass(frozen=True, slots=True)
class StreamedEntry:
    """An entry's data range as its local header announced it, and the SHA-256 of those bytes."""

    offset: int
    size: int
    sha256: str


@dataclass(frozen=True)
class StreamedDigests:
    """What `StreamDigest` computed: the whole container's SHA-256 and size, and entries by offset."""

    sha256: str
    size: int
    entries: dict[int, StreamedEntry]


class StreamDigest:
    """SHA-256 of everything fed, and of each ZIP entry's data found by following local headers."""

    def __init__(self) -> None:
        self._whole = hashlib.sha256()
        self.position = 0
        self._state = _HEADER
        self._pending = bytearray()
        self._need = _LOCAL_HEADER.size
        self._header_start = 0
        self._entry_size = 0
        self._left = 0
        self._entry: Any = None  # the hashlib object of the entry being received
        self._entries: dict[int, tuple[int, Any]] = {}

    def update(self, chunk: bytes | memoryview) -> None:
        view = memoryview(chunk)
        self._whole.update(view)
        cursor = self.position
        self.position += len(view)
        while view and self._state != _DONE:
            if self._state == _DATA:
                take = min(len(view), self._left)
                self._entry.update(view[:take])
                self._left -= take
                view, cursor = view[take:], cursor + take
                if not self._left:
                    self._expect_header(cursor)
                continue
            take = min(len(view), self._need - len(self._pending))
            self._pending += view[:take]
            view, cursor = view[take:], cursor + take
            if len(self._pending) == self._need:
                self._header_complete(cursor)

    def _expect_header(self, at: int) -> None:
        self._state, self._need, self._header_start = _HEADER, _LOCAL_HEADER.size, at
        self._pending.clear()

    def _header_complete(self, cursor: int) -> None:
        if self._state == _HEADER:
            fields = _LOCAL_HEADER.unpack(self._pending)
            signature, flags, stored = fields[0], fields[2], fields[7]
            if (
                signature != _LOCAL_SIGNATURE
                or flags & _DATA_DESCRIPTOR_FLAG
                or stored == _ZIP64_SIZE
                or self._header_start in self._entries
            ):
                # The central directory (or something this reader does not follow): stop here.
                self._state = _DONE
                self._pending.clear()
                return
            self._entry_size = stored
            self._state, self._need = _NAME, _LOCAL_HEADER.size + fields[9] + fields[10]
            if len(self._pending) < self._need:
                return
        # The name and extra field passed; the entry's data starts here.
        self._pending.clear()
        self._entry = hashlib.sha256()
        self._entries[cursor] = (self._entry_size, self._entry)
        self._left = self._entry_size
        self._state = _DATA
        if not self._left:
            self._expect_header(cursor)

    def result(self) -> StreamedDigests:
        return StreamedDigests(
            sha256=self._whole.hexdigest(),
            size=self.position,
            entries={
                offset: StreamedEntry(offset, size, digest.hexdigest())
                for offset, (size, digest) in self._entries.items()
                if not (self._state == _DATA and digest is self._entry)  # an entry cut short
            },
        )

    async def through(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """Pass ``chunks`` on unchanged, hashing each as it goes by."""
        async for chunk in chunks:
            if chunk:
                self.update(chunk)
            yield chunk


class HashStates:
    """This process's digests of resumable uploads between chunks, by upload and offset (bounded:
    the least recently used state is dropped, and that upload is hashed again at submission).
    """

    def __init__(self, capacity: int = 512) -> None:
        self._capacity = capacity
        self._states: OrderedDict[uuid.UUID, StreamDigest] = OrderedDict()

    def take(self, upload_id: uuid.UUID, offset: int) -> StreamDigest | None:
        """The state that covers exactly the first ``offset`` bytes, removed (a new one at 0);
        None when this process has none (the submission will hash the file).
        """
        state = self._states.pop(upload_id, None)
        if state is not None and state.position == offset:
            return state
        return StreamDigest() if offset == 0 else None

    def keep(self, upload_id: uuid.UUID, state: StreamDigest) -> None:
        self._states[upload_id] = state
        self._states.move_to_end(upload_id)
        while len(self._states) > self._capacity:
            self._states.popitem(last=False)

    def finished(self, upload_id: uuid.UUID) -> StreamedDigests | None:
        """The digests of a complete upload, removed; None when this process has no state for it.
        The caller checks them against the file (size, entry offsets) before using them.
        """
        state = self._states.pop(upload_id, None)
        return None if state is None else state.result()


HASH_STATES: Final = HashStates()
"""The process's one table (uploads are written under the store's per-upload lock, so one request
at a time takes and keeps an upload's state)."""
