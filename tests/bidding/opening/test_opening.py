"""The remote opening end to end on PostgreSQL (issue 5): five bidders, a 3-of-5 key-holder committee
with the remedy on; at the deadline the session opens; A, B and C decrypt with the client SDK (keys
unwrapped on their side), D sends nothing (revoked: its own fault), E's key is lost (the host records
an incident, three key holders release signed shares: opened via escrow). B objects and gets an
answer, A confirms; the price table and the record list the right prices and outcomes; refusals are
named and audited; the ledger verifies. Plus: fewer than three bids → 流标, and the sweep's
idempotence under repetition and concurrency.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import (
    BACKUP_FILES,
    BuiltBid,
    PriceSummary,
    build_container_async,
    content_keys,
    sign_record,
    sign_statement_async,
)
from bidding.client.transport import (
    BidClient,
    BidRejected,
    PlatformTsa,
    decrypt_bid,
    release_holder_shares,
    sign_in_signed,
    sign_opening_record,
)
from bidding.jobs import TenderDeadline
from bidding.models import BidVersion, Tender, TenderStatus
from bidding.opening import events
from bidding.opening.jobs import OpeningClock
from bidding.opening.models import OpeningBid, OpeningSession, Outcome, Stage
from bidding.opening.record import RENDER_TASK, publish_record, record_data, render_record
from bidding.opening.service import OpeningService
from bidding.schemas import KeyHolderCreate
from certs.sign.pades import verify_pdf
from certs.testing.pki import DevPki
from tests.bidding.containers import bid_client
from tests.bidding.factories import Party, bidder_party, draft_tender, party, published_tender, tenderee_party
from tests.trading.kernel.test_pdf import poppler, warm_renderer
from tests.trading.parties.test_records import DevCa, pdfsig
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import RecordingPublisher, TaskMessage
from trading.ledger.models import LedgerEntry
from trading.ledger.service import verify_ledger
from trading.parties.models import OrganisationKind
from trading.parties.trust import trust_context

pytestmark = pytest.mark.usefixtures("dev_lists")

PRICES = {"A": "1180000.00", "B": "1095000.50", "C": "1230000.00", "D": "990000.00", "E": "1150000.00"}


async def _seal(
    directory: Path,
    bidder: Party,
    *,
    code: str,
    deadline: Any,
    price: str,
    holders: list[Party],
    backup_dir: Path | None = None,
) -> BuiltBid:
    directory.mkdir(parents=True, exist_ok=True)
    document = directory / "技术标.txt"
    document.write_bytes(f"技术标 {bidder.name}\n".encode() * 100)
    assert bidder.encrypt is not None
    return await build_container_async(
        directory / "bid.zip",
        tender=code,
        lot="L1",
        bidder_uscc=bidder.uscc,
        deadline=deadline,
        files=[document],
        price_summary=PriceSummary(
            tender=code, lot="L1", bidder=bidder.uscc, total_price=Decimal(price), duration_days=180
        ),
        guarantee={"form": "guarantee", "reference": "BH-2026-0042"},
        signer=bidder.sign.signing(),
        bidder_encryption=bidder.encrypt.certificate,
        key_holders=[h.encrypt.certificate for h in holders if h.encrypt is not None],
        threshold=3,
        backup_dir=backup_dir,
    )


async def _sign_in(bid_client_: BidClient, code: str, bidder: Party) -> Any:
    """签到 with the bidder's signature over the sign-in statement."""
    return await sign_in_signed(bid_client_, code, bidder.uscc, bidder.sign.signing())


async def _refused(call: Any, rule: str, status: int | None = None) -> BidRejected:
    with pytest.raises(BidRejected) as refused:
        await call
    assert refused.value.rule == rule, refused.value
    if status is not None:
        assert refused.value.status == status
    return refused.value


async def _actions(session: AsyncSession, code: str, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.chain == f"project:{code}", LedgerEntry.action.startswith(prefix))
        .order_by(LedgerEntry.seq)
    )
    return [(row.action, row.summary) for row in rows]


