"""The committee's pages (``/evaluation``), in Chinese with the English switch, on the kernel's
form path (typed body, `submit`: savepoint, 303 or 422 naming field and rule).

* The host (``evaluation:setup:manage``): ``/evaluation/tenders/{tender}/setup`` (linked from the
  tender's management page) creates the evaluation, ``/evaluation/e/{id}/setup`` changes it until
  the draw is prepared, and appoints the tenderee's representatives.
* The draw operator and supervisors (``evaluation:draw:read``; preparing and running:
  ``evaluation:draw:operate``): ``/evaluation/draws`` and ``/evaluation/e/{id}/draw``.
* Anyone signed in may ask for ``/evaluation/e/{id}/committee`` and ``/evaluation/e/{id}/draw.json``:
  `bidding.evaluation.access` answers, recording every refusal.
* Experts (``evaluation:membership:answer``): ``/evaluation/my`` — draws to confirm or decline,
  and their sessions (linking to ``/evaluation/e/{id}/session``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation import access
from bidding.evaluation.committee.drafting import DrafterInput, Drafting
from bidding.evaluation.committee.drawing import CommitteeDraws
from bidding.evaluation.committee.members import Memberships
from bidding.evaluation.committee.policies import CommitteePermission
from bidding.evaluation.committee.repository import CommitteeRepository
from bidding.evaluation.committee.setup import EvaluationSetup, SetupInput, default_settings
from bidding.evaluation.committee.supplement import Supplements, open_places
from bidding.evaluation.committee.web_labels import (
    AVOIDANCE_LABELS,
    DRAFTING_ROLE_LABELS,
    FIELD_LABELS,
    LABELS,
    MEMBER_KIND_LABELS,
    MEMBER_STATUS_LABELS,
    METHOD_LABELS,
    STATE_LABELS,
)
from bidding.evaluation.methods.common import MethodCode
from bidding.evaluation.models import DraftingRoleKind, Evaluation, MemberStatus
from bidding.models import Tender
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.settings import Settings
from trading.kernel.web.errors import web_error_response
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, Many, lines, many, submit
from trading.kernel.web.pages import page
from trading.kernel.web.templating import DISPLAY_TZ

SETUP: Final = "evaluation.setup"
DRAW: Final = "evaluation.draw"
MY: Final = "evaluation.my"
KINDS: Final = ("price", "objective", "subjective")


@dataclass
class SetupForm:
    method: str = ""
    criteria: str = ""
    price_base: str = ""
    candidates: str = ""
    size: str = ""
    representatives: str = ""
    reserves: str = ""
    specialties: str = ""
    complex_project: str = ""
    high_impact: str = ""
    main_venue: str = ""
    sub_venues: Many = ""
    scheduled_at: str = ""


@dataclass
class RepresentativeForm:
    username: str = ""


@dataclass
class DeclineForm:
    reason: str = ""


@dataclass
class DraftersForm:
    drafters: str = ""


ROLE_WORDS: Final = {
    "招标文件编制": DraftingRoleKind.DOCUMENTS.value,
    "需求编制": DraftingRoleKind.REQUIREMENT.value,
    "工程量清单编制": DraftingRoleKind.BILL_OF_QUANTITIES.value,
    "论证咨询": DraftingRoleKind.CONSULTATION.value,
}
"""The roles as a host writes them in Chinese (the codes are accepted as well)."""


def drafter_inputs(text: str) -> list[DrafterInput]:
    """One drafter per line: ``ID number or name | role | note`` (the note optional)."""
    parser = FieldParser()
    bounded = parser.text("drafters", text, max_length=20_000)
    entries = []
    for cells in lines(bounded or ""):
        if len(cells) not in {2, 3}:
            parser.add("drafters", "drafters.format", "ID number or name | role | note")
            break
        role = ROLE_WORDS.get(cells[1], cells[1])
        entries.append(DrafterInput(cells[0], role, cells[2] if len(cells) == 3 else ""))  # noqa: PLR2004 - the note
    parser.done()
    return entries


def _settings(request: Request[Any, Any, Any]) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def form_of(settings: dict[str, Any], scheduled: Any = None, venues: Any = ()) -> dict[str, Any]:
    """The form's fields for stored (or default) settings data."""
    committee = settings.get("committee") or {}
    main = next((str(v.id) for link, v in venues if link.role.value == "main"), "")
    subs = [str(v.id) for link, v in venues if link.role.value == "sub"]
    return {
        "method": settings.get("method", ""),
        "criteria": "\n".join(
            f"{c['code']} | {c['kind']} | {c['weight']} | {c.get('low', '0')} | {c.get('high', '100')}"
            for c in settings.get("criteria", [])
        ),
        "price_base": settings.get("price_base", "lowest"),
        "candidates": str(settings.get("candidates", 3)),
        "size": str(committee.get("size", "")),
        "representatives": str(committee.get("representatives", 0)),
        "reserves": str(committee.get("reserves", 0)),
        "specialties": "\n".join(f"{code} | {count}" for code, count in (committee.get("specialties") or {}).items()),
        "complex_project": "on" if committee.get("complex_project") else "",
        "high_impact": "on" if committee.get("high_impact") else "",
        "main_venue": main,
        "sub_venues": subs,
        "scheduled_at": scheduled.astimezone(DISPLAY_TZ).strftime("%Y-%m-%dT%H:%M") if scheduled else "",
    }


