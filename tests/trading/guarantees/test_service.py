"""Guarantors, products, the neutral list, applications, issuance, verification and the bid (PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.trading.guarantees.factories import (
    SYSTEM,
    bid_product,
    certificate_pem,
    guarantor,
    issued,
    organisation,
    request,
    sha256_of_pem,
)
from trading.guarantees import rules as shared_rules
from trading.guarantees import service
from trading.guarantees.errors import GuaranteeAlreadyUsed, GuaranteeRefused, GuaranteeStateError
from trading.guarantees.models import (
    ApplicationStatus,
    GuaranteeKind,
    GuaranteeProduct,
    GuaranteeStatus,
    Guarantor,
    GuarantorStatus,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.ledger.models import LedgerEntry
from trading.parties.models import OrganisationKind


def rules(exc: pytest.ExceptionInfo[GuaranteeRefused]) -> set[tuple[str, str]]:
    return {(item["field"], item["rule"]) for item in exc.value.extra["errors"]}


async def actions(session: AsyncSession, subject_id: uuid.UUID) -> list[str]:
    query = (
        select(LedgerEntry.action)
        .where(LedgerEntry.subject_id == str(subject_id))
        .order_by(LedgerEntry.occurred_at, LedgerEntry.seq)
    )
    return list((await session.execute(query)).scalars())


async def test_onboarding_stores_the_certificate_and_records_it(session: AsyncSession, settings: Settings) -> None:
    row, pem = await guarantor(session, settings)
    assert row.issuing_cert_sha256 == sha256_of_pem(pem)
    assert row.api_cert_sha256 == row.issuing_cert_sha256  # one certificate for both unless told
    assert "测试银行保函签章" in row.issuing_cert_subject
    assert row.status == GuarantorStatus.ACTIVE
    assert row.kind == "bank"
    assert await actions(session, row.id) == ["guarantees.guarantor_onboarded"]


async def test_onboarding_refusals(session: AsyncSession, settings: Settings) -> None:
    enterprise = await organisation(session, settings)
    with pytest.raises(GuaranteeRefused) as exc:
        await service.onboard_guarantor(
            session,
            SYSTEM,
            organisation_id=enterprise.id,
            issuing_certificate=certificate_pem(),
            callback_url="ftp://x",
        )
    assert rules(exc) == {("organisation_id", "guarantor_kind"), ("callback_url", "callback_url_scheme")}
    row, pem = await guarantor(session, settings)
    insurer = await organisation(session, settings, OrganisationKind.INSURER)
    with pytest.raises(GuaranteeRefused) as exc:
        await service.onboard_guarantor(session, SYSTEM, organisation_id=insurer.id, issuing_certificate=pem)
    assert rules(exc) == {("issuing_certificate", "certificate_in_use"), ("api_certificate", "certificate_in_use")}
    with pytest.raises(GuaranteeRefused) as exc:
        await service.onboard_guarantor(
            session, SYSTEM, organisation_id=row.organisation_id, issuing_certificate=certificate_pem()
        )
    assert rules(exc) == {("organisation_id", "already_onboarded")}
    with pytest.raises(GuaranteeRefused) as exc:
        await service.onboard_guarantor(session, SYSTEM, organisation_id=insurer.id, issuing_certificate=b"not a cert")
    assert exc.value.rule == "guarantor_certificate"


async def test_suspension_hides_the_guarantor_and_refuses_applications(
    session: AsyncSession, settings: Settings
) -> None:
    row, _ = await guarantor(session, settings)
    product = await bid_product(session, row)
    await service.suspend(session, SYSTEM, row.id)
    assert row.id not in {g.id for g in await service.guarantors_for(session, SYSTEM)}
    bidder = await organisation(session, settings)
    with pytest.raises(GuaranteeRefused) as exc:
        await service.apply(session, SYSTEM, request(product, bidder, bidder))
    assert ("product_id", "guarantor_active") in rules(exc)
    await service.set_guarantor_status(session, SYSTEM, row.id, GuarantorStatus.ACTIVE)
    assert await actions(session, row.id) == [
        "guarantees.guarantor_onboarded",
        "guarantees.guarantor_suspended",
        "guarantees.guarantor_reinstated",
    ]


async def test_product_refusals(session: AsyncSession, settings: Settings) -> None:
    row, _ = await guarantor(session, settings)
    with pytest.raises(GuaranteeRefused) as exc:
        await service.add_product(
            session,
            SYSTEM,
            row.id,
            kind=GuaranteeKind.BID,
            name=" ",
            fee_rate_percent=Decimal(0),
            minimum_fee=Decimal("1.001"),
        )
    assert rules(exc) == {("name", "required"), ("fee_rate_percent", "fee_rate"), ("minimum_fee", "amount_decimals")}


def viewer(organisation_id: uuid.UUID) -> Actor:
    return Actor(kind=ActorKind.USER, user_id=uuid.uuid4(), organisation_id=organisation_id)


async def test_the_list_is_neutral_random_per_viewer_stable_and_complete(
    session: AsyncSession, settings: Settings
) -> None:
    for _ in range(8):
        await guarantor(session, settings)
    active = {g.id for g in await service.all_guarantors(session) if g.status == GuarantorStatus.ACTIVE}
    orders = [[g.id for g in await service.guarantors_for(session, viewer(uuid.uuid4()))] for _ in range(6)]
    assert all(set(order) == active and len(order) == len(active) for order in orders)  # everyone, once
    assert len({tuple(order) for order in orders}) > 1  # 6 viewers over ≥ 8 guarantors: not one ranking
    one = viewer(uuid.uuid4())
    assert [g.id for g in await service.guarantors_for(session, one)] == [
        g.id for g in await service.guarantors_for(session, one)
    ]
    with clock.use_clock(clock.ShiftedClock(timedelta(days=1))):  # another day, another order for the same viewer
        tomorrow = [g.id for g in await service.guarantors_for(session, one)]
    assert set(tomorrow) == active


async def test_application_states_and_fee(session: AsyncSession, settings: Settings) -> None:
    row, _ = await guarantor(session, settings)
    product = await bid_product(session, row)
    bidder = await organisation(session, settings)
    tenderee = await organisation(session, settings, OrganisationKind.PURCHASER_UNIT)
    application = await service.apply(session, SYSTEM, request(product, bidder, tenderee, amount=Decimal("10000.00")))
    assert application.status == ApplicationStatus.APPLIED
    assert application.fee == Decimal("200.00")  # 0.5 % of 10 000 is 50: the minimum fee applies
    assert application.applicant_uscc == bidder.uscc
    big = await service.apply(session, SYSTEM, request(product, bidder, tenderee, amount=Decimal("123456.78")))
    assert big.fee == Decimal("617.28")
    paid = await service.mark_paid(session, SYSTEM, application.id)
    assert paid.status == ApplicationStatus.PAID
    with pytest.raises(GuaranteeStateError) as state:
        await service.mark_paid(session, SYSTEM, application.id)
    assert state.value.rule == "application_status"
    await service.refuse(session, SYSTEM, application.id, "项目资料不全")
    assert (application.status, application.refusal_reason) == (ApplicationStatus.REFUSED, "项目资料不全")
    with pytest.raises(GuaranteeStateError):
        await service.withdraw(session, SYSTEM, application.id)
    await service.withdraw(session, SYSTEM, big.id)
    assert big.status == ApplicationStatus.WITHDRAWN
    assert await actions(session, application.id) == [
        "guarantees.applied",
        "guarantees.application_paid",
        "guarantees.application_refused",
    ]
    with pytest.raises(GuaranteeRefused) as exc:
        await service.refuse(session, SYSTEM, big.id, " ")
    assert exc.value.rule == "required"


async def test_application_refusals_name_field_and_rule(session: AsyncSession, settings: Settings) -> None:
    row, _ = await guarantor(session, settings)
    product = await bid_product(session, row)
    bidder = await organisation(session, settings)
    bad = request(
        product,
        bidder,
        bidder,
        amount=Decimal("100.001"),
        valid_from=date(2027, 1, 1),
        valid_until=date(2027, 1, 1),
        currency="USD",
        beneficiary_uscc="123",
        lot_code=" ",
        security=GuaranteeKind.PERFORMANCE,
    )
    with pytest.raises(GuaranteeRefused) as exc:
        await service.apply(session, SYSTEM, bad)
    assert rules(exc) == {
        ("amount", "amount_decimals"),
        ("currency", "guarantee_currency"),
        ("valid_until", "validity_order"),
        ("lot_code", "required"),
        ("beneficiary_uscc", "uscc_length"),
        ("product_id", "product_kind"),
    }
    with pytest.raises(GuaranteeRefused) as exc:
        await service.apply(session, SYSTEM, request(product, bidder, bidder, amount=Decimal(0)))
    assert rules(exc) == {("amount", "amount_positive")}


async def test_issuance_stores_the_files_and_refuses_a_foreign_signer(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    guarantee, application, bidder, _ = await issued(session, settings, tmp_path)
    assert application.status == ApplicationStatus.ISSUED
    assert guarantee.status == GuaranteeStatus.ISSUED
    assert guarantee.amount == Decimal("80000.00")
    assert guarantee.applicant_uscc == bidder.uscc
    assert FileStore(tmp_path).path(guarantee.pdf_key).read_bytes() == b"%PDF-1.7 pdf"
    assert len(guarantee.verification_code) == 19
    assert shared_rules.normalise_code(guarantee.verification_code.lower()) == guarantee.verification_code
    assert guarantee.next_check == datetime(2027, 3, 31, 16, 0, tzinfo=UTC)  # 24:00 Beijing of the last day
    assert await actions(session, guarantee.id) == ["guarantees.issued"]
    # A second paid application of the same guarantor: a signature by another certificate is refused.
    product_id = application.product_id
    second = await service.apply(
        session, SYSTEM, request(await session.get_one(GuaranteeProduct, product_id), bidder, bidder)
    )
    with pytest.raises(GuaranteeStateError):  # not paid yet
        await service.record_issuance(
            session,
            SYSTEM,
            second.id,
            guarantee_no="X1",
            json_bytes=b"{}",
            cades_bytes=b"",
            pdf_bytes=b"",
            signer_cert_sha256=guarantee.signer_cert_sha256,
            claim_conditions="c",
            issued_at=datetime.now(UTC),
            store=FileStore(tmp_path),
        )
    await service.mark_paid(session, SYSTEM, second.id)
    with pytest.raises(GuaranteeRefused) as exc:
        await service.record_issuance(
            session,
            SYSTEM,
            second.id,
            guarantee_no=guarantee.guarantee_no,
            json_bytes=b"{}",
            cades_bytes=b"",
            pdf_bytes=b"",
            signer_cert_sha256=sha256_of_pem(certificate_pem()),
            claim_conditions="c",
            issued_at=datetime.now(UTC),
            store=FileStore(tmp_path),
        )
    assert rules(exc) == {("signer_cert_sha256", "signer_not_guarantor"), ("guarantee_no", "guarantee_no_taken")}


async def test_verification_and_one_bid_per_guarantee(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    guarantee, *_ = await issued(session, settings, tmp_path)
    other, *_ = await issued(session, settings, tmp_path)
    await service.mark_verified(session, SYSTEM, guarantee.id)
    await service.mark_verified(session, SYSTEM, guarantee.id)  # again at opening: nothing more
    assert guarantee.status == GuaranteeStatus.VERIFIED
    bid, another_bid = uuid.uuid4(), uuid.uuid4()
    await service.attach_to_bid(session, SYSTEM, guarantee.id, bid)
    await service.attach_to_bid(session, SYSTEM, guarantee.id, bid)  # same bid: unchanged
    with pytest.raises(GuaranteeAlreadyUsed) as exc:
        await service.attach_to_bid(session, SYSTEM, guarantee.id, another_bid)
    assert exc.value.rule == "guarantee_already_used"
    with pytest.raises(GuaranteeAlreadyUsed) as exc:
        await service.attach_to_bid(session, SYSTEM, other.id, bid)
    assert exc.value.rule == "bid_has_guarantee"
    await service.detach_from_bid(session, SYSTEM, guarantee.id)
    await service.attach_to_bid(session, SYSTEM, other.id, bid)
    assert other.bid_id == bid
    assert guarantee.bid_id is None
    assert await actions(session, guarantee.id) == [
        "guarantees.issued",
        "guarantees.verified",
        "guarantees.attached_to_bid",
        "guarantees.detached_from_bid",
    ]


async def test_bid_guarantee_entries_are_sealed(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    """Before the deadline an application would reveal who bids: its entries go on the sealed chain."""
    guarantee, application, *_ = await issued(session, settings, tmp_path)
    chains = set(
        (
            await session.execute(
                select(LedgerEntry.chain).where(LedgerEntry.subject_id.in_([str(guarantee.id), str(application.id)]))
            )
        ).scalars()
    )
    assert chains == {f"sealed:{guarantee.project_code}"}


async def test_public_view_and_codes(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    guarantee, *_ = await issued(session, settings, tmp_path)
    typed = guarantee.verification_code.replace("-", " ").lower().replace("0", "o")
    found = await service.verify_code(session, typed)
    assert found is not None
    assert found.guarantee_no == guarantee.guarantee_no
    assert found.issuer.endswith("南京分行")
    assert not hasattr(found, "fee")
    assert not hasattr(found, "bid_id")
    assert await service.verify_code(session, "0000-0000-0000-0000") is None
    assert await service.verify_code(session, "<script>") is None


async def test_lookups_for_the_next_flows(session: AsyncSession, settings: Settings, tmp_path: Path) -> None:
    guarantee, application, bidder, _ = await issued(session, settings, tmp_path)
    row = await session.get_one(Guarantor, guarantee.guarantor_id)
    assert await service.guarantor_by_api_key(session, row.api_cert_sha256.upper()) is row
    assert [a.id for a in await service.applications_of(session, bidder.id)] == [application.id]
    assert await service.guarantor_queue(session, row.id) == []  # issued: no longer waiting
    assert [a.id for a in await service.guarantor_queue(session, row.id, (ApplicationStatus.ISSUED,))] == [
        application.id
    ]
    assert await service.guarantee_of_application(session, application.id) is guarantee
    assert [g.id for g in await service.guarantees_of_project(session, guarantee.project_code)] == [guarantee.id]
