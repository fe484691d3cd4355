"""The inbox pages (``/inbox``): the signed-in user's notices and their organisation's, one
notice, mark read, and the address notices go to by e-mail.

Opening a notice (a GET) only shows it. Reading is recorded by the reader's confirmation, a POST
with CSRF: a safe method writes nothing (no read receipt by a prefetch or a forged link, and no
read turning into a write under SQLite's lock). For a legal notice the first confirmation is its
read receipt in the ledger.
The header's unread count comes from `unread_in_header`, installed as a page context hook by the
composition root.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.api.bounds import Offset
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.web import i18n
from trading.kernel.web.forms import SEE_OTHER, UNPROCESSABLE, FieldError, FormBody, Labels, submit
from trading.kernel.web.htmx import is_htmx
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page
from trading.notifications import messages, service
from trading.notifications.models import Notice
from trading.parties.policies import PartiesPermission

PAGE_SIZE: Final = 50
LABELS = Labels(
    fields={"address": N_("E-mail address")},
    rules={"email": N_("Enter an e-mail address such as name@example.com, or leave it empty.")},
)


@dataclass
class AddressForm:
    address: str = ""


@dataclass
class ReadForm:
    back: str = ""
    """``notice``: return to the notice (confirmed on its page), otherwise to the inbox."""


async def unread_in_header(request: Request[Any, Any, Any], actor: Actor) -> Mapping[str, Any]:
    """``unread_notices`` for the page header, read in a short session of its own (the handler's
    session is not reachable from here, and a count needs no consistency with it).
    """
    if not actor.is_authenticated or actor.user_id is None or is_htmx(request):
        return {}  # fragments have no header
    session_maker = request.app.state.get("session_maker")
    if session_maker is None:
        return {}
    async with session_maker() as session:
        return {"unread_notices": await service.unread_count(session, actor)}


def shown(notice: Notice) -> messages.Rendered:
    return messages.render_or_fallback(notice.template, notice.params, i18n.get_locale())


class InboxPages(Controller):
    path = "/inbox"
    include_in_schema = False

    @get("/", name="notifications.inbox", opt=requires(PartiesPermission.PROFILE_READ))
    async def inbox(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        offset: Offset = 0,
    ) -> Response[Any]:
        return await self._inbox(request, db_session, actor, offset=offset)

    @get("/{notice_id:uuid}", name="notifications.notice", opt=requires(PartiesPermission.PROFILE_READ))
    async def notice(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        notice_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        reading = await service.notice_for(db_session, actor, notice_id)
        return await page(
            request,
            "notifications/notice.html",
            {"notice": reading.notice, "read_at": reading.read_at, "text": shown(reading.notice)},
        )

    @post("/{notice_id:uuid}/read", name="notifications.mark_read", opt=requires(PartiesPermission.PROFILE_UPDATE))
    async def mark_read(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        notice_id: FromPath[uuid.UUID],
        data: FormBody[ReadForm],
    ) -> Redirect:
        await service.mark_read(db_session, actor, notice_id)
        if data.back == "notice":
            back = request.app.route_reverse("notifications.notice", notice_id=notice_id)
        else:
            back = request.app.route_reverse("notifications.inbox")
        return Redirect(back, status_code=SEE_OTHER)

    @post("/email", name="notifications.email_address", opt=requires(PartiesPermission.PROFILE_UPDATE))
    async def email_address(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[AddressForm],
    ) -> Response[Any]:
        return await submit(
            db_session,
            lambda: service.set_email_address(db_session, actor, data.address),
            redirect=request.app.route_reverse("notifications.inbox") + "?done=email",
            refusal=lambda errors: self._inbox(request, db_session, actor, address=data.address, errors=errors),
            labels=LABELS,
        )

    async def _inbox(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        actor: Actor,
        *,
        offset: int = 0,
        address: str | None = None,
        errors: list[FieldError] | None = None,
    ) -> Response[Any]:
        notices = await service.inbox(session, actor, limit=PAGE_SIZE + 1, offset=offset)
        more = len(notices) > PAGE_SIZE
        done = request.query_params.get("done")
        return await page(
            request,
            "notifications/inbox.html",
            {
                "notices": [(r.notice, r.read_at, shown(r.notice)) for r in notices[:PAGE_SIZE]],
                "next_offset": offset + PAGE_SIZE if more else None,
                "previous_offset": max(offset - PAGE_SIZE, 0) if offset else None,
                "address": address if address is not None else (await service.email_address(session, actor) or ""),
                "errors": errors or [],
                "saved": done == "email",
            },
            status_code=UNPROCESSABLE if errors else 200,
        )


CONTROLLERS = (InboxPages,)