def setup_input(data: SetupForm, tender: Tender) -> SetupInput:
    """The form as `SetupInput`; a malformed field refused naming it (the service judges the rest)."""
    parser = FieldParser()
    method = parser.choice("method", data.method, MethodCode)
    criteria = []
    for cells in lines(data.criteria):
        if len(cells) != 5 or cells[1] not in KINDS:  # noqa: PLR2004 - code, kind, weight, low, high
            parser.add("criteria", "criteria.format", "code | kind | weight | lowest | highest")
            break
        criteria.append({"code": cells[0], "kind": cells[1], "weight": cells[2], "low": cells[3], "high": cells[4]})
    specialties: dict[str, int] = {}
    for cells in lines(data.specialties):
        if len(cells) != 2 or not cells[1].isdigit():  # noqa: PLR2004 - code, count
            parser.add("specialties", "specialties.format", "code | count")
            break
        specialties[cells[0].upper()] = int(cells[1])
    size = parser.integer("size", data.size, required=True, low=0, high=99)
    representatives = parser.integer("representatives", data.representatives, default=0, low=0, high=99)
    reserves = parser.integer("reserves", data.reserves, default=0, low=0, high=99)
    candidates = parser.integer("candidates", data.candidates, default=3, low=1, high=10)
    main = parser.uuid("main_venue", data.main_venue)
    subs = [venue for raw in many(data.sub_venues) if raw and (venue := parser.uuid("sub_venues", raw)) is not None]
    scheduled = parser.time("scheduled_at", data.scheduled_at, required=True)
    price_base = parser.text("price_base", data.price_base, max_length=20, single_line=True) or "lowest"
    parser.done()
    assert method is not None  # noqa: S101 - done() returned
    settings: dict[str, Any] = {
        "method": method.value,
        "criteria": criteria,
        "price_base": price_base,
        "candidates": candidates,
        "committee": {
            "size": size,
            "representatives": representatives,
            "reserves": reserves,
            "specialties": specialties,
            "budget_yuan": str(tender.estimate),
            "complex_project": bool(data.complex_project),
            "high_impact": bool(data.high_impact),
        },
    }
    return SetupInput(settings=settings, main_venue_id=main, scheduled_at=scheduled, sub_venue_ids=tuple(subs))


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "method_labels": METHOD_LABELS,
        "member_status_labels": MEMBER_STATUS_LABELS,
        "member_kind_labels": MEMBER_KIND_LABELS,
        "state_labels": STATE_LABELS,
        "avoidance_labels": AVOIDANCE_LABELS,
        "drafting_role_labels": DRAFTING_ROLE_LABELS,
        "labels": FIELD_LABELS,
        "methods": [code.value for code in MethodCode],
        "errors": [],
        "form": {},
        **extra,
    }


