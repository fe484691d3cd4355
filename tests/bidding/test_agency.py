"""Agencies (委托代理) in bidding: an agency creates, manages and publishes tenders only for a
tenderee whose mandate is in force (pages and API alike); the tender records both organisations;
both see it in tender management; a revocation stops new tenders, not the ones already created.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.models import Tender, TenderStatus
from certs.devpki.pki import DevPki
from tests.bidding.factories import TENDER_DOCUMENT, Party, agency_party, mandate, sign_document, tender_create
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import csrf_token
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.parties.mandates import MandateService
from trading.parties.models import Organisation, OrganisationStatus

pytestmark = pytest.mark.usefixtures("dev_lists")


def draft_form(token: str, code: str, tenderee: object) -> dict[str, object]:
    return {
        "_csrf_token": token,
        "projectCode": code,
        "tendereeOrganisationId": str(tenderee),
        "title": "淮安某学校实验楼改造工程施工招标",
        "category": "engineering",
        "tenderType": "engineering-mandatory",
        "estimate": "500000",
        "lots": "L1 | 一标段 | 500000",
        "evaluationMethod": "lowest-evaluated-price",
        "bidSecurityAmount": "10000",
        "bidSecurityForms": ["cash", "guarantee"],
        "documentsFrom": "2020-01-01T09:00",
        "documentsUntil": "2099-01-10T09:00",
        "deadline": "2099-01-21T09:00",
    }


@pytest.fixture
async def agency(session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki) -> Party:
    return await agency_party(session_maker, settings, dev_pki)


@pytest.fixture
async def tenderee_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def test_the_form_offers_only_mandating_tenderees_and_the_server_holds_the_rule(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], owner: Party, agency: Party
) -> None:
    await log_in(client, agency)
    form = await client.get("/bidding/manage/new")
    assert form.status_code == 200
    assert str(owner.organisation_id) not in form.text  # no mandate: not offered
    assert "尚无招标人委托本机构" not in form.text
    token = csrf_token(form.text)
    refused = await client.post("/bidding/manage/new", data=draft_form(token, "AG-0001", owner.organisation_id))
    assert refused.status_code == 422
    assert 'id="error-tendereeOrganisationId"' in refused.text
    assert "本机构没有该招标人有效的委托" in refused.text
    assert 'data-rule="mandated"' in refused.text
    async with session_maker() as session:
        assert await session.scalar(_by_code("AG-0001")) is None  # nothing half-written

    await mandate(session_maker, owner, agency)
    form = await client.get("/bidding/manage/new")
    assert f'<option value="{owner.organisation_id}"' in form.text
    created = await client.post("/bidding/manage/new", data=draft_form(token, "AG-0001", owner.organisation_id))
    assert created.status_code == 303, created.text
    async with session_maker() as session:
        tender = await session.scalar(_by_code("AG-0001"))
        assert tender is not None
        assert (tender.tenderee_organisation_id, tender.agency_organisation_id) == (
            owner.organisation_id,
            agency.organisation_id,
        )


def _by_code(code: str) -> sa.Select[Tender]:
    return sa.select(Tender).where(Tender.project_code == code)


async def test_the_agency_publishes_both_see_it_and_a_revocation_stops_only_new_tenders(
    client: httpx.AsyncClient,
    tenderee_browser: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    agency: Party,
) -> None:
    await mandate(session_maker, owner, agency)
    await log_in(client, agency)
    token = csrf_token((await client.get("/bidding/manage/new")).text)
    created = await client.post("/bidding/manage/new", data=draft_form(token, "AG-0002", owner.organisation_id))
    assert created.status_code == 303, created.text
    manage = await client.get("/bidding/manage/tenders/AG-0002")
    assert f'id="tender-tenderee">{owner.name}<' in manage.text
    assert f'id="tender-agency">{agency.name}<' in manage.text
    attached = await client.post(
        "/bidding/manage/tenders/AG-0002/documents",
        data={"_csrf_token": token, "title": "招标文件", "kind": "tender-document"},
        files={
            "file": ("tender.pdf", TENDER_DOCUMENT, "application/pdf"),
            "signature": (
                "tender.pdf.p7s",
                await sign_document(agency.sign, TENDER_DOCUMENT),
                "application/pkcs7-signature",
            ),
        },
    )
    assert attached.status_code == 303, attached.text
    published = await client.post("/bidding/manage/tenders/AG-0002/publish", data={"_csrf_token": token})
    assert published.status_code == 303, published.text
    listed = await client.get("/bidding/manage")
    assert 'data-tender="AG-0002"' in listed.text
    assert owner.name in listed.text

    # The tenderee sees the tender its agency runs, with the agency named.
    await log_in(tenderee_browser, owner)
    theirs = await tenderee_browser.get("/bidding/manage")
    assert 'data-tender="AG-0002"' in theirs.text
    assert agency.name in theirs.text

    async with session_maker() as session:
        [line] = await MandateService(session).granted(owner.organisation_id)
        await MandateService(session).revoke(owner.actor(), line.mandate.id)
        await session.commit()
    # Revoked: no new tender for this tenderee, but the one already created is still the agency's.
    form = await client.get("/bidding/manage/new")
    assert f'<option value="{owner.organisation_id}"' not in form.text
    refused = await client.post("/bidding/manage/new", data=draft_form(token, "AG-0003", owner.organisation_id))
    assert refused.status_code == 422
    assert (await client.get("/bidding/manage/tenders/AG-0002")).status_code == 200
    assert 'data-tender="AG-0002"' in (await client.get("/bidding/manage")).text
    async with session_maker() as session:
        tender = await session.scalar(_by_code("AG-0002"))
        assert tender is not None
        assert tender.status is TenderStatus.PUBLISHED


async def test_the_api_refuses_a_tenderee_that_gave_no_mandate_naming_the_field(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    agency: Party,
) -> None:
    async with session_maker() as session:
        now = await clock.now(session)

    body = msgspec.to_builtins(tender_create(now, code="AG-API-1", tenderee_organisation_id=owner.organisation_id))
    headers = await agency.headers(client)
    refused = await client.post("/api/v1/bidding/tenders", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert {"field": "tendereeOrganisationId", "rule": "mandated"} in [
        {"field": e["field"], "rule": e["rule"]} for e in problem["errors"]
    ]
    await mandate(session_maker, owner, agency)
    created = await client.post("/api/v1/bidding/tenders", json=body, headers=headers)
    assert created.status_code == 201, created.text


@pytest.mark.parametrize(
    ("suspended", "rule", "text"),
    [("tenderee", "tenderee_active", "招标人单位已被暂停"), ("agency", "agency_active", "本代理机构已被暂停")],
)
async def test_a_suspended_side_s_mandate_creates_no_tender(  # noqa: PLR0917 - fixtures and parameters
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    agency: Party,
    suspended: str,
    rule: str,
    text: str,
) -> None:
    await mandate(session_maker, owner, agency)
    await log_in(client, agency)
    token = csrf_token((await client.get("/bidding/manage/new")).text)
    async with session_maker() as session:
        which = owner if suspended == "tenderee" else agency
        organisation = await session.get(Organisation, which.organisation_id)
        assert organisation is not None
        organisation.status = OrganisationStatus.SUSPENDED
        await session.commit()
    form = await client.get("/bidding/manage/new")
    assert f'<option value="{owner.organisation_id}"' not in form.text  # not offered while suspended
    refused = await client.post("/bidding/manage/new", data=draft_form(token, "AG-0004", owner.organisation_id))
    assert refused.status_code == 422
    assert 'id="error-tendereeOrganisationId"' in refused.text
    assert f'data-rule="{rule}"' in refused.text
    assert text in refused.text
    async with session_maker() as session:
        assert await session.scalar(_by_code("AG-0004")) is None


async def test_the_api_refuses_a_suspended_tenderee_naming_the_field_and_rule(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    owner: Party,
    agency: Party,
) -> None:
    await mandate(session_maker, owner, agency)
    async with session_maker() as session:
        now = await clock.now(session)
        organisation = await session.get(Organisation, owner.organisation_id)
        assert organisation is not None
        organisation.status = OrganisationStatus.SUSPENDED
        await session.commit()
    body = msgspec.to_builtins(tender_create(now, code="AG-API-2", tenderee_organisation_id=owner.organisation_id))
    refused = await client.post("/api/v1/bidding/tenders", json=body, headers=await agency.headers(client))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert {"field": "tendereeOrganisationId", "rule": "tenderee_active"} in [
        {"field": e["field"], "rule": e["rule"]} for e in refused.json()["errors"]
    ]
    async with session_maker() as session:
        assert await session.scalar(_by_code("AG-API-2")) is None
