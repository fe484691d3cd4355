"""E-mail jobs: send one delivery (the ``notifications.send_email`` task), and the sweep handler
that re-sends deliveries whose task was lost.

Exactly once, as far as this side can make it: `send_email` locks the delivery row for the whole
send and does nothing when it is no longer pending, so a retried task, a sweep that re-enqueued it
and a redelivered message serialise on the lock and only the first one sends. The limit: if the
process dies after the SMTP server accepted the message but before the commit, the row is still
pending and the message goes out again, with the same ``Message-ID`` for receivers to discard.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Final

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trading.kernel import clock
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings, get_settings
from trading.kernel.tasks import enqueue
from trading.notifications import messages, smtp
from trading.notifications.models import DeliveryStatus, EmailDelivery, Notice
from trading.notifications.repository import NotificationRepository
from trading.notifications.service import RESEND_AFTER, SEND_TASK

log = structlog.get_logger(__name__)

MAX_ATTEMPTS: Final = 12
"""After this many failed tries a delivery is given up (``failed``); the notice stays in the inbox."""


def retry_delay(attempts: int) -> timedelta:
    """How long the sweep waits after the n-th failed try: 1, 2, 4 … minutes, at most 6 hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), timedelta(hours=6))


def compose(
    settings: Settings, delivery: EmailDelivery, notice: Notice, locale: str | None, now: datetime
) -> EmailMessage:
    text = messages.render(notice.template, notice.params, locale)
    message = EmailMessage()
    message["From"] = settings.smtp.sender
    message["To"] = delivery.address
    message["Subject"] = text.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = delivery.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a notice
    message.set_content(text.body, charset="utf-8")
    # After set_content, which replaces every Content-* header.
    message["Content-Language"] = "en" if messages.variant(locale) == "en" else "zh-CN"
    return message


def _composed(
    settings: Settings, delivery: EmailDelivery, notice: Notice, locale: str | None, now: datetime
) -> EmailMessage:
    try:
        return compose(settings, delivery, notice, locale, now)
    except messages.RENDER_ERRORS as exc:
        # The template changed after publication: no retry can help, so the delivery fails for
        # good with the reason (the notice stays readable in the inbox) instead of the task and
        # every sweep failing on it forever.
        msg = f"template {notice.template!r} no longer renders: {exc!r}"
        raise smtp.SendFailed(msg, temporary=False) from exc


async def send_email(
    session_maker: async_sessionmaker[AsyncSession], delivery_id: uuid.UUID, *, settings: Settings | None = None
) -> str:
    """Send one pending delivery and mark it sent; returns its status afterwards.

    The row stays locked (``FOR UPDATE``; SQLite: the write lock) from the check to the commit, so
    concurrent runs for the same delivery send once. A temporary failure is recorded (attempts,
    last error, when the sweep may try again) and then raised as `smtp.TemporaryFailure`, after the
    commit, for the task to retry with backoff; a permanent one marks the delivery failed.
    """
    settings = settings or get_settings()
    failure: smtp.SendFailed | None = None
    async with transaction(session_maker, lock=True) as session:
        repo = NotificationRepository(session)
        delivery = await repo.locked_delivery(delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.PENDING:
            return delivery.status.value if delivery else "missing"
        notice = await repo.notice(delivery.notice_id)
        if notice is None:  # pragma: no cover - the foreign key keeps it
            return "missing"
        now = await clock.now(session)
        locale = await repo.user_locale(delivery.user_id)
        delivery.attempts += 1
        try:
            await smtp.deliver(settings, _composed(settings, delivery, notice, locale, now))
        except smtp.SendFailed as exc:
            failure = exc
            delivery.last_error = str(exc)[:500]
            if exc.temporary and delivery.attempts < MAX_ATTEMPTS:
                delivery.next_check = now + retry_delay(delivery.attempts)
            else:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_check = None
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = now
            delivery.next_check = None
        await session.flush()
        status = delivery.status
    if failure is not None:
        log.warning("notifications.email_failed", delivery=str(delivery_id), error=str(failure), status=status.value)
        if status is DeliveryStatus.PENDING:
            raise smtp.TemporaryFailure(str(failure))
    return status.value


async def resend_if_due(session: AsyncSession, delivery_id: uuid.UUID, now: datetime) -> bool:
    """Re-enqueue a delivery still pending at its ``next_check``, and look again later."""
    delivery = await NotificationRepository(session).locked_delivery(delivery_id)
    if delivery is None or delivery.status is not DeliveryStatus.PENDING:
        return False
    if delivery.next_check is None or delivery.next_check > now:
        return False
    delivery.next_check = now + RESEND_AFTER
    await session.flush()
    enqueue(session, SEND_TASK, delivery_id=str(delivery.id))
    return True


class PendingEmails:
    """E-mails still pending after their last try: send again (the task does nothing if sent)."""

    name = "notifications.pending_emails"

    async def due(self, session: AsyncSession, now: datetime, limit: int) -> Sequence[object]:
        return await NotificationRepository(session).due_deliveries(now, limit)

    async def run(self, session: AsyncSession, key: object, now: datetime) -> bool:
        if not isinstance(key, uuid.UUID):
            msg = f"keys are UUIDs, got {type(key).__name__}"
            raise TypeError(msg)
        return await resend_if_due(session, key, now)


SWEEP_HANDLERS = (PendingEmails(),)
