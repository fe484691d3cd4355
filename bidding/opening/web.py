"""The opening hall's pages under ``/bidding/opening/{code}``: visitor, host, bidder and supervisor.

Every page renders the state `HallView.view` gives its actor, then follows it live through
the hall's server-sent events (`bidding.opening.live`, ``static/js/opening.js``): stage, countdown
from the database clock, each bid's decryption status, the price table from 唱标 on, objections.

* visitor (public): the masked view;
* host (``bidding:opening:host``): the stage controls (next stage, pause with a reason, resume),
  a platform-side incident for a bidder, answers to objections;
* bidder (``bidding:opening:attend``): sign in, the ``ggzy bid decrypt`` command to run on its own
  computer (the private key never reaches the browser), its decryption status, an objection and the
  confirmation: the ``ggzy bid object`` / ``ggzy bid confirm`` command lines, or the exact statement
  to sign with a CA client and a form to paste the CAdES signature (base64);
* supervisor (``bidding:opening:read``): everything, read-only.

Forms post with the CSRF token and redirect back; a refusal re-renders the page with the field,
the rule and its meaning in the reader's language. Host actions are routed with the read
permission, as in the API, so that the service refuses and records an attempt by someone who is
not the host.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect

from bidding.client import format as fmt
from bidding.errors import OpeningRefused
from bidding.opening.api import PREFIX, provide_opening
from bidding.opening.models import Stage
from bidding.opening.service import OpeningService
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, Page, exposes, guarded
from bidding.web.common import attachment
from bidding.web.common import rule_text as common_rule_text
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import DomainError, NotFound, PermissionDenied
from trading.kernel.web import i18n
from trading.kernel.web.forms import FieldError
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page
from trading.kernel.web.templating import DISPLAY_TZ
from trading.parties.models import Organisation

HALL: Final = f"{PREFIX}/{{code}}"
PUBLIC_PATHS: Final = frozenset({HALL})

STAGE_LABELS: Final[dict[str, str]] = {
    Stage.SIGN_IN.value: N_("Sign-in"),
    Stage.DECRYPTION.value: N_("Decryption"),
    Stage.PRICE_READING.value: N_("Price reading"),
    Stage.CONFIRMATION.value: N_("Confirmation and objections"),
    Stage.CLOSED.value: N_("Closed"),
}
OUTCOME_LABELS: Final[dict[str, str]] = {
    "pending": N_("Pending"),
    "decrypted": N_("Decrypted"),
    "escrow-pending": N_("Waiting for the key holders"),
    "escrow": N_("Opened by the key holders"),
    "revoked": N_("Revoked (bidder's fault)"),
    "withdrawn": N_("Withdrawn (platform-side cause)"),
}
PART_LABELS: Final[dict[str, str]] = {"sealed": N_("Sealed"), "opened": N_("Opened")}
YES, NO = N_("Yes"), N_("No")
WAITING_HOST = N_("Waiting for the host")
CONNECTED, RECONNECTING = N_("Live"), N_("Reconnecting…")
NONE_YET, NO_ANSWER = N_("None yet."), N_("awaiting an answer")
NEXT_STAGE: Final[dict[str, str]] = {
    Stage.SIGN_IN.value: Stage.DECRYPTION.value,
    Stage.DECRYPTION.value: Stage.PRICE_READING.value,
    Stage.PRICE_READING.value: Stage.CONFIRMATION.value,
    Stage.CONFIRMATION.value: Stage.CLOSED.value,
}
FIELD_LABELS: Final[dict[str, str]] = {
    "stage": N_("Stage"),
    "actor": N_("Account"),
    "action": N_("Action"),
    "reason": N_("Reason"),
    "lot": N_("Lot"),
    "bidder": N_("Bidder"),
    "cause": N_("Cause"),
    "text": N_("Objection"),
    "answer": N_("Answer"),
    "signature": N_("Signature (base64)"),
    "objection": N_("Objection"),
    "tender": N_("Tender"),
    "bid": N_("Bid"),
}
RULE_TEXT: Final[dict[str, str]] = {
    "host-only": N_(
        "Only the opening's host (the tender's agency, else the tenderee) may do this; the attempt is recorded."
    ),
    "next-stage": N_("The opening can only move to its next stage."),
    "paused": N_("The opening is paused."),
    "pausable": N_("The opening cannot be paused or resumed now."),
    "decryption-window": N_("Decryption is possible only inside the decryption window."),
    "decryption-window-running": N_("The decryption window runs until its end or until every bid is decrypted."),
    "objections-unanswered": N_("Answer every objection before closing the opening."),
    "objection-window": N_("Objections are accepted only until the confirmation stage ends."),
    "confirmation-window": N_("Confirmations are accepted only during the confirmation stage."),
    "confirmed-once": N_("Your organisation has already confirmed."),
    "answered-once": N_("This objection has already been answered."),
    "not-a-bidder": N_("Your organisation has no bid at this opening."),
    "signer-not-bidder": N_("The signature is not made with your organisation's certificate."),
    "base64": N_("Paste the signature as base64 text."),
    "length": N_("The text is empty or too long."),
    "sign-in": N_("Sign in to the hall first."),
    "signed-in": N_("Sign in to the hall, signed with your certificate, before decrypting."),
    "minimum-windows": N_("The opening cannot close before the minimum objection and confirmation windows have run."),
    "opening-exists": N_("This tender has no opening yet: the bid deadline has not passed."),
    "outcome-final": N_("The bid's outcome is already decided."),
    "no-remedy": N_("This tender names no key-holder remedy."),
    "escrow-not-applicable": N_("The key holders' escrow does not apply to this bid."),
    "enum": N_("Choose an option from the list."),
    "exists": N_("Not found."),
}


def rule_text(rule: str | None, message: str) -> str:
    if rule and rule in RULE_TEXT:
        return i18n.gettext(RULE_TEXT[rule])
    return common_rule_text(rule, message)


def refusal_errors(exc: DomainError) -> list[FieldError]:
    """The refusal as the form shows it: the field, the rule's meaning, the rule's code."""
    label = i18n.gettext(FIELD_LABELS[exc.field]) if exc.field in FIELD_LABELS else None
    text = rule_text(exc.rule, exc.message)
    return [FieldError(exc.field, f"{text} ({exc.rule})" if exc.rule else text, label)]


def decrypt_command(base_url: str, code: str, lot: str, bidder_uscc: str) -> str:
    """The ``ggzy bid decrypt`` command line a bidder runs on its own computer (`bidding.client.cli`)."""
    return " \\\n  ".join(
        [
            "ggzy bid decrypt",
            f"--server {base_url}",
            f"--tender {code}",
            f"--lot {lot}",
            f"--bidder {bidder_uscc}",
            "--p12 encryption.p12",
            "--user <your user name>",
        ]
    )


def objection_command(base_url: str, code: str, bidder_uscc: str) -> str:
    """The ``ggzy bid object`` command line: signs `format.objection_statement` and files it."""
    return " \\\n  ".join(
        [
            "ggzy bid object",
            f"--server {base_url}",
            f"--tender {code}",
            f"--bidder {bidder_uscc}",
            "--p12 signing.p12",
            "--user <your user name>",
            "--text-file objection.txt",
        ]
    )


def sign_in_command(base_url: str, code: str, bidder_uscc: str) -> str:
    """The ``ggzy bid sign-in`` command line: signs `format.sign_in_statement` and signs in."""
    return " \\\n  ".join(
        [
            "ggzy bid sign-in",
            f"--server {base_url}",
            f"--tender {code}",
            f"--bidder {bidder_uscc}",
            "--p12 signing.p12",
            "--user <your user name>",
        ]
    )


def confirm_command(base_url: str, code: str, bidder_uscc: str, price_table_sha256: str | None) -> str:
    """The ``ggzy bid confirm`` command line; with the table's digest it sends nothing for another table."""
    return " \\\n  ".join(
        [
            "ggzy bid confirm",
            f"--server {base_url}",
            f"--tender {code}",
            f"--bidder {bidder_uscc}",
            "--p12 signing.p12",
            "--user <your user name>",
            *([f"--expect-sha256 {price_table_sha256}"] if price_table_sha256 else []),
        ]
    )


