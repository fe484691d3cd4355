"""Issue 17's end-to-end acceptance on PostgreSQL, with the guarantor's own system — ``python -m
trading.guarantees.client`` — as a separate process against ``ggzy serve`` (a separate process too).

Tender A: two bidders apply for a bid guarantee on the live server's page; the client process
approves and issues them with the guarantor's own key (the third bidder gives cash); each bid's
signed manifest names its guarantee (intake verifies it); past the deadline the hall opens, the
opening judges every security again (``verified``, the record's label) and so does the evaluation's
bid list; the report is signed, the award confirmed; issuing the award notices releases the loser's
guarantee (and records the cash refund), the contract releases the winner's — each time the release
job runs as the worker runs it (the task's kwargs, the job function) — and the client acknowledges.

Tender B: the bidder's 撤销 after the deadline is recorded (see trading/guarantees/AGENTS.md, "Known
gaps": intake refuses withdrawals after the deadline, so the version is written directly), the
tenderee files the claim through the claim API, the client answers it, and the tenderee's page shows
the claim paid.

The server runs at the real time (the client's signatures are checked against it); the in-process
steps after the deadline run under a shifted clock, as the other stories do.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import contract as contracts
from bidding.award import notices
from bidding.award.jobs import AwardDue
from bidding.award.states import AwardState
from bidding.client import format as fmt
from bidding.client.hall import decrypt_bid
from bidding.client.problems import BidRejected
from bidding.client.sdk import sign_contract as client_sign_contract
from bidding.client.sdk import sign_notice as client_sign_notice
from bidding.evaluation.report.service import publish_report
from bidding.guarantees_flow import SecurityState, statuses_by_bidder
from bidding.models import Bid, BidStatus, BidVersion, Tender, VersionKind
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.models import OpeningBid
from bidding.opening.record import publish_record
from bidding.schemas import LotCreate
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_notices import bind_certificate
from tests.bidding.award.world import award_hook, award_of, confirm_winner, open_publicity
from tests.bidding.containers import bid_client, build
from tests.bidding.evaluation.e2e.world import pdf_text
from tests.bidding.evaluation.report.test_report_signing import sign_as
from tests.bidding.evaluation.report.world import World, build_world
from tests.bidding.factories import Party, bidder_party, published_tender, tenderee_party
from tests.bidding.live_server import ServerProcess
from tests.bidding.opening.hall_support import sign_in_hall
from tests.bidding.test_web import log_in
from tests.trading.guarantees.api.conftest import Bank, onboard
from tests.trading.guarantees.api.test_client_end_to_end import _client, e2e_settings, server
from tests.trading.parties.certificates.conftest import dev_ca, dev_pki, dev_tsa
from tests.trading.parties.certificates.helpers import load_dev_lists
from trading.guarantees.models import (
    CashBondRefund,
    ClaimStatus,
    Guarantee,
    GuaranteeApplication,
    GuaranteeClaim,
    GuaranteeRelease,
    GuaranteeStatus,
)
from trading.guarantees.release_jobs import RELEASE_TASK, release_bid_securities
from trading.kernel import clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import RecordingPublisher

__all__ = ["award_hook", "dev_ca", "dev_pki", "dev_tsa", "e2e_settings", "server"]

REQUIRED = Decimal("10000.00")
PRICES = {"A": "1180000.00", "B": "1215000.00", "C": "1300000.00"}


# --- the world: two processes and one database ---------------------------------------------------


@dataclass
class Platform:
    """The database (real commits), the live server and the guarantor's client, an in-process app
    over the same database for the steps the test runs under a shifted clock."""

    maker: async_sessionmaker[AsyncSession]
    settings: Settings
    store: FileStore
    server: ServerProcess
    live: httpx.AsyncClient
    local: httpx.AsyncClient
    publisher: RecordingPublisher
    out: Path
    pki: DevPki
    tsa: LocalTsa
    bank: Bank

    def guarantor_client(self) -> dict[str, Any]:
        """One pass of ``python -m trading.guarantees.client`` (its own process, key and certificate)."""
        return _client(self.server.base_url, self.out, "--approve-up-to", "5000000")

    async def later(self, tender: Tender, extra: timedelta = timedelta(0)) -> clock.ShiftedClock:
        """A clock just past ``tender``'s deadline (plus ``extra``)."""
        assert tender.deadline is not None
        async with self.maker() as session:
            return clock.ShiftedClock(tender.deadline - await clock.now(session) + timedelta(seconds=1) + extra)

    async def run_release_jobs(self) -> list[dict[str, Any]]:
        """The release events enqueued since the last call, each run as the worker runs the task
        (`trading.guarantees.release_tasks`: the job function with the message's kwargs)."""
        queued = [m for m in self.publisher.published if m.name == RELEASE_TASK]
        self.publisher.published.clear()
        for message in queued:
            await release_bid_securities(self.maker, **message.kwargs)
        return [m.kwargs for m in queued]


