"""One bid across web processes: its chunks alternated between two nodes, submitted on another, one
node killed (SIGKILL) in the middle of a chunk and the upload resumed through a survivor; then the
tender is opened and the bids decrypted on a third node (issue 20, item 2 acceptance).

Two storage variants, one test body:

* ``shared-dir``: the nodes have separate var directories but one file-store directory
  (``GGZY_STORAGE_DIR``), the local backend on a shared disk. Runs today; it proves the protocol
  (offsets recorded in PostgreSQL, the part past the recorded offset cut off by the next writer,
  receipts only for durable bytes) does not depend on which process took which chunk.
* ``s3``: no shared disk at all, the files in SeaweedFS (started by the suite, ``seaweedfs_s3``)
  through the S3 backend; every node gets the ``GGZY_STORAGE_*`` variables selecting it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bidding.client.sdk import BuiltBid, verify_receipt
from bidding.client.transport import BIDDING, BidClient, Receipt, decrypt_bid
from bidding.models import Bid, BidVersion
from bidding.opening.jobs import OpeningClock, TenderDeadline
from tests.bidding import harness
from tests.scaleout.conftest import Cluster, ClusterFactory, Node, wait_until
from trading.kernel import clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.storage import FileStore, Store
from trading.kernel.storage_s3 import S3Store
from trading.kernel.sweep import run_sweep

LOT = "001"
SIZE = 3 * 1024 * 1024
CHUNK = 256 * 1024


StorageVariant = tuple[str, dict[str, str], Path | None, Store]


@pytest.fixture(params=["shared-dir", "s3"])
def storage_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageVariant]:
    """(variant, extra node environment, shared storage directory or None, the same store as the
    test process sees it: the sweep that opens the hall runs here, as a worker would)."""
    if request.param == "shared-dir":
        shared = tmp_path / "shared-files"
        yield request.param, {}, shared, FileStore(shared)
        return
    s3 = request.getfixturevalue("seaweedfs_s3")
    # A short lease: the killed node's hold on the upload runs out within the test.
    env = s3.environment() | {"GGZY_STORAGE_LOCK_LEASE_SECONDS": "3"}
    yield request.param, env, None, S3Store.from_settings(s3.settings(), scratch=tmp_path / "scratch")


def _chunk(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as stream:
        stream.seek(offset)
        return stream.read(size)


async def patch(http: httpx.AsyncClient, node: Node, token: str, upload: str, *, data: bytes, offset: int) -> int:
    """One chunk; backs off while another request still holds the upload (409 ``one-writer``), as
    the bidder client does: on S3 a killed process's hold lasts until its lease runs out."""
    deadline = time.monotonic() + 60
    while True:
        response = await http.patch(
            f"{node.base_url}{BIDDING}/uploads/{upload}",
            content=data,
            headers={
                "Authorization": f"Bearer {token}",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },
        )
        busy = response.status_code == 409 and "one-writer" in response.text
        if not busy or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert response.status_code == 204, (node, response.status_code, response.text)
    return int(response.headers["Upload-Offset"])