async def test_five_bidders_one_revoked_one_opened_by_escrow_objection_and_record(  # noqa: PLR0915 - one story
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_ca: DevCa,
    publisher: RecordingPublisher,
    tmp_path: Path,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    holders = [
        await party(
            session_maker,
            settings,
            dev_pki,
            Role.AGENCY,
            kind=OrganisationKind.AGENCY,
            name="密钥托管人",
            encryption=True,
        )
        for _ in range(5)
    ]
    tender = await published_tender(
        session_maker,
        settings,
        store,
        tenderee,
        lots=1,
        key_holders=[KeyHolderCreate(h.name, h.encrypt.cert_pem.decode() if h.encrypt else "") for h in holders],
        key_threshold=3,
        key_remedy=True,
    )
    assert tender.deadline is not None
    code, deadline = tender.project_code, tender.deadline
    bidders = {name: await bidder_party(session_maker, settings, dev_pki) for name in "ABCDE"}
    clients = {name: await bid_client(client, p) for name, p in bidders.items()}
    for name, bidder in bidders.items():
        built = await _seal(tmp_path / name, bidder, code=code, deadline=deadline, price=PRICES[name], holders=holders)
        await clients[name].upload(code, "L1", built.path)
    host = await tenderee.headers(client)

    # Before the deadline there is no opening.
    early = await client.get(f"/api/v1/bidding/opening/{code}")
    assert early.status_code == 409
    assert early.json()["errors"][0]["rule"] == "opening-exists"

    async with session_maker() as session:
        shifted = clock.ShiftedClock(deadline - await clock.now(session) + timedelta(seconds=1))
    with clock.use_clock(shifted):
        report = await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
        assert report.changed == {"bidding.tender_deadline": 1}
        visitor = (await client.get(f"/api/v1/bidding/opening/{code}")).json()
        assert visitor["stage"] == "sign-in"
        assert visitor["bids"]["total"] == 5
        assert "decryption" not in visitor
        assert "priceTable" not in visitor
        # 签到 is signed with each bidder's certificate; only a signed-in bidder decrypts (E's
        # bid is opened by the escrow, D sends nothing).
        for name in "ABCD":
            await _sign_in(clients[name], code, bidders[name])

        # A bidder cannot host: refused by name, and recorded.
        bidder_host = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions",
            json={"action": "decryption"},
            headers=await bidders["A"].headers(client),
        )
        assert bidder_host.status_code == 403
        assert bidder_host.json()["errors"][0]["rule"] == "host-only"
        # Nobody decrypts during sign-in.
        await _refused(
            clients["A"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, os.urandom(32)), "decryption-window"
        )

        moved = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "decryption"}, headers=host
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["stage"] == "decryption"

        # Pause and resume carry the remaining time over.
        paused = (
            await client.post(
                f"/api/v1/bidding/opening/{code}/transitions",
                json={"action": "pause", "reason": "网络波动"},
                headers=host,
            )
        ).json()
        assert paused["paused"] is True
        remaining = paused["remainingSeconds"]
        assert tender.decryption_window_minutes * 60 - 5 <= remaining <= tender.decryption_window_minutes * 60
        await _refused(clients["A"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, os.urandom(32)), "paused")
        shifted.advance(timedelta(minutes=10))
        resumed = (
            await client.post(f"/api/v1/bidding/opening/{code}/transitions", json={"action": "resume"}, headers=host)
        ).json()
        assert resumed["paused"] is False

        # Refusals by name: the package before the price summary, a wrong key.
        await _refused(clients["A"].send_content_key(code, "L1", fmt.PACKAGE, os.urandom(32)), "price-summary-first")
        await _refused(clients["A"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, os.urandom(32)), "wrong-key")

        # A and B decrypt through the SDK (keys unwrapped here, only content keys sent).
        for name in "AB":
            enc = bidders[name].encrypt
            assert enc is not None
            answer = await decrypt_bid(clients[name], code, "L1", bidders[name].uscc, enc.key)  # type: ignore[arg-type]
            assert answer["outcome"] == "decrypted"

        # C's stored package is tampered with after its receipt: refused as digest-mismatch; restored, it opens.
        enc_c = bidders["C"].encrypt
        assert enc_c is not None
        async with session_maker() as session:
            row_c = await session.scalar(select(OpeningBid).where(OpeningBid.bidder_uscc == bidders["C"].uscc))
            assert row_c is not None
            version = await session.get_one(BidVersion, row_c.version_id)
        assert version.storage_key is not None
        assert version.parts is not None
        stored = store.path(version.storage_key)
        original = stored.read_bytes()
        offset = version.parts[fmt.PACKAGE]["offset"] + version.parts[fmt.PACKAGE]["size"] - 10
        stored.write_bytes(original[:offset] + bytes([original[offset] ^ 0xFF]) + original[offset + 1 :])
        await _refused(decrypt_bid(clients["C"], code, "L1", bidders["C"].uscc, enc_c.key), "digest-mismatch")  # type: ignore[arg-type]
        stored.write_bytes(original)
        answer = await decrypt_bid(clients["C"], code, "L1", bidders["C"].uscc, enc_c.key)  # type: ignore[arg-type]
        assert answer["outcome"] == "decrypted"

        # E's key is lost on the platform side: the host records it; three holders release their shares.
        incident = await client.post(
            f"/api/v1/bidding/opening/{code}/incidents",
            json={"lot": "L1", "bidder": bidders["E"].uscc, "cause": "平台解密服务故障，CA 介质无法识别"},
            headers=host,
        )
        assert incident.status_code == 201, incident.text
        holder_clients = [await bid_client(client, h) for h in holders[:3]]
        for holder, holder_client in zip(holders[:3], holder_clients, strict=True):
            assert holder.encrypt is not None
            released = await release_holder_shares(
                holder_client,
                code,
                "L1",
                bidders["E"].uscc,
                holder=holder.encrypt.certificate,
                key=holder.encrypt.key,  # type: ignore[arg-type]
                signer=holder.sign.signing(),
            )
        assert released["outcome"] == "escrow"
        assert "opened via escrow (3 of 5)" in released["cause"]
        # A bidder is not a key holder; D's bid is not one the escrow may open.
        assert holders[3].encrypt is not None
        await _refused(
            release_holder_shares(
                await bid_client(client, holders[3]),
                code,
                "L1",
                bidders["D"].uscc,
                holder=holders[3].encrypt.certificate,
                key=holders[3].encrypt.key,  # type: ignore[arg-type]
                signer=holders[3].sign.signing(),
            ),
            "escrow-not-applicable",
        )

        # The window ends (the clock passes it): D, who sent nothing, is late and then revoked.
        hall = (await client.get(f"/api/v1/bidding/opening/{code}", headers=host)).json()
        assert hall["stage"] == "decryption"
        shifted.advance(timedelta(seconds=hall["remainingSeconds"] + 1))
        enc_d = bidders["D"].encrypt
        assert enc_d is not None
        await _refused(
            decrypt_bid(clients["D"], code, "L1", bidders["D"].uscc, enc_d.key),  # type: ignore[arg-type]
            "decryption-window",
        )
        first = await run_sweep(session_maker, [OpeningClock()])
        second = await run_sweep(session_maker, [OpeningClock()])
        assert first.changed == {"bidding.opening_clock": 1}
        assert second.changed == {}

        # 唱标: everyone (visitors too) sees the price table with outcomes.
        table = (await client.get(f"/api/v1/bidding/opening/{code}")).json()
        assert table["stage"] == "price-reading"
        lines = {line["bidder"]: line for line in table["priceTable"]}
        for name in "ABC":
            assert lines[bidders[name].uscc]["outcome"] == "decrypted"
            assert lines[bidders[name].uscc]["totalPrice"] == PRICES[name]
        assert lines[bidders["D"].uscc]["outcome"] == "revoked"
        assert "totalPrice" not in lines[bidders["D"].uscc]
        assert "bidder's fault" in lines[bidders["D"].uscc]["cause"]
        assert lines[bidders["E"].uscc]["outcome"] == "escrow"
        assert lines[bidders["E"].uscc]["totalPrice"] == PRICES["E"]

        moved = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "confirmation"}, headers=host
        )
        assert moved.status_code == 200, moved.text
        # B objects (signed); the host cannot close before answering, then answers.
        text = "对 D 公司投标被视为撤销有异议，请主持人说明解密窗口的起止时间。"
        objection = await clients["B"].file_objection(
            code,
            text,
            await sign_statement_async(
                fmt.objection_statement(code, bidders["B"].uscc, text), bidders["B"].sign.signing()
            ),
        )
        forged = await client.post(
            f"/api/v1/bidding/opening/{code}/objections",
            json={
                "text": "伪造的异议",
                "signature": base64.b64encode(
                    await sign_statement_async(
                        fmt.objection_statement(code, bidders["C"].uscc, "伪造的异议"), bidders["A"].sign.signing()
                    )
                ).decode(),
            },
            headers=await bidders["C"].headers(client),
        )
        assert forged.status_code == 422
        assert forged.json()["errors"][0]["rule"] == "signer-not-bidder"
        early_close = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "closed"}, headers=host
        )
        assert early_close.json()["errors"][0]["rule"] == "minimum-windows"
        answered = await client.post(
            f"/api/v1/bidding/opening/{code}/objections/{objection['id']}/answer",
            json={"answer": "解密窗口为开标后 60 分钟，以平台数据库时钟为准，记录见开标记录。"},
            headers=host,
        )
        assert answered.status_code == 200, answered.text
        # A confirms the price table it saw.
        view = (await client.get(f"/api/v1/bidding/opening/{code}", headers=await bidders["A"].headers(client))).json()
        statement = fmt.confirmation_statement(code, bidders["A"].uscc, view["priceTableSha256"])
        await clients["A"].confirm(code, await sign_statement_async(statement, bidders["A"].sign.signing()))

        # The confirmation stage ends: a late objection is refused, the sweep closes the opening.
        shifted.advance(timedelta(minutes=31))
        late = "迟到的异议"
        await _refused(
            clients["B"].file_objection(
                code,
                late,
                await sign_statement_async(
                    fmt.objection_statement(code, bidders["B"].uscc, late), bidders["B"].sign.signing()
                ),
            ),
            "objection-window",
        )
        closed = await run_sweep(session_maker, [OpeningClock()])
        assert closed.changed == {"bidding.opening_clock": 1}
        # The close enqueued the record's rendering (after commit); the job runs here directly.
        assert TaskMessage(RENDER_TASK, {"code": code}) in publisher.published
        # A legal milestone: the ledger signs a checkpoint right after the close (issue 11).
        milestone = {"milestone": "opening_closed", "project_code": code}
        assert TaskMessage("ledger.checkpoint_chains", milestone) in publisher.published
        deadline_milestone = {"milestone": "deadline", "project_code": code}
        assert TaskMessage("ledger.checkpoint_chains", deadline_milestone) in publisher.published
        await check_opening_record(
            client=client,
            session_maker=session_maker,
            settings=settings,
            store=store,
            dev_ca=dev_ca,
            tmp_path=tmp_path,
            code=code,
            host=tenderee,
            bidders=bidders,
            objection=(text, "解密窗口为开标后 60 分钟，以平台数据库时钟为准，记录见开标记录。"),
        )

        record = await client.get(f"/api/v1/bidding/opening/{code}/record", headers=host)
    assert record.status_code == 200, record.text
    data = record.json()
    assert data["stage"] == "closed"
    outcomes = {bid["bidder"]: (bid["outcome"], bid.get("totalPrice")) for bid in data["bids"]}
    assert outcomes == {
        bidders["A"].uscc: ("decrypted", PRICES["A"]),
        bidders["B"].uscc: ("decrypted", PRICES["B"]),
        bidders["C"].uscc: ("decrypted", PRICES["C"]),
        bidders["D"].uscc: ("revoked", None),
        bidders["E"].uscc: ("escrow", PRICES["E"]),
    }
    assert [(o["text"], o["answer"] is not None) for o in data["objections"]] == [(text, True)]
    confirmations = {c["bidder"]: c for c in data["confirmations"]}
    assert confirmations[bidders["A"].uscc]["confirmed"] is True
    assert confirmations[bidders["B"].uscc]["deemedAccepted"] is True
    assert data["ledger"]["head"]
    assert [e["event"] for e in data["timeline"]][:1] == ["created"]

    async with session_maker() as session:
        tender_row = await session.get_one(Tender, tender.id)
        assert tender_row.status is TenderStatus.OPENING
        row_e = await session.scalar(select(OpeningBid).where(OpeningBid.bidder_uscc == bidders["E"].uscc))
        assert row_e is not None
        # The opened package stays sealed in the store; its content key, recorded at the opening,
        # opens it again for whoever reads it later.
        assert row_e.package_content_key is not None
        assert len(row_e.package_content_key) == 32
        package = await OpeningService(session_maker, settings, store).opened_package(code, "L1", bidders["E"].uscc)
        assert hashlib.sha256(package).hexdigest() == row_e.package_sha256
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            assert archive.read("技术标.txt") == f"技术标 {bidders['E'].name}\n".encode() * 100
        refusals = await _actions(session, code, "bidding.opening_")
        rules = [summary.get("rule") for action, summary in refusals if action.endswith("_refused")]
        for rule in (
            "host-only",
            "decryption-window",
            "paused",
            "price-summary-first",
            "wrong-key",
            "digest-mismatch",
            "escrow-not-applicable",
            "signer-not-bidder",
            "minimum-windows",
            "objection-window",
        ):
            assert rule in rules, (rule, rules)
        stages = [s["to"] for action, s in refusals if action == "bidding.opening_stage_changed"]
        assert stages == ["decryption", "price-reading", "confirmation", "closed"]
        assert sum(1 for action, _ in refusals if action == "bidding.opening_share_released") == 3
        ledger_report = await verify_ledger(session, public_keys=[])
        assert ledger_report.ok, ledger_report.problems
    published = [event["type"] for tender_code, event in events.recorded if tender_code == code]
    assert "stage" in published
    assert "decryption-progress" in published
    assert "objection" in published