@pytest.fixture
async def platform(  # noqa: PLR0917 - the fixtures it needs
    e2e_settings: Settings,
    server: ServerProcess,
    dev_ca: tuple[Path, dict[str, Any]],
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    publisher: RecordingPublisher,
) -> AsyncIterator[Platform]:
    from trading.server.app import create_app

    out, manifest = dev_ca
    engine = create_engine(e2e_settings.db.url)
    maker = create_session_maker(engine)
    try:
        await load_dev_lists(maker, e2e_settings, out, manifest)
        async with maker() as session, session.begin():
            bank = await onboard(session, e2e_settings, dev_pki.guarantor)
        app = create_app(e2e_settings, session_maker=maker, publisher=publisher)
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=60) as live,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as local,  # type: ignore[arg-type]
        ):
            yield Platform(
                maker,
                e2e_settings,
                FileStore(e2e_settings.storage_dir),
                server,
                live,
                local,
                publisher,
                out,
                dev_pki,
                dev_tsa,
                bank,
            )
    finally:
        await engine.dispose()


async def tender_with_security(p: Platform, owner: Party) -> Tender:
    """A published engineering tender whose lot L1 requires 10,000 yuan, cash or e-guarantee."""
    lots = [LotCreate("L1", "一标段", Decimal("1500000.00"), REQUIRED, bid_security_forms=["cash", "guarantee"])]
    return await published_tender(p.maker, p.settings, p.store, owner, lots=lots, bid_validity_days=60)


async def apply_on_the_page(p: Platform, bidder: Party, code: str) -> GuaranteeApplication:
    """The bidder's 我的保函 page on the live server: the guarantor's product, the project and the
    lot; the beneficiary, amount and validity are the tender's."""
    p.live.cookies.clear()
    token = await log_in(p.live, bidder)
    page = await p.live.get("/guarantees/mine/")
    assert page.status_code == 200, page.text
    assert str(p.bank.product.id) in page.text  # the guarantor is offered (in a neutral order)
    sent = await p.live.post(
        "/guarantees/mine/",
        data={"_csrf_token": token, "product_id": str(p.bank.product.id), "project_code": code, "lot_code": "L1"},
    )
    assert sent.status_code == 303, sent.text
    async with p.maker() as session:
        return (
            await session.scalars(
                sa.select(GuaranteeApplication).where(
                    GuaranteeApplication.applicant_organisation_id == bidder.organisation_id,
                    GuaranteeApplication.project_code == code,
                )
            )
        ).one()


async def bidder_sees(p: Platform, bidder: Party, guarantee_no: str) -> str:
    """The guarantee's status in the bidder's API (live server)."""
    p.live.cookies.clear()
    got = await p.live.get(f"/api/v1/guarantees/{guarantee_no}", headers=await bidder.headers(p.live))
    assert got.status_code == 200, got.text
    return str(got.json()["status"])


async def publicly(p: Platform, guarantee: Guarantee) -> str:
    """The public verification endpoint's answer for the code printed on the guarantee."""
    got = await p.live.get(f"/api/v1/guarantees/verify/{guarantee.verification_code}")
    assert got.status_code == 200, got.text
    return str(got.json()["status"])


async def guarantee_of(p: Platform, application: GuaranteeApplication) -> Guarantee:
    async with p.maker() as session:
        return (await session.scalars(sa.select(Guarantee).where(Guarantee.application_id == application.id))).one()


async def status_of(p: Platform, guarantee: Guarantee) -> GuaranteeStatus:
    async with p.maker() as session:
        return (await session.get_one(Guarantee, guarantee.id)).status