OBJECTION_TEXT_PLACEHOLDER: Final = "<objection text>"


def objection_statement(code: str, bidder_uscc: str) -> str:
    """The objection statement a CA client signs, with a placeholder where the text goes (a JSON
    string: only quotes, backslashes and control characters such as line breaks are escaped).
    """
    return fmt.objection_statement(code, bidder_uscc, OBJECTION_TEXT_PLACEHOLDER).decode()


def hall_labels() -> dict[str, Any]:
    """The words the page's script needs, in the reader's language."""
    return {
        "stages": {key: i18n.gettext(text) for key, text in STAGE_LABELS.items()},
        "outcomes": {key: i18n.gettext(text) for key, text in OUTCOME_LABELS.items()},
        "parts": {key: i18n.gettext(text) for key, text in PART_LABELS.items()},
        "yes": i18n.gettext(YES),
        "no": i18n.gettext(NO),
        "waitingHost": i18n.gettext(WAITING_HOST),
        "connected": i18n.gettext(CONNECTED),
        "reconnecting": i18n.gettext(RECONNECTING),
        "none": i18n.gettext(NONE_YET),
        "noAnswer": i18n.gettext(NO_ANSWER),
    }


def _form_text(form: Any, name: str) -> str:
    value = form.get(name, "") if form is not None else ""
    return value.strip() if isinstance(value, str) else ""


