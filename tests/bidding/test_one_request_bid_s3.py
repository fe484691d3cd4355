"""A bid in one request on the S3 backend (SeaweedFS started by the suite): the bytes reach the
bucket once, as the sealed container's blob — no upload pieces, no hold object, no copy back — and
that blob cannot be overwritten. The other behaviours are `test_one_request_bid`'s, on local disk.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import httpx
import obstore
import pytest
from obstore.exceptions import AlreadyExistsError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as container_format
from certs.devpki.pki import DevPki
from tests.bidding.containers import build, part, rezip
from tests.bidding.factories import bidder_party, published_tender, tenderee_party
from tests.bidding.test_one_request_bid import LOT, Scene
from tests.seaweedfs import SeaweedS3
from trading.kernel.settings import Settings
from trading.kernel.storage import SealedObject, Store, open_store
from trading.kernel.storage_s3 import S3Store

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
def settings(settings: Settings, seaweedfs_s3: SeaweedS3) -> Settings:
    """The bidding tests' settings with the files in a folder of the session's SeaweedFS bucket."""
    storage = seaweedfs_s3.settings()
    storage.prefix = f"t-{uuid.uuid4().hex}"
    return settings.model_copy(update={"storage": storage})


@pytest.fixture
def store(settings: Settings) -> Store:
    return open_store(settings)


@pytest.fixture
async def scene(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: S3Store,
    dev_pki: DevPki,
    tmp_path: Path,
) -> Scene:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee, max_package_bytes=2 * 1024 * 1024)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    assert tender.deadline is not None
    built = await build(tmp_path, bidder, tender=tender.project_code, lot=LOT, deadline=tender.deadline)
    return Scene(
        client,
        session_maker,
        store,  # type: ignore[arg-type]
        dev_pki,
        tender.project_code,
        tender.deadline,
        bidder,
        built.path,
        tmp_path,
    )


def _objects(store: S3Store) -> set[str]:
    return {meta["path"] for meta in obstore.list(store.bucket).collect()}


def _spooled(settings: Settings) -> list[Path]:
    scratch = settings.var_dir / "tmp"
    return list(scratch.glob("whole-*")) if scratch.exists() else []


async def test_s3_one_request_bid_writes_one_object_that_cannot_be_overwritten(
    scene: Scene, store: S3Store, settings: Settings
) -> None:
    before = _objects(store)  # the tender's documents
    key = uuid.uuid4().hex
    first = await scene.post(scene.good, key=key)
    assert first.status_code == 201, first.text
    sha = hashlib.sha256(scene.good.read_bytes()).hexdigest()
    assert first.json()["record"]["containerSha256"] == sha
    blob = store.key_for("bids", sha)
    # Exactly one new object: the container's blob (no incoming/ pieces, no locks/ hold left).
    assert _objects(store) - before == {store.blob_path(blob)}
    assert _spooled(settings) == []  # the local spool is gone too
    assert await store.read_bytes(blob) == scene.good.read_bytes()
    # Written once: a second write of the key is refused by the server, the bytes stay.
    with pytest.raises(SealedObject):
        store.create(blob, b"something else")
    with pytest.raises(AlreadyExistsError):
        obstore.put(store.bucket, store.blob_path(blob), b"something else", mode="create")
    assert await store.read_bytes(blob) == scene.good.read_bytes()
    # A retry answers the same receipt and writes nothing.
    again = await scene.post(scene.good, key=key)
    assert again.json() == first.json()
    assert _objects(store) - before == {store.blob_path(blob)}
    assert await scene.counts() == (1, 1)


async def test_s3_a_refused_package_leaves_no_object(scene: Scene, store: S3Store, settings: Settings) -> None:
    before = _objects(store)
    package = bytearray(part(scene.good, container_format.PACKAGE))
    package[-1] ^= 0x01
    bad = rezip(scene.good, scene.work / "altered.zip", replace={"package.sealed": bytes(package)})
    response = await scene.post(bad, key=uuid.uuid4().hex)
    assert response.status_code == 422, response.text
    assert _objects(store) == before
    assert _spooled(settings) == []