async def submit_bid(
    p: Platform, bidder: Party, tender: Tender, guarantee: dict[str, str], price: str = PRICES["A"]
) -> None:
    """The sealed bid, its signed manifest naming the security, uploaded through the bidding API."""
    assert tender.deadline is not None
    built = await build(
        p.settings.var_dir / f"bid-{bidder.uscc}",
        bidder,
        tender=tender.project_code,
        lot="L1",
        deadline=tender.deadline,
        price=price,
        guarantee=guarantee,
    )
    await (await bid_client(p.local, bidder)).upload(tender.project_code, "L1", built.path)


async def securities_page(p: Platform, owner: Party, code: str, shifted: clock.ShiftedClock) -> str:
    """The tenderee's 投标保证金 page (after the deadline: the in-process app under ``shifted``)."""
    p.local.cookies.clear()
    with clock.use_clock(shifted):
        await log_in(p.local, owner)
        page = await p.local.get(f"/guarantees/securities?project={code}")
    assert page.status_code == 200, page.text
    return page.text


def card_of(html: str, guarantee_no: str) -> str:
    """The page's card of the guarantee ``guarantee_no``."""
    for card in re.findall(r"<article class=\"card\".*?</article>", html, flags=re.DOTALL):
        if f"<code>{guarantee_no}</code>" in card:
            return str(card)
    raise AssertionError(f"{guarantee_no} not on the page")


# --- tender A: issued, verified, awarded, released ------------------------------------------------