ROLE_TEMPLATES: Final[dict[str, str]] = {
    "visitor": "bidding/opening_visitor.html",
    "host": "bidding/opening_host.html",
    "bidder": "bidding/opening_bidder.html",
    "supervisor": "bidding/opening_supervisor.html",
}


PAGE_REFUSALS: Final[dict[str, str]] = {
    Page.HOST.value: N_("The host's desk is for the tender's own tenderee and agency."),
    Page.BIDDER.value: N_("The bidder's seat is for the organisations with a bid at this opening."),
    Page.SUPERVISOR.value: N_("The supervision view is for the tender's own and the supervisors."),
}
"""Why a hall page is refused (`bidding.visibility.PAGE_AUDIENCES`); the public hall is open to all."""


class OpeningPages(Controller):
    """The hall's pages and their forms."""

    path = PREFIX
    include_in_schema = False
    dependencies = {"opening": Provide(provide_opening)}  # noqa: RUF012 - Litestar reads it

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
        status_code: int = 200,
    ) -> Response[Any]:
        if not (await opening.hall.policy(actor, code)).may_open(Page(role)):
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
                "events_url": f"{PREFIX}/{code}/events",
                "errors": errors or [],
                "form": form or {},
                "next_stage": NEXT_STAGE.get(view["stage"]),
                "own_rows": own,
                "decrypt_commands": [
                    (row["lot"], decrypt_command(base_url, code, row["lot"], row["bidder"])) for row in own
                ],
                **(_statements(base_url, code, uscc, view.get("priceTableSha256")) if uscc and own else {}),
                "stage_labels": STAGE_LABELS,
                "outcome_labels": OUTCOME_LABELS,
                "part_labels": PART_LABELS,
                "display_tz": DISPLAY_TZ,
                "hall_labels": hall_labels(),
                "can": {
                    "host": actor.has(BiddingPermission.OPENING_HOST),
                    "attend": actor.has(BiddingPermission.OPENING_ATTEND),
                    "read": actor.has(BiddingPermission.OPENING_READ),
                },
            },
            status_code=status_code,
        )

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        *,
        role: str,
        code: str,
        opening: OpeningService,
        actor: Actor,
        exc: DomainError,
        form: dict[str, str],
    ) -> Response[Any]:
        if isinstance(exc, NotFound) and exc.field == "tender":
            raise exc
        return await self._render(
            request, role, code, opening, actor, errors=refusal_errors(exc), form=form, status_code=exc.status_code
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
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Next stage, pause (with a reason) or resume."""
        form = dict(await request.form())
        data = {"action": _form_text(form, "action"), "reason": _form_text(form, "reason")}
        try:
            if data["action"] == "pause":
                await opening.host.pause(actor, code, data["reason"])
            elif data["action"] == "resume":
                await opening.host.resume(actor, code)
            elif data["action"] in NEXT_STAGE.values():
                await opening.host.advance(actor, code, Stage(data["action"]))
            else:
                raise _bad_action()
        except DomainError as exc:
            return await self._refused(
                request, role="host", code=code, opening=opening, actor=actor, exc=exc, form=data
            )
        return Redirect(f"{PREFIX}/{code}/host", status_code=303)

    @post(
        "/{code:str}/host/incidents",
        name="bidding.opening_incident",
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.HOST),
    )
    async def incident(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """A platform-side cause of a bidder's failure to decrypt (撤回, or the escrow remedy)."""
        form = dict(await request.form())
        data = {name: _form_text(form, name) for name in ("lot", "bidder", "cause")}
        try:
            await opening.host.record_incident(actor, code, lot=data["lot"], bidder=data["bidder"], cause=data["cause"])
        except DomainError as exc:
            return await self._refused(
                request, role="host", code=code, opening=opening, actor=actor, exc=exc, form=data
            )
        return Redirect(f"{PREFIX}/{code}/host", status_code=303)

    @post(
        "/{code:str}/host/objections/{objection_id:uuid}/answer",
        name="bidding.opening_answer",
        opt=guarded(BiddingPermission.OPENING_READ, Exposure.HOST),
    )
    async def answer(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        objection_id: FromPath[uuid.UUID],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The host's answer to an objection, in the hall."""
        form = dict(await request.form())
        data = {"answer": _form_text(form, "answer")}
        try:
            await opening.objections.answer_objection(actor, code, objection_id, data["answer"])
        except DomainError as exc:
            return await self._refused(
                request, role="host", code=code, opening=opening, actor=actor, exc=exc, form=data
            )
        return Redirect(f"{PREFIX}/{code}/host", status_code=303)

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
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """签到: the bidder's organisation joins the hall, with its CAdES signature (base64) over the
        sign-in statement the page shows.
        """
        form = dict(await request.form())
        data = {"signature": _form_text(form, "signature")}
        try:
            await opening.attendance.sign_in(actor, code, data["signature"])
        except DomainError as exc:
            return await self._refused(
                request, role="bidder", code=code, opening=opening, actor=actor, exc=exc, form=data
            )
        return Redirect(f"{PREFIX}/{code}/bidder", status_code=303)

    @post(
        "/{code:str}/bidder/objections",
        name="bidding.opening_object",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def objection(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """异议: the text and the bidder's CAdES signature over it (base64)."""
        form = dict(await request.form())
        data = {"text": _form_text(form, "text"), "signature": _form_text(form, "signature")}
        try:
            await opening.objections.file_objection(actor, code, data["text"], data["signature"])
        except DomainError as exc:
            return await self._refused(
                request, role="bidder", code=code, opening=opening, actor=actor, exc=exc, form=data
            )
        return Redirect(f"{PREFIX}/{code}/bidder", status_code=303)

    @post(
        "/{code:str}/bidder/confirmation",
        name="bidding.opening_confirm",
        opt=guarded(BiddingPermission.OPENING_ATTEND, Exposure.OPENING_BIDDER),
    )
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        opening: NamedDependency[OpeningService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The bidder's signed confirmation of the price table."""
        form = dict(await request.form())
        data = {"signature": _form_text(form, "signature")}
        try:
            await opening.objections.confirm(actor, code, data["signature"])
        except DomainError as exc:
            return await self._refused(
                request, role="bidder", code=code, opening=opening, actor=actor, exc=exc, form=data
            )
        return Redirect(f"{PREFIX}/{code}/bidder", status_code=303)

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


def _statements(base_url: str, code: str, uscc: str, digest: str | None) -> dict[str, str | None]:
    """What the bidder's page shows for objections and the confirmation: the ``ggzy bid`` command
    lines and the exact statements a CA client would sign instead.
    """
    return {
        "sign_in_command": sign_in_command(base_url, code, uscc),
        "sign_in_statement": fmt.sign_in_statement(code, uscc).decode(),
        "objection_command": objection_command(base_url, code, uscc),
        "objection_statement": objection_statement(code, uscc),
        "confirm_command": confirm_command(base_url, code, uscc, digest),
        "confirmation_statement": fmt.confirmation_statement(code, uscc, digest).decode() if digest else None,
    }


async def _uscc_of(opening: OpeningService, actor: Actor) -> str | None:
    """The USCC of the actor's organisation (how the hall names bidders)."""
    if actor.organisation_id is None:
        return None
    async with opening.session_maker() as session:
        organisation = await session.get(Organisation, actor.organisation_id)
        return organisation.uscc if organisation is not None else None


def _bad_action() -> DomainError:
    return OpeningRefused("choose pause, resume or the next stage", field="action", rule="enum")
