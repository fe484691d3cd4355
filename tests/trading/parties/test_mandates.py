"""Agency mandates (委托代理) on PostgreSQL: grant, the rules a grant and a revocation keep, the
period and the ledger entries; the page a tenderee grants and revokes on and the agency reads.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import Account, api_token, bearer, create_account, csrf_token, ledger_entries
from tests.trading.parties.test_web import log_in
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.parties.errors import MandateNotFound, MandateRefused
from trading.parties.mandates import MandateService
from trading.parties.models import AgencyMandate, MandateStatus, Organisation, OrganisationStatus


def actor_of(account: Account, role: Role) -> Actor:
    return Actor(
        kind=ActorKind.USER,
        user_id=account.user_id,
        username=account.username,
        organisation_id=account.organisation_id,
        roles=frozenset({role}),
    )


@pytest.fixture
async def tenderee(session_maker: async_sessionmaker[AsyncSession], settings: Settings) -> Account:
    return await create_account(session_maker, settings, Role.TENDEREE)


@pytest.fixture
async def agency(session_maker: async_sessionmaker[AsyncSession], settings: Settings) -> Account:
    return await create_account(session_maker, settings, Role.AGENCY)


async def test_a_tenderee_grants_and_revokes_a_mandate_each_on_the_ledger(
    session: AsyncSession, session_maker: async_sessionmaker[AsyncSession], tenderee: Account, agency: Account
) -> None:
    mandates = MandateService(session)
    by = actor_of(tenderee, Role.TENDEREE)
    mandate = await mandates.grant(by, agency.organisation_id, scope="  全部施工招标项目 ")
    assert (mandate.status, mandate.scope, mandate.valid_until) == (MandateStatus.ACTIVE, "全部施工招标项目", None)
    assert (mandate.granted_by, mandate.tenderee_organisation_id) == (tenderee.user_id, tenderee.organisation_id)
    assert await mandates.in_force(tenderee.organisation_id, agency.organisation_id) is not None
    assert [o.id for o in await mandates.clients(agency.organisation_id)] == [tenderee.organisation_id]
    [line] = await mandates.held(agency.organisation_id)
    assert (line.organisation.id, line.in_force) == (tenderee.organisation_id, True)

    with pytest.raises(MandateRefused) as twice:
        await mandates.grant(by, agency.organisation_id)
    assert (twice.value.field, twice.value.rule) == ("agency", "already_mandated")

    revoked = await mandates.revoke(by, mandate.id)
    assert (revoked.status, revoked.revoked_by) == (MandateStatus.REVOKED, tenderee.user_id)
    assert revoked.revoked_at is not None
    assert await mandates.in_force(tenderee.organisation_id, agency.organisation_id) is None
    assert await mandates.clients(agency.organisation_id) == []
    [line] = await mandates.granted(tenderee.organisation_id)
    assert line.in_force is False
    with pytest.raises(MandateRefused) as again:
        await mandates.revoke(by, mandate.id)
    assert again.value.rule == "already_revoked"
    # Revoked rows are history: a new grant is allowed.
    renewed = await mandates.grant(by, agency.organisation_id)
    assert renewed.id != mandate.id
    await session.commit()

    granted = await ledger_entries(session_maker, action="parties.mandate_granted", subject_id=mandate.id)
    assert granted[0].summary["agency_organisation_id"] == str(agency.organisation_id)
    assert granted[0].subject_type == "agency_mandate"
    assert await ledger_entries(session_maker, action="parties.mandate_revoked", subject_id=mandate.id)


async def test_a_mandate_is_in_force_only_within_its_period(
    session: AsyncSession, tenderee: Account, agency: Account
) -> None:
    mandates = MandateService(session)
    now = await clock.now(session)
    mandate = await mandates.grant(
        actor_of(tenderee, Role.TENDEREE), agency.organisation_id, valid_until=now + timedelta(days=30)
    )
    repo = mandates.repo
    assert await repo.in_force(tenderee.organisation_id, agency.organisation_id, now + timedelta(days=29)) == mandate
    assert await repo.in_force(tenderee.organisation_id, agency.organisation_id, now + timedelta(days=30)) is None
    assert await repo.clients(agency.organisation_id, now + timedelta(days=31)) == []
    with pytest.raises(MandateRefused) as past:
        await mandates.grant(
            actor_of(tenderee, Role.TENDEREE),
            (await create_agency(session)).id,
            valid_until=now - timedelta(days=1),
        )
    assert (past.value.field, past.value.rule) == ("validUntil", "in_future")


async def create_agency(session: AsyncSession) -> Organisation:
    from tests.trading.parties.factories import new_uscc
    from trading.parties.models import OrganisationKind

    organisation = Organisation(uscc=new_uscc(), name=f"代理{uuid.uuid4().hex[:6]}", kind=OrganisationKind.AGENCY)
    organisation.region_code = "320812"
    session.add(organisation)
    await session.flush()
    return organisation


async def test_who_may_grant_to_whom(
    session: AsyncSession,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenderee: Account,
    agency: Account,
) -> None:
    mandates = MandateService(session)
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    other_tenderee = await create_account(session_maker, settings, Role.TENDEREE)
    with pytest.raises(PermissionDenied):  # an agency does not mandate itself, a bidder nobody
        await mandates.grant(actor_of(agency, Role.AGENCY), agency.organisation_id)
    with pytest.raises(MandateRefused) as not_agency:
        await mandates.grant(actor_of(tenderee, Role.TENDEREE), bidder.organisation_id)
    assert (not_agency.value.field, not_agency.value.rule) == ("agency", "agency_kind")
    mandate = await mandates.grant(actor_of(tenderee, Role.TENDEREE), agency.organisation_id)
    with pytest.raises(MandateNotFound):  # another tenderee's mandate is not theirs to revoke
        await mandates.revoke(actor_of(other_tenderee, Role.TENDEREE), mandate.id)
    assert (await session.get(AgencyMandate, mandate.id)).status is MandateStatus.ACTIVE  # type: ignore[union-attr]


async def test_an_agency_is_named_by_credit_code_or_exact_name(session: AsyncSession, agency: Account) -> None:
    mandates = MandateService(session)
    organisation = await session.get(Organisation, agency.organisation_id)
    assert organisation is not None
    assert (await mandates.resolve_agency(organisation.uscc.lower())).id == organisation.id
    assert (await mandates.resolve_agency(f" {organisation.name} ")).id == organisation.id
    assert [o.id for o in await mandates.find_agencies(organisation.name[2:])] == [organisation.id]
    assert organisation.id in [o.id for o in await mandates.find_agencies(organisation.uscc[:10])]
    with pytest.raises(MandateRefused) as unknown:
        await mandates.resolve_agency("没有这家代理机构")
    assert (unknown.value.field, unknown.value.rule) == ("agency", "agency_exists")
    assert await mandates.find_agencies("%") == []  # LIKE wildcards are searched as text


# --- pages ---------------------------------------------------------------------------------------


async def test_the_tenderee_grants_and_revokes_on_its_page_and_the_agency_sees_it(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    tenderee: Account,
    agency: Account,
) -> None:
    async with session_maker() as session:
        organisation = await session.get(Organisation, agency.organisation_id)
        assert organisation is not None
        agency_name, agency_uscc = organisation.name, organisation.uscc
    assert (await log_in(client, tenderee.username)).status_code == 303
    found = await client.get("/organisation/mandates", params={"q": agency_name[-4:]})
    assert found.status_code == 200
    assert f'data-agency="{agency_uscc}"' in found.text
    token = csrf_token(found.text)

    refused = await client.post(
        "/organisation/mandates", data={"_csrf_token": token, "agency": "没有这家代理机构", "validUntil": ""}
    )
    assert refused.status_code == 422
    assert "平台上没有该统一社会信用代码或名称的代理机构" in refused.text
    past = await client.post(
        "/organisation/mandates", data={"_csrf_token": token, "agency": agency_uscc, "validUntil": "2001-01-01"}
    )
    assert past.status_code == 422
    assert "不能早于今天" in past.text

    granted = await client.post(
        "/organisation/mandates",
        data={"_csrf_token": token, "agency": agency_uscc, "validUntil": "2099-12-31", "scope": "实验楼项目"},
    )
    assert granted.status_code == 303, granted.text
    listed = await client.get("/organisation/mandates")
    assert "实验楼项目" in listed.text
    assert "2099-12-31" in listed.text  # the last day as entered
    assert "已创建的招标项目不受影响" in listed.text  # what a revocation does, said on the page
    async with session_maker() as session:
        [line] = await MandateService(session).granted(tenderee.organisation_id)
    mandate_id = line.mandate.id

    other = httpx.AsyncClient(transport=client._transport, base_url=client.base_url)
    async with other:
        assert (await log_in(other, agency.username)).status_code == 303
        held = await other.get("/organisation/mandates")
        assert held.status_code == 200
        assert f'data-mandate="{mandate_id}"' in held.text
        assert "实验楼项目" in held.text
        # The agency cannot grant or revoke (no permission: 403).
        denied = await other.post(
            f"/organisation/mandates/{mandate_id}/revocation", data={"_csrf_token": csrf_token(held.text)}
        )
        assert denied.status_code == 403

    revoked = await client.post(f"/organisation/mandates/{mandate_id}/revocation", data={"_csrf_token": token})
    assert revoked.status_code == 303
    async with session_maker() as session:
        row = await session.get(AgencyMandate, mandate_id)
        assert row is not None
        assert row.status is MandateStatus.REVOKED


async def test_a_bidder_has_no_mandates_page(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    await log_in(client, bidder.username)
    assert (await client.get("/organisation/mandates")).status_code == 403


async def test_the_api_lists_what_the_organisation_granted_and_holds(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenderee: Account,
    agency: Account,
) -> None:
    async with session_maker() as session:
        mandate = await MandateService(session).grant(actor_of(tenderee, Role.TENDEREE), agency.organisation_id)
        await session.commit()
    held = await client.get("/api/v1/parties/mandates", headers=bearer(await api_token(client, agency)))
    assert held.status_code == 200, held.text
    body = held.json()
    assert body["granted"] == []
    [line] = body["held"]
    assert (line["id"], line["tenderee_organisation_id"], line["in_force"], line["status"]) == (
        str(mandate.id),
        str(tenderee.organisation_id),
        True,
        "active",
    )
    granted = (await client.get("/api/v1/parties/mandates", headers=bearer(await api_token(client, tenderee)))).json()
    assert [g["agency_organisation_id"] for g in granted["granted"]] == [str(agency.organisation_id)]
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    denied = await client.get("/api/v1/parties/mandates", headers=bearer(await api_token(client, bidder)))
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")


async def test_two_grants_at_once_leave_one_mandate_and_a_refusal(fresh_db: str, settings: Settings) -> None:
    """Both check "no active mandate" before either commits; the unique index decides, and the
    loser gets the refusal (rule already_mandated), not a 500."""
    engine = create_engine(fresh_db, pool_size=3)
    try:
        maker = create_session_maker(engine)
        tenderee = await create_account(maker, settings, Role.TENDEREE)
        agency = await create_account(maker, settings, Role.AGENCY)
        by = actor_of(tenderee, Role.TENDEREE)
        async with maker() as first, maker() as second:
            await MandateService(first).grant(by, agency.organisation_id)
            racing = asyncio.create_task(MandateService(second).grant(by, agency.organisation_id))
            await asyncio.sleep(0.3)  # the second insert now waits on the first's row
            assert not racing.done()
            await first.commit()
            with pytest.raises(MandateRefused) as lost:
                await racing
            assert lost.value.rule == "already_mandated"
        async with maker() as session:
            assert len(await MandateService(session).granted(tenderee.organisation_id)) == 1
    finally:
        await engine.dispose()


async def _set_status(session_maker: async_sessionmaker[AsyncSession], organisation_id: uuid.UUID, status: str) -> None:
    async with session_maker() as session:
        organisation = await session.get(Organisation, organisation_id)
        assert organisation is not None
        organisation.status = OrganisationStatus(status)
        await session.commit()


@pytest.mark.parametrize("suspended", ["tenderee", "agency"])
async def test_a_suspended_side_s_mandate_lets_no_new_tender_be_made(
    session_maker: async_sessionmaker[AsyncSession], tenderee: Account, agency: Account, suspended: str
) -> None:
    async with session_maker() as session:
        await MandateService(session).grant(actor_of(tenderee, Role.TENDEREE), agency.organisation_id)
        await session.commit()
    which = tenderee if suspended == "tenderee" else agency
    await _set_status(session_maker, which.organisation_id, "suspended")
    async with session_maker() as session:
        mandates = MandateService(session)
        assert await mandates.in_force(tenderee.organisation_id, agency.organisation_id) is None
        assert await mandates.clients(agency.organisation_id) == []
        [held] = await mandates.held(agency.organisation_id)
        [granted] = await mandates.granted(tenderee.organisation_id)
        assert (held.in_force, granted.in_force) == (False, False)
        assert held.mandate.status is MandateStatus.ACTIVE  # the mandate itself stays; only its use stops
    # Reinstated: the same mandate is in force again.
    await _set_status(session_maker, which.organisation_id, "active")
    async with session_maker() as session:
        mandates = MandateService(session)
        assert await mandates.in_force(tenderee.organisation_id, agency.organisation_id) is not None
        assert [o.id for o in await mandates.clients(agency.organisation_id)] == [tenderee.organisation_id]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPERVISOR])
async def test_admins_and_supervisors_oversee_every_mandate_read_only(  # noqa: PLR0917 - fixtures
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tenderee: Account,
    agency: Account,
    role: Role,
) -> None:
    other = await create_account(session_maker, settings, Role.TENDEREE)
    async with session_maker() as session:
        mandates = MandateService(session)
        kept = await mandates.grant(actor_of(tenderee, Role.TENDEREE), agency.organisation_id, scope="实验楼项目")
        ended = await mandates.grant(actor_of(other, Role.TENDEREE), agency.organisation_id)
        await mandates.revoke(actor_of(other, Role.TENDEREE), ended.id)
        tenderee_name = (await session.get(Organisation, tenderee.organisation_id)).name  # type: ignore[union-attr]
        agency_uscc = (await session.get(Organisation, agency.organisation_id)).uscc  # type: ignore[union-attr]
        await session.commit()
    await _set_status(session_maker, tenderee.organisation_id, "suspended")
    overseer = await create_account(session_maker, settings, role)
    assert (await log_in(client, overseer.username)).status_code == 303

    page = await client.get("/organisation/mandates")
    assert page.status_code == 200
    assert 'id="all-mandates"' in page.text
    assert "全部委托代理关系" in page.text
    assert f'data-mandate="{kept.id}"' in page.text
    assert f'data-mandate="{ended.id}"' in page.text
    assert "有单位已被暂停" in page.text  # the suspended tenderee's mandate is shown as unusable
    assert 'id="grant-form"' not in page.text  # read-only: no grant form, no revoke button
    assert "/revocation" not in page.text
    assert 'href="/organisation/mandates"' in page.text  # the navigation leads here

    revoked = await client.get("/organisation/mandates", params={"status": "revoked"})
    assert f'data-mandate="{ended.id}"' in revoked.text
    assert f'data-mandate="{kept.id}"' not in revoked.text
    by_name = await client.get("/organisation/mandates", params={"name": tenderee_name[-6:]})
    assert f'data-mandate="{kept.id}"' in by_name.text
    assert f'data-mandate="{ended.id}"' not in by_name.text
    nothing = await client.get("/organisation/mandates", params={"name": "没有这个单位%"})
    assert 'id="no-mandates"' in nothing.text

    bad = await client.get("/organisation/mandates", params={"status": "maybe"})
    assert bad.status_code == 422
    assert 'id="error-status"' in bad.text
    assert 'data-rule="known"' in bad.text
    assert 'id="all-mandates"' not in bad.text

    # Overseeing is reading: granting or revoking is refused.
    token = csrf_token(page.text)
    form = {"_csrf_token": token, "agency": agency_uscc, "validUntil": ""}
    assert (await client.post("/organisation/mandates", data=form)).status_code == 403
    revoke = await client.post(f"/organisation/mandates/{kept.id}/revocation", data={"_csrf_token": token})
    assert revoke.status_code == 403
    async with session_maker() as session:
        row = await session.get(AgencyMandate, kept.id)
        assert row is not None
        assert row.status is MandateStatus.ACTIVE


async def test_a_tenderee_and_an_agency_do_not_see_the_overview(
    client: httpx.AsyncClient, tenderee: Account, agency: Account
) -> None:
    for account in (tenderee, agency):
        client.cookies.clear()
        assert (await log_in(client, account.username)).status_code == 303
        page = await client.get("/organisation/mandates", params={"status": "revoked"})
        assert page.status_code == 200
        assert 'id="overview"' not in page.text
