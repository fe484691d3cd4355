"""The bidder's guarantee API on PostgreSQL: the neutral guarantor list, applying, one's own
applications and guarantees with their files, withdrawing; refusals name the field and rule, and
another organisation's application or guarantee is a 404.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import msgspec
from litestar import Litestar
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.guarantees.factories import SYSTEM, bid_product, guarantor, organisation, sha256_of_pem
from tests.trading.parties.factories import Account, api_token, bearer, create_account
from trading.guarantees import service
from trading.guarantees.api_bidder import ApplicationCreate
from trading.guarantees.models import GuaranteeApplication, GuaranteeProduct
from trading.guarantees.rules import CHINA
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.models import Organisation, OrganisationKind

API = "/api/v1/guarantees"


async def _product(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[GuaranteeProduct, bytes, Organisation]:
    async with session_maker() as session, session.begin():
        row, pem = await guarantor(session, settings)
        product = await bid_product(session, row)
        tenderee = await organisation(session, settings, OrganisationKind.PURCHASER_UNIT)
    return product, pem, tenderee


def _body(product: GuaranteeProduct, tenderee: Organisation, **changes: Any) -> dict[str, Any]:
    return {
        "product_id": str(product.id),
        "beneficiary_name": tenderee.name,
        "beneficiary_uscc": tenderee.uscc,
        "project_code": f"G-{uuid.uuid4().hex[:8]}",
        "lot_code": "001",
        "lot_name": "第一标段",
        "amount": "80000.00",
        "valid_from": "2026-12-01",
        "valid_until": "2027-03-31",
    } | changes


async def _bidder(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[Account, dict[str, str]]:
    account = await create_account(session_maker, settings, Role.BIDDER)
    return account, bearer(await api_token(client, account))


async def test_guarantors_are_listed_with_products_in_a_neutral_order(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    products = [await _product(session_maker, settings) for _ in range(3)]
    account, headers = await _bidder(client, session_maker, settings)
    response = await client.get(f"{API}/guarantors", headers=headers)
    assert response.status_code == 200, response.text
    listed = response.json()
    ids = [g["id"] for g in listed]
    ours = [product.guarantor_id for product, *_ in products]
    # The service's order for this viewer and day (SHA-256 of organisation, date, guarantor), not by name.
    today = datetime.now(CHINA).date()
    expected = sorted(ours, key=lambda gid: service.neutral_key(str(account.organisation_id), today, gid))
    assert [uuid.UUID(i) for i in ids if uuid.UUID(i) in ours] == expected
    mine = next(g for g in listed if g["id"] == str(products[0][0].guarantor_id))
    assert mine["products"] == [
        {
            "id": str(products[0][0].id),
            "kind": "bid",
            "name": "投标保函",
            "fee_rate_percent": "0.5000",
            "minimum_fee": "200.00",
        }
    ]
    assert (await client.get(f"{API}/guarantors", headers=headers)).json() == listed  # stable for the viewer
    assert (await client.get(f"{API}/guarantors")).status_code == 401


async def test_apply_list_show_and_withdraw(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    product, _, tenderee = await _product(session_maker, settings)
    account, headers = await _bidder(client, session_maker, settings)
    created = await client.post(f"{API}/applications", json=_body(product, tenderee), headers=headers)
    assert created.status_code == 201, created.text
    application = created.json()
    assert application["status"] == "applied"
    assert application["fee"] == "400.00"  # 0.5 % of 80 000
    assert application["guarantee_no"] is None
    number = application["application_no"]
    async with session_maker() as session:
        row = (
            await session.execute(select(GuaranteeApplication).where(GuaranteeApplication.application_no == number))
        ).scalar_one()
        assert row.applicant_organisation_id == account.organisation_id

    listed = await client.get(f"{API}/applications", headers=headers)
    assert [a["application_no"] for a in listed.json()] == [number]
    shown = await client.get(f"{API}/applications/{number}", headers=headers)
    assert shown.json() == application

    withdrawn = await client.post(f"{API}/applications/{number}/withdraw", headers=headers)
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn"
    again = await client.post(f"{API}/applications/{number}/withdraw", headers=headers)
    assert again.status_code == 409
    assert again.json()["errors"][0]["rule"] == "application_status"


async def test_refusals_name_the_field_and_rule(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    product, _, tenderee = await _product(session_maker, settings)
    _, headers = await _bidder(client, session_maker, settings)

    async def refused(**changes: Any) -> list[tuple[str, str]]:
        response = await client.post(f"{API}/applications", json=_body(product, tenderee, **changes), headers=headers)
        assert response.status_code == 422, response.text
        return [(e["field"], e["rule"]) for e in response.json()["errors"]]

    assert ("amount", "amount_positive") in await refused(amount="0")
    assert ("amount", "max-digits") in await refused(amount="1.234")  # the input bounds, before the service
    assert ("valid_until", "validity_order") in await refused(valid_until="2026-11-30")
    assert ("beneficiary_uscc", "uscc_length") in await refused(beneficiary_uscc="123")
    assert ("currency", "guarantee_currency") in await refused(currency="USD")
    assert ("product_id", "exists") in await refused(product_id=str(uuid.UUID(int=0)))
    assert ("lot_name", "single-line") in await refused(lot_name="a\nb")
    several = await refused(amount="-1", valid_until="2026-01-01")
    assert {("amount", "amount_positive"), ("valid_until", "validity_order")} <= set(several)
    unknown = await client.post(f"{API}/applications", json=_body(product, tenderee, extra="x"), headers=headers)
    assert unknown.status_code in {400, 422}
    async with session_maker() as session:
        count = await session.scalar(
            select(func.count()).select_from(GuaranteeApplication).where(GuaranteeApplication.product_id == product.id)
        )
    assert count == 0  # nothing refused was written


async def test_another_organisation_sees_nothing_and_the_guarantee_and_its_files(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    product, pem, tenderee = await _product(session_maker, settings)
    _, headers = await _bidder(client, session_maker, settings)
    _, other = await _bidder(client, session_maker, settings)
    number = (await client.post(f"{API}/applications", json=_body(product, tenderee), headers=headers)).json()[
        "application_no"
    ]
    files = {"json": b'{"guaranteeNo":"X"}', "cades": b"0\x80cades", "pdf": b"%PDF-1.7 signed"}
    guarantee_no = f"BH{uuid.uuid4().hex[:10].upper()}"
    async with session_maker() as session, session.begin():
        row = (
            await session.execute(select(GuaranteeApplication).where(GuaranteeApplication.application_no == number))
        ).scalar_one()
        await service.mark_paid(session, SYSTEM, row.id)
        guarantee = await service.record_issuance(
            session,
            SYSTEM,
            row.id,
            guarantee_no=guarantee_no,
            json_bytes=files["json"],
            cades_bytes=files["cades"],
            pdf_bytes=files["pdf"],
            signer_cert_sha256=sha256_of_pem(pem),
            claim_conditions="投标人在投标有效期内撤销投标文件的",
            issued_at=datetime.now(UTC),
            store=FileStore(settings.storage_dir),
        )
        code = guarantee.verification_code

    # The other organisation: 404 for all, exactly as for what does not exist.
    assert (await client.get(f"{API}/applications", headers=other)).json() == []
    for path in (
        f"applications/{number}",
        guarantee_no,
        f"{guarantee_no}/guarantee.json",
        f"{guarantee_no}/guarantee.p7s",
        f"{guarantee_no}/guarantee.pdf",
    ):
        response = await client.get(f"{API}/{path}", headers=other)
        assert response.status_code == 404, path
        assert response.json()["errors"][0]["rule"] == "exists"
    assert (await client.post(f"{API}/applications/{number}/withdraw", headers=other)).status_code == 404
    assert (await client.get(f"{API}/NO-SUCH-GUARANTEE", headers=headers)).status_code == 404

    shown = await client.get(f"{API}/applications/{number}", headers=headers)
    assert shown.json()["status"] == "issued"
    assert shown.json()["guarantee_no"] == guarantee_no
    mine = await client.get(f"{API}/{guarantee_no}", headers=headers)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["status"] == "issued"
    assert body["verification_code"] == code
    assert body["application_no"] == number
    assert body["bid_id"] is None
    assert body["json_sha256"] == hashlib.sha256(files["json"]).hexdigest()
    for leaf, key, media in (
        ("guarantee.json", "json", "application/json"),
        ("guarantee.p7s", "cades", "application/pkcs7-signature"),
        ("guarantee.pdf", "pdf", "application/pdf"),
    ):
        download = await client.get(f"{API}/{guarantee_no}/{leaf}", headers=headers)
        assert download.status_code == 200, leaf
        assert download.content == files[key]
        assert download.headers["content-type"].startswith(media)
    # Issued: too late to withdraw.
    late = await client.post(f"{API}/applications/{number}/withdraw", headers=headers)
    assert late.status_code == 409


async def test_only_bidders_may_apply(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    product, _, tenderee = await _product(session_maker, settings)
    account = await create_account(session_maker, settings, Role.TENDEREE)
    headers = bearer(await api_token(client, account))
    response = await client.post(f"{API}/applications", json=_body(product, tenderee), headers=headers)
    assert response.status_code == 403


def test_the_documented_examples_are_valid_input(app: Litestar) -> None:
    """A body made of the OpenAPI document's examples decodes as `ApplicationCreate` (the bounds pass)."""
    schema = app.openapi_schema.to_schema()["components"]["schemas"]["ApplicationCreate"]
    example = {name: spec["examples"][0] for name, spec in schema["properties"].items()}
    decoded = msgspec.json.decode(msgspec.json.encode(example), type=ApplicationCreate)
    assert decoded.amount == Decimal("80000.00")
    assert len(decoded.beneficiary_uscc) == 18
    assert decoded.valid_until > decoded.valid_from
