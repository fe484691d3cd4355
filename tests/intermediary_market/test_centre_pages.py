"""The centre's marketplace administration in pages (``/market/centre``): publish and edit service
items (a new version), record, renew and revoke qualifications, refusals shown next to the form in
the page's language, and only for the role that holds the permissions.
"""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intermediary_market.models import QualificationStatus
from intermediary_market.service import MarketService
from tests.intermediary_market.test_web import log_in
from tests.trading.parties.factories import create_account, csrf_token
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

CENTRE = "/market/centre"


def item_form(token: str, code: str, **changes: str) -> dict[str, str]:
    return {
        "_csrf_token": token,
        "code": code,
        "name": "工程造价咨询",
        "legal_basis": "《工程造价咨询企业管理办法》",
        "approval": "政府投资项目概算审批",
        "required_qualification": "工程造价咨询企业",
        "fee_basis": "市场调节价",
        "standard_days": "30",
        **changes,
    }


async def test_the_centre_publishes_and_edits_items_and_records_qualifications(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    intermediary = await create_account(session_maker, settings, Role.INTERMEDIARY)
    await log_in(client, await create_account(session_maker, settings, Role.ADMIN))
    code = f"ZJ-{uuid.uuid4().hex[:6]}"
    overview = await client.get(CENTRE)
    assert overview.status_code == 200
    assert "事项清单" in overview.text
    token = csrf_token(overview.text)

    # A refusal comes back next to the form, in Chinese, with its rule.
    refused = await client.post(f"{CENTRE}/items", data=item_form(token, code, legal_basis=""))
    assert refused.status_code == 422
    assert "设立依据" in refused.text
    assert "legal_basis_required" in refused.text
    published = await client.post(f"{CENTRE}/items", data=item_form(token, code))
    assert (published.status_code, published.headers["location"]) == (303, f"{CENTRE}#items")

    # Edit: the form is filled with the current version; publishing it makes version 2.
    edit = await client.get(CENTRE, params={"code": code})
    assert 'value="《工程造价咨询企业管理办法》"' in edit.text
    assert (await client.post(f"{CENTRE}/items", data=item_form(token, code, standard_days="20"))).status_code == 303
    async with session_maker() as session:
        versions = await MarketService(session).item_versions(code)
        assert sorted((v.version, v.current, v.standard_days) for v in versions) == [(1, False, 30), (2, True, 20)]

    qualification = {
        "_csrf_token": token,
        "organisation_id": str(intermediary.organisation_id),
        "item_code": code,
        "level": "1",
        "certificate_no": "ZJ-0001",
        "valid_until": "2020-01-01T00:00",
    }
    expired = await client.post(f"{CENTRE}/qualifications", data=qualification)
    assert expired.status_code == 422
    assert "in_future" in expired.text
    recorded = await client.post(f"{CENTRE}/qualifications", data={**qualification, "valid_until": "2099-01-01T00:00"})
    assert recorded.status_code == 303, recorded.text
    page = await client.get(CENTRE)
    assert "ZJ-0001" in page.text
    assert "暂无评级" in (await client.get("/market")).text  # a newcomer is not graded

    no_reason = {"_csrf_token": token, "organisation_id": str(intermediary.organisation_id), "item_code": code}
    assert (
        await client.post(f"{CENTRE}/qualifications/revocations", data={**no_reason, "reason": ""})
    ).status_code == 422
    revoked = await client.post(f"{CENTRE}/qualifications/revocations", data={**no_reason, "reason": "证书失效"})
    assert revoked.status_code == 303
    async with session_maker() as session:
        row = await MarketService(session).repo.qualification(intermediary.organisation_id, code)
        assert row is not None
        assert row.status is QualificationStatus.REVOKED


async def test_only_the_centre_administers_the_marketplace(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    assert (await client.get(CENTRE)).status_code == 403
    token = csrf_token((await client.get("/market/regulator")).text)
    assert (await client.post(f"{CENTRE}/items", data=item_form(token, "X-1"))).status_code == 403
