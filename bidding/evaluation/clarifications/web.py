"""The clarifications' pages, in Chinese with the English switch, on the kernel's form path.

* ``/evaluation/e/{id}/clarifications`` (``evaluation:clarification:read``; the service admits the
  committee's current members, the host organisation and overseers): every request with its answer;
  a current member asks from here (``evaluation:clarification:ask``) while the session is in
  qualification review, detailed review or scoring.
* ``/evaluation/clarifications`` (``evaluation:clarification:answer``, bidders; in the shell's
  navigation, and named in the inbox notice): the organisation's own requests.
* ``/evaluation/clarifications/{id}``: one request and the answer form, signed in the page
  (``static/js/pki/sign-form.js``: the statement comes from ``…/statement``, POSTed with the
  answer, and the detached CAdES signature goes in the form's ``signature`` field), with the
  ``ggzy bid clarification answer`` line and pasting a signature as alternatives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from bidding.evaluation.clarifications.api import provide_clarifications
from bidding.evaluation.clarifications.policies import ClarificationPermission
from bidding.evaluation.clarifications.rules import clarification_rules
from bidding.evaluation.clarifications.service import ASK_STATES, Clarifications
from bidding.evaluation.clarifications.web_labels import LABELS, STATUS_LABELS
from bidding.web.common import attachment
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import ValidationFailed
from trading.kernel.web.forms import FieldError, FormBody, submit
from trading.kernel.web.pages import page

COMMITTEE: Final = "evaluation.clarifications"
MINE: Final = "evaluation.my_clarifications"
ONE: Final = "evaluation.clarification"


@dataclass
class AskForm:
    opening_bid_id: str = ""
    question: str = ""
    minutes: str = ""


@dataclass
class AnswerForm:
    answer: str = ""
    signature: str = ""


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise ValidationFailed("choose one of the list", field=field, rule="bid-of-evaluation") from None


def _minutes(value: str) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise ValidationFailed("a whole number of minutes", field="minutes", rule="integer") from None


def answer_command(base_url: str, clarification_id: uuid.UUID) -> str:
    return (
        f"ggzy bid clarification answer --server {base_url} --id {clarification_id} "
        "--text-file answer.txt --p12 sign.p12"
    )


class ClarificationPages(Controller):
    path = "/evaluation"
    dependencies = {"clarifications": Provide(provide_clarifications)}

    # --- the committee's and the host's page -----------------------------------------------------------

    async def _committee_page(
        self,
        request: Request[Any, Any, Any],
        clarifications: Clarifications,
        actor: Actor,
        evaluation_id: uuid.UUID,
        *,
        errors: list[FieldError] | None = None,
        form: dict[str, str] | None = None,
    ) -> Response[Any]:
        evaluation, views = await clarifications.of_evaluation(actor, evaluation_id)
        member = await clarifications.is_member(actor, evaluation)
        rules = clarification_rules()
        return await page(
            request,
            "evaluation/clarifications/committee.html",
            {
                "evaluation": evaluation,
                "views": views,
                "tender_code": views[0].tender_code if views else None,
                "may_ask": member and actor.has(ClarificationPermission.ASK) and evaluation.state in ASK_STATES,
                "member": member,
                "bidders": await clarifications.bidders(evaluation) if member else [],
                "rules": rules,
                "status_labels": STATUS_LABELS,
                "errors": errors or [],
                "form": form or {},
            },
            status_code=422 if errors else 200,
        )

    @get("/e/{evaluation_id:uuid}/clarifications", name=COMMITTEE, opt=requires(ClarificationPermission.READ))
    async def committee(
        self,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Every clarification request of the evaluation with its signed answer; members ask here."""
        return await self._committee_page(request, clarifications, actor, evaluation_id)

    @post(
        "/e/{evaluation_id:uuid}/clarifications",
        name="evaluation.clarification_ask",
        opt=requires(ClarificationPermission.ASK),
    )
    async def ask(
        self,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[AskForm],
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        form = {k: str(v) for k, v in vars(data).items()}

        async def work() -> object:
            return await clarifications.ask(
                actor,
                evaluation_id,
                opening_bid_id=_uuid(data.opening_bid_id, "opening_bid_id"),
                question=data.question,
                minutes=_minutes(data.minutes),
            )

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._committee_page(request, clarifications, actor, evaluation_id, errors=errors, form=form)

        return await submit(
            clarifications.session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(COMMITTEE, evaluation_id=evaluation_id),
            refusal=refusal,
        )

    # --- the bidder's pages ------------------------------------------------------------------------------

    @get("/clarifications", name=MINE, opt=requires(ClarificationPermission.ANSWER))
    async def mine(
        self,
        request: Request[Any, Any, Any],
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The organisation's clarification requests, newest first."""
        return await page(
            request,
            "evaluation/clarifications/mine.html",
            {"views": await clarifications.mine(actor), "status_labels": STATUS_LABELS},
        )

    async def _one_page(
        self,
        request: Request[Any, Any, Any],
        clarifications: Clarifications,
        actor: Actor,
        clarification_id: uuid.UUID,
        *,
        errors: list[FieldError] | None = None,
        form: dict[str, str] | None = None,
    ) -> Response[Any]:
        view = await clarifications.one_of_mine(actor, clarification_id)
        base_url = str(request.base_url).rstrip("/")
        return await page(
            request,
            "evaluation/clarifications/answer.html",
            {
                "view": view,
                "status_labels": STATUS_LABELS,
                "command": answer_command(base_url, clarification_id),
                "errors": errors or [],
                "form": form or {},
            },
            status_code=422 if errors else 200,
        )

    @get("/clarifications/{clarification_id:uuid}", name=ONE, opt=requires(ClarificationPermission.ANSWER))
    async def one(
        self,
        request: Request[Any, Any, Any],
        clarification_id: FromPath[uuid.UUID],
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """One request to the organisation, with the signed answer form while it may be answered."""
        return await self._one_page(request, clarifications, actor, clarification_id)

    @post(
        "/clarifications/{clarification_id:uuid}/statement",
        name="evaluation.clarification_statement",
        opt=requires(ClarificationPermission.ANSWER),
        status_code=200,
    )
    async def statement(
        self,
        clarification_id: FromPath[uuid.UUID],
        data: FormBody[AnswerForm],
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The exact bytes the bidder signs to give ``answer`` (trimmed as stored). Nothing is stored."""
        statement = await clarifications.statement(actor, clarification_id, data.answer)
        return attachment(statement, f"clarification-{clarification_id}.json", "application/json")

    @post(
        "/clarifications/{clarification_id:uuid}/answer",
        name="evaluation.clarification_answer",
        opt=requires(ClarificationPermission.ANSWER),
    )
    async def answer(
        self,
        request: Request[Any, Any, Any],
        clarification_id: FromPath[uuid.UUID],
        data: FormBody[AnswerForm],
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The signed answer: back to the request (now answered), or the page naming the refusal."""
        form = {"answer": data.answer, "signature": data.signature}

        async def work() -> object:
            return await clarifications.answer(actor, clarification_id, answer=data.answer, signature=data.signature)

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            return await self._one_page(request, clarifications, actor, clarification_id, errors=errors, form=form)

        return await submit(
            clarifications.session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(ONE, clarification_id=clarification_id),
            refusal=refusal,
        )


CONTROLLERS = (ClarificationPages,)
