"""The tender's electronic archive on PostgreSQL with real signatures: built from a tender taken
through the opening to its signed record, verified offline (in process and as
``python -m bidding.award.verify``), and failing, with the thing named, when a file is altered, a
signature removed or a ledger entry changed."""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award.archive import format as fmt
from bidding.award.archive.builder import build_archive
from bidding.award.archive.checks import verify_archive
from bidding.errors import TenderStateConflict
from certs.devpki.authority import Profile
from certs.devpki.names import ca_name
from certs.devpki.pki import DevPki
from certs.sign import cades
from certs.tsa.client import LocalTsa
from certs.tsa.server import TimeStampAuthority
from tests.bidding.award.archive_world import closed_opening
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.ledger import timestamping
from trading.ledger.service import platform_public_keys, verify_ledger
from trading.server import cli

pytestmark = pytest.mark.usefixtures("dev_lists")


def rewrite(archive: bytes, change: dict[str, bytes | None]) -> bytes:
    """The archive with some members replaced (``None``: removed), everything else as it was."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name in change:
                if change[name] is not None:
                    target.writestr(name, change[name])  # type: ignore[arg-type]
                continue
            target.writestr(name, source.read(name))
    return out.getvalue()


def member(archive: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        return source.read(name)


async def test_a_closed_opening_is_archived_once_per_version_and_verifies_offline(  # noqa: PLR0917 - its fixtures
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    setup = await closed_opening(client, session_maker, settings, store, dev_pki, tmp_path)
    with clock.use_clock(setup.shifted):
        async with session_maker() as session:
            built = await build_archive(session, settings, store, setup.code, actor=Actor.system())
            await session.commit()
        archive = store.path(built.storage_key).read_bytes()
        assert built.version == 1
        manifest = json.loads(member(archive, fmt.MANIFEST))
        kinds = [row["kind"] for row in manifest["files"]]
        assert kinds.count(fmt.TENDER_DOCUMENT) == 1
        assert kinds.count(fmt.RECEIPT) == 3
        assert kinds.count(fmt.BID_MANIFEST) == 3
        assert kinds.count(fmt.OPENING_RECORD) == 1
        record = next(row for row in manifest["files"] if row["kind"] == fmt.OPENING_RECORD)
        assert record["signatures"] == [{"type": fmt.PADES, "count": 1}]
        assert record["recorded_by"]["chain"] == f"project:{setup.code}"
        assert manifest["retention_years"] >= 15
        assert [c["chain"] for c in manifest["ledger"]["chains"]] == [f"project:{setup.code}", f"sealed:{setup.code}"]

        report = verify_archive(archive)
        assert report.ok, report.text()
        assert report.signatures >= 8  # 1 document, 3 receipts, 3 bid manifests, the record
        assert report.checkpoints >= 1
        assert json.loads(member(archive, fmt.CHECKPOINTS))[-1]["signature"]["key_id"] == report.platform_key_id
        assert report.anchored >= 2

        # As the reader runs it: a subprocess with the archive on disk.
        path = tmp_path / "archive.zip"
        path.write_bytes(archive)
        ran = subprocess.run(
            [sys.executable, "-m", "bidding.award.verify", str(path)], capture_output=True, text=True, check=False
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "OK:" in ran.stdout

        # Nothing happened since: a second build is refused, and the ledger still verifies.
        async with session_maker() as session:
            with pytest.raises(TenderStateConflict) as refused:
                await build_archive(session, settings, store, setup.code, actor=Actor.system())
            assert refused.value.rule == "archive-unchanged"
            await session.rollback()
        async with session_maker() as session:
            assert (await verify_ledger(session, public_keys=platform_public_keys(settings))).ok


async def test_the_verifier_names_an_altered_file_a_removed_signature_and_a_changed_entry(  # noqa: PLR0915, PLR0917 - one story, its fixtures
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    setup = await closed_opening(client, session_maker, settings, store, dev_pki, tmp_path)
    with clock.use_clock(setup.shifted):
        async with session_maker() as session:
            built = await build_archive(session, settings, store, setup.code, actor=Actor.system())
            await session.commit()
    archive = store.path(built.storage_key).read_bytes()
    manifest = json.loads(member(archive, fmt.MANIFEST))
    rows = {row["kind"]: row for row in manifest["files"]}

    # A file altered: the receipt's bytes differ from the manifest, and its signature fails.
    receipt = rows[fmt.RECEIPT]["path"]
    altered = member(archive, receipt).replace(b'"lot"', b'"LOT"')
    report = verify_archive(rewrite(archive, {receipt: altered}))
    assert not report.ok
    assert report.first_failure is not None
    assert report.first_failure.where == receipt
    assert "altered" in report.first_failure.what
    assert any("signature does not verify" in str(p) and receipt in p.where for p in report.problems)

    # A signature removed: the detached signature file of the tender document is gone.
    document = rows[fmt.TENDER_DOCUMENT]
    signature_path = document["signatures"][0]["path"]
    report = verify_archive(rewrite(archive, {signature_path: None}))
    assert not report.ok
    assert report.first_failure is not None
    assert report.first_failure.where == signature_path
    assert "signature was removed" in report.first_failure.what

    # A PDF signature removed, the manifest re-written to match: the platform's signature over the
    # manifest fails first, and the PDF is named with the missing signature.
    record = rows[fmt.OPENING_RECORD]
    pdf = member(archive, record["path"])
    start = pdf.rindex(b"/ByteRange")
    unsigned = pdf[:start] + b"/ByteRangX" + pdf[start + len(b"/ByteRange") :]
    edited = json.loads(member(archive, fmt.MANIFEST))
    for row in edited["files"]:
        if row["path"] == record["path"]:
            row["sha256"] = hashlib.sha256(unsigned).hexdigest()
    report = verify_archive(
        rewrite(
            archive,
            {
                record["path"]: unsigned,
                fmt.MANIFEST: json.dumps(edited, indent=1, ensure_ascii=False, sort_keys=True).encode(),
            },
        )
    )
    assert not report.ok
    assert report.first_failure is not None
    assert report.first_failure.where == fmt.MANIFEST
    assert any(
        p.where == record["path"] and "the file has 0" in p.what and "signature was removed" in p.what
        for p in report.problems
    ), report.text()

    # Bytes appended to a signed PDF (an incremental update nobody signed), the manifest re-written.
    appended = pdf + b"\n% an unsigned revision\n"
    for row in edited["files"]:
        if row["path"] == record["path"]:
            row["sha256"], row["size"] = hashlib.sha256(appended).hexdigest(), len(appended)
    report = verify_archive(
        rewrite(
            archive,
            {
                record["path"]: appended,
                fmt.MANIFEST: json.dumps(edited, indent=1, ensure_ascii=False, sort_keys=True).encode(),
            },
        )
    )
    assert any(p.where == record["path"] and "covered by no signature" in p.what for p in report.problems)

    # A ledger entry changed: one byte of an entry's summary in the chain file.
    chain = manifest["ledger"]["chains"][0]
    lines = member(archive, chain["path"]).splitlines()
    row = json.loads(lines[1])
    preimage = bytearray(base64.b64decode(row["preimage"]))
    preimage[-2] ^= 0x01
    row["preimage"] = base64.b64encode(bytes(preimage)).decode()
    lines[1] = fmt.canonical_json(row)
    report = verify_archive(rewrite(archive, {chain["path"]: b"\n".join(lines) + b"\n"}))
    assert not report.ok
    assert any(p.where == f"ledger {chain['chain']} seq 2" and "was changed" in p.what for p in report.problems), (
        report.text()
    )

    # A receipt's signature re-made with a timestamp from a TSA of a CA nobody recognises: the
    # signer's path reaches a root in the archive, the timestamp's does not, and that is named.
    serials = itertools.count(1)
    rogue_tsa = dev_pki.rogue_ca.issue(
        ca_name("未经认可的时间戳服务", "某未认可机构", "江苏省"),
        profile=Profile.TSA,
        not_before=datetime.now(UTC) - timedelta(days=1),
        not_after=datetime.now(UTC) + timedelta(days=30),
    )
    authority = TimeStampAuthority(
        identity=rogue_tsa.signing(),
        clock=lambda: datetime.now(UTC).replace(microsecond=0),
        serials=lambda: next(serials),
    )
    receipt_signature = next(row for row in rows[fmt.RECEIPT]["signatures"] if row["type"] == fmt.CADES_DETACHED)[
        "path"
    ]
    resigned = await cades.sign_detached(
        member(archive, receipt), dev_pki.platform_signer.signing(), tsa=LocalTsa(authority)
    )
    report = verify_archive(rewrite(archive, {receipt_signature: resigned}))
    assert any(
        p.where == f"{receipt} (signature {receipt_signature}) timestamp" and "not a root in the archive" in p.what
        for p in report.problems
    ), report.text()
    assert not any(p.where == f"{receipt} (signature {receipt_signature})" for p in report.problems), report.text()

    # The command line names the first failure and exits 1.
    path = tmp_path / "changed.zip"
    path.write_bytes(rewrite(archive, {chain["path"]: b"\n".join(lines) + b"\n"}))
    ran = subprocess.run(
        [sys.executable, "-m", "bidding.award.verify", str(path)], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 1
    assert f"FAILED: {chain['path']}" in ran.stdout
    assert f"ledger {chain['chain']} seq 2" in ran.stdout


def test_the_command_line_names_a_tender_it_cannot_archive(
    fresh_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``ggzy tender archive`` runs the builder in its own unit of work on the configured database
    and answers a refusal with the field and rule (the builder itself is tested above)."""
    settings = Settings(db={"url": fresh_db}, var_dir=tmp_path / "var", storage_dir=tmp_path / "files")  # type: ignore[arg-type]
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    previous = timestamping.use_platform_tsa(None)
    try:
        ran = CliRunner().invoke(cli.main, ["tender", "archive", "NO-SUCH-TENDER", "--out", str(tmp_path / "a.zip")])
    finally:
        timestamping.use_platform_tsa(previous)
    assert ran.exit_code == 1
    assert "no tender NO-SUCH-TENDER (code: exists)" in ran.output
    assert not (tmp_path / "a.zip").exists()
