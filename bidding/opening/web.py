"""The opening hall's pages under ``/bidding/opening/{code}``: visitor, host, bidder and supervisor.

Every page renders the state `HallView.view` gives its actor, then follows it live through
the hall's server-sent events (`bidding.opening.live`, ``static/js/opening.js``): stage, countdown
from the database clock, each bid's decryption status, the price table from 唱标 on, objections.

* visitor (public): the masked view;
* host (``bidding:opening:host``): the stage controls (next stage, pause with a reason, resume),
  a platform-side incident for a bidder, answers to objections;
* bidder (``bidding:opening:attend``): sign in, the ``ggzy bid decrypt`` command to run on its own
  computer, its decryption status, an objection and the confirmation. Sign-in, objection and
  confirmation are signed in the page (``static/js/pki/sign-form.js``: the certificate file
  opened in the browser, a detached CAdES signature over the statement the platform gives at
  ``…/bidder/sign-in-statement``, ``…/bidder/objection-statement`` and
  ``…/bidder/confirmation-statement``, sent in the form's ``signature`` field); the ``ggzy bid``
  command lines and pasting a signature made by another CA client remain as alternatives;
* supervisor (``bidding:opening:read``): everything, read-only.

Forms take the kernel's form path (`trading.kernel.web.forms`): a typed body, `submit()` (303
back to the page, or the page re-rendered with status 422 naming the field, the rule and its
meaning in the reader's language through `web_labels.LABELS`); 403 and 404 go to the error pages.
`submit()` runs without the request's session: the hall's services commit their own units of work
(`bidding/AGENTS.md`). Host actions are routed with the read permission, as in the API, so that
the service refuses and records an attempt by someone who is not the host.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from bidding.client import format as fmt
from bidding.errors import OpeningRefused, OpeningStateConflict
from bidding.models import TenderStatus
from bidding.opening import repository
from bidding.opening.api import PREFIX
from bidding.opening.deps import provide_opening
from bidding.opening.models import Stage
from bidding.opening.service import OpeningService
from bidding.opening.web_commands import decrypt_command, statements
from bidding.opening.web_labels import (
    LABELS,
    OUTCOME_LABELS,
    PAGE_REFUSALS,
    PART_LABELS,
    STAGE_LABELS,
    hall_labels,
)
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, Page, exposes, guarded
from bidding.web.common import attachment
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import DomainError, NotFound, PermissionDenied
from trading.kernel.web.forms import FieldError, FormBody, rule_text, submit
from trading.kernel.web.pages import page
from trading.kernel.web.templating import DISPLAY_TZ
from trading.parties.models import Organisation

HALL: Final = f"{PREFIX}/{{code}}"
PUBLIC_PATHS: Final = frozenset({HALL})
COUNTDOWN_STATUSES: Final = frozenset({TenderStatus.PUBLISHED, TenderStatus.CLOSED})
"""Tenders whose hall is still to come: the deadline has not passed, or the sweep has not run yet."""


ROLE_TEMPLATES: Final[dict[str, str]] = {
    "visitor": "bidding/opening_visitor.html",
    "host": "bidding/opening_host.html",
    "bidder": "bidding/opening_bidder.html",
    "supervisor": "bidding/opening_supervisor.html",
}


# --- the forms (every field a string: decoding never fails, a bad value is re-rendered) ----------------


@dataclass
class TransitionForm:
    action: str = ""
    """The next stage, ``pause`` or ``resume``."""
    reason: str = ""


@dataclass
class IncidentForm:
    lot: str = ""
    bidder: str = ""
    cause: str = ""


@dataclass
class AnswerForm:
    answer: str = ""


@dataclass
class SignatureForm:
    signature: str = ""
    """A CAdES signature (base64) over the statement the page shows."""


@dataclass
class ObjectionForm:
    text: str = ""
    signature: str = ""


def _trimmed(form: Any) -> dict[str, str]:
    """The form's fields trimmed, as the services read them and the page shows them again."""
    return {name: value.strip() for name, value in asdict(form).items()}


