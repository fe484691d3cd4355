"""The clarifications' JSON API (bearer tokens), under ``/api/v1/evaluation``.

| method and path | who | body / answer |
|---|---|---|
| ``POST /e/{evaluation}/clarifications`` | a current member | `ClarificationAsk` → 201 `ClarificationRead` |
| ``GET /e/{evaluation}/clarifications`` | members, the host, overseers | ``[ClarificationRead]`` |
| ``GET /clarifications/mine`` | a bidder | its organisation's requests |
| ``GET /clarifications/{id}`` | the addressed bidder | one request |
| ``POST /clarifications/{id}/answer`` | the addressed bidder | `ClarificationAnswer` (signed) → `ClarificationRead` |

Refusals are problem+json naming the field and the rule; nothing is stored.
"""

from __future__ import annotations

import uuid

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.clarifications.policies import ClarificationPermission
from bidding.evaluation.clarifications.schemas import ClarificationAnswer, ClarificationAsk, ClarificationRead
from bidding.evaluation.clarifications.service import Clarifications
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.settings import Settings


async def provide_clarifications(db_session: NamedDependency[AsyncSession], state: State) -> Clarifications:
    settings: Settings = state.settings
    return Clarifications(db_session, settings)


class ClarificationApi(Controller):
    path = "/evaluation"
    tags = ["evaluation"]
    dependencies = {"clarifications": Provide(provide_clarifications)}

    @post(
        "/e/{evaluation_id:uuid}/clarifications",
        operation_id="evaluation_clarification_ask",
        status_code=HTTP_201_CREATED,
        opt=requires(ClarificationPermission.ASK),
    )
    async def ask(
        self,
        evaluation_id: FromPath[uuid.UUID],
        data: JSONBody[ClarificationAsk],
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> ClarificationRead:
        """A current member asks one bidder (an opened bid of the tender) to clarify, with a time to answer."""
        service = clarifications
        row = await service.ask(
            actor, evaluation_id, opening_bid_id=data.opening_bid_id, question=data.question, minutes=data.minutes
        )
        return ClarificationRead.of(await service.view(row, asked_by_me=True))

    @get(
        "/e/{evaluation_id:uuid}/clarifications",
        operation_id="evaluation_clarifications",
        opt=requires(ClarificationPermission.READ),
    )
    async def of_evaluation(
        self,
        evaluation_id: FromPath[uuid.UUID],
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> list[ClarificationRead]:
        """Every request of the evaluation with the answers (the committee, the host, overseers)."""
        _, views = await clarifications.of_evaluation(actor, evaluation_id)
        return [ClarificationRead.of(view) for view in views]

    @get(
        "/clarifications/mine",
        operation_id="evaluation_clarifications_mine",
        opt=requires(ClarificationPermission.ANSWER),
    )
    async def mine(
        self,
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> list[ClarificationRead]:
        """The caller's organisation's requests, newest first."""
        return [ClarificationRead.of(view) for view in await clarifications.mine(actor)]

    @get(
        "/clarifications/{clarification_id:uuid}",
        operation_id="evaluation_clarification",
        opt=requires(ClarificationPermission.ANSWER),
    )
    async def one(
        self,
        clarification_id: FromPath[uuid.UUID],
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> ClarificationRead:
        """One request addressed to the caller's organisation (what ``ggzy bid clarification answer`` signs over)."""
        return ClarificationRead.of(await clarifications.one_of_mine(actor, clarification_id))

    @post(
        "/clarifications/{clarification_id:uuid}/answer",
        operation_id="evaluation_clarification_answer",
        status_code=HTTP_200_OK,
        opt=requires(ClarificationPermission.ANSWER),
    )
    async def answer(
        self,
        clarification_id: FromPath[uuid.UUID],
        data: JSONBody[ClarificationAnswer],
        clarifications: NamedDependency[Clarifications],
        actor: NamedDependency[Actor],
    ) -> ClarificationRead:
        """The addressed bidder's signed answer, before the due time."""
        service = clarifications
        row = await service.answer(actor, clarification_id, answer=data.answer, signature=data.signature)
        return ClarificationRead.of(await service.view(row))


CONTROLLERS = (ClarificationApi,)
