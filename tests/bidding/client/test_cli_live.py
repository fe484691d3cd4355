"""``ggzy bid`` as a bidder runs it, against a real server process: seal (the tender fetched from
the public API, no token), submit (resumable upload, receipt verified against the platform root),
status, verify-receipt offline, withdraw (signed with the bidder's certificate), and revoke (撤销,
refused before the deadline, then, with the server's clock moved past it, signed and receipted).
Each command a subprocess, as on a bidder's machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bidding.client.transport import BidClient
from tests.bidding.harness import prepare
from tests.bidding.live_server import running_server

GGZY = [str(Path(sys.executable).parent / "ggzy")]


def _ggzy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GGZY, *args], capture_output=True, text=True, cwd=cwd, timeout=120, check=False)


async def test_seal_submit_status_verify_withdraw_and_revoke_with_the_cli(fresh_db: str, tmp_path: Path) -> None:
    setup = await prepare(fresh_db, tmp_path / "var", bidders=1, lots=("001",))
    bidder = setup.bidders[0]
    work = tmp_path / "bidder"
    work.mkdir()
    (work / "sign.p12").write_bytes(bidder.sign.pkcs12(b"secret", "sign"))
    (work / "enc.pem").write_bytes(bidder.enc.cert_pem)
    (work / "root.pem").write_bytes(setup.pki.platform_root.identity.cert_pem)
    (work / "proposal.pdf").write_bytes(b"%PDF-1.7 technical proposal\n" * 1000)
    code = setup.tender.code

    with running_server(setup, tmp_path / "server.log") as server:
        sealed = _ggzy(
            "bid", "seal", "--server", server.base_url, "--tender", code, "--lot", "001",
            "--bidder", bidder.uscc, "--p12", "sign.p12", "--password", "secret",
            "--encryption-cert", "enc.pem", "--total-price", "1234567.89", "--duration-days", "300",
            "--guarantee-form", "guarantee", "--guarantee-ref", "BH-1", "--out", "bid.zip", "proposal.pdf",
            cwd=work,
        )  # fmt: skip
        assert sealed.returncode == 0, sealed.stderr
        assert json.loads(sealed.stdout)["deadline"] == setup.tender.deadline.isoformat()

        submitted = _ggzy(
            "bid", "submit", "--server", server.base_url, "--token", bidder.token, "--ca", "root.pem",
            "--receipt-dir", "receipts", "--chunk-size", "4096", "bid.zip",
            cwd=work,
        )  # fmt: skip
        assert submitted.returncode == 0, submitted.stderr
        receipt_no = json.loads(submitted.stdout)["receiptNo"]
        assert (work / "receipts" / f"{receipt_no}.p7s").exists()

        status = _ggzy("bid", "status", "--server", server.base_url, "--token", bidder.token, cwd=work)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)[0]["versions"][0]["receiptNo"] == receipt_no

        verified = _ggzy("bid", "verify-receipt", "--ca", "root.pem", f"receipts/{receipt_no}.json", cwd=work)
        assert verified.returncode == 0, verified.stderr
        (work / "receipts" / f"{receipt_no}.json").write_text("{}")
        tampered = _ggzy("bid", "verify-receipt", "--ca", "root.pem", f"receipts/{receipt_no}.json", cwd=work)
        assert tampered.returncode == 1

        withdrawn = _ggzy(
            "bid", "withdraw", "--server", server.base_url, "--token", bidder.token, "--tender", code,
            "--lot", "001", "--receipt-dir", "receipts", "--p12", "sign.p12", "--p12-password", "secret",
            cwd=work,
        )  # fmt: skip
        assert withdrawn.returncode == 0, withdrawn.stderr
        again = _ggzy(
            "bid", "withdraw", "--server", server.base_url, "--token", bidder.token, "--tender", code,
            "--lot", "001", "--receipt-dir", "receipts", "--p12", "sign.p12", "--p12-password", "secret",
            cwd=work,
        )  # fmt: skip
        assert again.returncode == 1
        assert "submitted" in again.stderr  # the rule: only a submitted bid can be withdrawn

        revoke = (
            "bid", "revoke", "--server", server.base_url, "--token", bidder.token, "--tender", code,
            "--lot", "001", "--receipt-dir", "receipts", "--ca", "root.pem", "--p12", "sign.p12",
            "--p12-password", "secret", "--yes",
        )  # fmt: skip
        # Submitted again, in process (a subprocess less: the CLI's submit is run above).
        async with BidClient(server.base_url, bidder.token) as sdk:
            resubmitted = await sdk.upload(code, "001", work / "bid.zip")
        early = _ggzy(*revoke, cwd=work)
        assert early.returncode == 1
        assert "(deadline: after-deadline)" in early.stderr  # before the deadline it is a withdrawal (撤回)

        setup.clock.advance(setup.tender.deadline - datetime.now(UTC) + timedelta(minutes=1))  # past the deadline
        revoked = _ggzy(*revoke, cwd=work)
        assert revoked.returncode == 0, revoked.stderr
        assert "保证金" in revoked.stderr  # the consequence, shown before signing
        record = json.loads(revoked.stdout)["record"]
        assert (record["kind"], record["revokesReceiptNo"]) == (
            "revocation",
            resubmitted.receipt_no,
        )
        assert "receipt verified" in revoked.stderr