async def test_tender_a_issued_by_the_client_verified_awarded_and_released(  # noqa: PLR0915 - one story
    platform: Platform,
) -> None:
    p = platform
    owner = await tenderee_party(p.maker, p.settings, p.pki)
    await bind_certificate(p.maker, owner)
    bidders = {letter: await bidder_party(p.maker, p.settings, p.pki) for letter in "ABC"}
    tender = await tender_with_security(p, owner)
    code = tender.project_code

    # A and B apply on the page; the client process approves and issues with its own key.
    applications = {letter: await apply_on_the_page(p, bidders[letter], code) for letter in "AB"}
    assert all(a.amount == REQUIRED and a.beneficiary_uscc == owner.uscc for a in applications.values())
    tally = p.guarantor_client()
    assert sorted(tally["approved"]) == sorted(a.application_no for a in applications.values())
    guarantees = {letter: await guarantee_of(p, a) for letter, a in applications.items()}
    assert sorted(tally["issued"]) == sorted(g.guarantee_no for g in guarantees.values())
    for letter, guarantee in guarantees.items():
        assert await bidder_sees(p, bidders[letter], guarantee.guarantee_no) == "issued"
        assert await publicly(p, guarantee) == "issued"

    # The bids: A and B name their guarantees in the signed manifest (verified at intake), C gives cash.
    for letter in "AB":
        reference = {"form": "guarantee", "reference": guarantees[letter].guarantee_no}
        await submit_bid(p, bidders[letter], tender, reference, PRICES[letter])
    await submit_bid(p, bidders["C"], tender, {"form": "cash", "reference": ""}, PRICES["C"])
    async with p.maker() as session:
        attached = {g.guarantee_no: g.bid_id for g in (await session.scalars(sa.select(Guarantee))).all()}
    assert all(attached[g.guarantee_no] is not None for g in guarantees.values())

    # Past the deadline: the hall opens and closes; the record's job judges every security again
    # (marking the guarantees verified) and publishes the platform-signed record, public to all.
    shifted = await p.later(tender)
    with clock.use_clock(shifted):
        await open_and_close_the_hall(p, owner, bidders, code, shifted)
        assert await publish_record(p.maker, p.settings, p.store, code) is not None
        published = await p.local.get(f"/api/v1/bidding/opening/{code}/record.pdf")
    assert published.status_code == 200, published.text
    record = pdf_text(published.content, p.settings.var_dir)
    assert record.count("保函核验通过") == 2, record  # A's and B's; C gave cash
    assert "现金" in record  # C's security, not judged: cash
    for letter in "AB":
        assert await status_of(p, guarantees[letter]) is GuaranteeStatus.VERIFIED
        assert await bidder_sees(p, bidders[letter], guarantees[letter].guarantee_no) == "verified"
    page = await securities_page(p, owner, code, shifted)
    for letter in "AB":
        card = card_of(page, guarantees[letter].guarantee_no)
        assert bidders[letter].name in card
        assert 'data-status="verified"' in card

    # The evaluation (its committee and scores in the tables, as the award stories build it) over
    # the opened bids, winner A first: its bid list judges each security again.
    async with p.maker() as session:
        opened = {
            b.organisation_id: b
            for b in (
                await session.scalars(
                    sa.select(OpeningBid).join(Bid, Bid.id == OpeningBid.bid_id).where(Bid.tender_id == tender.id)
                )
            ).all()
        }
    in_order = [opened[bidders[letter].organisation_id] for letter in "ABC"]
    with clock.use_clock(shifted):
        world = await build_world(p.maker, p.pki, members=3, over=(tender.id, in_order))
        async with p.maker() as session:
            statuses = await statuses_by_bidder(
                session, p.settings, p.store, [(b.lot_id, b.organisation_id) for b in in_order]
            )
    assert [statuses[(b.lot_id, b.organisation_id)].state for b in in_order] == [
        SecurityState.VERIFIED,
        SecurityState.VERIFIED,
        SecurityState.CASH,
    ]

    # The report signed by the committee starts the award; publicity, its close, A confirmed.
    with clock.use_clock(shifted):
        await signed(p, world)
        award = await award_of(p.maker, world)
        publicity = await open_publicity(p.maker, p.settings, award, owner, owner)
    async with p.maker() as session:
        now = await clock.now(session)
    closed = clock.ShiftedClock(publicity.closes_at - now + timedelta(seconds=1))
    with clock.use_clock(closed):
        assert (await run_sweep(p.maker, [AwardDue()])).total_changed == 1
        award = await confirm_winner(p.maker, p.settings, award, owner, str(in_order[0].id))
        assert award.state is AwardState.AWARDED
        assert award.chosen_organisation_id == bidders["A"].organisation_id

        # The award notices: the last signature issues them; the losers' securities are released.
        p.publisher.published.clear()
        await issue_notices(p, owner, award.id)
    [at_notice] = await p.run_release_jobs()
    assert {s["organisation_id"] for s in at_notice["securities"]} == {
        str(bidders["B"].organisation_id),
        str(bidders["C"].organisation_id),
    }
    assert await status_of(p, guarantees["B"]) is GuaranteeStatus.RELEASED
    assert await status_of(p, guarantees["A"]) is GuaranteeStatus.VERIFIED  # the winner's stays live
    async with p.maker() as session:
        refund = (await session.scalars(sa.select(CashBondRefund).where(CashBondRefund.project_code == code))).one()
    assert refund.bidder_organisation_id == bidders["C"].organisation_id
    assert await bidder_sees(p, bidders["B"], guarantees["B"].guarantee_no) == "released"
    assert await publicly(p, guarantees["B"]) == "released"
    # The guarantor's system learns of the release and acknowledges it.
    tally = p.guarantor_client()
    assert tally["releases_acknowledged"] == [guarantees["B"].guarantee_no]
    assert await acknowledged(p, guarantees["B"])

    # The contract, signed by the winner then the tenderee: the winner's guarantee is released.
    with clock.use_clock(closed):
        await sign_the_contract(p, owner, bidders["A"], award.id)
    events = await p.run_release_jobs()
    assert len(events) == 1
    assert events[0]["winner_organisation_id"] == str(bidders["A"].organisation_id)
    assert await status_of(p, guarantees["A"]) is GuaranteeStatus.RELEASED
    assert await status_of(p, guarantees["B"]) is GuaranteeStatus.RELEASED  # again: nothing changes
    async with p.maker() as session:
        reasons = {r.guarantee_id: r.reason.value for r in (await session.scalars(sa.select(GuaranteeRelease))).all()}
    assert reasons == {guarantees["A"].id: "contract_signed", guarantees["B"].id: "not_awarded"}
    assert await bidder_sees(p, bidders["A"], guarantees["A"].guarantee_no) == "released"
    tally = p.guarantor_client()
    assert tally["releases_acknowledged"] == [guarantees["A"].guarantee_no]
    assert await acknowledged(p, guarantees["A"])
    # After the contract no bid is revoked any more (撤销 runs until the contract).
    p.local.cookies.clear()
    with clock.use_clock(closed), pytest.raises(BidRejected) as after_contract:
        await (await bid_client(p.local, bidders["B"])).revoke(code, "L1", bidders["B"].sign.signing())
    assert (after_contract.value.status, after_contract.value.rule) == (409, "before-contract")
    page = await securities_page(p, owner, code, closed)
    for letter in "AB":
        assert 'data-status="released"' in card_of(page, guarantees[letter].guarantee_no)