class OpeningPages(Controller):
    """The hall's pages and their forms."""

    path = PREFIX
    include_in_schema = False
    dependencies = {"opening": Provide(provide_opening)}

    async def _render(
        self,
        request: Request[Any, Any, Any],
        role: str,
        code: str,
        opening: OpeningService,
        actor: Actor,
        *,
        errors: list[FieldError] | None = None,
        form: dict[str, str] | None = None,
    ) -> Response[Any]:
        try:
            policy = await opening.hall.policy(actor, code)
        except OpeningStateConflict as no_opening:
            if no_opening.rule != "opening-exists":
                raise
            return await _before_the_opening(request, opening, code)
        if not policy.may_open(Page(role)):
            raise PermissionDenied(PAGE_REFUSALS.get(role, PAGE_REFUSALS["host"]), field="tender", rule=f"{role}-page")
        view = await opening.hall.view(actor, code)
        base_url = str(request.base_url).rstrip("/")
        uscc = await _uscc_of(opening, actor) if role == "bidder" else None
        own = [row for row in view.get("decryption", []) if uscc and row.get("bidder") == uscc]
        return await page(
            request,
            ROLE_TEMPLATES[role],
            {
                "view": view,
                "code": code,
                "role": role,
                "events_url": request.app.route_reverse("bidding.opening_events", code=code),
                "errors": errors or [],
                "form": form or {},
                "next_stage": view.get("nextStage"),
                "own_rows": own,
                "decrypt_commands": [
                    (row["lot"], decrypt_command(base_url, code, row["lot"], row["bidder"])) for row in own
                ],
                **(statements(base_url, code, uscc, view.get("priceTableSha256")) if uscc and own else {}),
                "stage_labels": STAGE_LABELS,
                "outcome_labels": OUTCOME_LABELS,
                "part_labels": PART_LABELS,
                "display_tz": DISPLAY_TZ,
                "hall_labels": hall_labels(),
                # The links between the hall's pages: only to the pages this caller may open for
                # this tender (an agency's permission to host is not a desk at every tender).
                "can": {
                    "host": actor.has(BiddingPermission.OPENING_HOST) and policy.may_open(Page.HOST),
                    "attend": actor.has(BiddingPermission.OPENING_ATTEND) and policy.may_open(Page.BIDDER),
                    "read": actor.has(BiddingPermission.OPENING_READ) and policy.may_open(Page.SUPERVISOR),
                },
            },
        )

    async def _submit(
        self,
        request: Request[Any, Any, Any],
        *,
        role: str,
        code: str,
        opening: OpeningService,
        actor: Actor,
        form: dict[str, str],
        action: Any,
    ) -> Response[Any]:
        """Run the hall's action on the form path; back to the role's page, or that page with the refusal."""

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._render(request, role, code, opening, actor, errors=errors, form=form)

        return await submit(
            None,  # the hall's services commit their own units of work
            action,
            redirect=request.app.route_reverse(f"bidding.opening_{role}", code=code),
            refusal=refusal,
            labels=LABELS,
        )

    # --- pages ---

    @get("/{code:str}", name="bidding.opening_visitor", opt=exposes(Exposure.OPENING_STAGE))
    async def visitor(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The public hall: stage, countdown, progress; bidders and prices as the rules allow."""
        return await self._render(request, "visitor", code, opening, actor)

    @get(
        "/{code:str}/host",
        name="bidding.opening_host",
        opt=guarded(BiddingPermission.OPENING_HOST, Exposure.OPENING_STAGE),
    )
    async def host(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The host's desk: stage controls, incidents, objections, the live bidder table."""
        return await self._render(request, "host", code, opening, actor)

    @get(
        "/{code:str}/bidder",
        name="bidding.opening_bidder",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_STAGE),
    )
    async def bidder(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The bidder's seat: sign-in, the decryption command, objections and the confirmation."""
        return await self._render(request, "bidder", code, opening, actor)

    @get(
        "/{code:str}/supervise",
        name="bidding.opening_supervisor",
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.OPENING_STAGE),
    )
    async def supervisor(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Everything, live and read-only (supervisors; others see what their role allows)."""
        return await self._render(request, "supervisor", code, opening, actor)

    # --- the host's forms ---

    @post(
        "/{code:str}/host/transitions",
        name="bidding.opening_transition",
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.HOST),
    )
    async def transition(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[TransitionForm],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Next stage, pause (with a reason) or resume."""
        form = _trimmed(data)

        async def act() -> object:
            if form["action"] == "pause":
                return await opening.host.pause(actor, code, form["reason"])
            if form["action"] == "resume":
                return await opening.host.resume(actor, code)
            if form["action"] == "draw-coefficients":
                return await opening.host.draw_coefficients(actor, code)
            if form["action"] in {stage.value for stage in Stage} - {Stage.SIGN_IN.value}:
                return await opening.host.advance(actor, code, Stage(form["action"]))
            raise OpeningRefused("choose pause, resume or the next stage", field="action", rule="enum")

        return await self._submit(request, role="host", code=code, opening=opening, actor=actor, form=form, action=act)

    @post(
        "/{code:str}/host/incidents",
        name="bidding.opening_incident",
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.HOST),
    )
    async def incident(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[IncidentForm],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """A platform-side cause of a bidder's failure to decrypt (撤回, or the escrow remedy)."""
        form = _trimmed(data)

        async def act() -> object:
            return await opening.host.record_incident(
                actor, code, lot=form["lot"], bidder=form["bidder"], cause=form["cause"]
            )

        return await self._submit(request, role="host", code=code, opening=opening, actor=actor, form=form, action=act)

    @post(
        "/{code:str}/host/objections/{objection_id:uuid}/answer",
        name="bidding.opening_answer",
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.HOST),
    )
    async def answer(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        objection_id: FromPath[uuid.UUID],
        data: FormBody[AnswerForm],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The host's answer to an objection, in the hall."""
        form = _trimmed(data)

        async def act() -> object:
            return await opening.objections.answer_objection(actor, code, objection_id, form["answer"])

        return await self._submit(request, role="host", code=code, opening=opening, actor=actor, form=form, action=act)

    # --- the bidder's forms ---

    @post(
        "/{code:str}/bidder/sign-in",
        name="bidding.opening_sign_in",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[SignatureForm],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """签到: the bidder's organisation joins the hall, with its CAdES signature (base64) over the
        sign-in statement the page shows.
        """
        form = _trimmed(data)

        async def act() -> object:
            return await opening.attendance.sign_in(actor, code, form["signature"])

        return await self._submit(
            request, role="bidder", code=code, opening=opening, actor=actor, form=form, action=act
        )

    @post(
        "/{code:str}/bidder/objections",
        name="bidding.opening_object",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def objection(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[ObjectionForm],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """异议: the text and the bidder's CAdES signature over it (base64)."""
        form = _trimmed(data)

        async def act() -> object:
            return await opening.objections.file_objection(actor, code, form["text"], form["signature"])

        return await self._submit(
            request, role="bidder", code=code, opening=opening, actor=actor, form=form, action=act
        )

    @post(
        "/{code:str}/bidder/confirmation",
        name="bidding.opening_confirm",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[SignatureForm],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The bidder's signed confirmation of the price table."""
        form = _trimmed(data)

        async def act() -> object:
            return await opening.objections.confirm(actor, code, form["signature"])

        return await self._submit(
            request, role="bidder", code=code, opening=opening, actor=actor, form=form, action=act
        )

    @get(
        "/{code:str}/bidder/confirmation-statement",
        name="bidding.opening_confirmation_statement",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def confirmation_statement(
        self,
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The exact bytes the bidder signs to confirm the price table (canonical JSON)."""
        view = await opening.hall.view(actor, code)
        digest = view.get("priceTableSha256")
        uscc = await _uscc_of(opening, actor)
        if not digest or not uscc or view.get("role") != "bidder":
            raise NotFound("no price table to confirm yet", field="priceTable", rule="exists")
        statement = fmt.confirmation_statement(code, uscc, str(digest))
        return attachment(statement, f"confirmation-{code}.json", "application/json")

    @get(
        "/{code:str}/bidder/sign-in-statement",
        name="bidding.opening_sign_in_statement",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def sign_in_statement(
        self,
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The exact bytes the bidder signs to sign in (canonical JSON), for signing in the page."""
        uscc = await _bidder_uscc(opening, actor, code)
        return attachment(fmt.sign_in_statement(code, uscc), f"sign-in-{code}.json", "application/json")

    @post(
        "/{code:str}/bidder/objection-statement",
        name="bidding.opening_objection_statement",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
        status_code=200,
    )
    async def objection_statement(
        self,
        code: FromPath[str],
        data: FormBody[ObjectionForm],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The exact bytes the bidder signs to file ``text`` as an objection (the text trimmed as
        the objection form trims it), for signing in the page. Nothing is stored.
        """
        uscc = await _bidder_uscc(opening, actor, code)
        text = _trimmed(data)["text"]
        return attachment(fmt.objection_statement(code, uscc, text), f"objection-{code}.json", "application/json")

    # --- decryption in the bidder's browser (JSON for the page's script, cookie session and CSRF) ---

    @get(
        "/{code:str}/bidder/envelopes",
        name="bidding.opening_bidder_envelopes",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def bidder_envelopes(
        self, code: FromPath[str], opening: NamedDependency[OpeningService], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        """The caller's bids: each part's envelope header (as ``GET /api/v1/bidding/opening/{code}/envelopes``),
        for the page to unwrap the content keys in the browser with the bidder's key.
        """
        try:
            envelopes = await opening.decryption.envelopes(actor, code)
        except DomainError as exc:
            return _problem(exc)
        return Response(envelopes, media_type="application/json")

    @post(
        "/{code:str}/bidder/decryption",
        name="bidding.opening_bidder_decrypt",
        status_code=200,
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def bidder_decrypt(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Open one part with the content key the page unwrapped (``{"lot", "part", "contentKey"}``),
        as ``POST /api/v1/bidding/opening/{code}/decryption`` (``ggzy bid decrypt``); the row's status.
        """
        try:
            fields = _decryption_fields(await request.body())
            row = await opening.decryption.decrypt(actor, code, fields["lot"], fields["part"], fields["contentKey"])
        except DomainError as exc:
            return _problem(exc)
        return Response(
            {
                "lot": str(fields["lot"]),
                "priceSummary": row.price_status,
                "package": row.package_status,
                "outcome": row.outcome,
                "cause": row.cause,
            },
            media_type="application/json",
        )


def _decryption_fields(raw: bytes) -> dict[str, str]:
    """``lot``, ``part`` and ``contentKey`` of the page's JSON body, each a non-empty string."""
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested too deep to be the page's body
        body = None
    if not isinstance(body, dict):
        raise OpeningRefused("the body is not a JSON object", field="body", rule="format")
    fields = {name: body.get(name) for name in ("lot", "part", "contentKey")}
    for name, value in fields.items():
        if not isinstance(value, str) or not value:
            raise OpeningRefused(f"send {name}", field=name, rule="required")
    return {name: str(value) for name, value in fields.items()}


def _problem(exc: DomainError) -> Response[Any]:
    """A refusal for the page's script: field, rule and its sentence in the reader's language."""
    body = {
        "field": exc.field,
        "rule": exc.rule,
        "message": exc.message,
        "text": rule_text(LABELS, exc.field, exc.rule, exc.message),
    }
    return Response(body, status_code=exc.status_code, media_type="application/json")


async def _bidder_uscc(opening: OpeningService, actor: Actor, code: str) -> str:
    """The actor's organisation's USCC when it is a bidder at this opening (404 otherwise)."""
    view = await opening.hall.view(actor, code)
    uscc = await _uscc_of(opening, actor)
    if not uscc or view.get("role") != "bidder":
        raise NotFound("you have no bid at this opening", field="bidder", rule="exists")
    return uscc


async def _before_the_opening(request: Request[Any, Any, Any], opening: OpeningService, code: str) -> Response[Any]:
    """The hall before the deadline: a countdown page in place of the API's 409 (published
    information only; a draft stays unknown as everywhere else).
    """
    async with opening.session_maker() as session:
        tender = await repository.tender_by_code(session, code)
        server_time = await clock.now(session)
    if tender is None or tender.status not in COUNTDOWN_STATUSES:
        raise NotFound("no such tender", field="code", rule="exists")
    return await page(request, "bidding/opening_countdown.html", {"tender": tender, "server_time": server_time})


async def _uscc_of(opening: OpeningService, actor: Actor) -> str | None:
    """The USCC of the actor's organisation (how the hall names bidders)."""
    if actor.organisation_id is None:
        return None
    async with opening.session_maker() as session:
        organisation = await session.get(Organisation, actor.organisation_id)
        return organisation.uscc if organisation is not None else None
