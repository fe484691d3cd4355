"""Bad bid packages (issue 4 acceptance): each refused with the field and rule that name why, and
nothing stored — no bid, no version, no bytes; the upload keeps the refusal as its record.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as container_format
from bidding.models import Bid, BidUpload, BidVersion, UploadStatus
from certs.devpki.pki import DevPki
from tests.bidding.containers import build, manifest_of, part, resigned, rezip
from tests.bidding.factories import Party, bidder_party, draft_tender, published_tender, tenderee_party
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")
LOT = "L1"


@dataclass
class Scene:
    """A published tender, its bidder and a good container for it."""

    http: httpx.AsyncClient
    session_maker: async_sessionmaker[AsyncSession]
    settings: Settings
    store: FileStore
    pki: DevPki
    code: str
    deadline: Any
    bidder: Party
    good: Path
    work: Path

    async def headers(self) -> dict[str, str]:
        return await self.bidder.headers(self.http)

    async def send(self, path: Path, *, size: int | None = None, body: bytes | None = None) -> httpx.Response:
        """Create an upload for ``path``, send ``body`` (default: the whole file), submit."""
        data = path.read_bytes()
        headers = await self.headers()
        created = await self.http.post(
            f"/api/v1/bidding/tenders/{self.code}/lots/{LOT}/uploads",
            json={"size": size if size is not None else len(data), "sha256": hashlib.sha256(data).hexdigest()},
            headers=headers,
        )
        if created.status_code != 201:
            return created
        upload_id = created.json()["id"]
        chunk = await self.http.patch(
            f"/api/v1/bidding/uploads/{upload_id}",
            content=data if body is None else body,
            headers={**headers, "Upload-Offset": "0"},
        )
        if chunk.status_code != 204:
            return chunk
        return await self.http.post(f"/api/v1/bidding/uploads/{upload_id}/submission", headers=headers)


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
    built = await build(tmp_path, bidder, tender=tender.project_code, lot=LOT, deadline=tender.deadline)
    return Scene(
        client,
        session_maker,
        settings,
        store,
        dev_pki,
        tender.project_code,
        tender.deadline,
        bidder,
        built.path,
        tmp_path,
    )


async def _nothing_stored(scene: Scene) -> None:
    async with scene.session_maker() as session:
        bids = await session.scalar(
            select(func.count()).select_from(Bid).where(Bid.organisation_id == scene.bidder.organisation_id)
        )
        versions = await session.scalar(
            select(func.count())
            .select_from(BidVersion)
            .join(Bid)
            .where(Bid.organisation_id == scene.bidder.organisation_id)
        )
        uploads = (
            (await session.execute(select(BidUpload).where(BidUpload.organisation_id == scene.bidder.organisation_id)))
            .scalars()
            .all()
        )
    assert bids == 0
    assert versions == 0
    for upload in uploads:
        assert upload.status in {UploadStatus.REFUSED, UploadStatus.RECEIVING}
        if upload.status is UploadStatus.REFUSED:
            assert upload.refusal is not None
            assert not scene.store.incoming_path(upload.id).exists()
    accepted_blobs = list((scene.store.blobs / "bids").rglob("*")) if scene.store.blobs.exists() else []
    assert accepted_blobs == []


def _problem(response: httpx.Response) -> tuple[int, str | None, str | None]:
    body = response.json()
    error = (body.get("errors") or [{}])[0]
    return response.status_code, error.get("field"), error.get("rule")


async def unsigned(scene: Scene) -> Path:
    return rezip(scene.good, scene.work / "unsigned.zip", drop=(container_format.SIGNATURE,))


async def signed_by_unknown_ca(scene: Scene) -> Path:
    return await resigned(scene.good, scene.work / "rogue.zip", manifest_of(scene.good), scene.pki.rogue_leaf)


async def signed_by_revoked(scene: Scene) -> Path:
    return await resigned(scene.good, scene.work / "revoked.zip", manifest_of(scene.good), scene.pki.revoked)


async def signed_by_another_organisation(scene: Scene) -> Path:
    other = await bidder_party(scene.session_maker, scene.settings, scene.pki)
    return await resigned(scene.good, scene.work / "other-org.zip", manifest_of(scene.good), other.sign)


async def sealed_for_another_tender(scene: Scene) -> Path:
    """The manifest names this tender, but the envelopes were sealed for another one."""
    elsewhere = await build(
        scene.work / "elsewhere", scene.bidder, tender="T-ANOTHER-TENDER", lot=LOT, deadline=scene.deadline
    )
    manifest = manifest_of(scene.good)
    parts: dict[str, bytes] = {}
    declared = dict(manifest["parts"])  # type: ignore[call-overload]
    for kind, name in container_format.PART_NAMES.items():
        data = part(elsewhere.path, kind)
        parts[name] = data
        declared[kind] = {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    manifest["parts"] = declared
    return await resigned(scene.good, scene.work / "moved.zip", manifest, scene.bidder.sign, parts)


async def digest_mismatch(scene: Scene) -> Path:
    package = bytearray(part(scene.good, container_format.PACKAGE))
    package[-1] ^= 0x01
    return rezip(scene.good, scene.work / "altered.zip", replace={"package.sealed": bytes(package)})


async def unencrypted(scene: Scene) -> Path:
    """A bid whose parts are plaintext, properly listed and signed: refused as not sealed (Art. 26)."""
    manifest = manifest_of(scene.good)
    plain = {"price-summary.sealed": b'{"totalPrice":"1.00"}', "package.sealed": b"PK plain package"}
    manifest["parts"] = {
        kind: {"name": name, "size": len(plain[name]), "sha256": hashlib.sha256(plain[name]).hexdigest()}
        for kind, name in container_format.PART_NAMES.items()
    }
    return await resigned(scene.good, scene.work / "plain.zip", manifest, scene.bidder.sign, plain)


def _deflated_bomb(scene: Scene) -> Path:
    """The four expected names, ``package.sealed`` DEFLATEd from 1 GiB of zeros (about 1 MB)."""
    target = scene.work / "bomb-final.zip"
    with zipfile.ZipFile(scene.good) as original, zipfile.ZipFile(target, "w") as out:
        for info in original.infolist():
            if info.filename == "package.sealed":
                zinfo = zipfile.ZipInfo("package.sealed")
                zinfo.compress_type = zipfile.ZIP_DEFLATED
                with out.open(zinfo, "w", force_zip64=True) as sink:
                    block = b"\0" * (1024 * 1024)
                    for _ in range(1024):
                        sink.write(block)
            else:
                out.writestr(zipfile.ZipInfo(info.filename), original.read(info.filename))
    return target


Case = Callable[[Scene], Awaitable[Path]]


@pytest.mark.parametrize(
    ("make", "status", "field", "rule"),
    [
        (unsigned, 422, "signature", "required"),
        (signed_by_unknown_ca, 422, "signature", None),
        (signed_by_revoked, 422, "signature", "revoked"),
        (signed_by_another_organisation, 422, "signature", "signer-not-bidder"),
        (sealed_for_another_tender, 422, "parts.price-summary", "binding-mismatch"),
        (digest_mismatch, 422, "parts.package", "digest-mismatch"),
        (unencrypted, 422, "parts.price-summary", "not-sealed"),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
async def test_a_bad_package_is_refused_and_nothing_is_stored(
    scene: Scene, make: Case, status: int, field: str, rule: str | None
) -> None:
    response = await scene.send(await make(scene))
    got_status, got_field, got_rule = _problem(response)
    assert (got_status, got_field) == (status, field), response.text
    if rule is not None:
        assert got_rule == rule, response.text
    else:
        assert got_rule in {"unknown-issuer", "ca-not-recognised", "invalid-path"}, response.text
    await _nothing_stored(scene)


async def test_a_zip_bomb_is_refused_without_expanding_it(scene: Scene) -> None:
    bomb = _deflated_bomb(scene)
    assert bomb.stat().st_size < 3 * 1024 * 1024
    response = await scene.send(bomb)
    assert _problem(response) == (422, "package", "compression"), response.text
    await _nothing_stored(scene)


async def test_a_truncated_upload_is_refused(scene: Scene) -> None:
    data = scene.good.read_bytes()
    response = await scene.send(scene.good, body=data[: len(data) // 2])
    assert _problem(response) == (422, "upload", "incomplete"), response.text
    await _nothing_stored(scene)


async def test_more_bytes_than_declared_are_refused(scene: Scene) -> None:
    data = scene.good.read_bytes()
    response = await scene.send(scene.good, size=len(data) - 10)
    assert _problem(response) == (422, "size", "declared-size"), response.text
    await _nothing_stored(scene)


async def test_a_package_beyond_the_tenders_limit_is_refused_before_any_byte(scene: Scene) -> None:
    big = scene.work / "big.bin"
    big.write_bytes(b"x" * 16)
    response = await scene.send(big, size=3 * 1024 * 1024)
    assert _problem(response) == (413, "size", "max-package-bytes"), response.text
    await _nothing_stored(scene)


async def test_a_chunk_at_the_wrong_offset_is_refused_with_the_servers_offset(scene: Scene) -> None:
    data = scene.good.read_bytes()
    headers = await scene.headers()
    created = await scene.http.post(
        f"/api/v1/bidding/tenders/{scene.code}/lots/{LOT}/uploads",
        json={"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        headers=headers,
    )
    upload_id = created.json()["id"]
    wrong = await scene.http.patch(
        f"/api/v1/bidding/uploads/{upload_id}", content=data[100:], headers={**headers, "Upload-Offset": "100"}
    )
    assert wrong.status_code == 409
    assert wrong.json()["offset"] == 0


async def test_a_submission_after_the_deadline_is_refused(scene: Scene) -> None:
    async with scene.session_maker() as session:
        now = await clock.now(session)
    with clock.use_clock(clock.ShiftedClock(scene.deadline - now + timedelta(minutes=1))):
        response = await scene.send(scene.good)
    assert _problem(response) == (409, "deadline", "before-deadline"), response.text
    await _nothing_stored(scene)


async def test_a_submission_to_a_draft_tender_is_refused(scene: Scene) -> None:
    tenderee = await tenderee_party(scene.session_maker, scene.settings, scene.pki)
    draft = await draft_tender(scene.session_maker, scene.settings, scene.store, tenderee)
    data = scene.good.read_bytes()
    response = await scene.http.post(
        f"/api/v1/bidding/tenders/{draft.project_code}/lots/{LOT}/uploads",
        json={"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        headers=await scene.headers(),
    )
    assert _problem(response) == (409, "tender", "tender-open"), response.text
    await _nothing_stored(scene)


async def test_another_bidders_upload_does_not_exist_for_you(scene: Scene) -> None:
    data = scene.good.read_bytes()
    created = await scene.http.post(
        f"/api/v1/bidding/tenders/{scene.code}/lots/{LOT}/uploads",
        json={"size": len(data), "sha256": hashlib.sha256(data).hexdigest()},
        headers=await scene.headers(),
    )
    other = await bidder_party(scene.session_maker, scene.settings, scene.pki)
    peek = await scene.http.get(
        f"/api/v1/bidding/uploads/{created.json()['id']}", headers=await other.headers(scene.http)
    )
    assert peek.status_code == 404
    assert uuid.UUID(created.json()["id"])
    assert json.loads(peek.text)["errors"][0]["rule"] == "exists"