async def open_and_close_the_hall(
    p: Platform, owner: Party, bidders: dict[str, Party], code: str, t: clock.ShiftedClock
) -> None:
    """The deadline's sweep opens the hall; the bidders sign in and decrypt; the window's end
    starts 唱标, the host moves to confirmation, and the sweep closes the opening at its end."""
    host = await owner.headers(p.local)

    async def move(action: str) -> None:
        moved = await p.local.post(f"/api/v1/bidding/opening/{code}/transitions", json={"action": action}, headers=host)
        assert moved.status_code == 200, moved.text

    await run_sweep(p.maker, [TenderDeadline(p.store), OpeningClock()])
    clients = {letter: await bid_client(p.local, bidder) for letter, bidder in bidders.items()}
    for letter, bidder in bidders.items():
        await sign_in_hall(clients[letter], code, bidder)
    await move("decryption")
    for letter, bidder in bidders.items():
        assert bidder.encrypt is not None
        await decrypt_bid(clients[letter], code, "L1", bidder.uscc, bidder.encrypt.key)  # type: ignore[arg-type]
    t.advance(timedelta(hours=2))  # the decryption window has ended (all decrypted: 唱标 already)
    await run_sweep(p.maker, [OpeningClock()])
    hall = await p.local.get(f"/api/v1/bidding/opening/{code}", headers=host)
    assert hall.json()["stage"] == "price-reading", hall.text
    await move("confirmation")
    t.advance(timedelta(hours=1))  # the confirmation windows end: closed
    assert (await run_sweep(p.maker, [OpeningClock()])).changed == {"bidding.opening_clock": 1}


async def signed(p: Platform, world: World) -> None:
    """The report rendered and signed by every member (the last signature publishes the results)."""
    assert await publish_report(p.maker, p.settings, p.store, world.evaluation_id) is not None
    for signer in world.signers:
        answer = await sign_as(p.maker, p.settings, p.store, p.tsa, world, signer)
    assert answer["completed"] is True


async def issue_notices(p: Platform, owner: Party, award_id: uuid.UUID) -> None:
    """Each notice drafted, signed as ``ggzy bid sign-notice`` signs it and uploaded."""
    async with transaction(p.maker, lock=True) as session:
        draft_ids = [d.id for d in await notices.prepare_drafts(session, p.store, owner.actor(), award_id)]
    for draft_id in draft_ids:
        async with p.maker() as session:
            draft = await notices.draft_pdf(session, p.store, owner.actor(), draft_id)
        pdf = await client_sign_notice(draft, owner.sign.signing(), tsa=p.tsa)
        async with transaction(p.maker, lock=True) as session:
            await notices.sign_notice(session, p.settings, p.store, owner.actor(), draft_id, pdf)


async def sign_the_contract(p: Platform, owner: Party, winner: Party, award_id: uuid.UUID) -> None:
    """The contract drafted by the tenderee, signed by the winner, then by the tenderee."""
    async with transaction(p.maker, lock=True) as session:
        await contracts.draft_contract(session, p.store, owner.actor(), award_id)
    for party in (winner, owner):
        async with p.maker() as session:
            current = await contracts.contract_pdf(session, p.store, party.actor(), award_id)
        pdf = await client_sign_contract(current, party.sign.signing(), tsa=p.tsa)
        async with transaction(p.maker, lock=True) as session:
            await contracts.sign_contract(
                session, p.settings, store=p.store, actor=party.actor(), award_id=award_id, pdf=pdf
            )


