"""A receipt promises bytes on disk (issue 11, finding 8): the upload's name is fsynced when its file
is created, every chunk is fsynced before its offset is recorded, and the container, its blob
folder and every folder up to the store's root are fsynced before the receipt is signed.

A power cut cannot be staged in a test process (``kill -9`` leaves the page cache to the kernel,
which writes it out anyway), so this test checks the protocol that makes one harmless: the real
``os.fsync`` runs, and a spy records which file or folder each call synced, in order with the
receipt's signing and with each commit of the intake's own transactions. The order is the
guarantee: what was fsynced before the commit survives a power cut after it.
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import bidding.intake.base
import bidding.intake.listing
import bidding.intake.submission
import bidding.intake.uploads
import bidding.intake.whole
import bidding.intake.withdrawal
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client, build
from tests.bidding.factories import bidder_party, published_tender, tenderee_party
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")

Event = tuple[str, str]


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """fsync calls (with the path synced), receipt signatures and intake commits, in order."""
    recorded: list[Event] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        recorded.append(("fsync", str(Path(f"/proc/self/fd/{fd}").readlink())))

    real_sign = bidding.intake.submission.sign_receipt

    async def sign_receipt(*args: Any, **kwargs: Any) -> Any:
        recorded.append(("sign", ""))
        return await real_sign(*args, **kwargs)

    real_transaction = bidding.intake.submission.transaction

    @asynccontextmanager
    async def transaction(*args: Any, **kwargs: Any) -> AsyncIterator[AsyncSession]:
        async with real_transaction(*args, **kwargs) as session:
            yield session
        recorded.append(("commit", ""))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(bidding.intake.submission, "sign_receipt", sign_receipt)
    # Every intake step opens its own units of work: count each one's commits.
    steps = (bidding.intake.uploads, bidding.intake.submission, bidding.intake.withdrawal, bidding.intake.listing)
    for step in (*steps, bidding.intake.whole):
        monkeypatch.setattr(step, "transaction", transaction)
    return recorded


def _segments(events: list[Event]) -> list[list[Event]]:
    """The events before each commit (one list per committed intake transaction)."""
    segments: list[list[Event]] = [[]]
    for event in events:
        if event[0] == "commit":
            segments.append([])
        else:
            segments[-1].append(event)
    return segments[:-1]


def _synced(segment: list[Event]) -> set[Path]:
    return {Path(path) for kind, path in segment if kind == "fsync"}


async def test_chunks_and_the_container_are_durable_before_the_receipt_is_signed(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
    events: list[Event],
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee)
    assert tender.deadline is not None
    bidder = await bidder_party(session_maker, settings, dev_pki, ca="jiangsu")
    built = await build(tmp_path / "bid", bidder, tender=tender.project_code, lot="L1", deadline=tender.deadline)
    chunk = math.ceil(built.size / 3)
    events.clear()

    receipt = await (await bid_client(client, bidder)).upload(tender.project_code, "L1", built.path, chunk_size=chunk)

    root = store.root.resolve()
    parts = {Path(path) for kind, path in events if kind == "fsync" and path.endswith(".part")}
    assert len(parts) == 1, events
    part = parts.pop()
    blob_dir = store.path(
        FileStore.key_for(bidding.intake.base.BLOB_NAMESPACE, receipt.record["containerSha256"])
    ).parent
    segments = _segments(events)
    # start_upload, one commit per chunk, then the acceptance that carries the receipt.
    assert len(segments) == 1 + 3 + 1, events
    started, *chunks, accepted = segments
    # The upload's name is on disk (its folder and each one up to the root synced) when the file
    # is created, before the upload's row commits...
    assert {part, part.parent, root} <= _synced(started), started
    for received in chunks:
        # ...so each chunk needs only its own bytes on disk before its offset is committed: the
        # folders are not synced again per chunk.
        assert _synced(received) == {part}, received
    # The receipt is signed only after the container and every folder up to the root are synced.
    signed_at = accepted.index(("sign", ""))
    before_signing = _synced(accepted[:signed_at])
    assert part in before_signing  # the container's inode (the blob is a hard link to it)
    assert {blob_dir, blob_dir.parent, blob_dir.parent.parent, root} <= before_signing, accepted
    assert blob_dir.parent.parent == root / "blobs"


async def test_a_one_request_bid_is_durable_before_its_receipt_in_two_transactions(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
    events: list[Event],
) -> None:
    """Issue 20: a package that fits one chunk goes in one request; the same order holds, in two
    intake transactions instead of 1 + chunks + 1 (the upload's row, then the acceptance).
    """
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee)
    assert tender.deadline is not None
    bidder = await bidder_party(session_maker, settings, dev_pki, ca="jiangsu")
    built = await build(tmp_path / "bid", bidder, tender=tender.project_code, lot="L1", deadline=tender.deadline)
    events.clear()

    receipt = await (await bid_client(client, bidder)).upload(tender.project_code, "L1", built.path)

    root = store.root.resolve()
    part = next(Path(path) for kind, path in events if kind == "fsync" and path.endswith(".part"))
    blob_dir = store.path(
        FileStore.key_for(bidding.intake.base.BLOB_NAMESPACE, receipt.record["containerSha256"])
    ).parent
    segments = _segments(events)
    assert len(segments) == 2, events
    started, accepted = segments
    assert {part, part.parent, root} <= _synced(started), started
    signed_at = accepted.index(("sign", ""))
    before_signing = _synced(accepted[:signed_at])
    assert part in before_signing
    assert {blob_dir, blob_dir.parent, blob_dir.parent.parent, root} <= before_signing, accepted
