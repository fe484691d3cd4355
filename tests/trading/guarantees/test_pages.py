"""The guarantees pages (issue 17 point 6) on PostgreSQL: the bidder's 我的保函, the guarantor's
console and the supervisor's watch — 200 for the right role, 403 for the others, forms answering
303 on success and 422 naming the field, nothing half-written on a refusal. The tenderee's
securities page needs a real published tender: ``tests/bidding/test_guarantee_pages.py``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.trading.guarantees.factories import (
    SYSTEM,
    bid_product,
    certificate_pem,
    issued,
    organisation,
    sha256_of_pem,
)
from tests.trading.guarantees.factories import request as application_request
from tests.trading.parties.certificates.conftest import dev_ca, dev_lists, dev_pki, dev_tsa, settings
from tests.trading.parties.factories import PASSWORD, Account, create_account, csrf_token
from trading.guarantees import lifecycle, service
from trading.guarantees.client.issuer import IssuerFacts, build_guarantee
from trading.guarantees.document import issue
from trading.guarantees.models import (
    ApplicationStatus,
    ClaimStatus,
    ClaimTrigger,
    Guarantee,
    GuaranteeApplication,
    GuaranteeClaim,
    GuaranteeStatus,
    Guarantor,
    ReleaseReason,
)
from trading.guarantees.payer import payer_account
from trading.guarantees.repository import GuaranteesRepository
from trading.guarantees.rules import CHINA, verification_code_for
from trading.kernel.auth.roles import Role
from trading.kernel.calendar import shipped_calendar
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.models import Organisation, OrganisationKind

__all__ = ["dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings"]  # settings: the development trust list's

PAGES = {
    "/guarantees/mine": Role.BIDDER,
    "/guarantees/console": Role.GUARANTOR,
    "/guarantees/securities": Role.TENDEREE,
    "/guarantees/supervision": Role.SUPERVISOR,
}


async def _log_in(client: httpx.AsyncClient, account: Account) -> str:
    client.cookies.clear()
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text
    return csrf_token((await client.get("/account")).text)


async def _count(session_maker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with session_maker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("role", [Role.BIDDER, Role.GUARANTOR, Role.TENDEREE, Role.SUPERVISOR, Role.AGENCY])
async def test_each_page_opens_for_its_role_only(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, role: Role
) -> None:
    account = await create_account(session_maker, settings, role)
    if role is Role.GUARANTOR:  # the console is for an onboarded guarantor's staff
        async with session_maker() as session, session.begin():
            await service.onboard_guarantor(
                session, SYSTEM, organisation_id=account.organisation_id, issuing_certificate=certificate_pem()
            )
    await _log_in(client, account)
    for path, owner in PAGES.items():
        allowed = owner == role or (role is Role.AGENCY and owner is Role.TENDEREE)
        response = await client.get(path)
        assert response.status_code == (200 if allowed else 403), (role, path, response.status_code)


async def test_bidder_chooses_applies_sees_and_withdraws(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    async with session_maker() as session, session.begin():
        bank = await organisation(session, settings, OrganisationKind.BANK)
        row = await service.onboard_guarantor(
            session, SYSTEM, organisation_id=bank.id, issuing_certificate=certificate_pem(), display_name="甲银行"
        )
        product = await bid_product(session, row)
        tenderee = await organisation(session, settings, OrganisationKind.PURCHASER_UNIT)
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    token = await _log_in(client, bidder)
    page = await client.get("/guarantees/mine")
    assert page.status_code == 200
    assert 'id="neutral-order"' in page.text
    assert "平台不推荐、不指定任何出函机构" in page.text
    assert f'value="{product.id}"' in page.text
    english = await client.get("/locale/en", params={"next": "/guarantees/mine"}, follow_redirects=True)
    assert "no issuer" in english.text
    assert "My guarantees" in english.text
    await client.get("/locale/zh_CN", params={"next": "/"})

    # A tender unknown to the platform: everything by hand; a bad date and a missing lot name are named.
    form = {
        "_csrf_token": token,
        "product_id": str(product.id),
        "project_code": "OTHER-2026-001",
        "lot_code": "001",
        "lot_name": "",
        "beneficiary_name": tenderee.name,
        "beneficiary_uscc": tenderee.uscc,
        "amount": "80000",
        "valid_from": "2026-12-31",
        "valid_until": "31/03/2027",
    }
    before = await _count(session_maker, GuaranteeApplication)
    refused = await client.post("/guarantees/mine/", data=form)
    assert refused.status_code == 422
    assert 'href="#field-lot_name"' in refused.text
    assert 'href="#field-valid_until"' in refused.text
    assert 'data-rule="format"' in refused.text
    # The service's own rule (the validity ends before it starts), named on the form.
    backwards = await client.post("/guarantees/mine/", data=form | {"lot_name": "一标段", "valid_until": "2026-12-01"})
    assert backwards.status_code == 422
    assert 'data-rule="validity_order"' in backwards.text
    assert await _count(session_maker, GuaranteeApplication) == before  # nothing half-written

    done = await client.post("/guarantees/mine/", data=form | {"lot_name": "一标段", "valid_until": "2027-03-31"})
    assert done.status_code == 303, done.text
    async with session_maker() as session:
        application = (
            await session.execute(
                select(GuaranteeApplication).where(
                    GuaranteeApplication.applicant_organisation_id == bidder.organisation_id
                )
            )
        ).scalar_one()
    assert application.fee == Decimal("400.00")  # 0.5 % of 80 000, above the 200 minimum
    listed = await client.get("/guarantees/mine")
    assert f'id="a-{application.id}"' in listed.text
    assert "已申请，待支付" in listed.text
    assert "400.00" in listed.text

    # Another bidder can neither withdraw it nor download anything of it.
    other = await create_account(session_maker, settings, Role.BIDDER)
    other_token = await _log_in(client, other)
    assert (
        await client.post(f"/guarantees/mine/{application.id}/withdraw", data={"_csrf_token": other_token})
    ).status_code == 404
    assert (await client.get(f"/guarantees/mine/{application.id}/files/pdf")).status_code == 404

    token = await _log_in(client, bidder)
    withdrawn = await client.post(f"/guarantees/mine/{application.id}/withdraw", data={"_csrf_token": token})
    assert withdrawn.status_code == 303
    again = await client.post(f"/guarantees/mine/{application.id}/withdraw", data={"_csrf_token": token})
    assert again.status_code == 422
    assert 'data-rule="application_status"' in again.text
    async with session_maker() as session:
        assert (await session.get_one(GuaranteeApplication, application.id)).status is ApplicationStatus.WITHDRAWN


async def test_bidder_downloads_its_issued_guarantee(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    async with session_maker() as session, session.begin():
        bank = await organisation(session, settings, OrganisationKind.BANK)
        pem = certificate_pem()
        row = await service.onboard_guarantor(session, SYSTEM, organisation_id=bank.id, issuing_certificate=pem)
        product = await bid_product(session, row)
        tenderee = await organisation(session, settings, OrganisationKind.PURCHASER_UNIT)
        applicant = await session.get_one(Organisation, bidder.organisation_id)
        application = await service.apply(session, SYSTEM, application_request(product, applicant, tenderee))
        await service.mark_paid(session, SYSTEM, application.id, payer_account("6222021001123456789", "中国银行"))
        guarantee = await service.record_issuance(
            session,
            SYSTEM,
            application.id,
            guarantee_no="BH-PAGES-0001",
            json_bytes=b'{"guarantee":"pages"}',
            cades_bytes=b"cades-pages",
            pdf_bytes=b"%PDF-1.7 pages",
            signer_cert_sha256=sha256_of_pem(pem),
            claim_conditions="投标人在投标有效期内撤销投标文件的",
            issued_at=datetime.now(UTC),
            store=FileStore(settings.storage_dir),
        )
    await _log_in(client, bidder)
    page = await client.get("/guarantees/mine")
    assert "BH-PAGES-0001" in page.text
    assert f"/guarantees/verify/{guarantee.verification_code}" in page.text
    assert "保函费付款账户" in page.text  # issue 19: the fee's account, masked
    assert "****6789" in page.text
    assert "6222021001123456789" not in page.text
    for part, body, media in (
        ("json", b'{"guarantee":"pages"}', "application/json"),
        ("p7s", b"cades-pages", "application/pkcs7-signature"),
        ("pdf", b"%PDF-1.7 pages", "application/pdf"),
    ):
        response = await client.get(f"/guarantees/mine/{application.id}/files/{part}")
        assert response.status_code == 200
        assert response.content == body
        assert response.headers["content-type"].startswith(media)
    assert (await client.get(f"/guarantees/mine/{application.id}/files/exe")).status_code == 404


@pytest.mark.usefixtures("dev_lists")
async def test_guarantor_console_works_its_own_queue(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    staff = await create_account(session_maker, settings, Role.GUARANTOR)
    async with session_maker() as session, session.begin():
        mine = await service.onboard_guarantor(
            session, SYSTEM, organisation_id=staff.organisation_id, issuing_certificate=certificate_pem()
        )
        product = await bid_product(session, mine)
        bidder = await organisation(session, settings)
        tenderee = await organisation(session, settings, OrganisationKind.PURCHASER_UNIT)
        first = await service.apply(session, SYSTEM, application_request(product, bidder, tenderee))
        second = await service.apply(session, SYSTEM, application_request(product, bidder, tenderee))
        # Another guarantor's guarantee with a claim and a release: not this console's business.
        foreign, *_ = await issued(session, settings, tmp_path)
    token = await _log_in(client, staff)
    page = await client.get("/guarantees/console")
    assert page.status_code == 200
    assert first.application_no in page.text
    assert foreign.guarantee_no not in page.text

    assert "付款账号" in page.text  # issue 19: the account the fee was paid from, asked in Chinese
    # The payer's account is required and checked, every bad field named at once (issue 19).
    bad = await client.post(
        f"/guarantees/console/{first.id}/paid",
        data={"_csrf_token": token, "payer_account_no": "6222-12AB", "payer_bank": ""},
    )
    assert bad.status_code == 422
    assert 'data-rule="account-number-format"' in bad.text
    assert 'href="#field-payer_bank"' in bad.text or 'data-rule="required"' in bad.text
    paid = await client.post(
        f"/guarantees/console/{first.id}/paid",
        data={
            "_csrf_token": token,
            "payer_account_no": "6222 0210 0112 3456 789",
            "payer_bank": "中国工商银行北京海淀支行",
        },
    )
    assert paid.status_code == 303
    after = await client.get("/guarantees/console")
    assert "****6789" in after.text
    assert "6222021001123456789" not in after.text
    refused = await client.post(f"/guarantees/console/{second.id}/refuse", data={"_csrf_token": token, "reason": " "})
    assert refused.status_code == 422
    assert 'data-rule="required"' in refused.text
    done = await client.post(
        f"/guarantees/console/{second.id}/refuse", data={"_csrf_token": token, "reason": "资信不足"}
    )
    assert done.status_code == 303
    async with session_maker() as session:
        paid_row = await session.get_one(GuaranteeApplication, first.id)
        assert paid_row.status is ApplicationStatus.PAID
        assert (paid_row.payer_account_no, paid_row.payer_bank) == ("6222021001123456789", "中国工商银行北京海淀支行")
        refused_row = await session.get_one(GuaranteeApplication, second.id)
        assert (refused_row.status, refused_row.refusal_reason) == (ApplicationStatus.REFUSED, "资信不足")

    # Issuing: missing files are named; files that are no signed guarantee are refused by the
    # verification, and nothing is recorded.
    missing = await client.post(
        f"/guarantees/console/{first.id}/issue",
        data={"_csrf_token": token},
        files={"json": ("g.json", b'{"a":1}', "application/json")},
    )
    assert missing.status_code == 422
    assert 'href="#field-cades"' in missing.text
    forged = await client.post(
        f"/guarantees/console/{first.id}/issue",
        data={"_csrf_token": token},
        files={
            "json": ("g.json", b'{"format":"ggzy-guarantee/1"}', "application/json"),
            "cades": ("g.p7s", b"not a signature", "application/pkcs7-signature"),
            "pdf": ("g.pdf", b"%PDF-1.7 not signed", "application/pdf"),
        },
    )
    assert forged.status_code == 422
    assert re.search(r'data-rule="guarantee_(signature_invalid|malformed)"', forged.text), re.findall(
        r"data-rule=\"[^\"]*\"[^<]*<?[^<]*", forged.text
    )
    assert await _count(session_maker, Guarantee) == 1  # only the foreign one

    # Someone else's application or guarantee: 404 before anything changes.
    assert (
        await client.post(f"/guarantees/console/{foreign.application_id}/paid", data={"_csrf_token": token})
    ).status_code == 404
    assert (
        await client.post(f"/guarantees/console/releases/{foreign.id}/acknowledge", data={"_csrf_token": token})
    ).status_code == 404


async def _issue(
    session: AsyncSession, settings: Settings, guarantor: Guarantor, pem: bytes
) -> tuple[Guarantee, Organisation]:
    """A guarantee of ``guarantor`` for a fresh bidder to a fresh tenderee; returns it and the tenderee."""
    product = await bid_product(session, guarantor)
    bidder = await organisation(session, settings)
    tenderee = await organisation(session, settings, OrganisationKind.PURCHASER_UNIT)
    application = await service.apply(session, SYSTEM, application_request(product, bidder, tenderee))
    await service.mark_paid(session, SYSTEM, application.id)
    guarantee = await service.record_issuance(
        session,
        SYSTEM,
        application.id,
        guarantee_no=f"BH-C-{application.application_no}",
        json_bytes=application.application_no.encode(),
        cades_bytes=b"cades",
        pdf_bytes=b"%PDF-1.7",
        signer_cert_sha256=sha256_of_pem(pem),
        claim_conditions="投标人在投标有效期内撤销投标文件的",
        issued_at=datetime.now(UTC),
        store=FileStore(settings.storage_dir),
    )
    return guarantee, tenderee


async def test_guarantor_answers_claims_and_acknowledges_releases(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    staff = await create_account(session_maker, settings, Role.GUARANTOR)
    pem = certificate_pem()
    async with session_maker() as session, session.begin():
        mine = await service.onboard_guarantor(
            session, SYSTEM, organisation_id=staff.organisation_id, issuing_certificate=pem
        )
        claimed, tenderee = await _issue(session, settings, mine, pem)
        claim = await lifecycle.file_claim(
            session,
            SYSTEM,
            claimed.id,
            trigger=ClaimTrigger.REFUSED_TO_SIGN,
            claimant_organisation_id=tenderee.id,
            amount=Decimal("80000.00"),
            statement="中标人拒绝签订合同",
        )
        released, _ = await _issue(session, settings, mine, pem)
        await lifecycle.request_release(session, SYSTEM, released.id, ReleaseReason.NOT_AWARDED)
        foreign, *_ = await issued(session, settings, tmp_path)
        await lifecycle.request_release(session, SYSTEM, foreign.id, ReleaseReason.NOT_AWARDED)
    token = await _log_in(client, staff)
    page = await client.get("/guarantees/console")
    assert f'id="c-{claim.id}"' in page.text
    assert "中标人拒绝签订合同" in page.text
    assert f'id="r-{released.id}"' in page.text
    assert f'id="r-{foreign.id}"' not in page.text
    no_choice = await client.post(
        f"/guarantees/console/claims/{claim.id}/answer", data={"_csrf_token": token, "decision": "", "answer": "x"}
    )
    assert no_choice.status_code == 422
    assert 'data-rule="choice"' in no_choice.text
    async with session_maker() as session:
        assert (await session.get_one(GuaranteeClaim, claim.id)).status is ClaimStatus.FILED
    paid = await client.post(
        f"/guarantees/console/claims/{claim.id}/answer",
        data={"_csrf_token": token, "decision": "pay", "answer": "经审核，同意赔付"},
    )
    assert paid.status_code == 303
    acknowledged = await client.post(
        f"/guarantees/console/releases/{released.id}/acknowledge", data={"_csrf_token": token}
    )
    assert acknowledged.status_code == 303
    async with session_maker() as session:
        assert (await session.get_one(GuaranteeClaim, claim.id)).status is ClaimStatus.PAID
        assert (await session.get_one(Guarantee, claimed.id)).status is GuaranteeStatus.PAID_OUT
        assert (await lifecycle.claims_of(session, claimed.id))[0].answer == "经审核，同意赔付"
        release = await GuaranteesRepository(session).release_of(released.id)
        assert release is not None
        assert release.acknowledged_at is not None
    # Another guarantor's release is not this console's to acknowledge.
    assert (
        await client.post(f"/guarantees/console/releases/{foreign.id}/acknowledge", data={"_csrf_token": token})
    ).status_code == 404


async def test_supervisor_sees_overdue_releases_and_late_refund_interest(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    async with session_maker() as session, session.begin():
        guarantee, _, bidder, _ = await issued(session, settings, tmp_path)
        await lifecycle.request_release(session, SYSTEM, guarantee.id, ReleaseReason.CONTRACT_SIGNED)
        refund = await lifecycle.record_cash_bond_refund(
            session,
            SYSTEM,
            project_code=f"CASH-{guarantee.guarantee_no}",
            lot_code="001",
            bidder_organisation_id=bidder.id,
            amount=Decimal("10000.00"),
            cause_date=date(2026, 9, 30),
            calendar=shipped_calendar(),
        )
    supervisor = await create_account(session_maker, settings, Role.SUPERVISOR)
    await _log_in(client, supervisor)
    fresh = await client.get("/guarantees/supervision")
    assert f'data-guarantee="{guarantee.guarantee_no}"' not in fresh.text  # requested just now: not overdue
    async with session_maker() as session, session.begin():  # the guarantor has been silent for two days
        release = await GuaranteesRepository(session).release_of(guarantee.id)
        assert release is not None
        release.requested_at -= timedelta(days=2)
    late = await client.get("/guarantees/supervision")
    today = datetime.now(UTC).astimezone(CHINA).date()
    assert f'data-guarantee="{guarantee.guarantee_no}"' in late.text
    days = (today - refund.due_date).days
    assert days > 0
    # 10 000 × 4.35 % × 1.2 / 360 per day (87号令 Art. 38).
    interest = (Decimal("10000.00") * Decimal("0.0522") * days / 360).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert f'data-late-days="{days}"' in late.text
    assert f"{interest:,.2f}" in late.text


async def test_the_console_issues_a_guarantee_that_prints_the_code_it_showed(  # noqa: PLR0917 - pytest fixtures
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    dev_lists: None,
) -> None:
    """The console shows the code a paid application's guarantee must print (the same the guarantor
    API gives); an upload printing another is refused, the right one is recorded with that code, so
    the public page answers the code on the paper."""
    staff = await create_account(session_maker, settings, Role.GUARANTOR)
    pem = dev_pki.guarantor.certificate.public_bytes(Encoding.PEM)
    async with session_maker() as session, session.begin():
        mine = await service.onboard_guarantor(
            session, SYSTEM, organisation_id=staff.organisation_id, issuing_certificate=pem
        )
        product = await bid_product(session, mine)
        bidder = await organisation(session, settings)
        tenderee = await organisation(session, settings, OrganisationKind.PURCHASER_UNIT)
        application = await service.apply(session, SYSTEM, application_request(product, bidder, tenderee))
        await service.mark_paid(session, SYSTEM, application.id)
    token = await _log_in(client, staff)
    page = await client.get("/guarantees/console")
    shown = re.search(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code>", page.text)
    assert shown is not None, page.text
    code = shown.group(1)
    assert code == verification_code_for(settings.secret("secret_key"), application.application_no)

    detail = {
        "application_no": application.application_no,
        "kind": application.kind.value,
        "applicant": {"name": application.applicant_name, "uscc": application.applicant_uscc},
        "beneficiary": {"name": application.beneficiary_name, "uscc": application.beneficiary_uscc},
        "project_code": application.project_code,
        "lot_code": application.lot_code,
        "lot_name": application.lot_name,
        "amount": str(application.amount),
        "currency": application.currency,
        "valid_from": application.valid_from.isoformat(),
        "valid_until": application.valid_until.isoformat(),
        "verification_url": "https://ggzy.example/guarantees/verify",
        "verification_code": code,
    }
    issuer = IssuerFacts.of(dev_pki.guarantor.certificate)

    async def upload(printed: str) -> httpx.Response:
        signed = await issue(
            build_guarantee({**detail, "verification_code": printed}, issuer), dev_pki.guarantor.signing(), tsa=dev_tsa
        )
        return await client.post(
            f"/guarantees/console/{application.id}/issue",
            data={"_csrf_token": token},
            files={
                "json": ("g.json", signed.json, "application/json"),
                "cades": ("g.p7s", signed.cades, "application/pkcs7-signature"),
                "pdf": ("g.pdf", signed.pdf, "application/pdf"),
            },
        )

    other = verification_code_for(b"another platform's key", application.application_no)
    refused = await upload(other)
    assert refused.status_code == 422, refused.text
    assert 'data-rule="verification_code"' in refused.text
    assert await _count(session_maker, Guarantee) == 0

    accepted = await upload(code)
    assert accepted.status_code == 303, accepted.text
    async with session_maker() as session:
        recorded = (await session.execute(select(Guarantee))).scalar_one()
    assert recorded.verification_code == code
    public = await client.get(f"/api/v1/guarantees/verify/{code}")
    assert public.status_code == 200, public.text
    assert public.json()["guarantee_no"] == recorded.guarantee_no
