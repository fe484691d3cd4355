"""The hall's rules with three bids: the host cannot close before the minimum objection and
confirmation windows, only a signed-in bidder decrypts, and a backup opens a bid only when it is
the sealed one (the remedy plan is public).
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import (
    BACKUP_FILES,
    sign_statement_async,
)
from bidding.client.transport import (
    decrypt_bid,
)
from bidding.models import Tender
from bidding.opening.service import OpeningService
from certs.devpki.pki import DevPki
from tests.bidding.opening.hall_support import (
    PRICES,
    db_now,
    host_transition,
    ledger_actions,
    refused_with,
    sign_in_hall,
    three_bids_at_sign_in,
)
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


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
    setup = await three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    code, bidders, clients = setup.code, setup.bidders, setup.clients
    with clock.use_clock(setup.shifted):
        for name in "ABC":
            await sign_in_hall(clients[name], code, bidders[name])
        assert (await host_transition(client, setup, "decryption")).status_code == 200
        for name, bidder in bidders.items():
            assert bidder.encrypt is not None
            await decrypt_bid(clients[name], code, "L1", bidder.uscc, bidder.encrypt.key)  # type: ignore[arg-type]
        moved = await host_transition(client, setup, "confirmation")
        assert moved.status_code == 200, moved.text
        # The default snapshot: 30 minutes of confirmation, 15 of objections from 唱标.
        ends = datetime.fromisoformat(moved.json()["stageEndsAt"])
        assert ends - await db_now(session_maker) >= timedelta(minutes=29)
        refused = await host_transition(client, setup, "closed")
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
        still = await host_transition(client, setup, "closed")
        assert still.json()["errors"][0]["rule"] == "minimum-windows"
        # The windows have run: the close still waits for the answer.
        setup.shifted.advance(timedelta(minutes=11))
        unanswered = await host_transition(client, setup, "closed")
        assert unanswered.status_code == 409
        assert unanswered.json()["errors"][0]["rule"] == "objections-unanswered"
        answered = await client.post(
            f"/api/v1/bidding/opening/{code}/objections/{objection['id']}/answer",
            json={"answer": "工期已在开标一览表中读出，见开标记录。"},
            headers=setup.host,
        )
        assert answered.status_code == 200, answered.text
        closed = await host_transition(client, setup, "closed")
        assert closed.status_code == 200, closed.text
        assert closed.json()["stage"] == "closed"
    async with session_maker() as session:
        refusals = await ledger_actions(session, code, "bidding.opening_host_refused")
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
    setup = await three_bids_at_sign_in(
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
            await sign_in_hall(clients[name], code, bidders[name])
        assert (await host_transition(client, setup, "decryption")).status_code == 200
        # A did not sign in: its keys are refused by name; signed in, they open its bid.
        enc_a = bidders["A"].encrypt
        assert enc_a is not None
        await refused_with(decrypt_bid(clients["A"], code, "L1", bidders["A"].uscc, enc_a.key), "signed-in", 422)  # type: ignore[arg-type]
        signed_in = await sign_in_hall(clients["A"], code, bidders["A"])
        assert (
            signed_in["statementSha256"] == hashlib.sha256(fmt.sign_in_statement(code, bidders["A"].uscc)).hexdigest()
        )
        answer = await decrypt_bid(clients["A"], code, "L1", bidders["A"].uscc, enc_a.key)  # type: ignore[arg-type]
        assert answer["outcome"] == "decrypted"
    async with session_maker() as session:
        signed = await ledger_actions(session, code, "bidding.opening_signed_in")
        refused = await ledger_actions(session, code, "bidding.opening_decryption_refused")
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
    setup = await three_bids_at_sign_in(
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
            await sign_in_hall(clients[name], code, bidders[name])
        # Not before the decryption window.
        await refused_with(
            clients["A"].send_backup(code, "L1", fmt.PRICE_SUMMARY, backup("A", fmt.PRICE_SUMMARY)), "decryption-window"
        )
        assert (await host_transition(client, setup, "decryption")).status_code == 200
        # A's key is lost: its backup opens its bid; a changed price or another bidder's backup does not.
        own_price = backup("A", fmt.PRICE_SUMMARY)
        cheaper = own_price.replace(PRICES["A"].encode(), b"1.00")
        assert cheaper != own_price
        await refused_with(clients["A"].send_backup(code, "L1", fmt.PRICE_SUMMARY, cheaper), "backup-mismatch", 422)
        await refused_with(
            clients["A"].send_backup(code, "L1", fmt.PRICE_SUMMARY, backup("B", fmt.PRICE_SUMMARY)), "backup-mismatch"
        )
        await refused_with(
            clients["A"].send_backup(code, "L1", fmt.PACKAGE, backup("A", fmt.PACKAGE)), "price-summary-first"
        )
        opened = await clients["A"].send_backup(code, "L1", fmt.PRICE_SUMMARY, own_price)
        assert opened["priceSummary"] == "opened"
        await refused_with(
            clients["A"].send_backup(code, "L1", fmt.PACKAGE, backup("B", fmt.PACKAGE)), "backup-mismatch"
        )
        answer = await clients["A"].send_backup(code, "L1", fmt.PACKAGE, backup("A", fmt.PACKAGE))
        assert answer["outcome"] == "decrypted"
        # A tender whose plan names no backup refuses the channel.
        async with session_maker() as session:
            row = await session.scalar(select(Tender).where(Tender.project_code == code))
            assert row is not None
            row.rules = {**(row.rules or {}), "decryption_backup_allowed": False}
            await session.commit()
        await refused_with(
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
    package = await OpeningService(session_maker, settings, store).hall.opened_package(code, "L1", bidders["A"].uscc)
    assert package == backup("A", fmt.PACKAGE)
    async with session_maker() as session:
        decrypted = await ledger_actions(session, code, "bidding.opening_part_decrypted")
        refused = await ledger_actions(session, code, "bidding.opening_backup_refused")
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
