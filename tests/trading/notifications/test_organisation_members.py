"""Notices to an organisation with several members: a mailbox shared by two members gets one
message, and each member has their own read state."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.notifications.conftest import SmtpServer, account_with_email, actor_of, colleague_of
from tests.trading.notifications.test_email import PARAMS, sends
from tests.trading.notifications.test_inbox import unread_badge
from tests.trading.parties.factories import create_account, csrf_token, ledger_entries
from tests.trading.parties.test_web import log_in
from trading.kernel.auth.roles import Role
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.tasks import RecordingPublisher
from trading.notifications import jobs, service
from trading.notifications.repository import NotificationRepository
from trading.notifications.service import Recipient


async def test_members_sharing_a_mailbox_get_one_message(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    publisher: RecordingPublisher,
    smtp_server: SmtpServer,
) -> None:
    smtp_server.handler.refuse = 0
    account = await account_with_email(session_maker, settings, "Bids@Example.com")
    await colleague_of(session_maker, settings, account, "bids@example.com")
    async with transaction(session_maker) as session:
        notice = await service.publish(
            session,
            recipient=Recipient.organisation(account.organisation_id),
            template="notifications.message",
            key=f"test:{uuid.uuid4()}",
            params=PARAMS,
        )
        [delivery] = await NotificationRepository(session).deliveries_of(notice.id)
    assert sends(publisher) == [delivery.id]
    assert await jobs.send_email(session_maker, delivery.id, settings=smtp_server.settings(settings)) == "sent"
    [message] = smtp_server.handler.received
    assert str(message["To"]).lower() == "bids@example.com"


async def test_members_with_their_own_mailboxes_each_get_one(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, publisher: RecordingPublisher, tmp_path: Path
) -> None:
    account = await account_with_email(session_maker, settings, "one@example.com")
    await colleague_of(session_maker, settings, account, "two@example.com")
    async with transaction(session_maker) as session:
        await service.publish(
            session,
            recipient=Recipient.organisation(account.organisation_id),
            template="notifications.message",
            key=f"test:{uuid.uuid4()}",
            params=PARAMS,
        )
    assert len(sends(publisher)) == 2


async def test_each_member_reads_an_organisation_notice_for_themselves(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    colleague = await colleague_of(session_maker, settings, account)
    async with transaction(session_maker) as session:
        notice = await service.publish(
            session,
            recipient=Recipient.organisation(account.organisation_id),
            template="notifications.message",
            key=f"test:{uuid.uuid4()}",
            params=PARAMS,
            legal=True,
        )
    assert (await log_in(client, account.username)).status_code == 303
    page = await client.get("/inbox")
    read = await client.post(f"/inbox/{notice.id}/read", data={"_csrf_token": csrf_token(page.text)})
    assert read.status_code == 303
    assert unread_badge((await client.get("/inbox")).text) == ("通知", 0)

    # The colleague has not read it: still unread for them, in the service and on their pages.
    async with session_maker() as session:
        assert await service.unread_count(session, actor_of(colleague)) == 1
        [reading] = await service.inbox(session, actor_of(colleague))
        assert reading.read_at is None
    await client.post("/logout", data={"_csrf_token": csrf_token(page.text)})
    client.cookies.clear()
    assert (await log_in(client, colleague.username)).status_code == 303
    page = await client.get("/inbox")
    assert unread_badge(page.text) == ("通知", 1)
    assert f'id="notice-{notice.id}" data-read="no"' in page.text

    # Their own reading is their own read receipt: one per member.
    assert (
        await client.post(f"/inbox/{notice.id}/read", data={"_csrf_token": csrf_token(page.text)})
    ).status_code == 303
    receipts = await ledger_entries(session_maker, action="notifications.legal_notice_read", subject_id=notice.id)
    assert sorted(str(entry.actor_user_id) for entry in receipts) == sorted(
        [str(account.user_id), str(colleague.user_id)]
    )
