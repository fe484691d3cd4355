"""What the notifications API returns."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from trading.notifications.messages import Rendered
from trading.notifications.models import Notice, RecipientKind


class NoticeRead(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    recipient: RecipientKind
    """``user``: to the caller; ``organisation``: to the organisation the caller acts for."""
    template: str
    subject: str
    body: str
    """Plain text, in the request's language."""
    legal: bool
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notice: Notice, text: Rendered) -> NoticeRead:
        return cls(
            id=notice.id,
            recipient=notice.recipient_kind,
            template=notice.template,
            subject=text.subject,
            body=text.body,
            legal=notice.legal,
            created_at=notice.created_at,
            read_at=notice.read_at,
        )


class NoticeList(msgspec.Struct, kw_only=True):
    items: list[NoticeRead]
    unread: int
    """Unread notices in the whole inbox, not only on this page."""
