"""Notice e-mails: sent after commit, exactly once at a real SMTP server although the first try is
refused (451), the task is retried and the sweep runs twice; into var/mail without SMTP."""

from __future__ import annotations

import mailbox
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.notifications.conftest import SmtpServer, account_with_email
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import RecordingPublisher
from trading.notifications import jobs, service, smtp
from trading.notifications.jobs import PendingEmails
from trading.notifications.models import DeliveryStatus, EmailDelivery
from trading.notifications.service import SEND_TASK, Recipient
from trading.parties.models import User

PARAMS = {"title": "开标时间调整", "text": "开标时间调整为 2026 年 12 月 20 日 9:30。"}


def sends(publisher: RecordingPublisher) -> list[uuid.UUID]:
    return [uuid.UUID(m.kwargs["delivery_id"]) for m in publisher.published if m.name == SEND_TASK]


async def _publish(session_maker: async_sessionmaker[AsyncSession], recipient: Recipient, key: str) -> None:
    async with transaction(session_maker) as session:
        await service.publish(session, recipient=recipient, template="notifications.message", key=key, params=PARAMS)


async def test_exactly_once_through_a_refusal_a_retry_and_two_sweeps(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    publisher: RecordingPublisher,
    smtp_server: SmtpServer,
) -> None:
    account = await account_with_email(session_maker, settings, "bidder@example.cn")
    with_smtp = smtp_server.settings(settings)
    await _publish(session_maker, Recipient.user(account.user_id), f"test:{uuid.uuid4()}")
    [delivery_id] = sends(publisher)

    # The first try meets 451: recorded, raised for Celery to retry, nothing arrived.
    with pytest.raises(smtp.TemporaryFailure, match="451"):
        await jobs.send_email(session_maker, delivery_id, settings=with_smtp)
    assert smtp_server.handler.received == []
    # The retry sends it.
    assert await jobs.send_email(session_maker, delivery_id, settings=with_smtp) == "sent"
    # The sweep runs twice, long after: nothing is pending, nothing is enqueued again.
    publisher.published.clear()
    with use_clock(ShiftedClock(timedelta(days=1))):
        for _ in range(2):
            report = await run_sweep(session_maker, [PendingEmails()])
            assert report.total_changed == 0
    assert sends(publisher) == []
    # A redelivered task message finds it sent.
    assert await jobs.send_email(session_maker, delivery_id, settings=with_smtp) == "sent"

    [message] = smtp_server.handler.received
    assert message["Subject"] == "开标时间调整"
    assert message["To"] == "bidder@example.cn"
    assert message["Message-ID"].endswith(".notice@ggzy.localhost>")
    assert "开标时间调整为" in message.get_content()
    async with session_maker() as session:
        delivery = await session.get_one(EmailDelivery, delivery_id)
        assert (delivery.status, delivery.attempts, delivery.next_check) == (DeliveryStatus.SENT, 2, None)
        assert delivery.last_error is not None
        assert "451" in delivery.last_error


async def test_a_lost_task_is_sent_once_by_the_sweep(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    publisher: RecordingPublisher,
    smtp_server: SmtpServer,
) -> None:
    smtp_server.handler.refuse = 0
    account = await account_with_email(session_maker, settings, "agency@example.cn")
    await _publish(session_maker, Recipient.organisation(account.organisation_id), f"test:{uuid.uuid4()}")
    [delivery_id] = sends(publisher)
    publisher.published.clear()  # the message is lost on its way to the broker

    with use_clock(ShiftedClock(service.RESEND_AFTER + timedelta(minutes=1))):
        first = await run_sweep(session_maker, [PendingEmails()])
        second = await run_sweep(session_maker, [PendingEmails()])
    assert first.changed == {"notifications.pending_emails": 1}
    assert second.total_changed == 0  # looked at again only after another RESEND_AFTER
    assert sends(publisher) == [delivery_id]
    with_smtp = smtp_server.settings(settings)
    # Two workers pick it up (a redelivered message): one sends, the other finds it sent.
    assert await jobs.send_email(session_maker, delivery_id, settings=with_smtp) == "sent"
    assert await jobs.send_email(session_maker, delivery_id, settings=with_smtp) == "sent"
    assert len(smtp_server.handler.received) == 1


