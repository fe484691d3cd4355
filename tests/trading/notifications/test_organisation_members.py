"""Notices to an organisation with several members: a mailbox shared by two members gets one
message, and each member has their own read state."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.notifications.conftest import SmtpServer, account_with_email, colleague_of
from tests.trading.notifications.test_email import PARAMS, sends
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
