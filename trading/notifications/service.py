"""Publishing notices, reading them, and where a user's notices go by e-mail.

Domains call one function, in their own transaction::

    await service.publish(session, recipient=Recipient.organisation(org_id),
                          template="bidding.objection_answered", key=f"…:{objection.id}",
                          params={...}, legal=True, project_code=code, sealed=True)

It only flushes. The notice is unique on (event key, recipient), so publishing the same event
again returns the first notice and sends nothing. Each e-mail leaves through the
``notifications.send_email`` task after commit (dropped with a rollback).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from trading.kernel.settings import get_settings
from trading.kernel.tasks import enqueue
from trading.ledger.service import append_entry
from trading.notifications import messages
from trading.notifications.models import EmailAddress, EmailDelivery, Notice, NoticeReading, RecipientKind
from trading.notifications.repository import NotificationRepository

SEND_TASK: Final = "notifications.send_email"
RESEND_AFTER: Final = timedelta(minutes=15)
"""A delivery still pending this long after its last try is re-sent by the sweep (its task was
lost, or its retries ran out with the worker)."""
KEY_MAX: Final = 200
_ADDRESS = re.compile(r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")


@dataclass(frozen=True, slots=True)
class Recipient:
    kind: RecipientKind
    id: uuid.UUID

    @classmethod
    def user(cls, user_id: uuid.UUID) -> Recipient:
        return cls(RecipientKind.USER, user_id)

    @classmethod
    def organisation(cls, organisation_id: uuid.UUID) -> Recipient:
        return cls(RecipientKind.ORGANISATION, organisation_id)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


async def publish(
    session: AsyncSession,
    *,
    recipient: Recipient,
    template: str,
    key: str,
    params: Mapping[str, Any],
    legal: bool = False,
    project_code: str | None = None,
    sealed: bool = False,
    actor: Actor | None = None,
) -> Notice:
    """Put a notice in the recipient's inbox and queue its e-mails; a second call with the same
    ``key`` and recipient returns the first notice and changes nothing.

    ``legal`` notices (送达 with legal effect) are recorded in the ledger, on ``project_code``'s
    chain (``sealed``: its sealed chain, when the recipient is a prospective bidder).
    """
    messages.check_template(template, params)
    if not key or len(key) > KEY_MAX:
        msg = f"an event key has 1–{KEY_MAX} characters"
        raise ValueError(msg)
    repo = NotificationRepository(session)
    existing = await repo.notice_for_event(key, recipient.kind, recipient.id)
    if existing is not None:
        return existing
    now = await clock.now(session)
    notice = Notice(
        recipient_kind=recipient.kind,
        recipient_id=recipient.id,
        template=template,
        params=dict(params),
        event_key=key,
        legal=legal,
        project_code=project_code,
        sealed=sealed,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(notice)
            await session.flush()
    except IntegrityError:
        # Published concurrently by another transaction that committed first: theirs stands.
        raced = await repo.notice_for_event(key, recipient.kind, recipient.id)
        if raced is None:
            raise
        return raced
    members = [recipient.id] if recipient.kind is RecipientKind.USER else await repo.active_member_ids(recipient.id)
    sender = get_settings().smtp.sender
    deliveries = [
        EmailDelivery(
            notice_id=notice.id,
            user_id=address.user_id,
            address=address.address,
            message_id=messages.message_id(key, str(recipient), address.address, sender),
            created_at=now,
            next_check=now + RESEND_AFTER,
        )
        for address in _one_per_mailbox(await repo.addresses(members))
    ]
    session.add_all(deliveries)
    await session.flush()
    for delivery in deliveries:
        enqueue(session, SEND_TASK, delivery_id=str(delivery.id))
    if legal:
        await append_entry(
            session,
            actor=actor or Actor.system(),
            action="notifications.legal_notice_published",
            subject_type="notifications.notice",
            subject_id=str(notice.id),
            summary={"template": template, "recipient": str(recipient), "emails": len(deliveries)},
            data={"event_key": key, "params": notice.params},
            project_code=project_code,
            sealed=sealed,
        )
    return notice


def _one_per_mailbox(addresses: Sequence[EmailAddress]) -> list[EmailAddress]:
    """Members sharing a mailbox (``Bids@Example.com`` and ``bids@example.com`` alike) get one
    message: a second delivery to it would be a duplicate, and (notice, address) is unique.
    Domains are case-insensitive and mailbox providers treat local parts so, hence ``casefold``.
    """
    seen: set[str] = set()
    kept = []
    for address in addresses:
        mailbox = address.address.casefold()
        if mailbox not in seen:
            seen.add(mailbox)
            kept.append(address)
    return kept


def _reader(actor: Actor) -> uuid.UUID:
    if actor.user_id is None:
        raise PermissionDenied("notices are read by a signed-in user", rule="user")
    return actor.user_id


@dataclass(frozen=True, slots=True)
class Reading:
    """A notice as one user sees it: ``read_at`` is their own reading (None: unread to them)."""

    notice: Notice
    read_at: datetime | None


async def inbox(session: AsyncSession, actor: Actor, *, limit: int = 50, offset: int = 0) -> list[Reading]:
    """The actor's own notices and those of the organisation they act for, newest first."""
    repo = NotificationRepository(session)
    rows = await repo.inbox(_reader(actor), actor.organisation_id, limit=limit, offset=offset)
    return [Reading(notice, read_at) for notice, read_at in rows]


