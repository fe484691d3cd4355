"""The device fingerprint (issue 19 §1): read from what an unprivileged user can read, stable across
calls, different with another salt, in the signed public manifest, disclosed by ``ggzy bid seal``;
manifests without it stay valid, a malformed one is refused by name."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bidding.client import format as fmt
from bidding.client.fingerprint import (
    PLATFORM_SALT,
    DeviceFingerprint,
    device_fingerprint,
    fingerprint_of,
    hardware_identifiers,
)
from bidding.client.sdk import build_container, read_built
from certs.canonical import canonical_json
from certs.devpki.pki import DevPki, build_dev_pki
from tests.bidding.client.test_cli import inputs, seal_args
from tests.bidding.client.test_sdk import DEADLINE, TENDER, bid_files, build, summary
from trading.server.cli import main

__all__ = ["bid_files", "inputs"]  # fixtures used by name below


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return build_dev_pki()


def fake_machine(root: Path, *, machine_id: str = "0123456789abcdef0123456789abcdef") -> Path:
    """A Linux tree: machine-id, a real NIC, a randomised Wi-Fi MAC, loopback and a docker bridge."""
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "machine-id").write_text(machine_id + "\n")
    (root / "proc").mkdir()
    (root / "proc" / "cpuinfo").write_text(
        "processor\t: 0\nmodel name\t: Intel(R) Core(TM)  i7-8700 CPU @ 3.20GHz\n\nprocessor\t: 1\n"
    )
    devices = root / "sys" / "devices"
    net = root / "sys" / "class" / "net"
    net.mkdir(parents=True)
    for interface, where, mac in [
        ("eth0", "pci0000:00/0000:00:1f.6/net/eth0", "3C:52:82:11:22:33"),
        ("wlan0", "pci0000:00/0000:00:14.3/net/wlan0", "da:a1:19:00:00:01"),  # locally administered
        ("lo", "virtual/net/lo", "00:00:00:00:00:00"),
        ("docker0", "virtual/net/docker0", "02:42:ac:11:00:01"),
        ("veth1", "virtual/net/veth1", "3c:52:82:99:99:99"),  # a real-looking MAC, but virtual
    ]:
        device = devices / where
        device.mkdir(parents=True)
        (device / "address").write_text(mac + "\n")
        (net / interface).symlink_to(device)
    return root


def test_identifiers_read_and_virtual_or_random_macs_skipped(tmp_path: Path) -> None:
    assert hardware_identifiers(fake_machine(tmp_path)) == {
        "machine-id": "0123456789abcdef0123456789abcdef",
        "mac": "3c:52:82:11:22:33",
        "cpu": "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz",
    }


def test_the_hash_is_the_salted_sha256_of_the_named_identifiers(tmp_path: Path) -> None:
    found = device_fingerprint(root=fake_machine(tmp_path))
    expected = hashlib.sha256(
        PLATFORM_SALT.encode()
        + b"\x00cpu=Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz"
        + b"\x00mac=3c:52:82:11:22:33"
        + b"\x00machine-id=0123456789abcdef0123456789abcdef"
    ).hexdigest()
    assert found == DeviceFingerprint(expected, ("cpu", "mac", "machine-id"))


def test_stable_across_calls_and_changes_with_the_salt_or_the_machine(tmp_path: Path) -> None:
    root = fake_machine(tmp_path / "one")
    first, second = device_fingerprint(root=root), device_fingerprint(root=root)
    assert first is not None
    assert first == second
    salted = device_fingerprint("another-platform/1", root=root)
    assert salted is not None
    assert salted.device_hash != first.device_hash
    other = device_fingerprint(root=fake_machine(tmp_path / "two", machine_id="f" * 32))
    assert other is not None
    assert other.device_hash != first.device_hash


def test_a_machine_with_nothing_readable_has_no_fingerprint(tmp_path: Path) -> None:
    assert fingerprint_of({}) is None
    assert device_fingerprint(root=tmp_path) is None  # an empty tree: nothing readable


def test_this_machine_gives_the_same_hash_twice() -> None:
    assert device_fingerprint() == device_fingerprint()


def test_the_manifest_carries_the_fingerprint_signed(pki: DevPki, bid_files: list[Path], tmp_path: Path) -> None:
    # Values chosen so they cannot turn up by chance inside the manifest's hex digests.
    device = fingerprint_of({"machine-id": "workstation-seven", "mac": "3c:52:82:11:22:33"})
    assert device is not None
    built = build_container(
        tmp_path / "bid.zip",
        tender=TENDER,
        lot="001",
        bidder_uscc=pki.org_uscc,
        deadline=DEADLINE,
        files=bid_files,
        price_summary=summary(pki.org_uscc),
        guarantee={"form": "cash", "reference": ""},
        signer=pki.org_sign.signing(),
        bidder_encryption=pki.org_enc.certificate,
        device=device,
    )
    inspected = read_built(built.path)
    assert inspected.manifest["signals"] == {
        "deviceHash": device.device_hash,
        "deviceIdentifiers": ["mac", "machine-id"],
    }
    assert inspected.verify_signature().signer_certificate == pki.org_sign.certificate
    manifest = inspected.manifest_bytes.decode()
    assert "workstation-seven" not in manifest  # names only, never the values
    assert "3c:52:82:11:22:33" not in manifest


def test_old_manifests_without_signals_stay_valid(pki: DevPki, bid_files: list[Path], tmp_path: Path) -> None:
    built = build(tmp_path / "old.zip", bid_files, uscc=pki.org_uscc, sign=pki.org_sign, enc=pki.org_enc)
    assert "signals" not in json.loads(built.manifest)
    assert "signals" not in read_built(built.path).manifest


def manifest_with(signals: object) -> bytes:
    return canonical_json(
        {
            "format": fmt.FORMAT,
            "tender": "T",
            "lot": "001",
            "bidder": "B",
            "deadline": "2026-12-01T09:30:00+00:00",
            "guarantee": {"form": "cash", "reference": ""},
            "parts": {kind: {"name": name, "size": 1, "sha256": "0" * 64} for kind, name in fmt.PART_NAMES.items()},
            "contentSha256": {},
            "signals": signals,
        }
    )


@pytest.mark.parametrize(
    "signals",
    [
        "a1b2",
        {"deviceHash": "A" * 64, "deviceIdentifiers": ["mac"]},  # upper case
        {"deviceHash": "a" * 63, "deviceIdentifiers": ["mac"]},
        {"deviceHash": "a" * 64, "deviceIdentifiers": []},
        {"deviceHash": "a" * 64, "deviceIdentifiers": ["serial-number"]},
        {"deviceHash": "a" * 64, "deviceIdentifiers": ["mac"], "mac": "3c:52:82:11:22:33"},  # a raw value
    ],
)
def test_malformed_signals_are_refused_by_name(signals: object) -> None:
    with pytest.raises(fmt.ContainerRefused) as refused:
        fmt.parse_manifest(manifest_with(signals))
    assert (refused.value.field, refused.value.rule) == ("manifest.signals", "signals")


def test_well_formed_signals_are_accepted() -> None:
    parsed = fmt.parse_manifest(manifest_with({"deviceHash": "a" * 64, "deviceIdentifiers": ["cpu", "mac"]}))
    assert parsed["signals"]["deviceHash"] == "a" * 64


def test_ggzy_bid_seal_discloses_the_fingerprint(pki: DevPki, inputs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "bid.ggzy"
    result = CliRunner().invoke(main, seal_args(pki, inputs, out))
    assert result.exit_code == 0, result.output
    device = device_fingerprint()
    printed = json.loads(result.stdout)["deviceFingerprint"]
    manifest = read_built(out).manifest
    if device is None:  # a sandbox with nothing readable: it says so and the manifest has none
        assert printed is None
        assert "none readable" in result.stderr
        assert "signals" not in manifest
        return
    assert printed == device.manifest_entry() == manifest["signals"]
    assert device.device_hash in result.stderr
