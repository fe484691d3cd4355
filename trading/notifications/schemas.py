"""What the notifications API returns."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from trading.kernel.api.schemas import RowRead
from trading.notifications.messages import Rendered
from trading.notifications.models import Notice, RecipientKind


class NoticeRead(RowRead, kw_only=True):
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
    """When the caller read it (another member's reading does not count)."""

    @classmethod
    def shown(cls, notice: Notice, read_at: datetime | None, text: Rendered) -> NoticeRead:
        return cls.of(notice, recipient=notice.recipient_kind, subject=text.subject, body=text.body, read_at=read_at)


class NoticeList(msgspec.Struct, kw_only=True):
    items: list[NoticeRead]
    unread: int
    """Unread notices in the whole inbox, not only on this page."""