async def check_opening_record(  # noqa: PLR0915 - the record's whole round trip
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_ca: DevCa,
    tmp_path: Path,
    code: str,
    host: Party,
    bidders: dict[str, Party],
    objection: tuple[str, str],
) -> None:
    """The closed opening's record: rendered, platform-signed, stored; its text lists the prices and
    outcomes; pdfsig and pyHanko validate it; the host signs it with the client; forgeries are refused.
    """
    warm_renderer()
    url = f"/api/v1/bidding/opening/{code}/record.pdf"
    host_headers = await host.headers(client)
    assert (await client.get(url, headers=host_headers)).json()["errors"][0]["rule"] == "published"
    digest = await publish_record(session_maker, settings, store, code)
    assert digest is not None
    assert await publish_record(session_maker, settings, store, code) == digest  # idempotent
    async with session_maker() as session:
        opening = await session.scalar(
            select(OpeningSession)
            .join(Tender, Tender.id == OpeningSession.tender_id)
            .where(Tender.project_code == code)
        )
        assert opening is not None
        assert opening.record_sha256 == digest
        assert opening.record_storage_key is not None
        assert opening.record_storage_key.startswith("records/")
        published = await _actions(session, code, "bidding.opening_record_")
        assert [action for action, _ in published] == ["bidding.opening_record_published"]
        assert published[0][1]["pdfSha256"] == digest

    # Public once the platform signed it (Order 20 Art. 32), before any countersignature.
    anonymous = await client.get(url)
    assert anonymous.status_code == 200, anonymous.text
    assert hashlib.sha256(anonymous.content).hexdigest() == digest
    response = await client.get(url, headers=host_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    platform_pdf = response.content
    assert hashlib.sha256(platform_pdf).hexdigest() == digest

    text = "".join(poppler("pdftotext", platform_pdf, tmp_path).split())
    for fragment in ("开标记录", code, "开标一览表", "视为认可开标结果"):
        assert fragment in text, fragment
    for name in "ABCE":
        assert bidders[name].name.replace(" ", "") in text
        assert f"{Decimal(PRICES[name]):,.2f}" in text, name
    assert f"{Decimal(PRICES['D']):,.2f}" not in text  # D's price was never read out
    assert bidders["D"].name.replace(" ", "") in text
    assert "视为撤销" in text
    assert "托管开启" in text
    assert "3/5名密钥托管人" in text
    assert "平台解密服务故障" in text
    assert "".join(objection[0].split()) in text
    assert "".join(objection[1].split()) in text
    assert "BH-2026-0042" in text

    (tmp_path / "platform").mkdir()
    first = pdfsig(platform_pdf, tmp_path / "platform", dev_ca)
    assert "Signature #1" in first
    assert "Signature #2" not in first
    assert "Signature Validation: Signature is Valid." in first
    async with session_maker() as session:
        context = await trust_context(session, settings, await clock.now(session))
        [report] = await verify_pdf(platform_pdf, context.validator)
    assert report.passed, report.message

    # Forgeries, each refused by name and audited.
    host_client = await bid_client(client, host)
    tsa = PlatformTsa(host_client)
    by_bidder = await sign_record(platform_pdf, bidders["A"].sign.signing(), tsa=tsa)
    refused = await _refused(host_client.upload_host_signed_record(code, by_bidder), "signer-not-host", 422)
    assert refused.field == "signatures[1]"
    tampered = bytearray(platform_pdf)
    position = tampered.index(b"/Producer")
    tampered[position + 1] ^= 0x20
    rewritten = await sign_record(bytes(tampered), host.sign.signing(), tsa=tsa)
    await _refused(host_client.upload_host_signed_record(code, rewritten), "incremental-update-only", 422)
    unsigned = render_record(await _record_data(session_maker, code), generated_at=datetime.now(UTC))
    resigned = await sign_record(unsigned, host.sign.signing(), tsa=tsa)
    await _refused(host_client.upload_host_signed_record(code, resigned), "incremental-update-only", 422)
    appended = await sign_record(platform_pdf, host.sign.signing(), tsa=tsa) + b"\n%% appended\n"
    await _refused(host_client.upload_host_signed_record(code, appended), "signature-covers-file", 422)
    await _refused(
        (await bid_client(client, bidders["B"])).upload_host_signed_record(code, by_bidder), "host-only", 403
    )

    # The host signs with the client (key on its side, platform TSA) and uploads: published.
    answer = await sign_opening_record(host_client, code, host.sign.signing())
    assert answer["previousSha256"] == digest
    public = await client.get(url)
    assert public.status_code == 200
    signed = public.content
    assert signed.startswith(platform_pdf)
    assert hashlib.sha256(signed).hexdigest() == answer["sha256"]
    (tmp_path / "both").mkdir()
    both = pdfsig(signed, tmp_path / "both", dev_ca)
    assert both.count("Signature Validation: Signature is Valid.") == 2, both
    assert "Signature #3" not in both
    async with session_maker() as session:
        context = await trust_context(session, settings, await clock.now(session))
        reports = await verify_pdf(signed, context.validator)
        assert [r.passed for r in reports] == [True, True]
        actions = await _actions(session, code, "bidding.opening_record")
    assert [a for a, _ in actions if not a.endswith("_refused")] == [
        "bidding.opening_record_published",
        "bidding.opening_record_host_signed",
    ]
    assert {s["rule"] for a, s in actions if a.endswith("_refused")} >= {
        "signer-not-host",
        "incremental-update-only",
        "signature-covers-file",
        "host-only",
    }
    await _refused(host_client.upload_host_signed_record(code, signed), "host-signs-once", 409)


async def _record_data(session_maker: async_sessionmaker[AsyncSession], code: str) -> dict[str, Any]:
    async with session_maker() as session:
        return await record_data(session, code)


async def test_price_reading_starts_when_every_price_summary_is_open_packages_follow(  # noqa: PLR0915 - one story
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    """唱标 does not wait for the packages: once every price summary is open the table is read out,
    packages are still accepted during 唱标 until the decryption window's end, and a package not sent
    by then revokes its bid (the price it read out stays in the table with the outcome).
    """
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee, lots=1)
    assert tender.deadline is not None
    code = tender.project_code
    bidders = {name: await bidder_party(session_maker, settings, dev_pki) for name in "ABC"}
    clients = {name: await bid_client(client, p) for name, p in bidders.items()}
    for name, bidder in bidders.items():
        built = await _seal(
            tmp_path / name, bidder, code=code, deadline=tender.deadline, price=PRICES[name], holders=[]
        )
        await clients[name].upload(code, "L1", built.path)
    host = await tenderee.headers(client)
    async with session_maker() as session:
        shifted = clock.ShiftedClock(tender.deadline - await clock.now(session) + timedelta(seconds=1))
    with clock.use_clock(shifted):
        await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
        for name in "ABC":
            await _sign_in(clients[name], code, bidders[name])
        moved = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "decryption"}, headers=host
        )
        assert moved.status_code == 200, moved.text
        window_end = moved.json()["stageEndsAt"]
        keys = {}
        for name, bidder in bidders.items():
            [envelope] = await clients[name].envelopes(code)
            assert bidder.encrypt is not None
            keys[name] = content_keys(envelope, bidder.encrypt.key, tender=code, lot="L1", bidder=bidder.uscc)  # type: ignore[arg-type]
        # A opens both parts; B and C their price summaries: the last one starts 唱标.
        await clients["A"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, keys["A"][fmt.PRICE_SUMMARY])
        await clients["A"].send_content_key(code, "L1", fmt.PACKAGE, keys["A"][fmt.PACKAGE])
        for name in "BC":
            await clients[name].send_content_key(code, "L1", fmt.PRICE_SUMMARY, keys[name][fmt.PRICE_SUMMARY])
        hall = (await client.get(f"/api/v1/bidding/opening/{code}")).json()
        assert hall["stage"] == "price-reading"
        assert hall["decryptionWindowOpen"] is True
        assert hall["stageEndsAt"] == window_end  # the window's end carried over as 唱标's clock
        lines = {line["bidder"]: line for line in hall["priceTable"]}
        assert [lines[bidders[n].uscc]["totalPrice"] for n in "ABC"] == [PRICES[n] for n in "ABC"]
        assert [lines[bidders[n].uscc]["outcome"] for n in "ABC"] == ["decrypted", "pending", "pending"]
        assert hall["bids"] == {"total": 3, "signedIn": 3, "opened": 1, "pricesOpened": 3, "packagesOpened": 1}
        # The host cannot move on to confirmation while packages may still come.
        early = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "confirmation"}, headers=host
        )
        assert early.status_code == 409
        assert early.json()["errors"][0]["rule"] == "decryption-window-running"
        # A price summary cannot be sent during 唱标 (there is none left); B's package can.
        await _refused(
            clients["B"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, keys["B"][fmt.PRICE_SUMMARY]),
            "decryption-window",
        )
        answer = await clients["B"].send_content_key(code, "L1", fmt.PACKAGE, keys["B"][fmt.PACKAGE])
        assert answer["outcome"] == "decrypted"
        # The window ends in 唱标: C, who never sent its package, is revoked; its price stays read out.
        shifted.advance(timedelta(seconds=hall["remainingSeconds"] + 1))
        await _refused(
            clients["C"].send_content_key(code, "L1", fmt.PACKAGE, keys["C"][fmt.PACKAGE]), "decryption-window"
        )
        swept = await run_sweep(session_maker, [OpeningClock()])
        assert swept.changed == {"bidding.opening_clock": 1}
        hall = (await client.get(f"/api/v1/bidding/opening/{code}")).json()
        assert hall["stage"] == "price-reading"
        assert hall["decryptionWindowOpen"] is False
        assert hall["remainingSeconds"] is None  # now 唱标 waits for the host
        line_c = next(line for line in hall["priceTable"] if line["bidder"] == bidders["C"].uscc)
        assert line_c["outcome"] == "revoked"
        assert line_c["totalPrice"] == PRICES["C"]
        assert "the package" in line_c["cause"]
        assert "bidder's fault" in line_c["cause"]
        moved = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "confirmation"}, headers=host
        )
        assert moved.status_code == 200, moved.text
    async with session_maker() as session:
        changes = await _actions(session, code, "bidding.opening_stage_changed")
        assert [summary["to"] for _action, summary in changes] == ["decryption", "price-reading", "confirmation"]
        # The table hashed at 唱标 is the one read out then: three prices, two packages pending.
        read_out = next(summary for _action, summary in changes if summary["to"] == "price-reading")
        assert read_out["priceTableSha256"] != hall["priceTableSha256"]