async def announce(http: httpx.AsyncClient, node: Node, token: str, code: str, built: BuiltBid) -> str:
    response = await http.post(
        f"{node.base_url}{BIDDING}/tenders/{code}/lots/{LOT}/uploads",
        json={"size": built.size, "sha256": built.sha256},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def status(http: httpx.AsyncClient, node: Node, token: str, upload: str) -> dict[str, Any]:
    response = await http.get(
        f"{node.base_url}{BIDDING}/uploads/{upload}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def submit(http: httpx.AsyncClient, node: Node, token: str, upload: str) -> Receipt:
    response = await http.post(
        f"{node.base_url}{BIDDING}/uploads/{upload}/submission", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text
    return Receipt.from_api(response.json())


async def send_alternating(
    http: httpx.AsyncClient, nodes: list[Node], token: str, upload: str, *, built: BuiltBid, offset: int, end: int
) -> tuple[int, list[str]]:
    """PATCH ``built`` from ``offset`` to ``end`` in chunks, each to the next node in turn."""
    took = []
    turn = 0
    while offset < end:
        node = nodes[turn % len(nodes)]
        data = await asyncio.to_thread(_chunk, built.path, offset, min(CHUNK, end - offset))
        offset = await patch(http, node, token, upload, data=data, offset=offset)
        took.append(node.name)
        turn += 1
    return offset, took


async def killed_mid_chunk(
    http: httpx.AsyncClient,
    victim: Node,
    token: str,
    upload: str,
    *,
    data: bytes,
    offset: int,
    progressed: Callable[[], bool] | None = None,
) -> None:
    """Stream ``data`` to ``victim`` slowly and SIGKILL it once part of the body has arrived."""
    halfway = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        piece = len(data) // 8
        for start in range(0, len(data), piece):
            yield data[start : start + piece]
            if start >= 3 * piece:
                halfway.set()
                await asyncio.sleep(30)  # the rest never comes: the node dies first

    request = asyncio.create_task(
        http.patch(
            f"{victim.base_url}{BIDDING}/uploads/{upload}",
            content=body(),
            headers={
                "Authorization": f"Bearer {token}",
                "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream",
            },  # chunked: the length is not known up front, as for any streamed body
        )
    )
    arrived = asyncio.create_task(halfway.wait())
    done, _ = await asyncio.wait({request, arrived}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if request in done:
        arrived.cancel()
        answer = request.result()
        raise AssertionError(f"the node answered before the chunk was complete: {answer.status_code} {answer.text}")
    assert arrived in done, "the chunk's first half never left"
    if progressed is not None:  # the node wrote bytes past the recorded offset: they must not count
        await wait_until(progressed, 30, "the node to write part of the chunk")
    else:
        await asyncio.sleep(0.5)
    await asyncio.to_thread(victim.kill)
    request.cancel()  # the client gives up on the dead connection (its body generator was waiting)
    with contextlib.suppress(httpx.HTTPError, asyncio.CancelledError):
        await request
    assert request.done()


async def whole(
    http: httpx.AsyncClient, node: Node, token: str, code: str, built: BuiltBid, *, key: str
) -> httpx.Response:
    """The one-request bid (``POST …/lots/{lot}/bids``) with the bidder's ``Idempotency-Key``."""
    return await http.post(
        f"{node.base_url}{BIDDING}/tenders/{code}/lots/{LOT}/bids",
        content=await asyncio.to_thread(built.path.read_bytes),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/octet-stream",
            "Upload-Length": str(built.size),
            "Upload-Sha256": built.sha256,
            "Idempotency-Key": key,
        },
    )


async def open_past_deadline(cluster: Cluster, store: Store) -> None:
    """Move every node's clock past the deadline and run the sweep that opens the hall (as a worker)."""
    setup = cluster.setup
    engine = create_engine(setup.db_url)
    try:
        session_maker = create_session_maker(engine)
        async with session_maker() as session:
            remaining = setup.tender.deadline - await setup.clock.now(session)
        setup.clock.advance(max(remaining, timedelta(0)) + timedelta(seconds=0.5))
        with clock.use_clock(setup.clock):
            report = await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
        assert report.changed == {"bidding.tender_deadline": 1}, report
    finally:
        await engine.dispose()


async def stored_versions(db_url: str) -> tuple[list[BidVersion], list[Bid]]:
    engine = create_engine(db_url)
    try:
        async with create_session_maker(engine)() as session:
            return list((await session.scalars(select(BidVersion))).all()), list(
                (await session.scalars(select(Bid))).all()
            )
    finally:
        await engine.dispose()


async def test_one_bid_across_nodes_a_node_killed_mid_upload_and_the_opening_on_a_third(  # noqa: PLR0915 - one story
    cluster: ClusterFactory, storage_env: StorageVariant, tmp_path: Path
) -> None:
    variant, env, shared, store = storage_env
    nodes = await cluster(nodes=3, bidders=3, shared_storage=shared, env=env)
    a, b, c = nodes.nodes
    nodes.setup = setup = await harness.deadline_soon(nodes.setup, 240)
    code = setup.tender.code
    first, second, third = setup.bidders
    built = {
        bidder.index: await asyncio.to_thread(harness.build_bid, setup, bidder, LOT, tmp_path / "bids", size_bytes=SIZE)
        for bidder in (first, second)
    }
    built[third.index] = await asyncio.to_thread(
        harness.build_bid, setup, third, LOT, tmp_path / "bids", size_bytes=4096
    )
    receipts: dict[int, Receipt] = {}

    async with httpx.AsyncClient(timeout=60) as http:
        # 1. The first bid: announced on A, chunks alternated A, B, A, B …, submitted on C.
        upload = await announce(http, a, first.token, code, built[first.index])
        offset, took = await send_alternating(
            http, [a, b], first.token, upload, built=built[first.index], offset=0, end=built[first.index].size
        )
        assert offset == built[first.index].size
        assert set(took) == {"a", "b"}
        assert len(took) == -(-built[first.index].size // CHUNK)
        receipts[first.index] = await submit(http, c, first.token, upload)

        # 2. The second bid: alternated A, B up to about half, then A is killed in the middle of a chunk.
        upload = await announce(http, b, second.token, code, built[second.index])
        half = (built[second.index].size // 2) // CHUNK * CHUNK
        offset, _ = await send_alternating(
            http, [b, a], second.token, upload, built=built[second.index], offset=0, end=half
        )
        assert offset == half
        data = await asyncio.to_thread(_chunk, built[second.index].path, offset, 4 * CHUNK)
        part = FileStore(shared).incoming_path(uuid.UUID(upload)) if shared is not None else None
        await killed_mid_chunk(
            http,
            a,
            second.token,
            upload,
            data=data,
            offset=offset,
            progressed=(lambda: part.stat().st_size > half) if part is not None else None,
        )
        assert a.proc is not None
        assert a.proc.returncode == -9

        # B and C agree on where the upload stands: the recorded offset, not the bytes A took in.
        for survivor in (b, c):
            seen = await status(http, survivor, second.token, upload)
            assert seen["offset"] == half, seen
            assert seen["status"] == "receiving", seen
        # Resumed through the survivors, submitted on C.
        offset, took = await send_alternating(
            http, [b, c], second.token, upload, built=built[second.index], offset=half, end=built[second.index].size
        )
        assert offset == built[second.index].size
        receipts[second.index] = await submit(http, c, second.token, upload)

        # 3. The third bid whole (one request), the same request sent to B and C at once: one bid,
        # one receipt (on S3 each node spools its own copy; the row lock at acceptance decides).
        key = uuid.uuid4().hex
        answers = await asyncio.gather(
            whole(http, b, third.token, code, built[third.index], key=key),
            whole(http, c, third.token, code, built[third.index], key=key),
        )
        assert {answer.status_code for answer in answers} <= {201, 409}, [answer.text for answer in answers]
        made = {answer.json()["receiptNo"] for answer in answers if answer.status_code == 201}
        assert len(made) <= 1, made
        again = await whole(http, c, third.token, code, built[third.index], key=key)  # a retry: the same receipt
        assert again.status_code == 201, again.text
        assert made <= {again.json()["receiptNo"]}
        receipts[third.index] = Receipt.from_api(again.json())

    # Every receipt verifies and names the exact container; nothing receipted was lost.
    versions, bids = await stored_versions(setup.db_url)
    assert len(bids) == 3
    by_receipt = {version.receipt_no: version for version in versions}
    for index, receipt in receipts.items():
        record = verify_receipt(receipt.receipt, receipt.signature, setup.trust_roots)
        version = by_receipt[record["receiptNo"]]
        assert record["containerSha256"] == version.container_sha256 == built[index].sha256
        assert version.storage_key is not None
        assert hashlib.sha256(await store.read_bytes(version.storage_key)).hexdigest() == built[index].sha256

    # The opening on C: the hall opens at the deadline, everyone signs in and decrypts there; C
    # reads containers that A and B received.
    await open_past_deadline(nodes, store)
    host = await harness.host_token(setup)
    url = f"{c.base_url}/api/v1/bidding/opening/{code}"
    async with httpx.AsyncClient(timeout=120) as http:
        view = (await http.get(url, headers={"Authorization": f"Bearer {host}"})).json()
        assert view["stage"] == "sign-in", view
        assert view["bids"]["total"] == 3, view
        for bidder in setup.bidders:
            await harness.sign_in_over_http(http, c.base_url, bidder, code)
        moved = await http.post(
            f"{url}/transitions", json={"action": "decryption"}, headers={"Authorization": f"Bearer {host}"}
        )
        assert moved.status_code == 200, moved.text
        for bidder in setup.bidders:
            async with BidClient(c.base_url, bidder.token, http=http) as client:
                await decrypt_bid(client, code, LOT, bidder.uscc, bidder.enc.key)  # type: ignore[arg-type]
        view = (await http.get(url, headers={"Authorization": f"Bearer {host}"})).json()
        assert view["stage"] == "price-reading", view
        assert view["bids"]["packagesOpened"] == 3, view
    del variant
    nodes.assert_no_local_secrets()
