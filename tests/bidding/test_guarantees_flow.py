"""The electronic guarantee inside the tender's life (issue 17 points 2, 4, 5): checked at bid intake
with real signatures (the development PKI's guarantor, the platform's trust list), judged again at
the opening, claimed after a withdrawal after the deadline, released after the contract, expired
by the sweep.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award.securities import bid_securities, file_security_claim
from bidding.client import format as fmt
from bidding.client.sdk import sign_statement_async
from bidding.errors import BidRefused
from bidding.guarantees_flow import SecurityState, security_status
from bidding.intake.service import IntakeService
from bidding.integrity.screens.evidence import screen_evidence
from bidding.integrity.screens.rules import load_catalogue
from bidding.integrity.signals import lot_signals
from bidding.models import Bid, BidStatus, BidVersion, Tender
from bidding.policies import BiddingPermission
from bidding.schemas import LotCreate
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.containers import build
from tests.bidding.factories import Party, bidder_party, published_tender
from tests.bidding.harness import submit_in_process
from tests.trading.guarantees.factories import organisation
from trading.guarantees import document, service
from trading.guarantees.models import (
    CashBondRefund,
    ClaimTrigger,
    Guarantee,
    GuaranteeKind,
    GuaranteeRelease,
    GuaranteeStatus,
    Guarantor,
)
from trading.guarantees.payer import PayerAccount, payer_account
from trading.guarantees.release_jobs import GuaranteeExpiryNotified, release_bid_securities
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import DomainError
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.ledger.models import LedgerEntry
from trading.notifications.models import Notice
from trading.parties.models import Organisation, OrganisationKind

pytestmark = pytest.mark.usefixtures("dev_lists")

SYSTEM = Actor.system()
REQUIRED = Decimal("10000.00")


@dataclass
class World:
    tender: Tender
    tenderee: Organisation
    guarantor: Guarantor
    guarantor_uscc: str


@pytest.fixture
async def world(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore, owner: Party, dev_pki: DevPki
) -> World:
    lots = [
        LotCreate("L1", "一标段", Decimal("500000.00"), REQUIRED, bid_security_forms=["cash", "guarantee"]),
        LotCreate("L2", "二标段", Decimal("500000.00"), REQUIRED, bid_security_forms=["cash", "guarantee"]),
    ]
    tender = await published_tender(session_maker, settings, store, owner, lots=lots, bid_validity_days=60)
    async with session_maker() as session:
        bank = await organisation(session, settings, OrganisationKind.BANK)
        pem = dev_pki.guarantor.certificate.public_bytes(Encoding.PEM)
        guarantor = await service.onboard_guarantor(session, SYSTEM, organisation_id=bank.id, issuing_certificate=pem)
        tenderee = await session.get_one(Organisation, owner.organisation_id)
        await session.commit()
    uscc = str(dev_pki.guarantor.certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value)
    return World(tender, tenderee, guarantor, uscc)


async def issue_guarantee(  # noqa: PLR0917 - the facts a test changes
    session_maker: async_sessionmaker[AsyncSession],
    store: FileStore,
    dev_pki: DevPki,
    tsa: LocalTsa,
    world: World,
    applicant: Party,
    *,
    lot_code: str = "L1",
    amount: Decimal = REQUIRED,
    beneficiary: tuple[str, str] | None = None,
    payer: PayerAccount | None = None,
) -> Guarantee:
    """A bid guarantee issued by the development PKI's guarantor (real CAdES and PAdES) and recorded;
    ``payer``: the account its fee was paid from (issue 19)."""
    tender = world.tender
    assert tender.deadline is not None
    beneficiary_name, beneficiary_uscc = beneficiary or (world.tenderee.name, world.tenderee.uscc)
    valid_from = tender.deadline - timedelta(days=2)
    valid_until = tender.deadline + timedelta(days=90)
    async with session_maker() as session:
        product = await service.add_product(
            session,
            SYSTEM,
            world.guarantor.id,
            kind=GuaranteeKind.BID,
            name="投标保函",
            fee_rate_percent=Decimal("0.5"),
        )
        application = await service.apply(
            session,
            SYSTEM,
            service.ApplicationRequest(
                product_id=product.id,
                applicant_organisation_id=applicant.organisation_id,
                beneficiary_name=beneficiary_name,
                beneficiary_uscc=beneficiary_uscc,
                project_code=tender.project_code,
                lot_code=lot_code,
                lot_name="一标段",
                amount=amount,
                valid_from=valid_from.astimezone(UTC).date(),
                valid_until=valid_until.astimezone(UTC).date(),
            ),
        )
        await service.mark_paid(session, SYSTEM, application.id, payer)
        number = f"BH{uuid.uuid4().hex[:10].upper()}"
        issued_at = datetime.now(UTC).replace(microsecond=0)
        data = document.Guarantee(
            guarantee_no=number,
            kind=document.GuaranteeKind.BID,
            issuer=document.Issuer("江苏银行股份有限公司(开发)", world.guarantor_uscc, document.IssuerType.BANK, ""),
            applicant=document.Organisation(applicant.name, applicant.uscc),
            beneficiary=document.Organisation(beneficiary_name, beneficiary_uscc),
            project_code=tender.project_code,
            lot_code=lot_code,
            lot_name="一标段",
            amount=amount,
            currency="CNY",
            valid_from=valid_from,
            valid_until=valid_until,
            claim_conditions="投标人在投标有效期内撤销投标文件的。",
            issued_at=issued_at,
            verification_url="https://ggzy.invalid/guarantees/verify",
            verification_code="K7Q2-9XPM",
        )
        signed = await document.issue(data, dev_pki.guarantor.signing(), tsa=tsa)
        guarantee = await service.record_issuance(
            session,
            SYSTEM,
            application.id,
            guarantee_no=number,
            json_bytes=signed.json,
            cades_bytes=signed.cades,
            pdf_bytes=signed.pdf,
            signer_cert_sha256=world.guarantor.issuing_cert_sha256,
            claim_conditions=data.claim_conditions,
            issued_at=issued_at,
            store=store,
        )
        await session.commit()
        return guarantee


def bid_actor(party: Party) -> Actor:
    return party.actor(BiddingPermission.BID_SUBMIT)


async def submit(  # noqa: PLR0917 - the world and the bid
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    tmp_path: Path,
    world: World,
    party: Party,
    guarantee: dict[str, str],
    *,
    lot: str = "L1",
) -> None:
    assert world.tender.deadline is not None
    built = await build(
        tmp_path,
        party,
        tender=world.tender.project_code,
        lot=lot,
        deadline=world.tender.deadline,
        guarantee=guarantee,
        name=f"{uuid.uuid4().hex[:8]}.zip",
    )
    intake = IntakeService(session_maker, settings, store)
    await submit_in_process(intake, bid_actor(party), world.tender.project_code, lot, built)


async def bids_of(session_maker: async_sessionmaker[AsyncSession], tender: Tender) -> list[Bid]:
    async with session_maker() as session:
        return list((await session.scalars(sa.select(Bid).where(Bid.tender_id == tender.id))).all())


@pytest.fixture
async def other_bidder(session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki) -> Party:
    return await bidder_party(session_maker, settings, dev_pki)


async def test_a_bid_naming_a_valid_guarantee_is_accepted_and_the_guarantee_attached(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    world: World,
    bidder: Party,
    tmp_path: Path,
) -> None:
    guarantee = await issue_guarantee(session_maker, store, dev_pki, dev_tsa, world, bidder)
    await submit(
        session_maker,
        settings,
        store,
        tmp_path,
        world,
        bidder,
        {"form": "guarantee", "reference": guarantee.guarantee_no},
    )
    [bid] = await bids_of(session_maker, world.tender)
    async with session_maker() as session:
        row = await session.get_one(Guarantee, guarantee.id)
        assert row.bid_id == bid.id
        attached = await session.scalar(
            sa.select(LedgerEntry).where(
                LedgerEntry.action == "guarantees.attached_to_bid", LedgerEntry.subject_id == str(guarantee.id)
            )
        )
        assert attached is not None
        # Judged again (at the opening): verified, and marked so.
        status = await security_status(session, settings, store, SYSTEM, bid, mark=True)
        assert status.state is SecurityState.VERIFIED
        assert status.guarantee_no == guarantee.guarantee_no
        assert (await session.get_one(Guarantee, guarantee.id)).status is GuaranteeStatus.VERIFIED


@pytest.mark.parametrize(
    ("case", "rule"),
    [
        ("unknown", "guarantee_unknown"),
        ("other_lot", "guarantee_lot_mismatch"),
        ("other_beneficiary", "guarantee_beneficiary_mismatch"),
        ("other_bidder", "guarantee_applicant_mismatch"),
        ("insufficient", "guarantee_amount_insufficient"),
    ],
)
async def test_each_wrong_guarantee_is_refused_at_intake_naming_the_reason(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    world: World,
    bidder: Party,
    other_bidder: Party,
    tmp_path: Path,
    case: str,
    rule: str,
) -> None:
    reference = "BH-NOT-ON-PLATFORM"
    if case != "unknown":
        all_changes: dict[str, dict[str, Any]] = {
            "other_lot": {"lot_code": "L2"},
            "other_beneficiary": {"beneficiary": ("别的招标人", "91320000MA1XXXXXX1")},
            "other_bidder": {},
            "insufficient": {"amount": REQUIRED - Decimal("0.01")},
        }
        changes = all_changes[case]
        applicant = other_bidder if case == "other_bidder" else bidder
        if case == "other_beneficiary":
            stranger = await _organisation(session_maker, settings)
            changes = {"beneficiary": (stranger.name, stranger.uscc)}
        reference = (
            await issue_guarantee(session_maker, store, dev_pki, dev_tsa, world, applicant, **changes)
        ).guarantee_no
    with pytest.raises(BidRefused) as refused:
        await submit(
            session_maker, settings, store, tmp_path, world, bidder, {"form": "guarantee", "reference": reference}
        )
    assert (refused.value.field, refused.value.rule) == ("manifest.guarantee.reference", rule)
    assert await bids_of(session_maker, world.tender) == []  # nothing stored
    async with session_maker() as session:
        attached = await session.scalar(
            sa.select(sa.func.count()).select_from(Guarantee).where(Guarantee.bid_id.is_not(None))
        )
        assert attached == 0


async def _organisation(session_maker: async_sessionmaker[AsyncSession], settings: Settings) -> Organisation:
    async with session_maker() as session:
        row = await organisation(session, settings, OrganisationKind.PURCHASER_UNIT)
        await session.commit()
        return row


async def test_a_guarantee_already_securing_another_bid_is_refused(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    world: World,
    bidder: Party,
    tmp_path: Path,
) -> None:
    guarantee = await issue_guarantee(session_maker, store, dev_pki, dev_tsa, world, bidder)
    reference = {"form": "guarantee", "reference": guarantee.guarantee_no}
    await submit(session_maker, settings, store, tmp_path, world, bidder, reference)
    # The same bidder's bid on the other lot names the same guarantee (it is for L1 anyway, but the
    # database's one-bid rule answers first).
    with pytest.raises(BidRefused) as refused:
        await submit(session_maker, settings, store, tmp_path, world, bidder, reference, lot="L2")
    assert (refused.value.field, refused.value.rule) == ("manifest.guarantee.reference", "guarantee_already_used")
    # A new version of the same bid naming it again is fine (still one guarantee, one bid).
    await submit(session_maker, settings, store, tmp_path, world, bidder, reference)
    bids = await bids_of(session_maker, world.tender)
    assert len(bids) == 1


async def test_a_claim_after_a_withdrawal_after_the_deadline(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    world: World,
    owner: Party,
    bidder: Party,
    tmp_path: Path,
) -> None:
    guarantee = await issue_guarantee(session_maker, store, dev_pki, dev_tsa, world, bidder)
    await submit(
        session_maker,
        settings,
        store,
        tmp_path,
        world,
        bidder,
        {"form": "guarantee", "reference": guarantee.guarantee_no},
    )
    [bid] = await bids_of(session_maker, world.tender)
    tenderee = owner.actor()
    statement = "投标截止后撤销投标文件"
    code = world.tender.project_code
    async with session_maker() as session:
        # No trigger recorded yet: refused, naming the rule.
        with pytest.raises(DomainError) as refused:
            await file_security_claim(
                session,
                tenderee,
                tender_code=code,
                bid_id=bid.id,
                trigger=ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE,
                statement=statement,
            )
        assert refused.value.rule == "trigger_not_recorded"
        assert world.tender.deadline is not None
        shift = world.tender.deadline - await clock.now(session) + timedelta(hours=1)
    # The bidder's 撤销 an hour after the deadline, through intake: its signed revocation statement.
    intake = IntakeService(session_maker, settings, store)
    with clock.use_clock(clock.ShiftedClock(shift)):
        revocation = await intake.revocation_statement(bid_actor(bidder), code, "L1")
        signature = await sign_statement_async(revocation, bidder.sign.signing())
        receipt = await intake.revoke(bid_actor(bidder), code, "L1", base64.b64encode(signature).decode())
        assert receipt.record["kind"] == "revocation"
        await _claims_after_revocation(session_maker, world, owner, bidder, bid, guarantee, statement)


async def _claims_after_revocation(  # noqa: PLR0917 - the story's parties
    session_maker: async_sessionmaker[AsyncSession],
    world: World,
    owner: Party,
    bidder: Party,
    bid: Bid,
    guarantee: Guarantee,
    statement: str,
) -> None:
    tenderee = owner.actor()
    async with session_maker() as session:
        # The revoked bid keeps its guarantee: a 撤销's security is forfeit, not freed.
        assert (await session.get_one(Guarantee, guarantee.id)).bid_id == bid.id
        # Another organisation may not claim.
        with pytest.raises(DomainError) as not_owner:
            await file_security_claim(
                session,
                bid_actor(bidder),
                tender_code=world.tender.project_code,
                bid_id=bid.id,
                trigger=ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE,
                statement=statement,
            )
        assert not_owner.value.rule == "owner"
        claim = await file_security_claim(
            session,
            tenderee,
            tender_code=world.tender.project_code,
            bid_id=bid.id,
            trigger=ClaimTrigger.WITHDRAWAL_AFTER_DEADLINE,
            statement=statement,
        )
        assert claim.amount == REQUIRED
        assert (await session.get_one(Guarantee, guarantee.id)).status is GuaranteeStatus.CLAIMED
        notices = (await session.scalars(sa.select(Notice).where(Notice.template == "guarantees.claim_filed"))).all()
        assert {n.recipient_id for n in notices} >= {bidder.organisation_id, owner.organisation_id}
        await session.rollback()


async def test_the_release_job_releases_the_winner_and_losers_and_records_cash_refunds(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    world: World,
    bidder: Party,
    other_bidder: Party,
    tmp_path: Path,
) -> None:
    winner_guarantee = await issue_guarantee(session_maker, store, dev_pki, dev_tsa, world, bidder)
    await submit(
        session_maker,
        settings,
        store,
        tmp_path,
        world,
        bidder,
        {"form": "guarantee", "reference": winner_guarantee.guarantee_no},
    )
    loser = await bidder_party(session_maker, settings, dev_pki)
    loser_guarantee = await issue_guarantee(session_maker, store, dev_pki, dev_tsa, world, loser)
    await submit(
        session_maker,
        settings,
        store,
        tmp_path,
        world,
        loser,
        {"form": "guarantee", "reference": loser_guarantee.guarantee_no},
    )
    await submit(session_maker, settings, store, tmp_path, world, other_bidder, {"form": "cash", "reference": ""})
    async with session_maker() as session:
        tender = await session.get_one(Tender, world.tender.id)
        securities = await bid_securities(session, tender)
    assert sorted(s["form"] for s in securities) == ["cash", "guarantee", "guarantee"]
    event: dict[str, Any] = {
        "tender": world.tender.project_code,
        "signed_at": "2026-12-07T02:00:00+00:00",  # a Monday in Beijing
        "notice_issued_at": "2026-12-01T02:00:00+00:00",  # Tuesday
        "winner_organisation_id": str(bidder.organisation_id),
        "securities": securities,
    }
    # The award notices: every bidder but the winner (87号令 Art. 38), the winner's guarantee stays live.
    losers = [s for s in securities if s["organisation_id"] != str(bidder.organisation_id)]
    at_notice = await release_bid_securities(
        session_maker,
        tender=world.tender.project_code,
        winner_organisation_id=str(bidder.organisation_id),
        notice_issued_at=event["notice_issued_at"],
        securities=losers,
    )
    assert at_notice.released == 1
    async with session_maker() as session:
        assert (await session.get_one(Guarantee, loser_guarantee.id)).status is GuaranteeStatus.RELEASED
        assert (await session.get_one(Guarantee, winner_guarantee.id)).status is GuaranteeStatus.ISSUED
    # The contract: everyone; the losers again changes nothing.
    first = await release_bid_securities(session_maker, **event)
    again = await release_bid_securities(session_maker, **event)
    assert (first.released, again.released) == (2, 2)  # released now or found released
    async with session_maker() as session:
        releases = {r.guarantee_id: r.reason.value for r in (await session.scalars(sa.select(GuaranteeRelease))).all()}
        assert releases[winner_guarantee.id] == "contract_signed"
        assert releases[loser_guarantee.id] == "not_awarded"
        assert (await session.get_one(Guarantee, loser_guarantee.id)).status is GuaranteeStatus.RELEASED
        refunds = (
            await session.scalars(
                sa.select(CashBondRefund).where(CashBondRefund.project_code == world.tender.project_code)
            )
        ).all()
        # The shipped 2026 calendar: 5 working days after Tuesday 1 December is Tuesday 8 December.
        assert at_notice.refunds == 1
        [refund] = refunds
        assert refund.bidder_organisation_id == other_bidder.organisation_id
        assert refund.cause_date.isoformat() == "2026-12-01"  # the notice, not the contract
        assert refund.due_date.isoformat() == "2026-12-08"
        notices = (
            await session.scalars(sa.select(Notice).where(Notice.template == "guarantees.release_requested"))
        ).all()
        assert {n.recipient_id for n in notices} >= {bidder.organisation_id, loser.organisation_id}


async def test_a_live_guarantee_expires_by_the_sweep_at_validity_end(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    world: World,
    bidder: Party,
) -> None:
    guarantee = await issue_guarantee(session_maker, store, dev_pki, dev_tsa, world, bidder)
    handler = GuaranteeExpiryNotified()
    async with session_maker() as session:
        now = await clock.now(session)
        assert guarantee.id not in await handler.due(session, now, 100)
        assert guarantee.next_check is not None
        later = guarantee.next_check + timedelta(seconds=1)
        with clock.use_clock(clock.ShiftedClock(later - now)):
            shifted = await clock.now(session)
            assert guarantee.id in await handler.due(session, shifted, 100)
            assert await handler.run(session, guarantee.id, shifted)
            assert not await handler.run(session, guarantee.id, shifted)  # a repeated sweep changes nothing
        assert (await session.get_one(Guarantee, guarantee.id)).status is GuaranteeStatus.EXPIRED
        notice = await session.scalar(
            sa.select(Notice).where(
                Notice.template == "guarantees.expired", Notice.recipient_id == bidder.organisation_id
            )
        )
        assert notice is not None
        await session.rollback()


async def test_cash_and_none_statuses(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    world: World,
    bidder: Party,
    tmp_path: Path,
) -> None:
    await submit(session_maker, settings, store, tmp_path, world, bidder, {"form": "cash", "reference": ""})
    [bid] = await bids_of(session_maker, world.tender)
    assert bid.status is BidStatus.SUBMITTED
    async with session_maker() as session:
        status = await security_status(session, settings, store, SYSTEM, bid)
    assert status.state is SecurityState.CASH


def problem(response: httpx.Response) -> tuple[str, str]:
    """The first error of an RFC 9457 problem: its field and rule."""
    error = response.json()["errors"][0]
    return error["field"], error["rule"]


async def test_the_claim_api_names_field_and_rule(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    world: World,
    owner: Party,
    bidder: Party,
    tmp_path: Path,
) -> None:
    await submit(session_maker, settings, store, tmp_path, world, bidder, {"form": "cash", "reference": ""})
    [bid] = await bids_of(session_maker, world.tender)
    url = f"/api/v1/award/tenders/{world.tender.project_code}/securities/claims"
    headers = await owner.headers(client)
    body = {"bid": str(bid.id), "trigger": "decryption_failure", "statement": "未解密"}
    wrong = await client.post(url, json=body | {"trigger": "bored"}, headers=headers)
    assert wrong.status_code == 422, wrong.text
    assert problem(wrong) == ("trigger", "choice")
    unrecorded = await client.post(url, json=body, headers=headers)
    assert unrecorded.status_code == 422, unrecorded.text
    assert problem(unrecorded) == ("trigger", "trigger_not_recorded")
    stranger = await client.post(url, json=body, headers=await bidder.headers(client))
    assert stranger.status_code in {403, 404}


async def test_a_withdrawal_before_the_deadline_frees_the_guarantee(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    world: World,
    bidder: Party,
    tmp_path: Path,
) -> None:
    guarantee = await issue_guarantee(session_maker, store, dev_pki, dev_tsa, world, bidder)
    await submit(
        session_maker,
        settings,
        store,
        tmp_path,
        world,
        bidder,
        {"form": "guarantee", "reference": guarantee.guarantee_no},
    )
    [bid] = await bids_of(session_maker, world.tender)
    async with session_maker() as session:
        version = await session.get_one(BidVersion, bid.current_version_id)
    statement = fmt.withdrawal_statement(world.tender.project_code, "L1", bidder.uscc, version.receipt_no)
    signature = await sign_statement_async(statement, bidder.sign.signing())
    intake = IntakeService(session_maker, settings, store)
    await intake.withdraw(bid_actor(bidder), world.tender.project_code, "L1", base64.b64encode(signature).decode())
    async with session_maker() as session:
        assert (await session.get_one(Guarantee, guarantee.id)).bid_id is None  # free for another bid


@pytest.mark.parametrize("same_account", [True, False])
async def test_guarantee_fees_paid_from_one_account_are_hard_evidence(
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    world: World,
    bidder: Party,
    other_bidder: Party,
    tmp_path: Path,
    same_account: bool,
) -> None:
    """Issue 19: the account each guarantee's fee was paid from is in `lot_signals`; two bidders
    whose fees came from one account raise EVID-GUARANTEE-PAYER (实施条例 Art. 40 (6)), masked; two
    accounts raise nothing."""
    accounts = {
        bidder.uscc: payer_account("6222 0210 0112 3456 789", "中国工商银行北京海淀支行"),
        other_bidder.uscc: payer_account(
            "6222-0210-0112-3456-789" if same_account else "6217000010012345678", "中国工商银行北京海淀支行"
        ),
    }
    for party in (bidder, other_bidder):
        guarantee = await issue_guarantee(
            session_maker, store, dev_pki, dev_tsa, world, party, payer=accounts[party.uscc]
        )
        await submit(
            session_maker,
            settings,
            store,
            tmp_path,
            world,
            party,
            {"form": "guarantee", "reference": guarantee.guarantee_no},
        )
    async with session_maker() as session:
        signals = {s.bidder: s for s in await lot_signals(session, world.tender.id, "L1")}
    ours, theirs = signals[str(bidder.organisation_id)], signals[str(other_bidder.organisation_id)]
    assert ours.guarantee_payer_account == "6222021001123456789"
    assert (theirs.guarantee_payer_account == ours.guarantee_payer_account) is same_account
    findings = screen_evidence("ocid", "L1", list(signals.values()), load_catalogue())
    payer = [f for f in findings if f.rule == "EVID-GUARANTEE-PAYER"]
    if not same_account:
        assert payer == []
        return
    [finding] = payer
    assert finding.hard is True
    assert set(finding.subjects) == {str(bidder.organisation_id), str(other_bidder.organisation_id)}
    assert finding.evidence["value"] == "****6789"
    assert "第四十条第（六）项" in str(finding.evidence["basis"])
    assert "6222021001123456789" not in str(finding.evidence) + finding.summary
