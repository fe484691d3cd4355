"""The committee draw against the database: commit → run → (with the results) publish.

1. **Prepare** (the centre's draw operator): a fresh seed (`trading.kernel.draws.new_secret`),
   its SHA-256 stored and shown as the commitment; the spec the draw runs (`draw.committee.draw_spec`
   of the evaluation's committee spec, checked again by `require_committee`) fixed with it. The seed
   itself stays in the row, shown nowhere until the run.
2. **Run** (the operator, after the bid deadline, for GP not earlier than the working days of
   `draw.timing`): the pool after avoidance (`CandidateRepository.avoided`, the result of
   `draw.avoidance.apply_avoidance` over every expert: employer or declared conflict with the
   tenderee, the agency or any bidder, suspension, unavailability, frequency), the excluded with their reasons, the
   candidate list and its digest, `draw.committee.draw_committee` with the revealed seed; a
   `Member` per drawn expert (notified, answer due after `CommitteeRules.answer_hours`), a pool
   `DrawRecord` each, an inbox notice each, ledger entries. A shortfall or a timing rule refuses the
   run and stores nothing.
3. **Publish**: `published_document` is the JSON ``scripts/recompute_committee.py`` re-derives (the
   commitment, spec and list digest at the top as published before, the computation inside).

Ledger summaries carry ids and digests only, never names (identities are confidential until the
results: `bidding.evaluation.access`).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.access import is_draw_operator
from bidding.evaluation.committee.drafting import drafting_roles
from bidding.evaluation.committee.errors import DrawStateConflict, EvaluationNotFound
from bidding.evaluation.committee.repository import CommitteeRepository
from bidding.evaluation.committee.rules import CommitteeRules, shipped_rules
from bidding.evaluation.committee.setup import is_government_procurement, sector_of
from bidding.evaluation.draw.candidates import DrawContext
from bidding.evaluation.draw.committee import CommitteeDraw as DrawnCommittee
from bidding.evaluation.draw.committee import (
    DrawRefused,
    DrawSpec,
    GroupDraw,
    GroupSpec,
    candidate_columns,
    draw_committee,
    draw_spec,
    published_candidates,
    published_result,
    seat,
)
from bidding.evaluation.draw.rules import DrawRules
from bidding.evaluation.draw.rules import shipped_rules as shipped_draw_rules
from bidding.evaluation.draw.timing import draw_timing
from bidding.evaluation.methods.serialise import settings_from_data
from bidding.evaluation.methods.settings import require_committee
from bidding.evaluation.models import CommitteeDraw, Evaluation, Member, MemberKind, MemberStatus, SessionState
from bidding.evaluation.pool.models import DrawOutcome, DrawRecord, Expert
from bidding.evaluation.pool.repository import CandidateRepository
from bidding.models import Tender
from trading.kernel import calendar_versions, clock, draws
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar import CHINA
from trading.kernel.db.types import uuid7
from trading.kernel.errors import PermissionDenied
from trading.ledger.service import append_entry
from trading.notifications import service as notifications

NOTICE: Final = "evaluation.drawn"
PUBLISHED_SCHEME: Final = "ggzy-committee-draw-published-v1"


class NotTheOperator(PermissionDenied):
    """Only the centre's draw operator prepares and runs a committee draw."""


def require_operator(actor: Actor) -> None:
    if not is_draw_operator(actor):
        raise NotTheOperator(
            "only the centre's draw operator runs committee draws", field="actor", rule="draw_operator"
        )


def spec_of(row: CommitteeDraw) -> DrawSpec:
    groups = tuple(
        GroupSpec(str(g["key"]), frozenset(g["specialties"]), int(g["count"]), int(g.get("reserves", 0)))
        for g in row.spec["groups"]
    )
    return DrawSpec(groups)


