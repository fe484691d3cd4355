"""Revocation after the deadline (撤销, 实施条例 Art. 35): a signed act of the bidder through the API,
refused before the deadline (撤回 then), after the bid validity period, twice, or unsigned; its
receipt verifies; the opening leaves the revoked bid undecrypted and the claim trigger is recorded.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award.securities import trigger_happened
from bidding.client import format as fmt
from bidding.client.problems import BidRejected, LocalRefusal
from bidding.client.sdk import sign_statement_async, verify_receipt
from bidding.models import Bid, BidStatus, BidVersion, Tender, VersionKind
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client, build
from tests.bidding.factories import bidder_party, published_tender, tenderee_party
from trading.guarantees.models import ClaimTrigger
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.web.templating import local_time
from trading.ledger.models import LedgerEntry
from trading.notifications import messages
from trading.notifications.models import Notice

pytestmark = pytest.mark.usefixtures("dev_lists")


async def _after(
    session_maker: async_sessionmaker[AsyncSession], tender: Tender, extra: timedelta
) -> clock.ShiftedClock:
    assert tender.deadline is not None
    async with session_maker() as session:
        return clock.ShiftedClock(tender.deadline - await clock.now(session) + extra)


async def test_a_revocation_is_signed_after_the_deadline_and_records_the_claim_trigger(  # noqa: PLR0915 - one story
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee)
    assert tender.deadline is not None
    code, lot = tender.project_code, "L1"
    bidder = await bidder_party(session_maker, settings, dev_pki)
    other = await bidder_party(session_maker, settings, dev_pki)
    bidder_client = await bid_client(client, bidder)
    built = await build(tmp_path / "v1", bidder, tender=code, lot=lot, deadline=tender.deadline)
    submitted = await bidder_client.upload(code, lot, built.path)
    url = f"/api/v1/bidding/tenders/{code}/lots/{lot}/revocation"
    headers = await bidder.headers(client)

    async def revoke_with(signature: bytes) -> httpx.Response:
        return await client.post(url, json={"signature": base64.b64encode(signature).decode()}, headers=headers)

    statement = fmt.revocation_statement(code, lot, bidder.uscc, submitted.receipt_no)
    assert "第三十五条" in statement.decode()
    assert "保证金" in statement.decode()
    # The statement to sign, as the API gives it.
    given = await client.get(url, headers=headers)
    assert given.status_code == 200, given.text
    assert given.json()["statement"].encode() == statement
    signature = await sign_statement_async(statement, bidder.sign.signing())

    # Before the deadline it is a withdrawal (撤回): refused, naming the rule.
    early = await revoke_with(signature)
    assert early.status_code == 409, early.text
    assert (early.json()["errors"][0]["field"], early.json()["errors"][0]["rule"]) == ("deadline", "after-deadline")
    assert early.headers["content-type"].startswith("application/problem+json")

    with clock.use_clock(await _after(session_maker, tender, timedelta(hours=1))):
        unsigned = await revoke_with(b"")
        assert (unsigned.status_code, unsigned.json()["errors"][0]["rule"]) == (422, "required")
        by_other = await revoke_with(await sign_statement_async(statement, other.sign.signing()))
        assert by_other.json()["errors"][0]["rule"] == "signer-not-bidder"
        # A withdrawal's statement is not a revocation's.
        withdrawal = fmt.withdrawal_statement(code, lot, bidder.uscc, submitted.receipt_no)
        wrong = await revoke_with(await sign_statement_async(withdrawal, bidder.sign.signing()))
        assert (wrong.status_code, wrong.json()["errors"][0]["field"]) == (422, "signature")
        async with session_maker() as session:
            [bid] = (await session.scalars(sa.select(Bid).where(Bid.tender_id == tender.id))).all()
            assert bid.status is BidStatus.SUBMITTED
            assert not await trigger_happened(session, bid, tender, ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE)

        revoked = await revoke_with(signature)
        assert revoked.status_code == 201, revoked.text
        record = revoked.json()["record"]
        assert record["kind"] == "revocation"
        assert record["revokesReceiptNo"] == submitted.receipt_no
        assert record["consequence"] == fmt.REVOCATION_CONSEQUENCE
        assert record["signerSha256"] == bidder.sign.certificate.fingerprint(hashes.SHA256()).hex()
        exact = base64.b64decode(revoked.json()["receipt"])
        verified = verify_receipt(
            exact, base64.b64decode(revoked.json()["signature"]), [dev_pki.platform_root.certificate]
        )
        assert verified["receiptNo"] == record["receiptNo"]

        # Once only; and the statement is no longer offered.
        again = await revoke_with(signature)
        assert (again.status_code, again.json()["errors"][0]["rule"]) == (409, "revocable")
        assert (await client.get(url, headers=headers)).status_code == 409

    async with session_maker() as session:
        bid = await session.get_one(Bid, bid.id)
        assert bid.status is BidStatus.REVOKED
        version = await session.get_one(BidVersion, bid.current_version_id)
        assert (version.kind, version.manifest, version.manifest_signature) == (
            VersionKind.REVOCATION,
            statement,
            signature,
        )
        assert await trigger_happened(session, bid, tender, ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE)
        entries = await session.scalars(sa.select(LedgerEntry).where(LedgerEntry.action == "bidding.bid_revoked"))
        assert [e.subject_id for e in entries] == [str(bid.id)]
        # The tenderee is served a notice naming tender, lot, bidder and time, linking to the tender's page.
        [notice] = (
            await session.scalars(sa.select(Notice).where(Notice.recipient_id == tenderee.organisation_id))
        ).all()
        assert (notice.template, notice.legal, notice.project_code) == ("bidding.bid_revoked", True, code)
        text = messages.render(notice.template, notice.params, "zh_CN")
        assert "撤销" in text.subject
        assert code in text.subject
        for words in (
            bidder.name,
            lot,
            record["receiptNo"],
            f"/bidding/manage/tenders/{code}",
            "依次确定其他中标候选人",
        ):
            assert words in text.body, words
        assert local_time(datetime.fromisoformat(record["receivedAt"])) in text.body
        assert "revoked its bid" in messages.render(notice.template, notice.params, "en").subject


async def test_no_revocation_after_the_validity_period_nor_of_a_withdrawn_bid(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee)
    assert tender.deadline is not None
    code = tender.project_code
    bidder = await bidder_party(session_maker, settings, dev_pki)
    quitter = await bidder_party(session_maker, settings, dev_pki)
    for party in (bidder, quitter):
        built = await build(tmp_path / party.uscc, party, tender=code, lot="L1", deadline=tender.deadline)
        await (await bid_client(client, party)).upload(code, "L1", built.path)
    await (await bid_client(client, quitter)).withdraw(code, "L1", quitter.sign.signing())

    with clock.use_clock(await _after(session_maker, tender, timedelta(minutes=5))):
        with pytest.raises(LocalRefusal) as withdrawn:
            await (await bid_client(client, quitter)).revoke(code, "L1", quitter.sign.signing())
        assert withdrawn.value.rule == "submitted"  # the SDK finds no submitted bid; nor does the API:
        statement = fmt.revocation_statement(code, "L1", quitter.uscc, "BR-NONE")
        forged = await client.post(
            f"/api/v1/bidding/tenders/{code}/lots/L1/revocation",
            json={
                "signature": base64.b64encode(await sign_statement_async(statement, quitter.sign.signing())).decode()
            },
            headers=await quitter.headers(client),
        )
        assert (forged.status_code, forged.json()["errors"][0]["rule"]) == (409, "revocable")

    validity = timedelta(days=tender.bid_validity_days, seconds=1)
    with clock.use_clock(await _after(session_maker, tender, validity)):
        with pytest.raises(BidRejected) as too_late:
            await (await bid_client(client, bidder)).revoke(code, "L1", bidder.sign.signing())
        assert (too_late.value.status, too_late.value.rule) == (409, "within-validity")
    async with session_maker() as session:
        statuses = set(await session.scalars(sa.select(Bid.status).where(Bid.tender_id == tender.id)))
    assert statuses == {BidStatus.SUBMITTED, BidStatus.WITHDRAWN}
