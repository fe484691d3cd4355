"""Marketplace pages beyond publishing and registering: practice pages, delivery and ratings in the
owner's workspace, deliverables and blacklisting answers in the intermediary's, the regulator's
view, and refusals shown in the page's language with their rule.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intermediary_market.delivery import DeliveryService
from intermediary_market.jobs import DeliveryClock
from intermediary_market.models import Blacklisting, BlacklistStatus, Delivery
from intermediary_market.schemas import AnnouncementCreate, RatingCreate
from intermediary_market.selection import FundingType, SelectionMethod
from intermediary_market.service import MarketService
from intermediary_market.web.intermediary import DELIVERABLES
from tests.intermediary_market.factories import complete_service
from tests.intermediary_market.test_web import ITEM, ensure_item, log_in, owner_form, qualify
from tests.trading.parties.factories import Account, create_account, csrf_token
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.server.wiring import grants

PROJECT = "淮安市某道路工程环评"


def actor_of(account: Account, role: Role) -> Actor:
    return Actor(
        kind=ActorKind.USER,
        user_id=account.user_id,
        username=account.username,
        organisation_id=account.organisation_id,
        roles=frozenset({role}),
        permissions=grants().for_roles({role}),
    )


@dataclass
class Selected:
    owner: Account
    intermediaries: list[Account]
    announcement_id: uuid.UUID
    winner: Account


async def selected(maker: async_sessionmaker[AsyncSession], settings: Settings) -> Selected:
    """A decided lottery: an owner, three qualified registrants and the winner among them."""
    await ensure_item(maker)
    owner = await create_account(maker, settings, Role.TENDEREE)
    intermediaries = [await create_account(maker, settings, Role.INTERMEDIARY) for _ in range(3)]
    for account in intermediaries:
        await qualify(maker, account)
    async with maker() as session:
        now = await clock.now(session)
        market = MarketService(session)
        announcement = await market.announce(
            AnnouncementCreate(
                project_name=PROJECT,
                item_code=ITEM,
                method=SelectionMethod.RANDOM,
                funding=FundingType.STATE,
                budget=Decimal(50000),
                time_limit_days=20,
                registration_opens=now - timedelta(minutes=1),
                registration_closes=now + timedelta(minutes=1),
            ),
            actor=actor_of(owner, Role.TENDEREE),
        )
        for account in intermediaries:
            await market.register(announcement.id, price=None, actor=actor_of(account, Role.INTERMEDIARY))
        await session.commit()
    with use_clock(ShiftedClock(timedelta(minutes=5))):
        async with maker() as session:
            drawn = await MarketService(session).draw(announcement.id, actor=Actor.system())
            await session.commit()
    winner = next(a for a in intermediaries if a.organisation_id == drawn.winner_organisation_id)
    return Selected(owner, intermediaries, announcement.id, winner)


@pytest.fixture
async def other(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser with its own cookie jar."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as c:
        yield c


@pytest.fixture
async def third(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver.local") as c:
        yield c


async def test_practice_page_shows_qualifications_ratings_and_grade(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    case = await selected(session_maker, settings)
    async with session_maker() as session:
        announcement = await MarketService(session).announcement(case.announcement_id)
        await complete_service(session, announcement, actor_of(case.owner, Role.TENDEREE))
        await MarketService(session).rate(
            case.announcement_id,
            RatingCreate(quality=90, timeliness=80, attitude=100, fees=70),
            actor=actor_of(case.owner, Role.TENDEREE),
        )
        await session.commit()
    url = f"/market/intermediaries/practice?organisation_id={case.winner.organisation_id}"
    assert url.replace("&", "&amp;") in (await client.get("/market")).text  # linked from the directory
    practice = await client.get(url)
    assert practice.status_code == 200
    assert ITEM in practice.text
    assert 'data-count="1"' in practice.text
    means = re.search(r'<tr id="rating-means">(.*?)</tr>', practice.text, re.DOTALL)
    assert means
    assert re.findall(r">([\d.]+)</td>", means.group(1)) == ["90.0", "80.0", "100.0", "70.0"]
    assert re.search(r'id="credit-grade" data-grade="[ABCD]"', practice.text)
    assert 'id="blacklist" data-listed="no"' in practice.text
    assert f"/market/selections/{case.announcement_id}" in practice.text  # the selection won
    assert (await client.get("/market/intermediaries/practice")).status_code == 404
    assert (await client.get("/market/intermediaries/practice?organisation_id=nonsense")).status_code == 404
    unknown = f"/market/intermediaries/practice?organisation_id={uuid.uuid4()}"
    assert (await client.get(unknown)).status_code == 404


async def test_owner_files_the_contract_confirms_completion_and_rates(  # noqa: PLR0915 - one story
    client: httpx.AsyncClient,
    other: httpx.AsyncClient,
    third: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    case = await selected(session_maker, settings)
    await log_in(client, case.owner)
    manage = f"/market/owner/announcements/{case.announcement_id}"
    page = await client.get(manage)
    assert page.status_code == 200
    token = csrf_token(page.text)

    empty = await client.post(f"{manage}/contract", data={"_csrf_token": token, "contract_no": " "})
    assert empty.status_code == 422
    assert 'data-rule="required"' in empty.text
    assert "(required)" not in empty.text
    filed = await client.post(f"{manage}/contract", data={"_csrf_token": token, "contract_no": "HT-2026-017"})
    assert filed.status_code == 303, filed.text
    page = await client.get(manage)
    assert 'id="contract-no">HT-2026-017<' in page.text
    assert 'id="clock" data-state="running"' in page.text

    early = await client.post(f"{manage}/completion", data={"_csrf_token": token})
    assert early.status_code == 422
    assert "deliverable_missing" in early.text

    # The selected intermediary uploads the deliverable from its workspace.
    await log_in(other, case.winner)
    workspace = await other.get("/market/intermediary")
    assert workspace.status_code == 200
    assert f'data-delivery="{case.announcement_id}"' in workspace.text
    upload = f"/market/intermediary/deliveries/{case.announcement_id}/deliverable"
    no_file = await other.post(upload, data={"_csrf_token": csrf_token(workspace.text)}, files={"file": ("", b"")})
    assert no_file.status_code == 422
    assert 'data-field="file"' in no_file.text
    report = "环境影响报告书（报批稿）".encode() * 100
    uploaded = await other.post(
        upload,
        data={"_csrf_token": csrf_token(workspace.text)},
        files={"file": ("report.pdf", report, "application/pdf")},
    )
    assert uploaded.status_code == 303, uploaded.text
    digest = hashlib.sha256(report).hexdigest()
    stored = FileStore(settings.storage_dir).path(FileStore.key_for(DELIVERABLES, digest))
    assert stored.read_bytes() == report
    assert digest in (await other.get("/market/intermediary")).text

    done = await client.post(f"{manage}/completion", data={"_csrf_token": token})
    assert done.status_code == 303, done.text
    page = await client.get(manage)
    assert 'id="completed"' in page.text
    assert 'data-state="completed"' in page.text
    assert f'id="deliverable">{digest}<' in page.text

    scores = {"quality": "95", "timeliness": "88", "attitude": "90", "fees": "80"}
    out_of_range = await client.post(f"{manage}/rating", data={**scores, "quality": "101", "_csrf_token": token})
    assert out_of_range.status_code == 422
    assert "rating_range" in out_of_range.text
    not_a_number = await client.post(f"{manage}/rating", data={**scores, "fees": "good", "_csrf_token": token})
    assert not_a_number.status_code == 422
    rated = await client.post(f"{manage}/rating", data={**scores, "_csrf_token": token})
    assert rated.status_code == 303, rated.text
    page = await client.get(manage)
    assert 'id="rating-given"' in page.text
    again = await client.post(f"{manage}/rating", data={**scores, "_csrf_token": token})
    assert again.status_code == 422
    assert "duplicate_rating" in again.text

    practice = await client.get(f"/market/intermediaries/practice?organisation_id={case.winner.organisation_id}")
    assert 'data-count="1"' in practice.text

    # Another owner's announcement is not this owner's to manage.
    await log_in(third, await create_account(session_maker, settings, Role.TENDEREE))
    assert (await third.get(manage)).status_code == 403


async def test_intermediary_answers_a_blacklisting_and_the_regulator_decides(
    client: httpx.AsyncClient,
    other: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await ensure_item(session_maker)
    intermediary = await create_account(session_maker, settings, Role.INTERMEDIARY)
    await qualify(session_maker, intermediary)
    await log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    regulator = await client.get("/market/regulator")
    assert regulator.status_code == 200
    token = csrf_token(regulator.text)
    notice = {"_csrf_token": token, "organisation_id": str(intermediary.organisation_id), "response_days": "10"}
    no_reason = await client.post("/market/regulator/blacklistings", data={**notice, "reason": ""})
    assert no_reason.status_code == 422
    assert 'data-rule="required"' in no_reason.text
    noticed = await client.post("/market/regulator/blacklistings", data={**notice, "reason": "出具虚假报告"})
    assert noticed.status_code == 303, noticed.text
    async with session_maker() as session:
        row = await session.scalar(
            sa.select(Blacklisting).where(Blacklisting.organisation_id == intermediary.organisation_id)
        )
    assert row is not None
    decide = f"/market/regulator/blacklistings/{row.id}/decision"
    too_early = await client.post(decide, data={"_csrf_token": token, "uphold": "1", "months": "6"})
    assert too_early.status_code == 422
    assert "response_period_running" in too_early.text

    await log_in(other, intermediary)
    workspace = await other.get("/market/intermediary")
    assert f'data-blacklisting="{row.id}"' in workspace.text
    own_token = csrf_token(workspace.text)
    respond = f"/market/intermediary/blacklistings/{row.id}/response"
    blank = await other.post(respond, data={"_csrf_token": own_token, "response": "  "})
    assert blank.status_code == 422
    answered = await other.post(respond, data={"_csrf_token": own_token, "response": "报告数据有原始记录为证"})
    assert answered.status_code == 303, answered.text

    regulator = await client.get("/market/regulator")
    assert "报告数据有原始记录为证" in regulator.text
    decided = await client.post(decide, data={"_csrf_token": token, "uphold": "1", "months": "6"})
    assert decided.status_code == 303, decided.text
    assert f'data-blacklisting="{row.id}" data-status="effective"' in (await client.get("/market/regulator")).text
    practice = await other.get(f"/market/intermediaries/practice?organisation_id={intermediary.organisation_id}")
    assert 'id="blacklist" data-listed="yes"' in practice.text

    appealed = await other.post(
        f"/market/intermediary/blacklistings/{row.id}/appeal", data={"_csrf_token": own_token, "appeal": "请求复核"}
    )
    assert appealed.status_code == 303, appealed.text
    overturned = await client.post(
        f"/market/regulator/blacklistings/{row.id}/appeal-decision", data={"_csrf_token": token, "overturn": "1"}
    )
    assert overturned.status_code == 303, overturned.text
    async with session_maker() as session:
        final = await session.get(Blacklisting, row.id)
    assert final is not None
    assert final.status is BlacklistStatus.WITHDRAWN


async def test_supervisor_sees_an_overdue_delivery(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    case = await selected(session_maker, settings)
    async with session_maker() as session:
        await DeliveryService(session).file_contract(
            case.announcement_id, "HT-OVERDUE", actor=actor_of(case.owner, Role.TENDEREE)
        )
        await session.commit()
    handler = DeliveryClock()
    with use_clock(ShiftedClock(timedelta(days=21))):  # past the 20-day time limit
        async with session_maker() as session:
            now = await clock.now(session)
            for key in await handler.due(session, now, 100):
                await handler.run(session, key, now)
            await session.commit()
    async with session_maker() as session:
        delivery = await MarketService(session).repo.delivery(case.announcement_id)
    assert isinstance(delivery, Delivery)
    assert delivery.overdue

    await log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    regulator = await client.get("/market/regulator")
    assert regulator.status_code == 200
    row = re.search(
        rf'<tr data-delivery="{case.announcement_id}" data-state="(\w+)">(.*?)</tr>', regulator.text, re.DOTALL
    )
    assert row, regulator.text
    assert row.group(1) == "overdue"
    assert PROJECT in row.group(2)
    assert "HT-OVERDUE" in row.group(2)


async def test_regulator_pages_refuse_everyone_but_supervisors(
    client: httpx.AsyncClient,
    other: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    assert (await client.get("/market/regulator")).status_code == 303  # anonymous: off to log in
    await log_in(client, await create_account(session_maker, settings, Role.INTERMEDIARY))
    assert (await client.get("/market/regulator")).status_code == 403
    token = csrf_token((await client.get("/market/intermediary")).text)
    forged = await client.post(
        "/market/regulator/blacklistings",
        data={"_csrf_token": token, "organisation_id": str(uuid.uuid4()), "reason": "x", "response_days": "10"},
    )
    assert forged.status_code == 403
    await log_in(other, await create_account(session_maker, settings, Role.TENDEREE))
    assert (await other.get("/market/regulator")).status_code == 403


async def test_a_refusal_is_shown_in_the_pages_language_with_its_rule(
    client: httpx.AsyncClient,
    other: httpx.AsyncClient,
    third: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    case = await selected(session_maker, settings)
    async with session_maker() as session:
        now = await clock.now(session)
        owner = actor_of(case.owner, Role.TENDEREE)
        open_one = await MarketService(session).announce(
            AnnouncementCreate(
                project_name="另一项目",
                item_code=ITEM,
                method=SelectionMethod.RANDOM,
                funding=FundingType.STATE,
                budget=Decimal(30000),
                time_limit_days=10,
                registration_opens=now - timedelta(minutes=1),
                registration_closes=now + timedelta(days=2),
            ),
            actor=owner,
        )
        await session.commit()
    unqualified = await create_account(session_maker, settings, Role.INTERMEDIARY)
    action = f"/market/intermediary/announcements/{open_one.id}/registrations"

    await log_in(client, unqualified)  # Chinese, the default
    refused = await client.post(
        action, data={"_csrf_token": csrf_token((await client.get("/market/intermediary")).text)}
    )
    assert refused.status_code == 422
    assert "本机构不具备该服务事项的资质。" in refused.text
    assert 'data-rule="no_qualification"' in refused.text
    assert f'id="error-register-{open_one.id}-item_code"' in refused.text  # next to that announcement's form
    assert "no qualification for the service item" not in refused.text

    other.cookies.set("ggzy_locale", "en")
    await log_in(other, unqualified)
    english = await other.post(action, data={"_csrf_token": csrf_token((await other.get("/market/intermediary")).text)})
    assert english.status_code == 422
    assert "Your organisation holds no qualification for this service item." in english.text

    # A registrant registering twice: the duplicate rule, in Chinese.
    await log_in(third, case.intermediaries[0])
    token = csrf_token((await third.get("/market/intermediary")).text)
    first = await third.post(action, data={"_csrf_token": token})
    assert first.status_code == 303, first.text
    second = await third.post(action, data={"_csrf_token": token})
    assert second.status_code == 422
    assert "本机构已报名参加该选取。" in second.text


async def test_complaint_and_credit_inputs_through_the_pages(
    client: httpx.AsyncClient,
    other: httpx.AsyncClient,
    third: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    case = await selected(session_maker, settings)
    manage = f"/market/owner/announcements/{case.announcement_id}"
    await log_in(client, case.owner)
    owner_token = csrf_token((await client.get(manage)).text)
    blank = await client.post(f"{manage}/complaints", data={"_csrf_token": owner_token, "text": ""})
    assert blank.status_code == 422
    assert 'data-rule="required"' in blank.text
    filed = await client.post(f"{manage}/complaints", data={"_csrf_token": owner_token, "text": "报告多处数据错误"})
    assert filed.status_code == 303, filed.text
    complaint_id = re.search(r'data-complaint="([0-9a-f-]{36})"', (await client.get(manage)).text)
    assert complaint_id

    await log_in(other, case.winner)
    workspace = await other.get("/market/intermediary")
    assert "报告多处数据错误" in workspace.text
    answered = await other.post(
        f"/market/intermediary/complaints/{complaint_id.group(1)}/response",
        data={"_csrf_token": csrf_token(workspace.text), "response": "已更正"},
    )
    assert answered.status_code == 303, answered.text

    await log_in(third, await create_account(session_maker, settings, Role.SUPERVISOR))
    regulator = await third.get("/market/regulator")
    assert "已更正" in regulator.text
    token = csrf_token(regulator.text)
    decide = f"/market/regulator/complaints/{complaint_id.group(1)}/decision"
    no_reason = await third.post(decide, data={"_csrf_token": token, "uphold": "1", "reason": ""})
    assert no_reason.status_code == 422
    upheld = await third.post(decide, data={"_csrf_token": token, "uphold": "1", "reason": "经核实属实"})
    assert upheld.status_code == 303, upheld.text
    assert f'data-complaint="{complaint_id.group(1)}"' not in (await third.get("/market/regulator")).text

    inputs = {
        "_csrf_token": token,
        "organisation_id": str(case.winner.organisation_id),
        "year": "2025",
        "regulator_score": "71",
        "regulator_source": "市住建局年度考核",
        "public_credit_score": "9",
        "public_credit_source": "信用中国",
    }
    too_high = await third.post("/market/regulator/credit-inputs", data=inputs)
    assert too_high.status_code == 422
    assert "score_range" in too_high.text
    assert 'value="市住建局年度考核"' in too_high.text  # what was typed is kept
    bad_number = await third.post("/market/regulator/credit-inputs", data={**inputs, "regulator_score": "七十"})
    assert bad_number.status_code == 422
    recorded = await third.post("/market/regulator/credit-inputs", data={**inputs, "regulator_score": "65"})
    assert recorded.status_code == 303, recorded.text
    report = await third.get("/market/regulator")
    line = re.search(
        rf'<tr data-organisation="{case.winner.organisation_id}" data-grade="\w">(.*?)</tr>', report.text, re.DOTALL
    )
    assert line
    assert "65.00" in line.group(1)
    practice = await third.get(f"/market/intermediaries/practice?organisation_id={case.winner.organisation_id}")
    assert "65.00" in practice.text


async def test_owner_publishes_direct_and_merit_selections_and_scores_the_panel(
    client: httpx.AsyncClient,
    other: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await ensure_item(session_maker)
    chosen = await create_account(session_maker, settings, Role.INTERMEDIARY)
    await qualify(session_maker, chosen)
    await log_in(client, await create_account(session_maker, settings, Role.TENDEREE))
    workspace = await client.get("/market/owner")
    assert f'<option value="{chosen.organisation_id}"' in workspace.text
    token = csrf_token(workspace.text)
    form = await owner_form(session_maker, method="direct", funding="social", direct_organisation_id="")
    unnamed = await client.post("/market/owner/announcements", data={**form, "_csrf_token": token})
    assert unnamed.status_code == 422
    assert 'id="error-direct_organisation_id"' in unnamed.text
    direct = await client.post(
        "/market/owner/announcements",
        data={**form, "direct_organisation_id": str(chosen.organisation_id), "_csrf_token": token},
    )
    assert direct.status_code == 303, direct.text

    merit = await client.post(
        "/market/owner/announcements", data={**await owner_form(session_maker, method="merit"), "_csrf_token": token}
    )
    assert merit.status_code == 303, merit.text
    announcement_id = merit.headers["location"].rsplit("/", 1)[1]
    await log_in(other, chosen)
    registered = await other.post(
        f"/market/intermediary/announcements/{announcement_id}/registrations",
        data={"_csrf_token": csrf_token((await other.get("/market/intermediary")).text)},
    )
    assert registered.status_code == 303, registered.text

    manage = f"/market/owner/announcements/{announcement_id}"
    page = await client.get(manage)
    assert f'data-organisation="{chosen.organisation_id}"' in page.text
    scores = f"{manage}/panel-scores"
    base = {"_csrf_token": token, "organisation_id": str(chosen.organisation_id)}
    out_of_range = await client.post(scores, data={**base, "scores": "88, 120"})
    assert out_of_range.status_code == 422
    assert "score_range" in out_of_range.text
    garbled = await client.post(scores, data={**base, "scores": "88, abc"})
    assert garbled.status_code == 422
    saved = await client.post(scores, data={**base, "scores": "88，92.5, 90"})
    assert saved.status_code == 303, saved.text
    assert 'value="88, 92.5, 90"' in (await client.get(manage)).text


async def test_the_published_computation_reads_in_chinese(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """The lottery's computation names its parts and the draw's purpose in words and the winner
    by name; ids and codes stay in attributes and in the JSON a reader can fold open."""
    case = await selected(session_maker, settings)
    page = await client.get(f"/market/selections/{case.announcement_id}")
    assert page.status_code == 200, page.text
    section = page.text[page.text.index('id="computation-title"') :]
    readable = section[: section.index("<details>")]
    visible = re.sub(r"<[^>]*>", " ", readable)
    assert "抽取用途" in visible
    assert "在报名机构中随机抽取" in visible  # purpose "lottery"
    assert "选定的中介机构" in visible
    assert "摇号种子" in visible
    assert "财政投资" in visible  # funding "state", in words
    assert 'data-purpose="lottery"' in readable
    assert "lottery" not in visible
    assert "purpose" not in visible
    assert "winner" not in visible
    assert "state" not in visible
    assert str(case.winner.organisation_id) not in visible  # named, not by its id
    assert f'data-organisation="{case.winner.organisation_id}"' in readable
    assert '"purpose": "lottery"' in section  # the JSON as published, folded away