async def acknowledged(p: Platform, guarantee: Guarantee) -> bool:
    async with p.maker() as session:
        release = await session.scalar(sa.select(GuaranteeRelease).where(GuaranteeRelease.guarantee_id == guarantee.id))
    return release is not None and release.acknowledged_at is not None


# --- tender B: a withdrawal after the deadline, claimed and answered -----------------------------


async def test_tender_b_a_claim_after_a_withdrawal_after_the_deadline_answered_by_the_client(
    platform: Platform,
) -> None:
    p = platform
    owner = await tenderee_party(p.maker, p.settings, p.pki)
    bidder = await bidder_party(p.maker, p.settings, p.pki)
    tender = await tender_with_security(p, owner)
    code = tender.project_code
    application = await apply_on_the_page(p, bidder, code)
    assert p.guarantor_client()["issued"] != []
    guarantee = await guarantee_of(p, application)
    await submit_bid(p, bidder, tender, {"form": "guarantee", "reference": guarantee.guarantee_no})
    async with p.maker() as session:
        bid = (await session.scalars(sa.select(Bid).where(Bid.tender_id == tender.id))).one()
    assert bid.id == (await guarantee_of(p, application)).bid_id

    url = f"/api/v1/award/tenders/{code}/securities/claims"
    claim = {"bid": str(bid.id), "trigger": "withdrawal_after_deadline", "statement": "投标人在投标截止后撤销投标文件"}
    p.live.cookies.clear()
    headers = await owner.headers(p.live)
    # Nothing in the tender's records yet: the claim is refused, naming the rule.
    refused = await p.live.post(url, json=claim, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["rule"] == "trigger_not_recorded"

    # The bidder's 撤销 an hour after the deadline, through the API (`bidding.intake.revocation`).
    await revocation_after_the_deadline(p, bid, tender, bidder)

    # The tenderee files the claim through the platform's API; the guarantor's client answers it.
    filed = await p.live.post(url, json=claim, headers=headers)
    assert filed.status_code == 201, filed.text
    async with p.maker() as session:
        claims = await session.scalars(sa.select(GuaranteeClaim).where(GuaranteeClaim.guarantee_id == guarantee.id))
        row = claims.one()
    assert row.status is ClaimStatus.FILED
    assert row.amount == REQUIRED
    assert await status_of(p, guarantee) is GuaranteeStatus.CLAIMED
    tally = p.guarantor_client()
    assert tally["claims_answered"] == [str(row.id)]
    async with p.maker() as session:
        answered = await session.get_one(GuaranteeClaim, row.id)
    assert answered.status is ClaimStatus.PAID
    assert answered.answer
    assert await status_of(p, guarantee) is GuaranteeStatus.PAID_OUT
    assert await bidder_sees(p, bidder, guarantee.guarantee_no) == "paid_out"
    page = await securities_page(p, owner, code, await p.later(tender, timedelta(hours=2)))
    card = card_of(page, guarantee.guarantee_no)
    assert 'data-status="paid_out"' in card
    assert 'data-claim-status="paid"' in card


async def revocation_after_the_deadline(p: Platform, bid: Bid, tender: Tender, bidder: Party) -> None:
    """The bidder's 撤销 an hour after the deadline through the API and the SDK (`BidClient.revoke`:
    the bidder's CAdES over the revocation statement, which states that the security may be kept or
    claimed; the platform's signed receipt). The in-process app serves it, under a clock moved past
    the deadline (the live server's clock cannot move). The guarantee stays bound to the bid: a
    撤销's security is forfeit, not freed."""
    p.local.cookies.clear()
    with clock.use_clock(await p.later(tender, timedelta(hours=1))):
        sdk = await bid_client(p.local, bidder)
        receipt = await sdk.revoke(tender.project_code, "L1", bidder.sign.signing())
    assert receipt.record["kind"] == "revocation"
    assert receipt.record["signerSha256"] == bidder.sign.certificate.fingerprint(hashes.SHA256()).hex()
    async with p.maker() as session:
        row = await session.get_one(Bid, bid.id)
        version = await session.get_one(BidVersion, row.current_version_id)
    assert (row.status, version.kind) == (BidStatus.REVOKED, VersionKind.REVOCATION)
    assert version.manifest == fmt.revocation_statement(
        tender.project_code, "L1", bidder.uscc, receipt.record["revokesReceiptNo"]
    )