async def test_fewer_than_three_bids_fail_the_tender(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee, lots=1)
    assert tender.deadline is not None
    for index in range(2):
        bidder = await bidder_party(session_maker, settings, dev_pki)
        built = await _seal(
            tmp_path / str(index),
            bidder,
            code=tender.project_code,
            deadline=tender.deadline,
            price="100.00",
            holders=[],
        )
        await (await bid_client(client, bidder)).upload(tender.project_code, "L1", built.path)
    async with session_maker() as session:
        shift = tender.deadline - await clock.now(session) + timedelta(seconds=1)
    with clock.use_clock(clock.ShiftedClock(shift)):
        await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
        view = (await client.get(f"/api/v1/bidding/opening/{tender.project_code}")).json()
    assert view["stage"] == "closed"
    assert "流标" in view["failedReason"]
    assert view["lots"]["L1"] == {"bids": 2, "status": "failed", "reason": view["lots"]["L1"]["reason"]}
    async with session_maker() as session:
        row = await session.get_one(Tender, tender.id)
        assert row.status is TenderStatus.FAILED
        [(_action, summary)] = await _actions(session, tender.project_code, "bidding.tender_failed")
        assert summary["rule"] == "min-bidders"
        assert summary["minBidders"] == 3


async def test_the_window_end_happens_once_under_repeated_and_concurrent_sweeps(
    *, fresh_db: str, settings: Settings, store: FileStore, dev_pki: DevPki
) -> None:
    engine = create_engine(fresh_db, pool_size=5)
    session_maker = create_session_maker(engine)
    try:
        tenderee = await tenderee_party(session_maker, settings, dev_pki)
        tender = await draft_tender(session_maker, settings, store, tenderee, signed=False, lots=1)
        async with session_maker() as session:
            now = await clock.now(session)
            row = await session.get_one(Tender, tender.id)
            row.status = TenderStatus.OPENING
            opening = OpeningSession(
                tender_id=tender.id,
                host_organisation_id=tenderee.organisation_id,
                stage=Stage.DECRYPTION,
                stage_started_at=now - timedelta(hours=1),
                stage_ends_at=now - timedelta(seconds=1),
                next_check=now - timedelta(seconds=1),
                lots={"L1": {"bids": 0, "status": "opening"}},
                timeline={"events": []},
                created_at=now,
                updated_at=now,
            )
            session.add(opening)
            await session.commit()
        reports = await asyncio.gather(*(run_sweep(session_maker, [OpeningClock()]) for _ in range(4)))
        assert sum(r.total_changed for r in reports) == 1
        assert all(not r.failed for r in reports)
        # A restarted worker running the handler again finds nothing due.
        handler = OpeningClock()
        async with session_maker() as session:
            assert await handler.run(session, opening.id, await clock.now(session)) is False
        async with session_maker() as session:
            stored = await session.get_one(OpeningSession, opening.id)
            assert stored.stage is Stage.PRICE_READING
            assert stored.decryption_closed_at is not None
            changes = await session.scalar(
                select(func.count(LedgerEntry.id)).where(
                    LedgerEntry.action == "bidding.opening_stage_changed", LedgerEntry.subject_id == str(opening.id)
                )
            )
            assert changes == 1
            assert (await session.scalar(select(func.count(OpeningBid.id)))) == 0
            assert Outcome.PENDING.value == "pending"
    finally:
        await engine.dispose()