async def test_without_smtp_the_message_lands_in_var_mail(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, publisher: RecordingPublisher, tmp_path: Path
) -> None:
    account = await account_with_email(session_maker, settings, "purchaser@example.cn")
    await _publish(session_maker, Recipient.user(account.user_id), f"test:{uuid.uuid4()}")
    [delivery_id] = sends(publisher)
    embedded = settings.model_copy(update={"var_dir": tmp_path})
    assert not embedded.smtp.host
    assert await jobs.send_email(session_maker, delivery_id, settings=embedded) == "sent"
    assert await jobs.send_email(session_maker, delivery_id, settings=embedded) == "sent"
    outbox = mailbox.mbox(tmp_path / "mail" / "outbox.mbox")
    try:
        [message] = list(outbox)
    finally:
        outbox.close()
    assert message["To"] == "purchaser@example.cn"
    assert str(message["Content-Language"]) == "zh-CN"


async def test_a_rolled_back_publication_sends_nothing(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, publisher: RecordingPublisher
) -> None:
    account = await account_with_email(session_maker, settings, "someone@example.cn")

    async def publish_then_fail() -> None:
        async with transaction(session_maker) as session:
            await service.publish(
                session,
                recipient=Recipient.user(account.user_id),
                template="notifications.message",
                key="x",
                params=PARAMS,
            )
            raise RuntimeError("abandon")

    with pytest.raises(RuntimeError, match="abandon"):
        await publish_then_fail()
    assert sends(publisher) == []


async def test_a_5xx_refusal_fails_the_delivery_for_good(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    publisher: RecordingPublisher,
    smtp_server: SmtpServer,
) -> None:
    account = await account_with_email(session_maker, settings, "gone@example.cn")
    await _publish(session_maker, Recipient.user(account.user_id), f"test:{uuid.uuid4()}")
    [delivery_id] = sends(publisher)
    smtp_server.handler.refuse = 0

    async def refuse(*_: object) -> str:
        return "550 5.1.1 No such mailbox"

    smtp_server.handler.handle_DATA = refuse  # type: ignore[method-assign]
    assert await jobs.send_email(session_maker, delivery_id, settings=smtp_server.settings(settings)) == "failed"
    with use_clock(ShiftedClock(timedelta(days=1))):
        assert (await run_sweep(session_maker, [PendingEmails()])).total_changed == 0


async def test_each_member_gets_the_email_in_their_own_language(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, publisher: RecordingPublisher, tmp_path: Path
) -> None:
    account = await account_with_email(session_maker, settings, "en-reader@example.cn")
    async with transaction(session_maker) as session:
        user = await session.get_one(User, account.user_id)
        user.locale = "en"
    params = {
        "project_code": "E3201000001",
        "title": "道路工程",
        "answer": "已澄清。",
        "answered_at": "2026-12-06T02:00:00+00:00",
    }
    async with transaction(session_maker) as session:
        await service.publish(
            session,
            recipient=Recipient.organisation(account.organisation_id),
            template="bidding.objection_answered",
            key=f"test:{uuid.uuid4()}",
            params=params,
        )
    [delivery_id] = sends(publisher)
    embedded = settings.model_copy(update={"var_dir": tmp_path})
    assert await jobs.send_email(session_maker, delivery_id, settings=embedded) == "sent"
    outbox = mailbox.mbox(tmp_path / "mail" / "outbox.mbox")
    try:
        [message] = list(outbox)
    finally:
        outbox.close()
    assert str(message["Content-Language"]) == "en"
    assert "Objection answered: E3201000001" in str(message["Subject"])
    body = message.get_payload(decode=True).decode()
    assert "2026-12-06 10:00" in body  # UTC+08:00
