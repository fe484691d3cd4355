"""Notices (the inbox) and their e-mail deliveries.

A notice is addressed to one user or one organisation and is unique on (event key, recipient):
publishing the same event twice finds the first notice and changes nothing. Each notice gets one
delivery row per e-mail address it goes to; the row is the send's state (pending → sent or
failed) and the lock that keeps two workers from sending it twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel.db.base import Base, UUIDPrimaryKey


class RecipientKind(StrEnum):
    USER = "user"
    ORGANISATION = "organisation"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    """Refused for good (a 5xx answer, or the attempts used up): not tried again."""


def _enum(enum: type[StrEnum]) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Notice(UUIDPrimaryKey, Base):
    __tablename__ = "notifications_notices"
    __table_args__ = (sa.UniqueConstraint("event_key", "recipient_kind", "recipient_id"),)

    recipient_kind: Mapped[RecipientKind] = mapped_column(_enum(RecipientKind))
    recipient_id: Mapped[uuid.UUID] = mapped_column(index=True)
    """A ``parties_users`` or ``parties_organisations`` id, by ``recipient_kind``."""
    template: Mapped[str] = mapped_column(sa.String(80))
    params: Mapped[dict[str, Any]]
    event_key: Mapped[str] = mapped_column(sa.String(200))
    legal: Mapped[bool] = mapped_column(default=False)
    """A notice with legal effect (送达): publishing and each reader's first reading are recorded in the ledger."""
    project_code: Mapped[str | None] = mapped_column(sa.String(64))
    """The ledger chain the legal records go on (the platform chain when empty)."""
    sealed: Mapped[bool] = mapped_column(default=False)
    """The legal records go on the project's sealed chain (the recipient is a prospective bidder)."""
    created_at: Mapped[datetime]


class NoticeReading(Base):
    """One user's reading of one notice. Per user, not per notice: every member of an organisation
    reads its notices for themselves (one member's reading leaves them unread for the others), and
    a legal notice's read receipt is each reader's own.
    """

    __tablename__ = "notifications_notice_reads"

    notice_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("notifications_notices.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"), primary_key=True)
    read_at: Mapped[datetime]


class EmailDelivery(UUIDPrimaryKey, Base):
    """One notice to one address. ``next_check`` is when the sweep re-sends a pending delivery
    whose task was lost; NULL once sent or failed.
    """

    __tablename__ = "notifications_email_deliveries"
    __table_args__ = (sa.UniqueConstraint("notice_id", "address"),)

    notice_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("notifications_notices.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    """Whose address it is: the e-mail is written in that user's language."""
    address: Mapped[str] = mapped_column(sa.String(254))
    message_id: Mapped[str] = mapped_column(sa.String(200))
    """``Message-ID`` derived from the event key and address: a resend carries the same one, so
    receivers can discard a duplicate."""
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    next_check: Mapped[datetime | None] = mapped_column(index=True)


class EmailAddress(Base):
    """Where a user receives notices by e-mail (none: inbox only)."""

    __tablename__ = "notifications_email_addresses"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"), primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(254))
    updated_at: Mapped[datetime]