class CommitteePages(Controller):
    path = "/evaluation"
    include_in_schema = False

    # --- the host's setup -----------------------------------------------------------------------

    async def _setup_page(  # noqa: PLR0917 - the page and what failed on it
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        tender: Tender,
        evaluation: Evaluation | None,
        errors: list[FieldError],
        form: dict[str, Any] | None = None,
        drafters_text: str = "",
    ) -> Response[Any]:
        repo = CommitteeRepository(session)
        chosen = await repo.venues(evaluation.id) if evaluation is not None else []
        if form is None:
            stored = evaluation.settings if evaluation is not None else default_settings(tender)
            form = form_of(stored, evaluation.scheduled_at if evaluation else None, chosen)
        draw = await repo.latest_draw(evaluation.id) if evaluation is not None else None
        members = await repo.representatives(evaluation.id) if evaluation is not None else []
        drafters = await Drafting(session, _settings(request)).declared(evaluation.id) if evaluation else []
        context = _context(
            tender=tender,
            evaluation=evaluation,
            venues=await repo.active_venues(),
            draw=draw,
            representatives=members,
            drafters=drafters,
            drafters_text=drafters_text,
            errors=errors,
            form=form,
        )
        return await page(request, "evaluation/committee/setup.html", context, status_code=422 if errors else 200)

    @get("/tenders/{tender_id:uuid}/setup", name="evaluation.new_setup", opt=requires(CommitteePermission.SETUP_MANAGE))
    async def new_setup(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        tender_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The tender's evaluation: its setup page when it exists, else the form to create it."""
        service = EvaluationSetup(db_session)
        tender = await service.tender(tender_id)
        service.require_host(actor, tender)
        existing = await service.repo.evaluation_of_tender(tender.id)
        if existing is not None:
            return Redirect(request.app.route_reverse(SETUP, evaluation_id=existing.id))
        return await self._setup_page(request, db_session, tender, None, [])

    @post("/tenders/{tender_id:uuid}/setup", name="evaluation.create", opt=requires(CommitteePermission.SETUP_MANAGE))
    async def create(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        tender_id: FromPath[uuid.UUID],
        data: FormBody[SetupForm],
    ) -> Response[Any]:
        service = EvaluationSetup(db_session)
        tender = await service.tender(tender_id)

        async def work() -> Evaluation:
            return await service.create(actor, tender.id, setup_input(data, tender))

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=lambda evaluation: request.app.route_reverse(SETUP, evaluation_id=evaluation.id),
            refusal=lambda errors: self._setup_page(request, db_session, tender, None, errors, vars(data)),
        )

    @get("/e/{evaluation_id:uuid}/setup", name=SETUP, opt=requires(CommitteePermission.SETUP_MANAGE))
    async def setup(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        service = EvaluationSetup(db_session)
        evaluation, tender = await service.evaluation(evaluation_id)
        service.require_host(actor, tender)
        return await self._setup_page(request, db_session, tender, evaluation, [])

    @post("/e/{evaluation_id:uuid}/setup", name="evaluation.update", opt=requires(CommitteePermission.SETUP_MANAGE))
    async def update(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[SetupForm],
    ) -> Response[Any]:
        service = EvaluationSetup(db_session)
        evaluation, tender = await service.evaluation(evaluation_id)

        async def work() -> Evaluation:
            return await service.update(actor, evaluation.id, setup_input(data, tender))

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(SETUP, evaluation_id=evaluation.id),
            refusal=lambda errors: self._setup_page(request, db_session, tender, evaluation, errors, vars(data)),
        )

    @post(
        "/e/{evaluation_id:uuid}/representatives",
        name="evaluation.add_representative",
        opt=requires(CommitteePermission.SETUP_MANAGE),
    )
    async def representative(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[RepresentativeForm],
    ) -> Response[Any]:
        service = EvaluationSetup(db_session)
        evaluation, tender = await service.evaluation(evaluation_id)

        async def work() -> object:
            return await service.add_representative(actor, evaluation.id, data.username)

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(SETUP, evaluation_id=evaluation.id) + "#representatives",
            refusal=lambda errors: self._setup_page(request, db_session, tender, evaluation, errors),
        )

    @post(
        "/e/{evaluation_id:uuid}/drafters",
        name="evaluation.drafters",
        opt=requires(CommitteePermission.SETUP_MANAGE),
    )
    async def drafters(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        data: FormBody[DraftersForm],
    ) -> Response[Any]:
        """Declare the pool experts who drafted the tender (the whole list; before the seed)."""
        service = EvaluationSetup(db_session)
        evaluation, tender = await service.evaluation(evaluation_id)

        async def work() -> object:
            return await Drafting(db_session, _settings(request)).declare(
                actor, evaluation.id, drafter_inputs(data.drafters)
            )

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(SETUP, evaluation_id=evaluation.id) + "#drafters",
            refusal=lambda errors: self._setup_page(
                request, db_session, tender, evaluation, errors, drafters_text=data.drafters
            ),
        )

    # --- the draw operator's pages --------------------------------------------------------------

    @get("/draws", name="evaluation.draws", opt=requires(CommitteePermission.DRAW_READ))
    async def draws(
        self, *, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        """Every committee draw, newest first, with the evaluations still waiting for one and those
        with open places to fill by a supplementary draw (补抽).
        """
        repo = CommitteeRepository(db_session)
        open_list = []
        for first, evaluation, tender in await repo.drawn_first_draws():
            places = open_places(first, await repo.supplements(first.id))
            if places:
                open_list.append((evaluation, tender, places))
        context = _context(draws=await repo.all_draws(), awaiting=await repo.awaiting_draw(), open_places=open_list)
        return await page(request, "evaluation/committee/draws.html", context)

    async def _draw_page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        actor: Actor,
        evaluation_id: uuid.UUID,
        errors: list[FieldError],
    ) -> Response[Any]:
        service = EvaluationSetup(session)
        evaluation, tender = await service.evaluation(evaluation_id)
        repo = CommitteeRepository(session)
        draw = await repo.latest_draw(evaluation.id)
        members = await repo.members(evaluation.id)
        identities = access.may_see_identities(actor, evaluation)
        names: dict[str, str] = {}
        supplements = await Supplements(session).state(evaluation.id)
        if identities and draw is not None and draw.result is not None:
            rows = [draw, *(row for row in supplements.supplements if row.result is not None)]
            drawn = [e for row in rows for g in (row.result or {})["groups"] for e in (*g["members"], *g["reserves"])]
            excluded = [item["expert_id"] for row in rows for item in (row.excluded or {}).get("excluded", [])]
            found = await repo.experts([uuid.UUID(e) for e in (*drawn, *excluded)])
            names = {str(expert_id): expert.name for expert_id, expert in found.items()}
        context = _context(
            tender=tender,
            evaluation=evaluation,
            draw=draw,
            members=members if identities else [],
            names=names,
            identities=identities,
            operates=actor.has(CommitteePermission.DRAW_OPERATE),
            venues=await repo.venues(evaluation.id),
            supplements=supplements.supplements,
            open_places=supplements.open,
            pending=supplements.pending,
            errors=errors,
        )
        return await page(request, "evaluation/committee/draw.html", context, status_code=422 if errors else 200)

    @get("/e/{evaluation_id:uuid}/draw", name=DRAW, opt=requires(CommitteePermission.DRAW_READ))
    async def draw(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        return await self._draw_page(request, db_session, actor, evaluation_id, [])

    async def _operate(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        actor: Actor,
        evaluation_id: uuid.UUID,
        work: Callable[[], Awaitable[object]],
    ) -> Response[Any]:
        return await submit(
            session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(DRAW, evaluation_id=evaluation_id),
            refusal=lambda errors: self._draw_page(request, session, actor, evaluation_id, errors),
        )

    @post(
        "/e/{evaluation_id:uuid}/draw/prepare",
        name="evaluation.draw_prepare",
        opt=requires(CommitteePermission.DRAW_OPERATE),
    )
    async def prepare(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """Commit to a fresh seed; its SHA-256 shows on the page from now on."""

        async def work() -> object:
            return await CommitteeDraws(db_session).prepare(actor, evaluation_id)

        return await self._operate(request, db_session, actor, evaluation_id, work)

    @post(
        "/e/{evaluation_id:uuid}/draw/run", name="evaluation.draw_run", opt=requires(CommitteePermission.DRAW_OPERATE)
    )
    async def run(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """Run the draw: avoidance, the seeded draw, members notified."""

        async def work() -> object:
            return await CommitteeDraws(db_session).run(actor, evaluation_id)

        return await self._operate(request, db_session, actor, evaluation_id, work)

    @post(
        "/e/{evaluation_id:uuid}/draw/supplement/prepare",
        name="evaluation.supplement_prepare",
        opt=requires(CommitteePermission.DRAW_OPERATE),
    )
    async def prepare_supplement(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """Commit a fresh seed for a supplementary draw (补抽) of exactly the open places."""

        async def work() -> object:
            return await Supplements(db_session).prepare(actor, evaluation_id)

        return await self._operate(request, db_session, actor, evaluation_id, work)

    @post(
        "/e/{evaluation_id:uuid}/draw/supplement/run",
        name="evaluation.supplement_run",
        opt=requires(CommitteePermission.DRAW_OPERATE),
    )
    async def run_supplement(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """Run the supplementary draw: avoidance again, less the experts drawn already."""

        async def work() -> object:
            return await Supplements(db_session).run(actor, evaluation_id)

        return await self._operate(request, db_session, actor, evaluation_id, work)

    # --- what anyone may ask for (and be refused, on the record) --------------------------------

    @get(
        "/e/{evaluation_id:uuid}/supplements/{draw_id:uuid}/draw.json",
        name="evaluation.supplement_json",
        opt=requires(CommitteePermission.COMMITTEE_READ),
    )
    async def supplement_json(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
        draw_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """A published supplementary draw for ``scripts/recompute_committee.py`` (with ``--first``
        the first draw's file).
        """
        evaluation, _ = await EvaluationSetup(db_session).evaluation(evaluation_id)
        refused = await access.identities_refusal(db_session, actor, evaluation, route="page:supplement_json")
        if refused is not None:
            return web_error_response(request, refused)
        row = await CommitteeRepository(db_session).draw(draw_id)
        if row is None or row.evaluation_id != evaluation.id or row.supplements_draw_id is None or not row.drawn_at:
            return Response(content=b'{"drawn": false}', media_type="application/json", status_code=404)
        body = json.dumps(CommitteeDraws.published_document(evaluation, row), ensure_ascii=False, indent=2)
        return Response(
            content=body.encode(),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="committee-supplement-{row.id}.json"'},
        )

    @get(
        "/e/{evaluation_id:uuid}/draw.json",
        name="evaluation.draw_json",
        opt=requires(CommitteePermission.COMMITTEE_READ),
    )
    async def draw_json(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The published draw for ``scripts/recompute_committee.py`` (``--before`` this file, or
        ``--commitment`` as shown before the draw).
        """
        evaluation, _ = await EvaluationSetup(db_session).evaluation(evaluation_id)
        refused = await access.identities_refusal(db_session, actor, evaluation, route="page:draw_json")
        if refused is not None:
            return web_error_response(request, refused)
        row = await CommitteeRepository(db_session).latest_draw(evaluation.id)
        if row is None or row.drawn_at is None:
            return Response(content=b'{"drawn": false}', media_type="application/json", status_code=404)
        body = json.dumps(CommitteeDraws.published_document(evaluation, row), ensure_ascii=False, indent=2)
        return Response(
            content=body.encode(),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="committee-draw-{evaluation.id}.json"'},
        )

    @get(
        "/e/{evaluation_id:uuid}/committee",
        name="evaluation.committee",
        opt=requires(CommitteePermission.COMMITTEE_READ),
    )
    async def committee(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        evaluation_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The committee by name: refused (and recorded) before the results for anyone but the
        draw operator and the supervisors.
        """
        evaluation, tender = await EvaluationSetup(db_session).evaluation(evaluation_id)
        refused = await access.identities_refusal(db_session, actor, evaluation, route="page:committee")
        if refused is not None:
            return web_error_response(request, refused)
        members = await CommitteeRepository(db_session).members(evaluation.id)
        context = _context(tender=tender, evaluation=evaluation, members=members)
        return await page(request, "evaluation/committee/committee.html", context)

    # --- the expert's own -----------------------------------------------------------------------

    async def _my_page(
        self, request: Request[Any, Any, Any], session: AsyncSession, actor: Actor, errors: list[FieldError]
    ) -> Response[Any]:
        mine = await Memberships(session).mine(actor)
        context = _context(
            to_answer=[m for m in mine if m.member.status is MemberStatus.NOTIFIED],
            sessions=[m for m in mine if m.member.status in access.CURRENT and m.member.voided_at is None],
            past=[
                m
                for m in mine
                if m.member.status not in access.CURRENT and m.member.status is not MemberStatus.NOTIFIED
            ],
            errors=errors,
        )
        return await page(request, "evaluation/committee/my.html", context, status_code=422 if errors else 200)

    @get("/my", name=MY, opt=requires(CommitteePermission.MEMBERSHIP_ANSWER))
    async def my(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        return await self._my_page(request, db_session, actor, [])

    async def _answer(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        actor: Actor,
        work: Callable[[], Awaitable[object]],
    ) -> Response[Any]:
        return await submit(
            session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(MY),
            refusal=lambda errors: self._my_page(request, session, actor, errors),
        )

    @post(
        "/my/{member_id:uuid}/confirm",
        name="evaluation.my_confirm",
        opt=requires(CommitteePermission.MEMBERSHIP_ANSWER),
    )
    async def confirm(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        member_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        async def work() -> object:
            return await Memberships(db_session).confirm(actor, member_id)

        return await self._answer(request, db_session, actor, work)

    @post(
        "/my/{member_id:uuid}/decline",
        name="evaluation.my_decline",
        opt=requires(CommitteePermission.MEMBERSHIP_ANSWER),
    )
    async def decline(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        member_id: FromPath[uuid.UUID],
        data: FormBody[DeclineForm],
    ) -> Response[Any]:
        async def work() -> object:
            return await Memberships(db_session).decline(actor, member_id, data.reason)

        return await self._answer(request, db_session, actor, work)


CONTROLLERS = (CommitteePages,)
