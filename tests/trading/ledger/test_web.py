"""/ledger: the supervisor's page, its HTMX results fragment and the verification panel."""

from __future__ import annotations

import re
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.ledger.factories import append_many, new_project_code, user_actor
from tests.trading.parties.factories import PASSWORD, create_account, csrf_token, new_uscc, new_username
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry
from trading.parties.models import OrganisationKind
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService

HX = {"HX-Request": "true"}


async def _log_in(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession], settings: Settings, role: Role
) -> None:
    account = await create_account(maker, settings, role)
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text


async def test_anonymous_visitors_are_sent_to_log_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/ledger")
    assert response.status_code in {302, 303}
    assert response.headers["location"].startswith("/login")


async def test_a_bidder_is_refused(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await _log_in(client, session_maker, settings, Role.BIDDER)
    assert (await client.get("/ledger")).status_code == 403
    assert (await client.get("/ledger/_verification", headers=HX)).status_code == 403


async def test_supervisor_sees_filters_and_entries(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    code = new_project_code()
    async with session_maker() as session:
        entries = await append_many(session, 3, project_code=code, actor=user_actor("李四"))
        await session.commit()
    await _log_in(client, session_maker, settings, Role.SUPERVISOR)

    page = await client.get("/ledger", params={"chain": f"project:{code}"})
    assert page.status_code == 200, page.text
    html = page.text
    assert "<html" in html
    assert 'name="chain" value="project:' in html
    for entry in entries:
        assert f'id="entry-{entry.id}"' in html
    assert "李四" in html
    assert "/ledger/_verification" in html  # the verification button

    fragment = await client.get(
        "/ledger", params={"chain": f"project:{code}", "subject_id": "1", "since": "2000-01-01"}, headers=HX
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert f'id="entry-{entries[1].id}"' in fragment.text
    assert f'id="entry-{entries[0].id}"' not in fragment.text

    empty_form = await client.get("/ledger", params={"chain": "", "since": "", "until": "not-a-date"}, headers=HX)
    assert empty_form.status_code == 200
    assert "not-a-date" in empty_form.text


async def test_supervisor_runs_verification_from_the_page(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await _log_in(client, session_maker, settings, Role.SUPERVISOR)
    fragment = await client.get("/ledger/_verification", headers=HX)
    assert fragment.status_code == 200
    assert 'data-ledger-ok="true"' in fragment.text
    assert "<html" not in fragment.text
    full = await client.get("/ledger/_verification")
    assert full.status_code == 200
    assert "<html" in full.text
    assert 'data-ledger-ok="true"' in full.text


async def test_actions_show_and_filter_by_their_label(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """The table names each action in the reader's language, never by its code, and the filter
    takes that label (or part of it), whichever codes it stands for."""
    code = new_project_code()
    actor = user_actor("王五")
    async with session_maker() as session:
        made = {
            action: await append_entry(
                session,
                actor=actor,
                action=action,
                subject_type="parties.user",
                subject_id="1",
                summary={"username": "wangwu", "rule": "required", "second_factor": False, "method": "password"},
                project_code=code,
            )
            for action in ("parties.login_succeeded", "parties.login_failed", "bidding.bid_withdrawn")
        }
        await session.commit()
    await _log_in(client, session_maker, settings, Role.SUPERVISOR)
    chain = f"project:{code}"

    page = await client.get("/ledger", params={"chain": chain})
    assert page.status_code == 200, page.text
    visible = _visible_text(page.text)
    for label in (
        "登录成功",
        "登录失败",
        "撤回投标文件",
        "用户名",
        "用户",
        "规则: 此项为必填项。",
        "第二因素: 否",
        "方式: 密码",
    ):
        assert label in visible
    assert f"项目 {code}" in visible  # the chain, named
    assert "parties.login_succeeded" not in visible
    assert "parties.user" not in visible
    assert 'data-action="parties.login_succeeded"' in page.text  # the code stays for machines
    assert '<option value="登录失败">' in page.text  # the filter offers the labels

    one = await client.get("/ledger", params={"chain": chain, "action": "登录失败"}, headers=HX)
    assert f'id="entry-{made["parties.login_failed"].id}"' in one.text
    assert f'id="entry-{made["parties.login_succeeded"].id}"' not in one.text
    assert f'id="entry-{made["bidding.bid_withdrawn"].id}"' not in one.text

    both = await client.get("/ledger", params={"chain": chain, "action": "登录"}, headers=HX)
    assert f'id="entry-{made["parties.login_failed"].id}"' in both.text
    assert f'id="entry-{made["parties.login_succeeded"].id}"' in both.text
    assert f'id="entry-{made["bidding.bid_withdrawn"].id}"' not in both.text

    english = await client.get("/ledger", params={"chain": chain, "action": "Bid withdrawn", "lang": "en"}, headers=HX)
    assert f'id="entry-{made["bidding.bid_withdrawn"].id}"' in english.text
    assert "Bid withdrawn" in english.text

    nothing = await client.get("/ledger", params={"chain": chain, "action": "没有这种操作"}, headers=HX)
    assert nothing.status_code == 200
    assert 'id="entry-' not in nothing.text


async def test_ids_in_summaries_show_names_and_keep_the_id(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """An organisation's or user's id in a summary is shown by name (the id stays in the
    attribute for auditors); an id nobody has stays as recorded."""
    code = new_project_code()
    suffix = uuid.uuid4().hex[:6]
    unknown = str(uuid.uuid4())
    async with session_maker() as session:
        parties = PartiesService(session, settings)
        tenderee = await parties.create_organisation(
            OrganisationCreate(uscc=new_uscc(), name=f"名称测试招标人 {suffix}", kind=OrganisationKind.ENTERPRISE),
            actor=Actor.system(),
        )
        agency = await parties.create_organisation(
            OrganisationCreate(uscc=new_uscc(), name=f"名称测试代理 {suffix}", kind=OrganisationKind.AGENCY),
            actor=Actor.system(),
        )
        user, _ = await parties.create_user(
            UserCreate(
                username=new_username("names"),
                display_name=f"赵六{suffix}",
                password=PASSWORD,
                organisation_id=agency.id,
                role=Role.AGENCY,
            ),
            actor=Actor.system(),
        )
        entry = await append_entry(
            session,
            actor=user_actor("王五"),
            action="parties.mandate_granted",
            subject_type="agency_mandate",
            subject_id="1",
            summary={
                "tenderee_organisation_id": str(tenderee.id),
                "agency_organisation_id": str(agency.id),
                "user_id": str(user.id),
                "organisation_id": unknown,
            },
            project_code=code,
        )
        await session.commit()
    await _log_in(client, session_maker, settings, Role.SUPERVISOR)

    page = await client.get("/ledger", params={"chain": f"project:{code}"})
    assert page.status_code == 200, page.text
    assert f'id="entry-{entry.id}"' in page.text
    visible = _visible_text(page.text)
    assert f"招标人: 名称测试招标人 {suffix}" in visible
    assert f"代理机构: 名称测试代理 {suffix}" in visible
    assert f"用户: 赵六{suffix}" in visible
    for known in (tenderee.id, agency.id, user.id):
        assert str(known) not in visible  # not shown, but kept for auditors
        assert f'data-id="{known}" title="{known}"' in page.text
    assert f"单位: {unknown}" in visible  # nobody has this id: shown as recorded


async def test_the_chain_filter_takes_the_chains_label(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """The chain filter takes 项目 <code> / Project <code> / 平台 (as the table names chains) and
    suggests the labels, besides the chain as recorded."""
    mine, other = new_project_code(), new_project_code()
    async with session_maker() as session:
        [ours] = await append_many(session, 1, project_code=mine)
        [theirs] = await append_many(session, 1, project_code=other)
        [platform] = await append_many(session, 1)
        await session.commit()
    await _log_in(client, session_maker, settings, Role.SUPERVISOR)

    for typed in (f"项目 {mine}", f"  项目{mine} ", f"Project {mine}", mine):
        found = await client.get("/ledger", params={"chain": typed}, headers=HX)
        assert found.status_code == 200, found.text
        assert f'id="entry-{ours.id}"' in found.text, typed
        assert f'id="entry-{theirs.id}"' not in found.text, typed
        assert f'id="entry-{platform.id}"' not in found.text, typed

    recorded = await client.get("/ledger", params={"chain": f"project:{other}"}, headers=HX)
    assert f'id="entry-{theirs.id}"' in recorded.text
    assert f'id="entry-{ours.id}"' not in recorded.text

    platform_page = await client.get("/ledger", params={"chain": "平台"})
    assert platform_page.status_code == 200
    assert f'id="entry-{platform.id}"' in platform_page.text
    assert f'id="entry-{ours.id}"' not in platform_page.text
    assert 'list="ledger-chain-labels"' in platform_page.text
    assert '<option value="平台">' in platform_page.text
    assert 'value="平台"' in platform_page.text  # the filter keeps what was typed

    suggested = await client.get("/ledger", params={"chain": f"项目 {mine}"})
    assert f'<option value="项目 {mine}">' in suggested.text

    nothing = await client.get("/ledger", params={"chain": "没有这个链"}, headers=HX)
    assert nothing.status_code == 200
    assert 'id="entry-' not in nothing.text

    english = await client.get("/ledger", params={"chain": "Platform", "lang": "en"})
    assert f'id="entry-{platform.id}"' in english.text
    assert f'id="entry-{ours.id}"' not in english.text
    assert '<option value="Platform">' in english.text


def _visible_text(html: str) -> str:
    """The page's text as a reader sees it: no tags, no attribute values."""
    return re.sub(r"<[^>]*>", " ", html)
