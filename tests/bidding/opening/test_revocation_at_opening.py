"""A bid revoked (撤销) during the opening and the claim triggers it records (issue 17 §6.1): the
revoked bid's seat gets the outcome ``revoked`` and is not decrypted; a bid decrypted before its
bidder revoked it keeps its read-out price but is invalid for the evaluation and skipped by the
award; a package not decrypted by the bidder's fault (deemed 撤销, Order 20 Art. 31) is the
``decryption_failure`` trigger, a signed revocation the ``withdrawal_after_deadline`` one.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award.award import revoked_of
from bidding.award.securities import trigger_happened
from bidding.award.succession import AwardRule, Candidate, Chosen, Order, current
from bidding.client import format as fmt
from bidding.client.sdk import content_keys
from bidding.evaluation.models import Evaluation
from bidding.evaluation.scoring import result
from bidding.evaluation.scoring.repository import ScoringRepository
from bidding.models import Bid, BidStatus, Tender
from bidding.opening.jobs import OpeningClock
from bidding.opening.models import OpeningBid, Outcome
from certs.devpki.pki import DevPki
from tests.bidding.opening.hall_support import refused_with, sign_in_hall, three_bids_at_sign_in
from trading.guarantees.models import ClaimTrigger
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep

pytestmark = pytest.mark.usefixtures("dev_lists")


async def test_revoked_bids_leave_the_opening_evaluation_and_award_and_record_their_triggers(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    setup = await three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    code, bidders, clients = setup.code, setup.bidders, setup.clients
    with clock.use_clock(setup.shifted):
        for name in "ABC":
            await sign_in_hall(clients[name], code, bidders[name])
        moved = await client.post(
            f"/api/v1/bidding/opening/{code}/transitions", json={"action": "decryption"}, headers=setup.host
        )
        assert moved.status_code == 200, moved.text
        keys = {}
        for name, bidder in bidders.items():
            [envelope] = await clients[name].envelopes(code)
            assert bidder.encrypt is not None
            keys[name] = content_keys(envelope, bidder.encrypt.key, tender=code, lot="L1", bidder=bidder.uscc)  # type: ignore[arg-type]
        # A opens both parts, then revokes: its price stays read out, its outcome stays.
        for part in (fmt.PRICE_SUMMARY, fmt.PACKAGE):
            await clients["A"].send_content_key(code, "L1", part, keys["A"][part])
        await clients["A"].revoke(code, "L1", bidders["A"].sign.signing())
        # C revokes before decrypting: its seat is decided at once and it can no longer decrypt.
        receipt = await clients["C"].revoke(code, "L1", bidders["C"].sign.signing())
        await refused_with(
            clients["C"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, keys["C"][fmt.PRICE_SUMMARY]),
            "outcome-final",
        )
        # B opens its price summary only (唱标 no longer waits for C); its package never comes.
        await clients["B"].send_content_key(code, "L1", fmt.PRICE_SUMMARY, keys["B"][fmt.PRICE_SUMMARY])
        hall = (await client.get(f"/api/v1/bidding/opening/{code}")).json()
        assert hall["stage"] == "price-reading"
        setup.shifted.advance(timedelta(seconds=hall["remainingSeconds"] + 1))
        await run_sweep(session_maker, [OpeningClock()])

    async with session_maker() as session:
        tender = (await session.scalars(sa.select(Tender).where(Tender.project_code == code))).one()
        rows = {
            row.organisation_id: row
            for row in await session.scalars(sa.select(OpeningBid).where(OpeningBid.bid_id.is_not(None)))
        }
        seat = {name: rows[bidders[name].organisation_id] for name in "ABC"}
        assert seat["A"].outcome is Outcome.DECRYPTED
        assert seat["C"].outcome is Outcome.REVOKED
        assert receipt.receipt_no in (seat["C"].cause or "")
        assert seat["B"].outcome is Outcome.REVOKED  # not decrypted by the bidder's fault
        assert "bidder's fault" in (seat["B"].cause or "")
        bids = {name: await session.get_one(Bid, seat[name].bid_id) for name in "ABC"}
        assert [bids[n].status for n in "ABC"] == [BidStatus.REVOKED, BidStatus.SUBMITTED, BidStatus.REVOKED]

        # The claim triggers each record shows.
        withdrawal, failure = ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE, ClaimTrigger.DECRYPTION_FAILURE
        assert await trigger_happened(session, bids["A"], tender, withdrawal)
        assert not await trigger_happened(session, bids["A"], tender, failure)
        assert await trigger_happened(session, bids["B"], tender, failure)
        assert not await trigger_happened(session, bids["B"], tender, withdrawal)
        assert await trigger_happened(session, bids["C"], tender, withdrawal)

        # The evaluation: A (opened, then revoked) and C are invalid for their revocation.
        evaluation = Evaluation(id=uuid.uuid4(), tender_id=tender.id, lot_ids={})
        repo = ScoringRepository(session)
        opened = await repo.bids(evaluation)
        assert {b.organisation_id for b in opened if b.revoked} == {
            bidders["A"].organisation_id,
            bidders["C"].organisation_id,
        }
        reasons = await result._invalid(repo, evaluation, opened, [])
        by_org = {b.organisation_id: reasons.get(b.id) for b in opened}
        assert by_org[bidders["A"].organisation_id] == "bid_revoked"
        assert by_org[bidders["C"].organisation_id] == "bid_revoked"

        # The award skips a revoked candidate: A ranked first, B is the one awarded.
        order = Order(
            AwardRule.RANKED,
            tuple(Candidate(str(seat[n].id), bidders[n].uscc, n, Decimal(1), i) for i, n in enumerate("AB", 1)),
        )
        skipped = await revoked_of(session, order)
        assert [d.bid for d in skipped] == [str(seat["A"].id)]
        chosen = current(order, skipped)
        assert isinstance(chosen, Chosen)
        assert chosen.winner.bid == str(seat["B"].id)