async def unread_count(session: AsyncSession, actor: Actor) -> int:
    """Notices the actor has not read themselves (another member's reading does not count)."""
    if actor.user_id is None:
        return 0
    return await NotificationRepository(session).unread_count(actor.user_id, actor.organisation_id)


async def notice_for(session: AsyncSession, actor: Actor, notice_id: uuid.UUID) -> Reading:
    user_id = _reader(actor)
    repo = NotificationRepository(session)
    notice = await repo.visible_notice(notice_id, user_id, actor.organisation_id)
    if notice is None:
        raise NotFound("no such notice", field="notice_id", rule="exists")
    return Reading(notice, await repo.read_at(notice_id, user_id))


async def mark_read(session: AsyncSession, actor: Actor, notice_id: uuid.UUID) -> Reading:
    """Record that the actor read the notice (once per reader; later readings change nothing).
    For a legal notice each reader's first reading is their read receipt, recorded in the ledger.
    """
    user_id = _reader(actor)
    repo = NotificationRepository(session)
    # The notice's row lock serialises two confirmations of the same reading (a double click).
    notice = await repo.visible_notice(notice_id, user_id, actor.organisation_id, lock=True)
    if notice is None:
        raise NotFound("no such notice", field="notice_id", rule="exists")
    read_at = await repo.read_at(notice_id, user_id)
    if read_at is not None:
        return Reading(notice, read_at)
    read_at = await clock.now(session)
    session.add(NoticeReading(notice_id=notice.id, user_id=user_id, read_at=read_at))
    await session.flush()
    if notice.legal:
        await append_entry(
            session,
            actor=actor,
            action="notifications.legal_notice_read",
            subject_type="notifications.notice",
            subject_id=str(notice.id),
            summary={"template": notice.template, "read_at": read_at.isoformat()},
            data={"event_key": notice.event_key, "read_by": str(user_id)},
            project_code=notice.project_code,
            sealed=notice.sealed,
        )
    return Reading(notice, read_at)


async def email_address(session: AsyncSession, actor: Actor) -> str | None:
    found = await NotificationRepository(session).address_of(_reader(actor))
    return found.address if found else None


async def set_email_address(session: AsyncSession, actor: Actor, address: str) -> EmailAddress | None:
    """Where the actor's notices go by e-mail; an empty address stops e-mail (inbox only)."""
    user_id = _reader(actor)
    address = address.strip()
    if address and (len(address) > 254 or not _ADDRESS.match(address)):  # noqa: PLR2004 - RFC 5321 path limit
        raise ValidationFailed("not an e-mail address", field="address", rule="email")
    repo = NotificationRepository(session)
    current = await repo.address_of(user_id, lock=True)
    now = await clock.now(session)
    if (current.address if current else "") == address:
        return current
    if not address and current is not None:
        await session.delete(current)
        current = None
    elif current is None:
        current = EmailAddress(user_id=user_id, address=address, updated_at=now)
        session.add(current)
    else:
        current.address = address
        current.updated_at = now
    await session.flush()
    # The address is personal data: only its digest goes in the ledger.
    await append_entry(
        session,
        actor=actor,
        action="notifications.email_address_changed",
        subject_type="parties.user",
        subject_id=str(user_id),
        summary={"email": bool(address)},
        data={"address": address},
    )
    return current
