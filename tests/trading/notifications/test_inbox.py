"""The inbox: publish → the notice is listed with the unread count in the header (in Chinese by
default), opening a legal notice shows it and confirming records its read receipt, mark read, the
API, idempotent keys."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.notifications.conftest import actor_of
from tests.trading.parties.factories import Account, api_token, bearer, create_account, csrf_token, ledger_entries
from tests.trading.parties.test_web import log_in
from trading.kernel.auth.roles import Role
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.notifications import service
from trading.notifications.messages import UnknownTemplate
from trading.notifications.models import Notice, NoticeReading
from trading.notifications.service import Recipient

BADGE = re.compile(r'class="inbox-link"[^>]*>([^<]*)(?:<span class="badge"[^>]*>(\d+)</span>)?')


async def _publish(
    session_maker: async_sessionmaker[AsyncSession],
    recipient: Recipient,
    *,
    key: str | None = None,
    title: str = "开标提醒",
    legal: bool = False,
) -> Notice:
    async with transaction(session_maker) as session:
        return await service.publish(
            session,
            recipient=recipient,
            template="notifications.message",
            key=key or f"test:{uuid.uuid4()}",
            params={"title": title, "text": "请按时参加不见面开标。"},
            legal=legal,
        )


def unread_badge(html: str) -> tuple[str, int]:
    match = BADGE.search(html)
    assert match, "the header has no inbox link"
    return match.group(1).strip(), int(match.group(2) or 0)


async def _signed_in(client: httpx.AsyncClient, account: Account) -> None:
    response = await log_in(client, account.username)
    assert response.status_code == 303, response.text


async def test_a_published_notice_is_in_the_inbox_with_the_unread_count_in_chinese(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    await _signed_in(client, account)
    assert unread_badge((await client.get("/inbox")).text) == ("通知", 0)

    mine = await _publish(session_maker, Recipient.user(account.user_id), title="开标提醒")
    ours = await _publish(session_maker, Recipient.organisation(account.organisation_id), title="澄清文件发布")
    stranger = await create_account(session_maker, settings, Role.BIDDER)
    await _publish(session_maker, Recipient.user(stranger.user_id), title="别人的通知")

    page = await client.get("/inbox")
    assert page.status_code == 200
    assert unread_badge(page.text) == ("通知", 2)
    assert "开标提醒" in page.text
    assert "澄清文件发布" in page.text
    assert "别人的通知" not in page.text
    assert "本单位" in page.text
    assert "标记为已读" in page.text
    assert f'id="notice-{mine.id}" data-read="no"' in page.text
    # The header shows the count on every page, not only the inbox.
    assert unread_badge((await client.get("/account")).text) == ("通知", 2)

    marked = await client.post(f"/inbox/{ours.id}/read", data={"_csrf_token": csrf_token(page.text)})
    assert marked.status_code == 303
    page = await client.get("/inbox")
    assert f'id="notice-{ours.id}" data-read="yes"' in page.text
    assert unread_badge(page.text) == ("通知", 1)
    # Another user's notice is not found, not revealed.
    other = await _publish(session_maker, Recipient.user(stranger.user_id))
    assert (await client.get(f"/inbox/{other.id}")).status_code == 404


async def test_confirming_a_legal_notice_records_its_read_receipt_once(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    notice = await _publish(
        session_maker, Recipient.organisation(account.organisation_id), title="异议答复", legal=True
    )
    published = await ledger_entries(session_maker, action="notifications.legal_notice_published", subject_id=notice.id)
    assert len(published) == 1
    await _signed_in(client, account)

    detail = await client.get(f"/inbox/{notice.id}")
    assert detail.status_code == 200
    assert "异议答复" in detail.text
    assert "送达通知" in detail.text
    # Opening only shows it: the receipt is recorded when the reader confirms (a POST with CSRF).
    assert "您确认已阅读后，该确认将记录为送达回执。" in detail.text
    assert (await client.get(f"/inbox/{notice.id}")).status_code == 200  # opened again
    assert await ledger_entries(session_maker, action="notifications.legal_notice_read", subject_id=notice.id) == []
    assert unread_badge(detail.text) == ("通知", 1)
    token = csrf_token(detail.text)
    refused = await client.post(f"/inbox/{notice.id}/read", data={"back": "notice"})
    assert refused.status_code == 403  # no CSRF token, no receipt

    for _ in range(2):  # confirmed twice (a double click): one receipt
        confirmed = await client.post(f"/inbox/{notice.id}/read", data={"_csrf_token": token, "back": "notice"})
        assert confirmed.status_code == 303
        assert confirmed.headers["location"] == f"/inbox/{notice.id}"
    detail = await client.get(f"/inbox/{notice.id}")
    assert "您对本通知的阅读已记录为送达回执。" in detail.text
    assert "确认送达" not in detail.text

    [receipt] = await ledger_entries(session_maker, action="notifications.legal_notice_read", subject_id=notice.id)
    assert receipt.actor_user_id == account.user_id
    async with session_maker() as session:
        reading = await session.get_one(NoticeReading, (notice.id, account.user_id))
        assert reading.read_at is not None


async def test_publishing_twice_with_the_same_key_creates_one_notice(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.TENDEREE)
    key = f"test:{uuid.uuid4()}"
    first = await _publish(session_maker, Recipient.user(account.user_id), key=key, legal=True)
    second = await _publish(session_maker, Recipient.user(account.user_id), key=key, legal=True)
    assert first.id == second.id
    async with session_maker() as session:
        assert len(await service.inbox(session, actor_of(account))) == 1
    assert (
        len(await ledger_entries(session_maker, action="notifications.legal_notice_published", subject_id=first.id))
        == 1
    )
    # The same event to another recipient is another notice.
    to_organisation = await _publish(session_maker, Recipient.organisation(account.organisation_id), key=key)
    assert to_organisation.id != first.id


async def test_api_lists_and_marks_read_with_a_bearer_token(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.AGENCY)
    notice = await _publish(session_maker, Recipient.user(account.user_id), title="资格审查结果", legal=True)
    headers = bearer(await api_token(client, account))
    assert (await client.get("/api/v1/notifications")).status_code == 401

    listed = await client.get("/api/v1/notifications", headers=headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["unread"] == 1
    [item] = body["items"]
    assert (item["id"], item["subject"], item["legal"], item["read_at"]) == (str(notice.id), "资格审查结果", True, None)
    assert (await client.get("/api/v1/notifications?offset=1", headers=headers)).json()["items"] == []

    read = await client.post(f"/api/v1/notifications/{notice.id}/read", headers=headers)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    assert (await client.get("/api/v1/notifications", headers=headers)).json()["unread"] == 0
    assert len(await ledger_entries(session_maker, action="notifications.legal_notice_read", subject_id=notice.id)) == 1
    missing = await client.post(f"/api/v1/notifications/{uuid.uuid4()}/read", headers=headers)
    assert missing.status_code == 404


async def test_the_email_address_form_saves_and_refuses_with_422(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    await _signed_in(client, account)
    page = await client.get("/inbox")
    token = csrf_token(page.text)
    refused = await client.post("/inbox/email", data={"_csrf_token": token, "address": "not an address"})
    assert refused.status_code == 422
    assert "请输入电子邮箱地址" in refused.text
    saved = await client.post("/inbox/email", data={"_csrf_token": token, "address": "bidder@example.cn"})
    assert saved.status_code == 303
    page = await client.get(saved.headers["location"])
    assert 'value="bidder@example.cn"' in page.text
    assert "已保存。" in page.text


async def test_a_template_that_does_not_render_is_refused_at_publication(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    async with session_maker() as session:
        for template, params in (("no.such_template", {}), ("notifications.message", {"title": "缺正文"})):
            with pytest.raises(UnknownTemplate):
                await service.publish(
                    session, recipient=Recipient.user(account.user_id), template=template, key="k", params=params
                )
