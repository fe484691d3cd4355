"""The public verification page and API (reveal only the listed fields) and the centre's guarantor page."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.guarantees.factories import SYSTEM, certificate_pem, issued, organisation
from tests.trading.parties.factories import PASSWORD, Account, create_account, csrf_token
from trading.guarantees import lifecycle
from trading.guarantees.models import Guarantee, GuaranteeProduct, Guarantor, ReleaseReason
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.parties.models import OrganisationKind

PUBLIC_FIELDS = {
    "guarantee_no",
    "kind",
    "issuer",
    "applicant",
    "beneficiary",
    "project_code",
    "lot_code",
    "lot_name",
    "amount",
    "currency",
    "valid_from",
    "valid_until",
    "status",
}


async def _issued(session_maker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path) -> Guarantee:
    async with session_maker() as session, session.begin():
        guarantee, *_ = await issued(session, settings, tmp_path)
    return guarantee


async def test_api_reveals_only_the_public_fields(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    guarantee = await _issued(session_maker, settings, tmp_path)
    response = await client.get(f"/api/v1/guarantees/verify/{guarantee.verification_code.lower()}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == PUBLIC_FIELDS
    assert body["guarantee_no"] == guarantee.guarantee_no
    assert body["amount"] == "80000.00" or float(body["amount"]) == 80000
    assert body["status"] == "issued"
    for secret in ("fee", "bid_id", "applicant_uscc", "json_key", "verification_code"):
        assert secret not in response.text or (
            secret == "verification_code" and guarantee.verification_code not in response.text
        )
    assert guarantee.applicant_uscc not in response.text
    unknown = await client.get("/api/v1/guarantees/verify/ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert unknown.status_code == 404
    assert "forged" in unknown.json()["detail"]
    assert unknown.headers["content-type"].startswith("application/problem+json")


async def test_page_by_code_and_form_in_chinese(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, tmp_path: Path
) -> None:
    guarantee = await _issued(session_maker, settings, tmp_path)
    async with session_maker() as session, session.begin():
        await lifecycle.request_release(session, SYSTEM, guarantee.id, ReleaseReason.NOT_AWARDED)
    page = await client.get(f"/guarantees/verify/{guarantee.verification_code}")
    assert page.status_code == 200
    assert guarantee.guarantee_no in page.text
    assert 'data-status="released"' in page.text
    assert "已注销" in page.text
    assert "80,000.00" in page.text or "80000.00" in page.text
    assert guarantee.applicant_uscc not in page.text  # the applicant's name, not its code
    assert "200.00" not in page.text  # the fee (0.5 % of 80 000 = 400, minimum 200) is not shown
    assert "400.00" not in page.text
    form = await client.get("/guarantees/verify", params={"code": "0000 0000 0000 0000"})
    assert form.status_code == 404
    assert "可能是伪造的" in form.text
    empty = await client.get("/guarantees/verify")
    assert empty.status_code == 200
    assert 'id="verification-result"' not in empty.text


async def _log_in(client: httpx.AsyncClient, account: Account) -> None:
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text


async def test_admin_onboards_a_guarantor_and_its_product(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with session_maker() as session, session.begin():
        bank = await organisation(session, settings, OrganisationKind.BANK)
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    await _log_in(client, bidder)
    assert (await client.get("/admin/guarantors")).status_code == 403
    await client.post("/logout", data={"_csrf_token": csrf_token((await client.get("/account")).text)})
    client.cookies.clear()
    await _log_in(client, await create_account(session_maker, settings, Role.ADMIN))
    page = await client.get("/admin/guarantors")
    assert page.status_code == 200
    token = csrf_token(page.text)
    refused = await client.post(
        "/admin/guarantors/",
        data={"_csrf_token": token, "organisation": "NO-SUCH-CODE", "issuing_certificate": "junk"},
    )
    assert refused.status_code == 422
    assert 'data-rule="exists"' in refused.text or "没有该统一社会信用代码" in refused.text
    pem = certificate_pem("演示银行").decode()
    done = await client.post(
        "/admin/guarantors/",
        data={"_csrf_token": token, "organisation": bank.uscc, "issuing_certificate": pem, "branch": "江苏分行"},
    )
    assert done.status_code == 303, done.text
    async with session_maker() as session:
        row = (await session.execute(select(Guarantor).where(Guarantor.organisation_id == bank.id))).scalar_one()
    bad = await client.post(
        f"/admin/guarantors/{row.id}/products",
        data={"_csrf_token": token, "kind": "bid", "name": "投标保函", "fee_rate_percent": "0", "minimum_fee": ""},
    )
    assert bad.status_code == 422
    assert 'data-rule="fee_rate"' in bad.text
    added = await client.post(
        f"/admin/guarantors/{row.id}/products",
        data={"_csrf_token": token, "kind": "bid", "name": "投标保函", "fee_rate_percent": "0.3", "minimum_fee": "100"},
    )
    assert added.status_code == 303, added.text
    async with session_maker() as session:
        products = (
            (await session.execute(select(GuaranteeProduct).where(GuaranteeProduct.guarantor_id == row.id)))
            .scalars()
            .all()
        )
    assert [(p.kind.value, str(p.fee_rate_percent)) for p in products] == [("bid", "0.3000")]
    listed = await client.get("/admin/guarantors")
    assert "演示银行" in listed.text
    assert "江苏分行" in listed.text
