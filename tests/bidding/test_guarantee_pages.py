"""The guarantees pages with a real published tender (issue 17 point 6): the bidder's application
takes the beneficiary, lot, amount and validity from the tender (``trading/server/guarantee_facts.py``
over ``required_security``), and the tenderee's securities page names who gave a guarantee only
after the bid deadline, only to the tender's owners; a claim is filed from it.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.sdk import sign_statement_async
from bidding.intake.service import IntakeService
from bidding.models import Bid, Tender
from bidding.policies import BiddingPermission
from bidding.schemas import LotCreate
from certs.devpki.pki import DevPki
from tests.bidding.containers import build
from tests.bidding.factories import Party, published_tender, tenderee_party
from tests.bidding.harness import submit_in_process
from tests.bidding.test_web import log_in
from tests.trading.guarantees.factories import SYSTEM, bid_product, certificate_pem, organisation, sha256_of_pem
from trading.guarantees import service
from trading.guarantees.models import ClaimStatus, Guarantee, GuaranteeApplication, GuaranteeClaim, GuaranteeStatus
from trading.guarantees.rules import CHINA
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.models import OrganisationKind

pytestmark = pytest.mark.usefixtures("dev_lists")


async def _apply_through_the_page(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    bidder: Party,
    code: str,
) -> tuple[GuaranteeApplication, bytes]:
    pem = certificate_pem()
    async with session_maker() as session, session.begin():
        bank = await organisation(session, settings, OrganisationKind.BANK)
        row = await service.onboard_guarantor(session, SYSTEM, organisation_id=bank.id, issuing_certificate=pem)
        product = await bid_product(session, row)
    token = await log_in(client, bidder)
    # Only the product, the project and the lot: the rest is the tender's, whatever is typed.
    response = await client.post(
        "/guarantees/mine/",
        data={
            "_csrf_token": token,
            "product_id": str(product.id),
            "project_code": code,
            "lot_code": "L1",
            "beneficiary_name": "别的单位",
            "amount": "1",
        },
    )
    assert response.status_code == 303, response.text
    async with session_maker() as session:
        application = (
            await session.execute(
                sa.select(GuaranteeApplication).where(
                    GuaranteeApplication.applicant_organisation_id == bidder.organisation_id
                )
            )
        ).scalar_one()
    return application, pem


async def test_bidder_applies_with_the_tenders_facts_and_the_tenderee_sees_it_after_the_deadline(  # noqa: PLR0915
    *,
    tmp_path: Path,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    bidder: Party,
    dev_pki: DevPki,
) -> None:
    lots = [LotCreate("L1", "一标段", Decimal("500000.00"), Decimal("10000.00"))]
    tender = await published_tender(session_maker, settings, store, owner, lots=lots, bid_validity_days=60)
    assert tender.deadline is not None
    application, pem = await _apply_through_the_page(client, session_maker, settings, bidder, tender.project_code)
    assert (application.beneficiary_uscc, application.beneficiary_name) == (owner.uscc, owner.name)
    assert (application.lot_code, application.lot_name, application.amount) == ("L1", "一标段", Decimal("10000.00"))
    assert application.valid_from == tender.deadline.astimezone(CHINA).date()
    assert (
        application.valid_until
        >= (tender.deadline + timedelta(days=60) - timedelta(seconds=1)).astimezone(CHINA).date()
    )

    # An unknown tender with nothing typed: each missing fact is named.
    token = str(client.cookies["ggzy_csrf"])
    refused = await client.post(
        "/guarantees/mine/",
        data={
            "_csrf_token": token,
            "product_id": str(application.product_id),
            "project_code": "NO-SUCH",
            "lot_code": "L1",
        },
    )
    assert refused.status_code == 422
    for field in ("lot_name", "beneficiary_name", "beneficiary_uscc", "amount", "valid_from", "valid_until"):
        assert f'href="#field-{field}"' in refused.text, field

    async with session_maker() as session, session.begin():
        await service.mark_paid(session, SYSTEM, application.id)
        guarantee = await service.record_issuance(
            session,
            SYSTEM,
            application.id,
            guarantee_no="BH-TENDER-0001",
            json_bytes=b"{}",
            cades_bytes=b"cades",
            pdf_bytes=b"%PDF-1.7",
            signer_cert_sha256=sha256_of_pem(pem),
            claim_conditions="投标人在投标截止后撤销投标文件的",
            issued_at=await clock.now(session),
            store=store,
        )

    # Before the deadline: the owner learns nothing, not even that a guarantee exists.
    client.cookies.clear()
    token = await log_in(client, owner)
    url = f"/guarantees/securities?project={tender.project_code}"
    sealed = await client.get(url)
    assert sealed.status_code == 200
    assert 'id="securities-sealed"' in sealed.text
    assert "BH-TENDER-0001" not in sealed.text
    early = await client.post(
        f"/guarantees/securities/{guarantee.id}/claim",
        data={"_csrf_token": token, "trigger": "withdrawal_after_deadline", "amount": "10000", "statement": "撤标"},
    )
    assert early.status_code == 404

    # The bidder's bid (cash in its manifest; the guarantee is attached to it below).
    intake = IntakeService(session_maker, settings, store)
    actor = bidder.actor(BiddingPermission.BID_SUBMIT)
    built = await build(tmp_path, bidder, tender=tender.project_code, lot="L1", deadline=tender.deadline)
    await submit_in_process(intake, actor, tender.project_code, "L1", built)

    async with session_maker() as session, session.begin():  # the deadline passes
        row = await session.get_one(Tender, tender.id)
        row.deadline = await clock.now(session) - timedelta(minutes=1)
    shown = await client.get(url)
    assert "BH-TENDER-0001" in shown.text
    assert bidder.name in shown.text

    # Another tenderee sees nothing of this tender, before or after.
    client.cookies.clear()
    stranger = await tenderee_party(session_maker, settings, dev_pki)
    stranger_token = await log_in(client, stranger)
    assert (await client.get(url)).status_code == 404
    assert (
        await client.post(
            f"/guarantees/securities/{guarantee.id}/claim",
            data={"_csrf_token": stranger_token, "trigger": "refused_to_sign", "amount": "1", "statement": "x"},
        )
    ).status_code == 404

    # The owner claims: the missing trigger and a too large amount are named; then it is filed.
    client.cookies.clear()
    token = await log_in(client, owner)
    bad = await client.post(
        f"/guarantees/securities/{guarantee.id}/claim",
        data={"_csrf_token": token, "trigger": "", "amount": "10000", "statement": "撤标"},
    )
    assert bad.status_code == 422
    assert 'href="#field-trigger"' in bad.text
    # A claim needs the trigger in the tender's records (§6.1): none yet for this guarantee's bid.
    unrecorded = await client.post(
        f"/guarantees/securities/{guarantee.id}/claim",
        data={"_csrf_token": token, "trigger": "withdrawal_after_deadline", "amount": "10000.00", "statement": "撤标"},
    )
    assert unrecorded.status_code == 422
    assert 'data-rule="trigger_not_recorded"' in unrecorded.text
    async with session_maker() as session:
        assert await session.scalar(sa.select(sa.func.count()).select_from(GuaranteeClaim)) == 0
    # The guarantee secures the bidder's bid, which the bidder revokes (撤销) after the deadline.
    async with session_maker() as session, session.begin():
        bid = (await session.execute(sa.select(Bid).where(Bid.tender_id == tender.id))).scalar_one()
        await service.attach_to_bid(session, SYSTEM, guarantee.id, bid.id)
    statement = await intake.revocation_statement(actor, tender.project_code, "L1")
    signature = await sign_statement_async(statement, bidder.sign.signing())
    await intake.revoke(actor, tender.project_code, "L1", base64.b64encode(signature).decode())
    too_much = await client.post(
        f"/guarantees/securities/{guarantee.id}/claim",
        data={"_csrf_token": token, "trigger": "withdrawal_after_deadline", "amount": "10000.01", "statement": "撤标"},
    )
    assert too_much.status_code == 422
    assert 'data-rule="claim_amount"' in too_much.text
    filed = await client.post(
        f"/guarantees/securities/{guarantee.id}/claim",
        data={
            "_csrf_token": token,
            "trigger": "withdrawal_after_deadline",
            "amount": "10000.00",
            "statement": "投标人在投标截止后撤销投标文件",
        },
    )
    assert filed.status_code == 303, filed.text
    async with session_maker() as session:
        claim = (await session.execute(sa.select(GuaranteeClaim))).scalar_one()
        assert (claim.status, claim.claimant_organisation_id) == (ClaimStatus.FILED, owner.organisation_id)
        assert (await session.get_one(Guarantee, guarantee.id)).status is GuaranteeStatus.CLAIMED
    listed = await client.get(url)
    assert 'data-claim-status="filed"' in listed.text