@dataclass
class ThreeBids:
    """An opening in sign-in with bidders A, B and C (A the cheapest), under a shifted clock."""

    code: str
    bidders: dict[str, Party]
    clients: dict[str, BidClient]
    host: dict[str, str]
    shifted: clock.ShiftedClock


async def _three_bids_at_sign_in(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> ThreeBids:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee, lots=1)
    assert tender.deadline is not None
    code = tender.project_code
    bidders = {name: await bidder_party(session_maker, settings, dev_pki) for name in "ABC"}
    clients = {name: await bid_client(client, p) for name, p in bidders.items()}
    for name, bidder in bidders.items():
        built = await _seal(
            tmp_path / name,
            bidder,
            code=code,
            deadline=tender.deadline,
            price=PRICES[name],
            holders=[],
            backup_dir=tmp_path / name / "backup",
        )
        await clients[name].upload(code, "L1", built.path)
    async with session_maker() as session:
        shifted = clock.ShiftedClock(tender.deadline - await clock.now(session) + timedelta(seconds=1))
    with clock.use_clock(shifted):
        await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
    return ThreeBids(code, bidders, clients, await tenderee.headers(client), shifted)


async def _db_now(session_maker: async_sessionmaker[AsyncSession]) -> datetime:
    async with session_maker() as session:
        return await clock.now(session)


