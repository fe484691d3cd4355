"""Sealed bid submission end to end on PostgreSQL (issue 4 acceptance): publish, three bidders
from two CAs download and submit, one replaces, one withdraws; receipts verify with `certs` and
with openssl; after the deadline a fourth submission is refused by the database clock.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import sign_statement_async, verify_receipt
from bidding.client.transport import BidRejected
from bidding.models import Bid, BidStatus, BidUpload, BidVersion, Tender, UploadStatus, VersionKind
from bidding.opening.jobs import TenderDeadline
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client, build
from tests.bidding.factories import Party, bidder_party, ledger_reader, published_tender, tenderee_party
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.kernel.sweep import run_sweep
from trading.ledger.models import LedgerEntry
from trading.ledger.repository import EntryFilter, LedgerRepository
from trading.ledger.service import verify_ledger

pytestmark = pytest.mark.usefixtures("dev_lists")


async def _download_tender_document(http: httpx.AsyncClient, party: Party, code: str) -> bytes:
    detail = (await http.get(f"/api/v1/bidding/tenders/{code}")).json()
    document = next(d for d in detail["documents"] if d["kind"] == "tender-document")
    headers = await party.headers(http)
    response = await http.get(f"/api/v1/bidding/tenders/{code}/documents/{document['id']}", headers=headers)
    assert response.status_code == 200, response.text
    return response.content


def _openssl_verifies(tmp_path: Path, receipt: bytes, signature: bytes, root_pem: bytes, name: str) -> None:
    (tmp_path / f"{name}.json").write_bytes(receipt)
    (tmp_path / f"{name}.p7s").write_bytes(signature)
    (tmp_path / "root.pem").write_bytes(root_pem)
    result = subprocess.run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER",
            "-in", str(tmp_path / f"{name}.p7s"), "-content", str(tmp_path / f"{name}.json"),
            "-CAfile", str(tmp_path / "root.pem"), "-purpose", "any", "-out", "/dev/null",
        ],
        capture_output=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()


async def test_publish_download_submit_replace_withdraw_and_the_deadline(  # noqa: PLR0915 - one story, in order
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: Store,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee)
    assert tender.deadline is not None
    code, lot, deadline = tender.project_code, "L1", tender.deadline
    jiangsu_a = await bidder_party(session_maker, settings, dev_pki, ca="jiangsu")
    jiangsu_b = await bidder_party(session_maker, settings, dev_pki, ca="jiangsu")
    anhui = await bidder_party(session_maker, settings, dev_pki, ca="anhui")
    bidders = [jiangsu_a, jiangsu_b, anhui]

    receipts: dict[str, list[Any]] = {}
    for index, bidder in enumerate(bidders):
        assert await _download_tender_document(client, bidder, code)
        built = await build(tmp_path / f"b{index}", bidder, tender=code, lot=lot, deadline=deadline)
        receipt = await (await bid_client(client, bidder)).upload(code, lot, built.path, chunk_size=256 * 1024)
        assert receipt.record["containerSha256"] == built.sha256
        assert receipt.record["manifestSha256"] == built.manifest_sha256
        assert receipt.record["bidder"] == bidder.uscc
        receipts[bidder.uscc] = [receipt]

    # The first Jiangsu bidder replaces its bid; the Anhui bidder withdraws.
    replacement = await build(tmp_path / "b0-v2", jiangsu_a, tender=code, lot=lot, deadline=deadline, price="900000.00")
    second = await (await bid_client(client, jiangsu_a)).upload(code, lot, replacement.path)
    assert second.record["version"] == 2
    assert second.record["replaces"] is not None
    receipts[jiangsu_a.uscc].append(second)
    withdrawal = await (await bid_client(client, anhui)).withdraw(code, lot, anhui.sign.signing())
    assert withdrawal.record["kind"] == "withdrawal"
    receipts[anhui.uscc].append(withdrawal)

    # Every receipt verifies with certs and with openssl under the platform root.
    platform_root: x509.Certificate = dev_pki.platform_root.certificate
    root_pem = dev_pki.platform_root.identity.cert_pem
    for all_of_one in receipts.values():
        for receipt in all_of_one:
            record = verify_receipt(receipt.receipt, receipt.signature, [platform_root])
            assert record["receiptNo"] == receipt.receipt_no
            _openssl_verifies(tmp_path, receipt.receipt, receipt.signature, root_pem, receipt.receipt_no)
    signer_pem = (await client.get("/api/v1/bidding/receipt-signer")).content
    assert b"BEGIN CERTIFICATE" in signer_pem

    # Before the deadline nobody lists bidders, not even the tenderee.
    listing = await client.get(f"/api/v1/bidding/tenders/{code}/bids", headers=await tenderee.headers(client))
    assert listing.status_code == 403
    assert listing.json()["errors"][0]["rule"] == "sealed-until-deadline"

    # A fourth bidder has uploaded every byte, but the deadline passes (by the database clock)
    # before it submits. The web node's own clock is behind: it still reads before the deadline.
    late = await bidder_party(session_maker, settings, dev_pki, ca="jiangsu")
    late_client = await bid_client(client, late)
    late_built = await build(tmp_path / "late", late, tender=code, lot=lot, deadline=deadline)
    state = await late_client.start_upload(code, lot, size=late_built.size, sha256=late_built.sha256)
    patch = await client.patch(
        f"/api/v1/bidding/uploads/{state.id}",
        content=late_built.path.read_bytes(),
        headers={**await late.headers(client), "Upload-Offset": "0"},
    )
    assert patch.status_code == 204, patch.text
    async with session_maker() as session:
        database_now = await clock.now(session)
    shift = deadline - database_now + timedelta(seconds=1)
    with clock.use_clock(clock.ShiftedClock(shift)):
        assert datetime.now(UTC) < deadline
        with pytest.raises(BidRejected) as refused:
            await late_client.submit(state.id)
        assert refused.value.status == 409
        assert refused.value.rule == "before-deadline"
        with pytest.raises(BidRejected) as too_late:
            await late_client.start_upload(code, lot, size=late_built.size, sha256=late_built.sha256)
        assert too_late.value.rule == "before-deadline"
        with pytest.raises(BidRejected) as no_withdrawal:
            await (await bid_client(client, jiangsu_b)).withdraw(code, lot, jiangsu_b.sign.signing())
        assert no_withdrawal.value.rule == "before-deadline"

        # The sweep closes the tender; now the bids may be listed, and the sealed ledger chain read.
        await run_sweep(session_maker, [TenderDeadline(store)])
        listing = await client.get(f"/api/v1/bidding/tenders/{code}/bids", headers=await tenderee.headers(client))
    assert listing.status_code == 200, listing.text
    rows = {row["uscc"]: row for row in listing.json()}
    assert set(rows) == {jiangsu_a.uscc, jiangsu_b.uscc, anhui.uscc}
    assert rows[jiangsu_a.uscc]["status"] == "submitted"
    assert rows[jiangsu_a.uscc]["receiptNo"] == second.receipt_no
    assert rows[jiangsu_a.uscc]["versions"] == 2
    assert rows[anhui.uscc]["status"] == "withdrawn"
    assert rows[jiangsu_b.uscc]["receiptNo"] == receipts[jiangsu_b.uscc][0].receipt_no

    async with session_maker() as session:
        tender_row = (await session.execute(select(Tender).where(Tender.project_code == code))).scalar_one()
        versions = (
            (await session.execute(select(BidVersion).join(Bid).where(Bid.tender_id == tender_row.id))).scalars().all()
        )
        # Every version stays, each with its receipt; every stored container is intact.
        assert sorted(v.kind.value for v in versions) == ["submission"] * 4 + ["withdrawal"]
        for version in versions:
            if version.kind is VersionKind.SUBMISSION:
                assert version.storage_key is not None
                stored = await store.read_bytes(version.storage_key)
                assert hashlib.sha256(stored).hexdigest() == version.container_sha256
        late_upload = await session.get_one(BidUpload, uuid.UUID(state.id))
        assert late_upload.status is UploadStatus.REFUSED
        assert (
            await session.execute(select(Bid).where(Bid.organisation_id == late.organisation_id))
        ).scalar_one_or_none() is None
        sealed = await LedgerRepository(session).list_entries(
            ledger_reader(), EntryFilter(chain=f"sealed:{code}"), limit=100
        )
        actions = sorted(entry.action for entry in sealed)
        assert actions.count("bidding.bid_submitted") == 3
        assert actions.count("bidding.bid_replaced") == 1
        assert actions.count("bidding.bid_withdrawn") == 1
        assert "bidding.bid_refused" in actions
        report = await verify_ledger(session, public_keys=[])
        assert report.ok, report.problems
        refusals = (
            (await session.execute(select(LedgerEntry).where(LedgerEntry.action == "bidding.bids_list_refused")))
            .scalars()
            .all()
        )
        assert refusals


async def test_receipts_and_bids_of_one_bidder_are_its_own(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: Store,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee)
    assert tender.deadline is not None
    owner = await bidder_party(session_maker, settings, dev_pki)
    other = await bidder_party(session_maker, settings, dev_pki)
    built = await build(tmp_path, owner, tender=tender.project_code, lot="L1", deadline=tender.deadline)
    receipt = await (await bid_client(client, owner)).upload(tender.project_code, "L1", built.path)

    mine = await client.get("/api/v1/bidding/bids/mine", headers=await owner.headers(client))
    assert [v["receiptNo"] for b in mine.json() for v in b["versions"]] == [receipt.receipt_no]
    assert (await client.get("/api/v1/bidding/bids/mine", headers=await other.headers(client))).json() == []
    foreign = await client.get(f"/api/v1/bidding/receipts/{receipt.receipt_no}", headers=await other.headers(client))
    assert foreign.status_code == 404
    own = await client.get(f"/api/v1/bidding/receipts/{receipt.receipt_no}", headers=await owner.headers(client))
    assert base64.b64decode(own.json()["receipt"]) == receipt.receipt
    async with session_maker() as session:
        bid = (await session.execute(select(Bid).where(Bid.organisation_id == owner.organisation_id))).scalar_one()
        assert bid.status is BidStatus.SUBMITTED


async def test_a_withdrawal_is_signed_by_the_bidder_and_cannot_be_replayed(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: Store,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    """Issue 21 item 7: a withdrawal was accepted without a CA signature (domain-rules §1.6: withdrawing
    a bid is a CA-bound action). It is signed by the bidder over the statement naming the receipt of
    the version withdrawn, so the same signature cannot withdraw a later submission.
    """
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee)
    assert tender.deadline is not None
    code, lot = tender.project_code, "L1"
    bidder = await bidder_party(session_maker, settings, dev_pki)
    other = await bidder_party(session_maker, settings, dev_pki)
    bidder_client = await bid_client(client, bidder)
    built = await build(tmp_path / "v1", bidder, tender=code, lot=lot, deadline=tender.deadline)
    first = await bidder_client.upload(code, lot, built.path)
    url = f"/api/v1/bidding/tenders/{code}/lots/{lot}/withdrawal"
    headers = await bidder.headers(client)

    async def withdraw_with(signature: bytes) -> httpx.Response:
        return await client.post(url, json={"signature": base64.b64encode(signature).decode()}, headers=headers)

    statement = fmt.withdrawal_statement(code, lot, bidder.uscc, first.receipt_no)
    unsigned = await withdraw_with(b"")
    assert unsigned.status_code == 422
    assert (unsigned.json()["errors"][0]["field"], unsigned.json()["errors"][0]["rule"]) == ("signature", "required")
    by_other = await withdraw_with(await sign_statement_async(statement, other.sign.signing()))
    assert by_other.json()["errors"][0]["rule"] == "signer-not-bidder"
    signature = await sign_statement_async(statement, bidder.sign.signing())
    withdrawn = await withdraw_with(signature)
    assert withdrawn.status_code == 201, withdrawn.text
    assert withdrawn.json()["record"]["withdrawsReceiptNo"] == first.receipt_no
    assert withdrawn.json()["record"]["signerSha256"] == bidder.sign.certificate.fingerprint(hashes.SHA256()).hex()

    # A new submission; replaying the first withdrawal's signature does not withdraw it.
    again = await build(tmp_path / "v2", bidder, tender=code, lot=lot, deadline=tender.deadline, price="880000.00")
    await bidder_client.upload(code, lot, again.path)
    replayed = await withdraw_with(signature)
    assert replayed.status_code == 422
    assert replayed.json()["errors"][0]["field"] == "signature"
    async with session_maker() as session:
        bid = await session.scalar(
            select(Bid).where(Bid.tender_id == tender.id, Bid.organisation_id == bidder.organisation_id)
        )
        assert bid is not None
        assert bid.status is BidStatus.SUBMITTED
        kept = await session.scalar(
            select(BidVersion).where(BidVersion.bid_id == bid.id, BidVersion.kind == VersionKind.WITHDRAWAL)
        )
        assert kept is not None
        assert kept.manifest == statement  # the signed statement and its signature are kept
        assert kept.manifest_signature == signature
