"""The remote opening end to end on PostgreSQL (issue 5): five bidders, a 3-of-5 key-holder committee
with the remedy on; at the deadline the session opens; A, B and C decrypt with the client SDK (keys
unwrapped on their side), D sends nothing (revoked: its own fault), E's key is lost (the host records
an incident, three key holders release signed shares: opened via escrow). B objects and gets an
answer, A confirms; the price table and the record list the right prices and outcomes; refusals are
named and audited; the ledger verifies.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import (
    sign_record,
    sign_statement_async,
)
from bidding.client.transport import (
    PlatformTsa,
    decrypt_bid,
    release_holder_shares,
    sign_opening_record,
)
from bidding.models import BidVersion, Tender, TenderStatus
from bidding.opening import events
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.models import OpeningBid, OpeningSession
from bidding.opening.record import RENDER_TASK, publish_record, render_record
from bidding.opening.service import OpeningService
from bidding.schemas import KeyHolderCreate
from certs.devpki.pki import DevPki
from certs.sign.pades import verify_pdf
from tests.bidding.containers import bid_client
from tests.bidding.factories import Party, bidder_party, party, published_tender, tenderee_party
from tests.bidding.opening.hall_support import (
    PRICES,
    ledger_actions,
    read_record_data,
    refused_with,
    seal_bid,
    sign_in_hall,
)
from tests.trading.kernel.test_pdf import poppler, warm_renderer
from tests.trading.parties.test_records import DevCa, pdfsig
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import RecordingPublisher, TaskMessage
from trading.kernel.web.money import amount_in_words
from trading.ledger.service import verify_ledger
from trading.parties.certificates.trust import trust_context
from trading.parties.models import OrganisationKind

pytestmark = pytest.mark.usefixtures("dev_lists")


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
        built = await seal_bid(
            tmp_path / name, bidder, code=code, deadline=deadline, price=PRICES[name], holders=holders
        )
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
            await sign_in_hall(clients[name], code, bidders[name])

        # A bidder cannot host: refused by name, and recorded.
        bidder_host = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions",
            json={"action": "decryption"},
            headers=await bidders["A"].headers(client),
        )
        assert bidder_host.status_code == 403
        assert bidder_host.json()["errors"][0]["rule"] == "host-only"
        # Nobody decrypts during sign-in.
        await refused_with(
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
        await refused_with(clients["A"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, os.urandom(32)), "paused")
        shifted.advance(timedelta(minutes=10))
        resumed = (
            await client.post(f"/api/v1/bidding/opening/{code}/transitions", json={"action": "resume"}, headers=host)
        ).json()
        assert resumed["paused"] is False

        # Refusals by name: the package before the price summary, a wrong key.
        await refused_with(
            clients["A"].send_content_key(code, "L1", fmt.PACKAGE, os.urandom(32)), "price-summary-first"
        )
        await refused_with(clients["A"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, os.urandom(32)), "wrong-key")

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
        await refused_with(decrypt_bid(clients["C"], code, "L1", bidders["C"].uscc, enc_c.key), "digest-mismatch")  # type: ignore[arg-type]
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
        await refused_with(
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
        await refused_with(
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
        await refused_with(
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
        package = await OpeningService(session_maker, settings, store).hall.opened_package(
            code, "L1", bidders["E"].uscc
        )
        assert hashlib.sha256(package).hexdigest() == row_e.package_sha256
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            assert archive.read("技术标.txt") == f"技术标 {bidders['E'].name}\n".encode() * 100
        refusals = await ledger_actions(session, code, "bidding.opening_")
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
        published = await ledger_actions(session, code, "bidding.opening_record_")
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
        assert f"大写：{amount_in_words(PRICES[name])}" in text, name  # the legal form of the amount
    assert f"{Decimal(PRICES['D']):,.2f}" not in text  # D's price was never read out
    assert amount_in_words(PRICES["D"]) not in text
    assert bidders["D"].name.replace(" ", "") in text
    assert "视为撤销" in text
    assert "托管开启" in text
    assert "3/5名密钥托管人" in text
    assert "平台解密服务故障" in text
    assert "".join(objection[0].split()) in text
    assert "".join(objection[1].split()) in text
    assert "现金（转账）" in text  # the security form from the signed manifest
    assert "现金保证金" in text  # and its status judged at the opening (issue 17)

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
    refused = await refused_with(host_client.upload_host_signed_record(code, by_bidder), "signer-not-host", 422)
    assert refused.field == "signatures[1]"
    tampered = bytearray(platform_pdf)
    position = tampered.index(b"/Producer")
    tampered[position + 1] ^= 0x20
    rewritten = await sign_record(bytes(tampered), host.sign.signing(), tsa=tsa)
    await refused_with(host_client.upload_host_signed_record(code, rewritten), "incremental-update-only", 422)
    unsigned = render_record(await read_record_data(session_maker, code), generated_at=datetime.now(UTC))
    resigned = await sign_record(unsigned, host.sign.signing(), tsa=tsa)
    await refused_with(host_client.upload_host_signed_record(code, resigned), "incremental-update-only", 422)
    appended = await sign_record(platform_pdf, host.sign.signing(), tsa=tsa) + b"\n%% appended\n"
    await refused_with(host_client.upload_host_signed_record(code, appended), "signature-covers-file", 422)
    await refused_with(
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
        actions = await ledger_actions(session, code, "bidding.opening_record")
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
    await refused_with(host_client.upload_host_signed_record(code, signed), "host-signs-once", 409)