async def _transition(client: httpx.AsyncClient, setup: ThreeBids, action: str) -> httpx.Response:
    return await client.post(
        f"/api/v1/bidding/opening/{setup.code}/transitions", json={"action": action}, headers=setup.host
    )


async def test_the_host_cannot_close_before_the_minimum_objection_and_confirmation_windows(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    """Issue 21 item 3: confirmation then close answered 200 at once, so bidders lost the on-the-spot
    objection and confirmation and were recorded as deemed to accept. The host cannot close before
    the tender's minimum windows (objections from 唱标, confirmation); an objection filed within
    them is accepted and must be answered before the close.
    """
    setup = await _three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    code, bidders, clients = setup.code, setup.bidders, setup.clients
    with clock.use_clock(setup.shifted):
        for name in "ABC":
            await _sign_in(clients[name], code, bidders[name])
        assert (await _transition(client, setup, "decryption")).status_code == 200
        for name, bidder in bidders.items():
            assert bidder.encrypt is not None
            await decrypt_bid(clients[name], code, "L1", bidder.uscc, bidder.encrypt.key)  # type: ignore[arg-type]
        moved = await _transition(client, setup, "confirmation")
        assert moved.status_code == 200, moved.text
        # The default snapshot: 30 minutes of confirmation, 15 of objections from 唱标.
        ends = datetime.fromisoformat(moved.json()["stageEndsAt"])
        assert ends - await _db_now(session_maker) >= timedelta(minutes=29)
        refused = await _transition(client, setup, "closed")
        assert refused.status_code == 409
        assert refused.json()["errors"][0]["rule"] == "minimum-windows"
        # Within the windows B objects: accepted.
        text = "唱标时 A 公司的工期未读出，请主持人核实。"
        setup.shifted.advance(timedelta(minutes=20))
        objection = await clients["B"].file_objection(
            code,
            text,
            await sign_statement_async(
                fmt.objection_statement(code, bidders["B"].uscc, text), bidders["B"].sign.signing()
            ),
        )
        assert objection["text"] == text
        still = await _transition(client, setup, "closed")
        assert still.json()["errors"][0]["rule"] == "minimum-windows"
        # The windows have run: the close still waits for the answer.
        setup.shifted.advance(timedelta(minutes=11))
        unanswered = await _transition(client, setup, "closed")
        assert unanswered.status_code == 409
        assert unanswered.json()["errors"][0]["rule"] == "objections-unanswered"
        answered = await client.post(
            f"/api/v1/bidding/opening/{code}/objections/{objection['id']}/answer",
            json={"answer": "工期已在开标一览表中读出，见开标记录。"},
            headers=setup.host,
        )
        assert answered.status_code == 200, answered.text
        closed = await _transition(client, setup, "closed")
        assert closed.status_code == 200, closed.text
        assert closed.json()["stage"] == "closed"
    async with session_maker() as session:
        refusals = await _actions(session, code, "bidding.opening_host_refused")
    assert [summary["rule"] for _action, summary in refusals] == [
        "minimum-windows",
        "minimum-windows",
        "objections-unanswered",
    ]


async def test_only_a_bidder_signed_in_with_its_certificate_decrypts(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    """Issue 21 item 7: sign-in was an unsigned POST and not required before decrypting
    (domain-rules §2.1: 签到 with a CA signature; only signed-in bidders get a decryption countdown).
    """
    setup = await _three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    code, bidders, clients = setup.code, setup.bidders, setup.clients
    url = f"/api/v1/bidding/opening/{code}/sign-in"
    headers_a = await bidders["A"].headers(client)
    with clock.use_clock(setup.shifted):
        unsigned = await client.post(url, json={}, headers=headers_a)
        assert unsigned.status_code in {400, 422}, unsigned.text
        # B's signature, or A's over another tender's statement, does not sign A in.
        by_b = await sign_statement_async(fmt.sign_in_statement(code, bidders["A"].uscc), bidders["B"].sign.signing())
        forged = await client.post(url, json={"signature": base64.b64encode(by_b).decode()}, headers=headers_a)
        assert forged.json()["errors"][0]["rule"] == "signer-not-bidder"
        elsewhere = await sign_statement_async(
            fmt.sign_in_statement("E0000000000000000000", bidders["A"].uscc), bidders["A"].sign.signing()
        )
        replayed = await client.post(url, json={"signature": base64.b64encode(elsewhere).decode()}, headers=headers_a)
        assert replayed.status_code == 422
        assert (await client.get(f"/api/v1/bidding/opening/{code}")).json()["bids"]["signedIn"] == 0
        for name in "BC":
            await _sign_in(clients[name], code, bidders[name])
        assert (await _transition(client, setup, "decryption")).status_code == 200
        # A did not sign in: its keys are refused by name; signed in, they open its bid.
        enc_a = bidders["A"].encrypt
        assert enc_a is not None
        await _refused(decrypt_bid(clients["A"], code, "L1", bidders["A"].uscc, enc_a.key), "signed-in", 422)  # type: ignore[arg-type]
        signed_in = await _sign_in(clients["A"], code, bidders["A"])
        assert (
            signed_in["statementSha256"] == hashlib.sha256(fmt.sign_in_statement(code, bidders["A"].uscc)).hexdigest()
        )
        answer = await decrypt_bid(clients["A"], code, "L1", bidders["A"].uscc, enc_a.key)  # type: ignore[arg-type]
        assert answer["outcome"] == "decrypted"
    async with session_maker() as session:
        signed = await _actions(session, code, "bidding.opening_signed_in")
        refused = await _actions(session, code, "bidding.opening_decryption_refused")
    assert len(signed) == 3
    assert all(len(summary["signer"]) == 64 for _action, summary in signed)
    assert [summary["rule"] for _action, summary in refused] == ["signed-in"]


async def test_the_remedy_plan_is_public_and_a_backup_opens_a_bid_only_when_it_is_the_sealed_one(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    """Issue 21 item 8: the decryption-failure remedy was escrow only and the tender's remedy plan was
    not in the public tender data. The plan (escrow, backup) is published in the tender API and page;
    inside the decryption window a bidder's backup, generated with its sealed file, opens its bid
    only when its digests are those of the signed manifest the receipt acknowledged.
    """
    setup = await _three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    code, bidders, clients = setup.code, setup.bidders, setup.clients
    public = (await client.get(f"/api/v1/bidding/tenders/{code}")).json()
    assert public["remedyPlan"] == {
        "escrow": False,
        "escrowThreshold": None,
        "keyHolders": 0,
        "backup": True,
        "backupWindow": "decryption",
    }
    page = await client.get(f"/bidding/tenders/{code}")
    assert 'data-remedy="backup"' in page.text
    assert 'data-remedy="escrow"' not in page.text

    def backup(name: str, kind: str) -> bytes:
        return (tmp_path / name / "backup" / BACKUP_FILES[kind]).read_bytes()

    with clock.use_clock(setup.shifted):
        for name in "ABC":
            await _sign_in(clients[name], code, bidders[name])
        # Not before the decryption window.
        await _refused(
            clients["A"].send_backup(code, "L1", fmt.PRICE_SUMMARY, backup("A", fmt.PRICE_SUMMARY)), "decryption-window"
        )
        assert (await _transition(client, setup, "decryption")).status_code == 200
        # A's key is lost: its backup opens its bid; a changed price or another bidder's backup does not.
        own_price = backup("A", fmt.PRICE_SUMMARY)
        cheaper = own_price.replace(PRICES["A"].encode(), b"1.00")
        assert cheaper != own_price
        await _refused(clients["A"].send_backup(code, "L1", fmt.PRICE_SUMMARY, cheaper), "backup-mismatch", 422)
        await _refused(
            clients["A"].send_backup(code, "L1", fmt.PRICE_SUMMARY, backup("B", fmt.PRICE_SUMMARY)), "backup-mismatch"
        )
        await _refused(
            clients["A"].send_backup(code, "L1", fmt.PACKAGE, backup("A", fmt.PACKAGE)), "price-summary-first"
        )
        opened = await clients["A"].send_backup(code, "L1", fmt.PRICE_SUMMARY, own_price)
        assert opened["priceSummary"] == "opened"
        await _refused(clients["A"].send_backup(code, "L1", fmt.PACKAGE, backup("B", fmt.PACKAGE)), "backup-mismatch")
        answer = await clients["A"].send_backup(code, "L1", fmt.PACKAGE, backup("A", fmt.PACKAGE))
        assert answer["outcome"] == "decrypted"
        # A tender whose plan names no backup refuses the channel.
        async with session_maker() as session:
            row = await session.scalar(select(Tender).where(Tender.project_code == code))
            assert row is not None
            row.rules = {**(row.rules or {}), "decryption_backup_allowed": False}
            await session.commit()
        await _refused(
            clients["C"].send_backup(code, "L1", fmt.PRICE_SUMMARY, backup("C", fmt.PRICE_SUMMARY)), "no-backup-remedy"
        )
        assert (await client.get(f"/api/v1/bidding/tenders/{code}")).json()["remedyPlan"]["backup"] is False
        for name in "BC":
            enc = bidders[name].encrypt
            assert enc is not None
            await decrypt_bid(clients[name], code, "L1", bidders[name].uscc, enc.key)  # type: ignore[arg-type]
        hall = (await client.get(f"/api/v1/bidding/opening/{code}")).json()
    lines = {line["bidder"]: line for line in hall["priceTable"]}
    assert lines[bidders["A"].uscc]["totalPrice"] == PRICES["A"]
    assert lines[bidders["A"].uscc]["outcome"] == "decrypted"
    assert "backup" in lines[bidders["A"].uscc]["cause"]
    package = await OpeningService(session_maker, settings, store).opened_package(code, "L1", bidders["A"].uscc)
    assert package == backup("A", fmt.PACKAGE)
    async with session_maker() as session:
        decrypted = await _actions(session, code, "bidding.opening_part_decrypted")
        refused = await _actions(session, code, "bidding.opening_backup_refused")
    assert sorted(s["part"] for _a, s in decrypted if s["bidder"] == bidders["A"].uscc and s["via"] == "backup") == [
        fmt.PACKAGE,
        fmt.PRICE_SUMMARY,
    ]
    assert [s["rule"] for _a, s in refused] == [
        "decryption-window",
        "backup-mismatch",
        "backup-mismatch",
        "price-summary-first",
        "backup-mismatch",
        "no-backup-remedy",
    ]
