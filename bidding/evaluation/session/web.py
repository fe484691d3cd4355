"""The session's pages (``/evaluation/e/{id}/…``), in Chinese with the English switch.

* ``/evaluation/sessions``: the sessions one sits on, hosts or (supervisors, admins) watches.
* ``/session`` (members): the seat and the sign-in with the certificate (the statement the page
  shows is signed in the browser, `sign-form.js`), the chair vote, the state and the time left,
  asking for more time; the chair moves the session on, pauses, resumes and notes incidents.
* ``/host`` (the hosting organisation): seats for the members (numbered, no names), progress,
  pause/resume, incidents, replacing a member by the next reserve.
* ``/live`` (supervisors, admins): progress and the journal; no scores.
* ``…/events``: server-sent events over the live broker (Redis pub/sub in production): the
  progress now, then after every committed change (`events`), a heartbeat in between.

Forms go the kernel's way: typed body, `submit` (savepoint, 303 back or the page again with 422
naming the field and the rule).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import ServiceUnavailableException
from litestar.params import FromPath
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import SESSION_ORDER, SessionState
from bidding.evaluation.session import machine
from bidding.evaluation.session.conduct import Conduct
from bidding.evaluation.session.errors import SessionRefused
from bidding.evaluation.session.events import channel_of
from bidding.evaluation.session.policies import SessionPermission
from bidding.evaluation.session.repository import SessionRepository
from bidding.evaluation.session.seating import Seating
from bidding.evaluation.session.views import SessionView, SessionViews, may_watch
from bidding.evaluation.session.web_labels import (
    EVENT_LABELS,
    LABELS,
    MEMBER_STATUS_LABELS,
    ROLE_LABELS,
    STATE_LABELS,
)
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.live import Broker
from trading.kernel.settings import Settings
from trading.kernel.web.forms import FieldError, FormBody, submit
from trading.kernel.web.pages import page

HEARTBEAT_SECONDS: Final = 15.0
RETRY_MS: Final = 2000


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise SessionRefused("choose one", field=field, rule="format") from None


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "state_labels": STATE_LABELS,
        "event_labels": EVENT_LABELS,
        "status_labels": MEMBER_STATUS_LABELS,
        "role_labels": ROLE_LABELS,
        "order": [s.value for s in SESSION_ORDER],
        "labels": LABELS.fields,
        "errors": [],
        "failed": "",
        "form": {},
        **extra,
    }


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# --- forms --------------------------------------------------------------------------------------


@dataclass
class SignInForm:
    nonce: str = ""
    seat: str = ""
    signature: str = ""


@dataclass
class VoteForm:
    candidate: str = ""


@dataclass
class AdvanceForm:
    target: str = ""


@dataclass
class NoteForm:
    note: str = ""


@dataclass
class SeatForm:
    member: str = ""
    seat: str = ""


@dataclass
class ReplaceForm:
    member: str = ""
    reason: str = ""


# --- the live stream ----------------------------------------------------------------------------


def _message(progress: dict[str, Any], event: dict[str, Any] | None) -> ServerSentEventMessage:
    data = json.dumps({"event": event, "view": progress}, ensure_ascii=False, separators=(",", ":"), default=str)
    event_id = str(event["eventId"]) if event and "eventId" in event else None
    return ServerSentEventMessage(data=data, event="state", id=event_id)


async def follow(
    broker: Broker, evaluation_id: uuid.UUID, read: Callable[[], Awaitable[dict[str, Any]]]
) -> AsyncGenerator[ServerSentEventMessage, None]:
    """The progress now, then after every published event; a heartbeat comment in between."""
    async with broker.subscribe(channel_of(evaluation_id)) as sub:
        yield _message(await read(), None)
        while True:
            event = await sub.get(HEARTBEAT_SECONDS)
            if event is None:
                yield ServerSentEventMessage(data=None, comment="heartbeat")
                continue
            yield _message(await read(), event)


async def _events(request: Request[Any, Any, Any], actor: Actor, evaluation_id: uuid.UUID) -> ServerSentEvent:
    maker: async_sessionmaker[AsyncSession] = request.app.state.session_maker

    async def read() -> dict[str, Any]:
        async with maker() as session:
            return await SessionViews(session).progress_for(actor, evaluation_id)

    await read()  # refusals answer as errors before the stream starts
    broker: Broker | None = request.app.state.get("live")
    if broker is None:
        raise ServiceUnavailableException("the live updates are not running in this process")
    return ServerSentEvent(follow(broker, evaluation_id, read), retry_duration=RETRY_MS)


# --- pages --------------------------------------------------------------------------------------


class SessionPages(Controller):
    path = "/evaluation"
    include_in_schema = False

    @get("/sessions", name="evaluation.sessions", opt=requires(SessionPermission.SESSION_LIST))
    async def sessions(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        """The sessions the reader sits on, hosts or watches."""
        repo = SessionRepository(db_session)
        rows = await repo.evaluations_for(
            user_id=actor.user_id, organisation_id=actor.organisation_id, everything=may_watch(actor)
        )
        seated = {  # the member's page only where the reader sits on the committee
            evaluation.id
            for evaluation, _ in rows
            if actor.user_id is not None and await repo.member_of_user(evaluation.id, actor.user_id) is not None
        }
        return await page(
            request,
            "evaluation/session/sessions.html",
            _context(
                rows=rows,
                watcher=may_watch(actor),
                attends=actor.has(SessionPermission.SESSION_ATTEND),
                seated=seated,
                hosts=actor.has(SessionPermission.SESSION_HOST),
            ),
        )

    # --- the member's page -------------------------------------------------------------------

    async def _member_page(  # noqa: PLR0917 - one page's parts
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        evaluation_id: uuid.UUID,
        errors: list[FieldError] | None = None,
        failed: str = "",
    ) -> Response[Any]:
        view = await SessionViews(db_session).member_view(actor, evaluation_id)
        issued = None
        if view.me is not None and view.me.seat_id is not None and view.me.signed_in_at is None:
            issued = await Seating(db_session, _settings(request)).challenge(
                actor, evaluation_id, origin=request.headers.get("origin")
            )
        return await page(
            request,
            "evaluation/session/member.html",
            _context(view=view, issued=issued, errors=errors or [], failed=failed),
            status_code=422 if errors else 200,
        )

    @get("/e/{evaluation_id:uuid}/session", name="evaluation.session", opt=requires(SessionPermission.SESSION_ATTEND))
    async def member(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The member's session page: seat, sign-in, chair vote, state, time, more time."""
        return await self._member_page(request, db_session, actor, evaluation_id)

    async def _member_post(  # noqa: PLR0917 - one page's parts
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        evaluation_id: uuid.UUID,
        action: Callable[[], Awaitable[object]],
        failed: str,
    ) -> Response[Any]:
        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._member_page(request, db_session, actor, evaluation_id, errors, failed)

        return await submit(
            db_session,
            action,
            redirect=request.app.route_reverse("evaluation.session", evaluation_id=evaluation_id),
            refusal=refusal,
            labels=LABELS,
        )

    @get("/e/{evaluation_id:uuid}/seat", name="evaluation.session_seat", opt=requires(SessionPermission.SESSION_ATTEND))
    async def seat(self, request: Request[Any, Any, Any], evaluation_id: FromPath[uuid.UUID]) -> Redirect:
        """The member's seat and sign-in: a section of the session page."""
        url = request.app.route_reverse("evaluation.session", evaluation_id=evaluation_id)
        return Redirect(f"{url}#my-seat", status_code=303)

    @post(
        "/e/{evaluation_id:uuid}/session/sign-in",
        name="evaluation.session_sign_in",
        opt=requires(SessionPermission.SESSION_ATTEND),
    )
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[SignInForm],
    ) -> Response[Any]:
        """Sign in at the seat: the page's statement signed with the member's certificate."""
        payload = {"nonce": data.nonce, "seat": data.seat, "cades": data.signature.strip()}

        async def action() -> object:
            if not payload["cades"]:
                raise SessionRefused("sign the statement with your certificate", field="signature", rule="required")
            return await Seating(db_session, _settings(request)).sign_in(actor, evaluation_id, payload)

        return await self._member_post(request, db_session, actor, evaluation_id, action, "sign-in")

    @post(
        "/e/{evaluation_id:uuid}/session/vote",
        name="evaluation.session_vote",
        opt=requires(SessionPermission.SESSION_ATTEND),
    )
    async def vote(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[VoteForm],
    ) -> Response[Any]:
        """Vote for the committee's chair."""

        async def action() -> object:
            candidate = _uuid(data.candidate, "candidate")
            return await Seating(db_session, _settings(request)).vote(actor, evaluation_id, candidate)

        return await self._member_post(request, db_session, actor, evaluation_id, action, "vote")

    @post(
        "/e/{evaluation_id:uuid}/session/more-time",
        name="evaluation.session_more_time",
        opt=requires(SessionPermission.SESSION_ATTEND),
    )
    async def more_time(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """Ask for more time in the current state."""

        async def action() -> object:
            return await Conduct(db_session).ask_for_time(actor, evaluation_id)

        return await self._member_post(request, db_session, actor, evaluation_id, action, "more-time")

    @post(
        "/e/{evaluation_id:uuid}/session/advance",
        name="evaluation.session_advance",
        opt=requires(SessionPermission.SESSION_ATTEND),
    )
    async def advance(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[AdvanceForm],
    ) -> Response[Any]:
        """The chair moves the session to the next state."""

        async def action() -> object:
            try:
                target = SessionState(data.target.strip())
            except ValueError:
                raise SessionRefused("choose the next state", field="state", rule="format") from None
            evaluation = await SessionRepository(db_session).evaluation(evaluation_id)
            if evaluation is None:
                raise SessionRefused("no such evaluation", field="state", rule="exists")
            return await machine.enter(db_session, evaluation, target, actor=actor)

        return await self._member_post(request, db_session, actor, evaluation_id, action, "advance")

    @post(
        "/e/{evaluation_id:uuid}/session/pause",
        name="evaluation.session_pause",
        opt=requires(SessionPermission.SESSION_ATTEND),
    )
    async def chair_pause(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[NoteForm],
    ) -> Response[Any]:
        """The chair pauses the session."""

        async def action() -> object:
            return await Conduct(db_session).pause(actor, evaluation_id, data.note)

        return await self._member_post(request, db_session, actor, evaluation_id, action, "pause")

    @post(
        "/e/{evaluation_id:uuid}/session/resume",
        name="evaluation.session_resume",
        opt=requires(SessionPermission.SESSION_ATTEND),
    )
    async def chair_resume(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The chair resumes the session."""

        async def action() -> object:
            return await Conduct(db_session).resume(actor, evaluation_id)

        return await self._member_post(request, db_session, actor, evaluation_id, action, "pause")

    @post(
        "/e/{evaluation_id:uuid}/session/incident",
        name="evaluation.session_incident",
        opt=requires(SessionPermission.SESSION_ATTEND),
    )
    async def chair_incident(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[NoteForm],
    ) -> Response[Any]:
        """The chair notes an incident."""

        async def action() -> object:
            return await Conduct(db_session).incident(actor, evaluation_id, data.note)

        return await self._member_post(request, db_session, actor, evaluation_id, action, "incident")

    @get(
        "/e/{evaluation_id:uuid}/session/events",
        name="evaluation.session_events",
        opt=requires(SessionPermission.SESSION_ATTEND),
    )
    async def member_events(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], evaluation_id: FromPath[uuid.UUID]
    ) -> ServerSentEvent:
        """The session's progress, live."""
        return await _events(request, actor, evaluation_id)

    # --- the host's view -----------------------------------------------------------------------

    async def _host_page(  # noqa: PLR0917 - one page's parts
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        evaluation_id: uuid.UUID,
        errors: list[FieldError] | None = None,
        failed: str = "",
        form: dict[str, Any] | None = None,
    ) -> Response[Any]:
        view = await SessionViews(db_session).host_view(actor, evaluation_id)
        return await page(
            request,
            "evaluation/session/host.html",
            _context(view=view, errors=errors or [], failed=failed, form=form or {}),
            status_code=422 if errors else 200,
        )

    async def _host_post(  # noqa: PLR0917 - one page's parts
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        evaluation_id: uuid.UUID,
        action: Callable[[], Awaitable[object]],
        failed: str,
        form: dict[str, Any] | None = None,
    ) -> Response[Any]:
        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._host_page(request, db_session, actor, evaluation_id, errors, failed, form)

        return await submit(
            db_session,
            action,
            redirect=request.app.route_reverse("evaluation.session_host", evaluation_id=evaluation_id),
            refusal=refusal,
            labels=LABELS,
        )

    @get("/e/{evaluation_id:uuid}/host", name="evaluation.session_host", opt=requires(SessionPermission.SESSION_HOST))
    async def host(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The host's view: seats, progress, incidents, pause/resume, replacement."""
        return await self._host_page(request, db_session, actor, evaluation_id)

    @post(
        "/e/{evaluation_id:uuid}/host/seat",
        name="evaluation.session_assign_seat",
        opt=requires(SessionPermission.SESSION_HOST),
    )
    async def assign_seat(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[SeatForm],
    ) -> Response[Any]:
        """Give a member a seat in one of the evaluation's venues."""

        async def action() -> object:
            member = _uuid(data.member, "member")
            seat = _uuid(data.seat, "seat")
            return await Seating(db_session, _settings(request)).assign_seat(actor, evaluation_id, member, seat)

        return await self._host_post(request, db_session, actor, evaluation_id, action, "seat")

    @post(
        "/e/{evaluation_id:uuid}/host/pause",
        name="evaluation.session_host_pause",
        opt=requires(SessionPermission.SESSION_HOST),
    )
    async def host_pause(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[NoteForm],
    ) -> Response[Any]:
        """Pause the session (the remaining time is kept)."""

        async def action() -> object:
            return await Conduct(db_session).pause(actor, evaluation_id, data.note)

        return await self._host_post(request, db_session, actor, evaluation_id, action, "pause")

    @post(
        "/e/{evaluation_id:uuid}/host/resume",
        name="evaluation.session_host_resume",
        opt=requires(SessionPermission.SESSION_HOST),
    )
    async def host_resume(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """Resume the session."""

        async def action() -> object:
            return await Conduct(db_session).resume(actor, evaluation_id)

        return await self._host_post(request, db_session, actor, evaluation_id, action, "pause")

    @post(
        "/e/{evaluation_id:uuid}/host/incident",
        name="evaluation.session_host_incident",
        opt=requires(SessionPermission.SESSION_HOST),
    )
    async def host_incident(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[NoteForm],
    ) -> Response[Any]:
        """Record an incident."""

        async def action() -> object:
            return await Conduct(db_session).incident(actor, evaluation_id, data.note)

        return await self._host_post(request, db_session, actor, evaluation_id, action, "incident", {"note": data.note})

    @post(
        "/e/{evaluation_id:uuid}/host/replace",
        name="evaluation.session_replace",
        opt=requires(SessionPermission.SESSION_HOST),
    )
    async def replace(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[ReplaceForm],
    ) -> Response[Any]:
        """Replace a member by the next reserve of their group (with the reason)."""

        async def action() -> object:
            member = _uuid(data.member, "member")
            return await Conduct(db_session).replace(actor, evaluation_id, member, data.reason)

        return await self._host_post(
            request, db_session, actor, evaluation_id, action, "replace", {"reason": data.reason}
        )

    @get(
        "/e/{evaluation_id:uuid}/host/events",
        name="evaluation.session_host_events",
        opt=requires(SessionPermission.SESSION_HOST),
    )
    async def host_events(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], evaluation_id: FromPath[uuid.UUID]
    ) -> ServerSentEvent:
        """The session's progress, live (host)."""
        return await _events(request, actor, evaluation_id)

    # --- the supervisor's live view ------------------------------------------------------------

    @get("/e/{evaluation_id:uuid}/live", name="evaluation.session_live", opt=requires(SessionPermission.SESSION_WATCH))
    async def live(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The supervisor's live view: progress and incidents (no scores)."""
        view: SessionView = await SessionViews(db_session).live_view(actor, evaluation_id)
        return await page(request, "evaluation/session/live.html", _context(view=view))

    @get(
        "/e/{evaluation_id:uuid}/live/events",
        name="evaluation.session_live_events",
        opt=requires(SessionPermission.SESSION_WATCH),
    )
    async def live_events(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor], evaluation_id: FromPath[uuid.UUID]
    ) -> ServerSentEvent:
        """The session's progress, live (supervisors)."""
        return await _events(request, actor, evaluation_id)


CONTROLLERS = (SessionPages,)
