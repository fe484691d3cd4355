"""The committee part's JSON API under ``/api/v1/evaluation``: the host's setup, the operator's
draw (prepare, run), the published draw for ``scripts/recompute_committee.py``, the committee's
names (refused and recorded before the results for anyone but the operator and supervisors), and
the drawn expert's answers. Errors are problem+json naming the field and the rule.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation import access
from bidding.evaluation.committee.drafting import DrafterInput, Drafting
from bidding.evaluation.committee.drawing import CommitteeDraws
from bidding.evaluation.committee.errors import DrawStateConflict, EvaluationNotFound
from bidding.evaluation.committee.members import Memberships
from bidding.evaluation.committee.policies import CommitteePermission
from bidding.evaluation.committee.repository import CommitteeRepository
from bidding.evaluation.committee.schemas import (
    DeclineWrite,
    DrafterRead,
    DraftersWrite,
    DrawRead,
    EvaluationRead,
    MemberRead,
    RepresentativeWrite,
    SetupWrite,
    SupplementsRead,
)
from bidding.evaluation.committee.setup import EvaluationSetup, SetupInput
from bidding.evaluation.committee.supplement import Supplements
from bidding.evaluation.models import Evaluation
from trading.kernel.api.errors import problem_response
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.settings import Settings


def _setup_input(data: SetupWrite) -> SetupInput:
    return SetupInput(
        settings=data.settings,
        main_venue_id=data.main_venue_id,
        sub_venue_ids=tuple(data.sub_venue_ids),
        scheduled_at=data.scheduled_at,
    )


async def _read(session: AsyncSession, evaluation: Evaluation) -> EvaluationRead:
    venues = await CommitteeRepository(session).venues(evaluation.id)
    return EvaluationRead.of(
        evaluation,
        [{"venue_id": str(v.id), "code": v.code, "name": v.name, "role": link.role.value} for link, v in venues],
    )


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


class EvaluationSetupApi(Controller):
    path = "/evaluation"
    tags = ["evaluation"]

    @post(
        "/tenders/{tender_id:uuid}/evaluation",
        operation_id="evaluation_create",
        opt=requires(CommitteePermission.SETUP_MANAGE),
    )
    async def create(
        self,
        tender_id: FromPath[uuid.UUID],
        data: JSONBody[SetupWrite],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> EvaluationRead:
        """Set up the tender's evaluation (host only, after publication): method, settings, the
        committee spec, venues, start. Refused whole, naming field and rule.
        """
        evaluation = await EvaluationSetup(db_session).create(actor, tender_id, _setup_input(data))
        return await _read(db_session, evaluation)

    @put(
        "/{evaluation_id:uuid}/setup", operation_id="evaluation_update", opt=requires(CommitteePermission.SETUP_MANAGE)
    )
    async def update(
        self,
        evaluation_id: FromPath[uuid.UUID],
        data: JSONBody[SetupWrite],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> EvaluationRead:
        """Change the setup while no draw has been prepared."""
        evaluation = await EvaluationSetup(db_session).update(actor, evaluation_id, _setup_input(data))
        return await _read(db_session, evaluation)

    @get(
        "/{evaluation_id:uuid}/setup",
        operation_id="evaluation_get_setup",
        opt=requires(CommitteePermission.SETUP_MANAGE),
    )
    async def read(
        self,
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> EvaluationRead:
        """The setup, for the host."""
        service = EvaluationSetup(db_session)
        evaluation, tender = await service.evaluation(evaluation_id)
        service.require_host(actor, tender)
        return await _read(db_session, evaluation)

    @post(
        "/{evaluation_id:uuid}/representatives",
        operation_id="evaluation_add_representative",
        opt=requires(CommitteePermission.SETUP_MANAGE),
    )
    async def representative(
        self,
        evaluation_id: FromPath[uuid.UUID],
        data: JSONBody[RepresentativeWrite],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> MemberRead:
        """Appoint one of the tenderee's people as a member (kind representative)."""
        return MemberRead.of(await EvaluationSetup(db_session).add_representative(actor, evaluation_id, data.username))

    @put(
        "/{evaluation_id:uuid}/drafters",
        operation_id="evaluation_declare_drafters",
        opt=requires(CommitteePermission.SETUP_MANAGE),
    )
    async def declare_drafters(
        self,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        data: JSONBody[DraftersWrite],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> list[DrafterRead]:
        """Declare the pool experts who drafted this tender's documents or requirements (the whole
        list); the draw's avoidance excludes them. Refused once the draw's seed is committed.
        """
        service = Drafting(db_session, _settings(request))
        entries = [DrafterInput(d.expert, d.role, d.note) for d in data.drafters]
        await service.declare(actor, evaluation_id, entries)
        return [DrafterRead.of(d, e) for d, e in await service.declared(evaluation_id)]

    @get(
        "/{evaluation_id:uuid}/drafters",
        operation_id="evaluation_get_drafters",
        opt=requires(CommitteePermission.SETUP_MANAGE),
    )
    async def drafters(
        self,
        request: Request[Any, Any, Any],
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> list[DrafterRead]:
        """The declared drafters, for the host who declared them."""
        service = Drafting(db_session, _settings(request))
        _, tender = await service.setup.evaluation(evaluation_id)
        service.setup.require_host(actor, tender)
        return [DrafterRead.of(d, e) for d, e in await service.declared(evaluation_id)]


class CommitteeDrawApi(Controller):
    path = "/evaluation/{evaluation_id:uuid}"
    tags = ["evaluation"]

    @post("/draw", operation_id="evaluation_prepare_draw", opt=requires(CommitteePermission.DRAW_OPERATE))
    async def prepare(
        self,
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> DrawRead:
        """Commit to a fresh seed (its SHA-256 is published from now on)."""
        row = await CommitteeDraws(db_session).prepare(actor, evaluation_id)
        return DrawRead.of(row, identities=False)

    @post("/draw/run", operation_id="evaluation_run_draw", opt=requires(CommitteePermission.DRAW_OPERATE))
    async def run(
        self,
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> DrawRead:
        """Run the draw (after the bid deadline; GP within the working-day window)."""
        row = await CommitteeDraws(db_session).run(actor, evaluation_id)
        return DrawRead.of(row, identities=True)

    @get("/draw", operation_id="evaluation_get_draw", opt=requires(CommitteePermission.COMMITTEE_READ))
    async def draw(
        self,
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> DrawRead:
        """The draw's commitment (public); its seed, list, exclusions and order only for the
        operator and supervisors before the results, for everyone after.
        """
        evaluation, row = await _draw(db_session, evaluation_id)
        return DrawRead.of(row, identities=access.may_see_identities(actor, evaluation))

    @get(
        "/draw/published.json",
        operation_id="evaluation_published_draw",
        opt=requires(CommitteePermission.COMMITTEE_READ),
    )
    async def published(
        self,
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[dict[str, Any]]:
        """The published draw as ``scripts/recompute_committee.py`` reads it."""
        evaluation, row = await _draw(db_session, evaluation_id)
        refused = await access.identities_refusal(db_session, actor, evaluation, route="api:published_draw")
        if refused is not None:
            return problem_response(refused.problem())
        return Response(content=CommitteeDraws.published_document(evaluation, row))

    @get("/committee", operation_id="evaluation_get_committee", opt=requires(CommitteePermission.COMMITTEE_READ))
    async def committee(
        self,
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[list[MemberRead]]:
        """The committee's members by name: refused (and recorded) before the results for anyone
        but the draw operator and the supervisors.
        """
        service = EvaluationSetup(db_session)
        evaluation, _ = await service.evaluation(evaluation_id)
        refused = await access.identities_refusal(db_session, actor, evaluation, route="api:committee")
        if refused is not None:
            return problem_response(refused.problem())
        return Response(
            content=[MemberRead.of(m) for m in await CommitteeRepository(db_session).members(evaluation.id)]
        )

    @post(
        "/draw/supplements",
        operation_id="evaluation_prepare_supplementary_draw",
        opt=requires(CommitteePermission.DRAW_OPERATE),
    )
    async def prepare_supplement(
        self,
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> DrawRead:
        """Commit a fresh seed for a supplementary draw (补抽) of exactly the open places."""
        row = await Supplements(db_session).prepare(actor, evaluation_id)
        return DrawRead.of(row, identities=False)

    @post(
        "/draw/supplements/run",
        operation_id="evaluation_run_supplementary_draw",
        opt=requires(CommitteePermission.DRAW_OPERATE),
    )
    async def run_supplement(
        self,
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> DrawRead:
        """Run the prepared supplementary draw; the drawn experts are notified and must confirm."""
        row = await Supplements(db_session).run(actor, evaluation_id)
        return DrawRead.of(row, identities=True)

    @get(
        "/draw/supplements",
        operation_id="evaluation_get_supplementary_draws",
        opt=requires(CommitteePermission.COMMITTEE_READ),
    )
    async def supplements(
        self,
        evaluation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> SupplementsRead:
        """The open places and the supplementary draws (commitments for all; seeds, lists and order
        only for the operator and supervisors before the results).
        """
        evaluation, _ = await EvaluationSetup(db_session).evaluation(evaluation_id)
        state = await Supplements(db_session).state(evaluation.id)
        identities = access.may_see_identities(actor, evaluation)
        return SupplementsRead(
            open_places=state.open, draws=[DrawRead.of(row, identities=identities) for row in state.supplements]
        )

    @get(
        "/draw/supplements/{draw_id:uuid}/published.json",
        operation_id="evaluation_published_supplementary_draw",
        opt=requires(CommitteePermission.COMMITTEE_READ),
    )
    async def published_supplement(
        self,
        evaluation_id: FromPath[uuid.UUID],
        draw_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[dict[str, Any]]:
        """A supplementary draw as ``scripts/recompute_committee.py`` reads it."""
        evaluation, _ = await EvaluationSetup(db_session).evaluation(evaluation_id)
        refused = await access.identities_refusal(db_session, actor, evaluation, route="api:published_supplement")
        if refused is not None:
            return problem_response(refused.problem())
        row = await CommitteeRepository(db_session).draw(draw_id)
        if row is None or row.evaluation_id != evaluation.id or row.supplements_draw_id is None or not row.drawn_at:
            raise EvaluationNotFound("no such supplementary draw has run", field="draw", rule="exists")
        return Response(content=CommitteeDraws.published_document(evaluation, row))


async def _draw(session: AsyncSession, evaluation_id: uuid.UUID) -> tuple[Evaluation, Any]:
    evaluation, _ = await EvaluationSetup(session).evaluation(evaluation_id)
    row = await CommitteeRepository(session).latest_draw(evaluation.id)
    if row is None:
        raise DrawStateConflict("no draw has been prepared", field="draw", rule="draw_not_prepared")
    return evaluation, row


class MembershipApi(Controller):
    path = "/evaluation/memberships"
    tags = ["evaluation"]

    @get("/", operation_id="evaluation_my_memberships", opt=requires(CommitteePermission.MEMBERSHIP_ANSWER))
    async def mine(self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]) -> list[MemberRead]:
        """The caller's draws (to answer) and sessions."""
        return [MemberRead.of(item.member) for item in await Memberships(db_session).mine(actor)]

    @post(
        "/{member_id:uuid}/confirmation",
        operation_id="evaluation_confirm_membership",
        opt=requires(CommitteePermission.MEMBERSHIP_ANSWER),
    )
    async def confirm(
        self,
        member_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> MemberRead:
        """Confirm taking part, within the answer time."""
        return MemberRead.of(await Memberships(db_session).confirm(actor, member_id))

    @post(
        "/{member_id:uuid}/decline",
        operation_id="evaluation_decline_membership",
        opt=requires(CommitteePermission.MEMBERSHIP_ANSWER),
    )
    async def decline(
        self,
        member_id: FromPath[uuid.UUID],
        data: JSONBody[DeclineWrite],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> MemberRead:
        """Decline with a reason; the next reserve is called at once."""
        return MemberRead.of(await Memberships(db_session).decline(actor, member_id, data.reason))


CONTROLLERS = (EvaluationSetupApi, CommitteeDrawApi, MembershipApi)
