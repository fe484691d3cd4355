"""The bidder SDK builds containers the server's own format checks accept, and only the bidder
(or k of the key holders) can open them, for this tender only. Pure: no database, no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bidding.client import format as fmt
from bidding.client.sdk import (
    BidBuildError,
    BuiltBid,
    PriceSummary,
    build_container,
    build_container_async,
    check_package,
    expected_binding,
    open_package,
    open_price_summary,
    read_built,
    read_sealed,
)
from certs.devpki.pki import DevPki, Identity, build_dev_pki
from certs.envelope.sealed_bid import BidBinding, open_as_bidder, open_with_shares, release_share
from certs.errors import Reason, Refused
from certs.sign.cades import verify_detached

TENDER = "E3201000001002003001"
LOT = "001"
DEADLINE = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
GUARANTEE = {"form": "guarantee", "reference": "BH-2026-0001"}


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return build_dev_pki()


@pytest.fixture
def bid_files(tmp_path: Path) -> list[Path]:
    technical = tmp_path / "技术标.pdf"
    technical.write_bytes(b"%PDF-1.7 technical proposal " * 1000)
    commercial = tmp_path / "commercial.docx"
    commercial.write_bytes(b"commercial proposal")
    return [technical, commercial]


def summary(bidder: str, tender: str = TENDER) -> PriceSummary:
    return PriceSummary(
        tender=tender,
        lot=LOT,
        bidder=bidder,
        total_price=Decimal("12340000.5"),
        duration_days=180,
        items=[("土建", Decimal(10000000)), ("安装", "2340000.50")],
    )


def build(
    out: Path,
    files: list[Path],
    *,
    uscc: str,
    sign: Identity,
    enc: Identity,
    holders: list[Identity] | None = None,
    threshold: int = 0,
) -> BuiltBid:
    return build_container(
        out,
        tender=TENDER,
        lot=LOT,
        bidder_uscc=uscc,
        deadline=DEADLINE,
        files=files,
        price_summary=summary(uscc),
        guarantee=GUARANTEE,
        signer=sign.signing(),
        bidder_encryption=enc.certificate,
        key_holders=[h.certificate for h in holders or []],
        threshold=threshold,
    )


def binding(uscc: str) -> BidBinding:
    return expected_binding(TENDER, LOT, uscc, DEADLINE)


@pytest.mark.parametrize("bidder", ["jiangsu", "anhui"])
def test_container_passes_format_checks_and_opens_for_the_bidder(
    pki: DevPki, bid_files: list[Path], tmp_path: Path, bidder: str
) -> None:
    sign, enc, uscc = (
        (pki.org_sign, pki.org_enc, pki.org_uscc)
        if bidder == "jiangsu"
        else (pki.anhui_org_sign, pki.anhui_org_enc, pki.anhui_uscc)
    )
    built = build(tmp_path / "bid.ggzy", bid_files, uscc=uscc, sign=sign, enc=enc)

    assert built.size == built.path.stat().st_size
    assert built.sha256 == hashlib.sha256(built.path.read_bytes()).hexdigest()
    with zipfile.ZipFile(built.path) as archive:
        assert {i.filename for i in archive.infolist()} == fmt.ENTRY_NAMES
        assert all(i.compress_type == zipfile.ZIP_STORED for i in archive.infolist())
        assert archive.read(fmt.MANIFEST) == built.manifest

    inspected = read_built(built.path)  # inspect_container + parse_manifest + digest_parts
    assert inspected.sha256 == built.sha256
    inspected.check_part_digests()
    manifest = inspected.manifest
    assert manifest["format"] == fmt.FORMAT
    assert (manifest["tender"], manifest["lot"], manifest["bidder"]) == (TENDER, LOT, uscc)
    assert manifest["deadline"] == DEADLINE.isoformat()
    assert manifest["guarantee"] == GUARANTEE
    assert (
        inspected.manifest_bytes
        == json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )
    for kind, name in fmt.PART_NAMES.items():
        assert manifest["parts"][kind] == {
            "name": name,
            "size": inspected.layout.entries[name].size,
            "sha256": built.part_sha256[kind],
        }
        assert inspected.entry_sha256[name] == built.part_sha256[kind]
        with built.path.open("rb") as stream:
            header = fmt.envelope_header(stream, inspected.layout.entries[name])
        assert header is not None
        assert fmt.envelope_binding(header) == built.binding

    verified = verify_detached(built.manifest, inspected.signature)
    assert verified.signer_certificate == sign.certificate

    price = open_price_summary(built.path, enc.key, binding(uscc))  # type: ignore[arg-type]
    assert price["totalPrice"] == "12340000.50"
    assert price["items"] == [{"name": "土建", "price": "10000000.00"}, {"name": "安装", "price": "2340000.50"}]
    assert len(price["salt"]) == 32
    assert (
        hashlib.sha256(
            json.dumps(price, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
        == manifest["contentSha256"]["price-summary"]
    )

    package = open_package(built.path, enc.key, binding(uscc))  # type: ignore[arg-type]
    assert package.names() == ["技术标.pdf", "commercial.docx"]
    assert package.manifest["priceSummarySha256"] == manifest["contentSha256"]["price-summary"]
    assert package.manifest["guarantee"] == GUARANTEE
    extracted = package.extract(tmp_path / "opened")
    assert [p.read_bytes() for p in extracted] == [f.read_bytes() for f in bid_files]


def test_the_salt_hides_equal_prices(pki: DevPki, bid_files: list[Path], tmp_path: Path) -> None:
    first = build(tmp_path / "a.ggzy", bid_files, uscc=pki.org_uscc, sign=pki.org_sign, enc=pki.org_enc)
    second = build(tmp_path / "b.ggzy", bid_files, uscc=pki.org_uscc, sign=pki.org_sign, enc=pki.org_enc)
    assert first.content_sha256["price-summary"] != second.content_sha256["price-summary"]


def test_moving_the_envelope_to_another_tender_fails(pki: DevPki, bid_files: list[Path], tmp_path: Path) -> None:
    built = build(tmp_path / "bid.ggzy", bid_files, uscc=pki.org_uscc, sign=pki.org_sign, enc=pki.org_enc)
    elsewhere = expected_binding("E3201000001002003999", LOT, pki.org_uscc, DEADLINE)
    for opener in (open_price_summary, open_package):
        with pytest.raises(Refused) as refused:
            opener(built.path, pki.org_enc.key, elsewhere)  # type: ignore[arg-type]
        assert refused.value.reason == Reason.BINDING_MISMATCH
    other_bidder = expected_binding(TENDER, LOT, pki.anhui_uscc, DEADLINE)
    with pytest.raises(Refused) as refused:
        open_price_summary(built.path, pki.org_enc.key, other_bidder)  # type: ignore[arg-type]
    assert refused.value.reason == Reason.BINDING_MISMATCH
    with pytest.raises(Refused):
        open_package(built.path, pki.anhui_org_enc.key, binding(pki.org_uscc))  # type: ignore[arg-type]


def test_key_holders_open_with_k_shares(pki: DevPki, bid_files: list[Path], tmp_path: Path) -> None:
    holders = list(pki.key_holders)
    built = build(
        tmp_path / "bid.ggzy",
        bid_files,
        uscc=pki.org_uscc,
        sign=pki.org_sign,
        enc=pki.org_enc,
        holders=holders,
        threshold=3,
    )
    bound = built.binding
    for kind in (fmt.PRICE_SUMMARY, fmt.PACKAGE):
        sealed = read_sealed(built.path, kind)
        assert sealed.threshold == 3
        shares = [release_share(sealed, h.certificate, h.key, bound) for h in holders[:3]]  # type: ignore[arg-type]
        plaintext = open_with_shares(sealed, shares, bound)
        assert hashlib.sha256(plaintext).hexdigest() == built.content_sha256[kind]
        with pytest.raises(Refused) as refused:
            open_with_shares(sealed, shares[:2], bound)
        assert refused.value.reason == Reason.NOT_ENOUGH_SHARES
    package = check_package(plaintext, bound, content_sha256=built.content_sha256[fmt.PACKAGE])
    assert package.read("commercial.docx") == b"commercial proposal"
    # the bidder's own path still works next to the committee's
    assert open_as_bidder(read_sealed(built.path, fmt.PACKAGE), pki.org_enc.key, bound) == plaintext  # type: ignore[arg-type]


def test_a_large_file_streams_through(pki: DevPki, tmp_path: Path) -> None:
    big = tmp_path / "drawings.bin"
    with big.open("wb") as stream:
        for _ in range(20):
            stream.write(os.urandom(1024 * 1024))  # incompressible, like scanned drawings
    built = build(tmp_path / "big.ggzy", [big], uscc=pki.org_uscc, sign=pki.org_sign, enc=pki.org_enc)
    assert built.size > 20 * 1024 * 1024
    inspected = read_built(built.path)
    inspected.check_part_digests()
    fmt.inspect_container(built.path, max_package_bytes=built.size)
    with pytest.raises(fmt.ContainerRefused) as refused:
        fmt.inspect_container(built.path, max_package_bytes=10 * 1024 * 1024)
    assert refused.value.rule == "max-size"
    package = open_package(built.path, pki.org_enc.key, binding(pki.org_uscc))  # type: ignore[arg-type]
    [opened] = package.extract(tmp_path / "opened")
    assert opened.read_bytes() == big.read_bytes()


async def test_async_builder_runs_off_the_loop(pki: DevPki, bid_files: list[Path], tmp_path: Path) -> None:
    built = await build_container_async(
        tmp_path / "bid.ggzy",
        tender=TENDER,
        lot=LOT,
        bidder_uscc=pki.org_uscc,
        deadline=DEADLINE,
        files=bid_files,
        price_summary=summary(pki.org_uscc),
        guarantee={"form": "cash", "reference": ""},
        signer=pki.org_sign.signing(),
        bidder_encryption=pki.org_enc.certificate,
    )
    assert read_built(built.path).manifest["guarantee"] == {"form": "cash", "reference": ""}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"deadline": datetime(2026, 12, 1, 9, 30)}, "time zone"),  # noqa: DTZ001 - the point of the test
        ({"guarantee": {"form": "cheque", "reference": ""}}, "guarantee form"),
        ({"guarantee": {"form": "guarantee", "reference": ""}}, "reference"),
        ({"price_summary": summary("91320100MA00000000", tender="OTHER")}, "price summary"),
        ({"files": []}, "at least one file"),
    ],
)
def test_bad_inputs_are_refused_before_anything_is_written(
    pki: DevPki, bid_files: list[Path], tmp_path: Path, change: dict[str, object], message: str
) -> None:
    options: dict[str, object] = {
        "tender": TENDER,
        "lot": LOT,
        "bidder_uscc": pki.org_uscc,
        "deadline": DEADLINE,
        "files": bid_files,
        "price_summary": summary(pki.org_uscc),
        "guarantee": GUARANTEE,
        "signer": pki.org_sign.signing(),
        "bidder_encryption": pki.org_enc.certificate,
    }
    options.update(change)
    with pytest.raises(BidBuildError, match=message):
        build_container(tmp_path / "bid.ggzy", **options)  # type: ignore[arg-type]
    assert not (tmp_path / "bid.ggzy").exists()


def test_duplicate_file_names_are_refused(pki: DevPki, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = tmp_path / "a" / "bid.pdf", tmp_path / "b" / "bid.pdf"
    first.write_bytes(b"1")
    second.write_bytes(b"2")
    with pytest.raises(BidBuildError, match="named"):
        build(tmp_path / "bid.ggzy", [first, second], uscc=pki.org_uscc, sign=pki.org_sign, enc=pki.org_enc)
    assert list(tmp_path.glob(".ggzy-*")) == []
