"""JSON API of the inbox (``/api/v1/notifications``): list, and mark one read."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.api.bounds import Offset
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.web import i18n
from trading.notifications import messages, service
from trading.notifications.schemas import NoticeList, NoticeRead
from trading.parties.policies import PartiesPermission


def _read(reading: service.Reading) -> NoticeRead:
    notice = reading.notice
    text = messages.render_or_fallback(notice.template, notice.params, i18n.get_locale())
    return NoticeRead.shown(notice, reading.read_at, text)


class NotificationsApi(Controller):
    path = "/notifications"
    tags = ["notifications"]

    @get("/", operation_id="notifications_list", opt=requires(PartiesPermission.PROFILE_READ))
    async def list_notices(
        self,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Offset = 0,
    ) -> NoticeList:
        """The caller's notices and those of the organisation they act for, newest first."""
        notices = await service.inbox(db_session, actor, limit=limit, offset=offset)
        return NoticeList(items=[_read(n) for n in notices], unread=await service.unread_count(db_session, actor))

    @post(
        "/{notice_id:uuid}/read",
        operation_id="notifications_mark_read",
        status_code=HTTP_200_OK,
        opt=requires(PartiesPermission.PROFILE_UPDATE),
    )
    async def mark_read(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], notice_id: FromPath[uuid.UUID]
    ) -> NoticeRead:
        """Mark a notice read (once; again changes nothing). For a legal notice the first reading
        is its read receipt, recorded in the ledger.
        """
        return _read(await service.mark_read(db_session, actor, notice_id))


CONTROLLERS = (NotificationsApi,)