def drawn_of(row: CommitteeDraw) -> DrawnCommittee:
    """The pure draw as stored (for `seat` and `next_reserve`)."""
    if row.result is None or row.candidate_list_sha256 is None:
        raise DrawStateConflict("the committee has not been drawn yet", field="draw", rule="draw_not_run")
    groups = tuple(
        GroupDraw(str(g["key"]), tuple(g["members"]), tuple(g["reserves"]), int(g["eligible"]))
        for g in row.result["groups"]
    )
    return DrawnCommittee(row.seed_commitment, row.candidate_list_sha256, str(row.result["draw_seed"]), groups)


def declined_of(row: CommitteeDraw) -> list[str]:
    return [str(expert) for expert in (row.result or {}).get("declined", [])]


def vacated_ids(row: CommitteeDraw) -> list[str]:
    """The experts whose seat was left open (no reserve left): out of the seated committee."""
    return [str(item["expert"]) for item in (row.result or {}).get("vacated", [])]


def today_in_china(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


class CommitteeDraws:
    def __init__(
        self,
        session: AsyncSession,
        rules: CommitteeRules | None = None,
        draw_rules: DrawRules | None = None,
    ) -> None:
        self.session = session
        self.repo = CommitteeRepository(session)
        self.rules = rules or shipped_rules()
        self.draw_rules = draw_rules or shipped_draw_rules()

    async def _evaluation(self, evaluation_id: uuid.UUID, *, lock: bool = False) -> tuple[Evaluation, Tender]:
        evaluation = await self.repo.evaluation(evaluation_id, lock=lock)
        if evaluation is None:
            raise EvaluationNotFound("no such evaluation", field="evaluation", rule="exists")
        tender = await self.repo.tender(evaluation.tender_id)
        assert tender is not None  # noqa: S101 - a foreign key
        return evaluation, tender

    # --- 1. prepare -----------------------------------------------------------------------------

    async def prepare(self, actor: Actor, evaluation_id: uuid.UUID) -> CommitteeDraw:
        """Commit to a fresh seed and the spec; the commitment is public from now on."""
        require_operator(actor)
        evaluation, tender = await self._evaluation(evaluation_id, lock=True)
        if evaluation.state is not SessionState.PREPARING:
            raise DrawStateConflict("the session has started", field="evaluation", rule="session_preparing")
        if await self.repo.latest_draw(evaluation.id) is not None:
            raise DrawStateConflict(
                "this evaluation's committee draw is prepared already", field="evaluation", rule="draw_exists"
            )
        committee = settings_from_data(evaluation.settings).committee
        if committee is None:
            raise DrawStateConflict("the evaluation has no committee spec", field="committee.size", rule="required")
        require_committee(committee, sector_of(tender))
        spec = draw_spec(committee)
        seed = draws.new_secret()
        now = await clock.now(self.session)
        row = CommitteeDraw(
            id=uuid7(),
            evaluation_id=evaluation.id,
            operator_id=_user(actor),
            spec={**spec.as_json(), "committee": evaluation.committee_spec},
            rules_version=self.draw_rules.version,
            seed_commitment=draws.commitment(seed),
            committed_at=now,
            seed=seed,
        )
        await self.repo.add(row)
        await append_entry(
            self.session,
            actor=actor,
            action="evaluation.draw_committed",
            subject_type="evaluation.draw",
            subject_id=str(row.id),
            summary={"evaluation": str(evaluation.id), "seed_sha256": row.seed_commitment},
            data={"spec": row.spec, "rules_version": row.rules_version},
            project_code=tender.project_code,
        )
        return row

    # --- 2. run ---------------------------------------------------------------------------------

    async def run(self, actor: Actor, evaluation_id: uuid.UUID) -> CommitteeDraw:
        """Draw the committee (see the module docstring); refused whole when a rule breaks."""
        require_operator(actor)
        evaluation, tender = await self._evaluation(evaluation_id, lock=True)
        row = await self.repo.latest_draw(evaluation.id, lock=True)
        if row is None or row.seed is None:
            raise DrawStateConflict("prepare the draw first (commit the seed)", field="draw", rule="draw_not_prepared")
        if row.drawn_at is not None:
            raise DrawStateConflict("the committee has been drawn already", field="draw", rule="draw_run_once")
        now = await clock.now(self.session)
        await self._check_timing(evaluation, tender, now)
        spec = spec_of(row)
        context = await self.context(evaluation, tender, now)
        # The pool after avoidance, restricted to the spec's codes (`CandidateRepository.listed`: on
        # PostgreSQL the list's lines built by the database, the same result as `apply_avoidance`
        # over every expert's record); the declared drafters judged as records.
        avoided = await CandidateRepository(self.session).listed(
            context, self.draw_rules, spec, drafting=await drafting_roles(self.session, evaluation)
        )
        drawn = draw_committee(row.seed, row.seed_commitment, avoided.candidates, spec)  # DrawRefused: nothing stored
        listed = candidate_columns(avoided.candidates, spec)
        row.candidates = {"candidates": published_candidates(listed)}
        row.candidate_list_sha256 = drawn.candidate_list_sha256
        row.excluded = {"excluded": avoided.exclusion_record()}
        row.result = published_result(
            server_seed=row.seed,
            draw=drawn,
            candidates=avoided.candidates,
            spec=spec,
            excluded=avoided.excluded,
            rules_version=avoided.rules_version,
        )
        row.drawn_at = now
        await self.session.flush()
        members: list[Member] = []
        experts = await self.repo.experts([uuid.UUID(e) for g in drawn.groups for e in g.members])
        for group in drawn.groups:
            for position, expert_id in enumerate(group.members):
                expert = experts[uuid.UUID(expert_id)]
                members.append(await self.seat_expert(evaluation, tender, row, expert, group.key, position, now))
        await append_entry(
            self.session,
            actor=actor,
            action="evaluation.committee_drawn",
            subject_type="evaluation.draw",
            subject_id=str(row.id),
            summary={
                "evaluation": str(evaluation.id),
                "candidates": len(listed),
                "excluded": len(avoided.excluded),
                "members": len(members),
                "candidate_list_sha256": drawn.candidate_list_sha256,
            },
            data={"result": row.result, "excluded": row.excluded, "members": [str(m.id) for m in members]},
            project_code=tender.project_code,
        )
        return row

    async def _check_timing(self, evaluation: Evaluation, tender: Tender, now: datetime) -> None:
        if tender.deadline is None or now < tender.deadline:
            raise DrawRefused(
                "the committee is drawn after the bid deadline (bidders known)", field="draw_at", rule="after_deadline"
            )
        if evaluation.scheduled_at is None:
            raise DrawRefused("the evaluation has no start", field="scheduled_at", rule="required")
        violations = draw_timing(
            now,
            evaluation.scheduled_at,
            bid_deadline=tender.deadline,
            government_procurement=is_government_procurement(tender),
            calendar=await calendar_versions.load_calendar(self.session),
            rules=self.draw_rules,
        )
        if violations:
            first = violations[0]
            raise DrawRefused(
                first.message,
                field=first.field,
                rule=first.rule,
                extra={"errors": [{"field": v.field, "rule": v.rule, "message": v.message} for v in violations]},
            )

    async def context(self, evaluation: Evaluation, tender: Tender, now: datetime) -> DrawContext:
        """The tender as avoidance sees it at ``now`` (the first draw's, and a supplementary one's)."""
        assert evaluation.scheduled_at is not None  # noqa: S101 - checked by the timing
        tenderee = await self.repo.uscc(tender.tenderee_organisation_id)
        assert tenderee is not None  # noqa: S101 - a foreign key
        first = today_in_china(evaluation.scheduled_at)
        return DrawContext(
            tender_id=str(tender.id),
            tenderee_uscc=tenderee,
            agency_uscc=await self.repo.uscc(tender.agency_organisation_id),
            bidder_usccs=await self.repo.bidder_usccs(tender.id),
            evaluation_date=first,
            draw_date=today_in_china(now),
            government_procurement=is_government_procurement(tender),
            evaluation_end=first + timedelta(days=self.rules.evaluation_days - 1),
        )

    async def seat_expert(  # noqa: PLR0917 - one member's row, record and notice
        self,
        evaluation: Evaluation,
        tender: Tender,
        row: CommitteeDraw,
        expert: Expert,
        group: str,
        position: int,
        now: datetime,
        replaces: Member | None = None,
    ) -> Member:
        """A drawn (or called reserve) expert's membership: notified, answer due, recorded, told."""
        user_id = expert.user_id
        if user_id is None:
            user = await self.repo.user_of_person(expert.person_id)
            user_id = user.id if user is not None else None
        due = now + self.rules.answer_window
        member = Member(
            id=uuid7(),
            evaluation_id=evaluation.id,
            kind=MemberKind.EXPERT,
            expert_id=expert.id,
            person_id=expert.person_id,
            user_id=user_id,
            name=expert.name,
            draw_id=row.id,
            group_code=group,
            draw_position=position,
            status=MemberStatus.NOTIFIED,
            answer_due_at=due,
            replaces_member_id=replaces.id if replaces is not None else None,
            next_check=due,
            created_at=now,
        )
        await self.repo.add(
            member,
            DrawRecord(
                id=uuid7(),
                expert_id=expert.id,
                tender_id=tender.id,
                tenderee_organisation_id=tender.tenderee_organisation_id,
                draw_id=row.id,
                outcome=DrawOutcome.DRAWN,
                drawn_at=now,
            ),
        )
        if user_id is not None:
            await notifications.publish(
                self.session,
                recipient=notifications.Recipient.user(user_id),
                template=NOTICE,
                key=f"evaluation.drawn:{member.id}",
                params={
                    "project_code": tender.project_code,
                    "title": tender.title,
                    "scheduled_at": (evaluation.scheduled_at or now).isoformat(),
                    "answer_due_at": due.isoformat(),
                    "reserve": replaces is not None,
                },
            )
        return member

    # --- 3. publish -----------------------------------------------------------------------------

    @staticmethod
    def published_document(evaluation: Evaluation, row: CommitteeDraw) -> dict[str, Any]:
        """What ``scripts/recompute_committee.py`` reads: at the top, what was published before the
        draw (``seed_sha256``, ``spec``, ``candidate_list_sha256``: pass the file as ``--before`` or
        give ``--commitment`` from the page shown before the draw); the computation (seed revealed,
        candidate list, groups, declines, the seats left open with no reserve, the seated
        committee) under ``computation``. A supplementary draw (补抽, `committee.supplement`) adds
        ``supplements_draw_id`` and ``already_drawn`` (the experts of the earlier draws, none of
        whom may be on its list: the script checks it, and against the first draw's document).
        """
        drawn = drawn_of(row)
        declined = declined_of(row)
        vacated = vacated_ids(row)
        computation = dict(row.result or {})
        computation["declined"] = declined
        computation["vacated"] = vacated
        computation["committee"] = [e for e in seat(drawn, declined).committee() if e not in vacated]
        supplement: dict[str, Any] = {}
        if row.supplements_draw_id is not None:
            supplement = {
                "supplements_draw_id": str(row.supplements_draw_id),
                "already_drawn": list(computation.get("already_drawn", [])),
            }
        return {
            "scheme": PUBLISHED_SCHEME,
            "evaluation_id": str(evaluation.id),
            "draw_id": str(row.id),
            **supplement,
            "seed_sha256": row.seed_commitment,
            "committed_at": row.committed_at.isoformat(),
            "spec": {"groups": row.spec["groups"]},
            "candidate_list_sha256": row.candidate_list_sha256,
            "drawn_at": row.drawn_at.isoformat() if row.drawn_at else None,
            "computation": computation,
        }


def _user(actor: Actor) -> uuid.UUID:
    if actor.user_id is None:
        raise NotTheOperator("a signed-in operator runs draws", field="actor", rule="draw_operator")
    return actor.user_id
