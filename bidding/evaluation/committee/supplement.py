"""The supplementary draw (补抽): places left open when a group's reserves ran out are filled by a
second draw, committed and published exactly like the first.

A member who declines, times out or is replaced mid-session when their group has no reserve left
leaves an *open place*: their expert id and group go into the draw row's ``result["vacated"]``
(not into ``declined``, which stays the list `draw.committee.seat` replays), the ledger records
``evaluation.reserves_exhausted`` and the first draw's operator gets an inbox notice (`notice_open`).
The open places of a group are the vacated seats of the evaluation's draws (the first and every
supplementary one) less the places supplementary draws were prepared for (`open_places`).

The operator then, on ``/evaluation/e/{id}/draw``:

1. **prepares** a supplementary draw: a fresh seed whose SHA-256 is published, and the spec — one
   group per group with open places, ``count`` = its open places, the first draw's specialties and
   reserves — fixed with it (a second `CommitteeDraw` row, ``supplements_draw_id`` = the first);
2. **runs** it: avoidance recomputed now (`CandidateRepository.avoided`, the declared drafters
   included), less every expert already drawn for this evaluation (members and reserves of the
   earlier draws; recorded as excluded with reason ``already_drawn`` and listed in
   ``result["already_drawn"]``), the seeded draw over that list, the drawn experts seated and
   notified with the same answer time and sweep as the first draw (`CommitteeDraws.seat_expert`).

The bid-deadline and working-day timing of the first draw is not asked again: the places opened
after the committee was fixed, and the evaluation may be under way. ``scripts/recompute_committee.py``
re-derives a supplementary draw from its published document like the first (``--first`` the first
draw's document checks that no expert drawn there is drawn again).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.committee.drafting import drafting_roles
from bidding.evaluation.committee.drawing import CommitteeDraws, require_operator, spec_of
from bidding.evaluation.committee.errors import DrawStateConflict, EvaluationNotFound
from bidding.evaluation.committee.repository import CommitteeRepository
from bidding.evaluation.draw.avoidance import Avoidance, Excluded, Reason
from bidding.evaluation.draw.candidates import CandidateList
from bidding.evaluation.draw.committee import (
    DrawSpec,
    GroupSpec,
    candidate_columns,
    check_spec,
    draw_committee,
    published_result,
)
from bidding.evaluation.models import CommitteeDraw, Evaluation, Member, SessionState
from bidding.evaluation.pool.repository import CandidateRepository
from bidding.models import Tender
from trading.kernel import clock, draws
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.ledger.service import append_entry
from trading.notifications import service as notifications

OPEN_NOTICE: Final = "evaluation.places_open"


def vacated_of(row: CommitteeDraw) -> list[dict[str, str]]:
    """The seats of ``row`` left open (``{"expert": id, "group": key}``), in the order they opened."""
    return [
        {"expert": str(item["expert"]), "group": str(item["group"])} for item in (row.result or {}).get("vacated", [])
    ]


def open_places(first: CommitteeDraw, supplements: Sequence[CommitteeDraw]) -> dict[str, int]:
    """Open places per group: seats vacated in any of the draws, less those supplements were prepared for."""
    vacated = Counter(item["group"] for row in (first, *supplements) for item in vacated_of(row))
    for row in supplements:
        for group in row.spec["groups"]:
            vacated[str(group["key"])] -= int(group["count"])
    return {key: count for key, count in sorted(vacated.items()) if count > 0}


def already_drawn(rows: Sequence[CommitteeDraw]) -> list[str]:
    """Every expert the drawn ``rows`` drew (members and reserves), sorted."""
    return sorted(
        {
            str(expert)
            for row in rows
            for group in (row.result or {}).get("groups", [])
            for expert in (*group["members"], *group["reserves"])
        }
    )


@dataclass(frozen=True, slots=True)
class SupplementState:
    first: CommitteeDraw | None
    supplements: Sequence[CommitteeDraw]
    open: dict[str, int]

    @property
    def pending(self) -> CommitteeDraw | None:
        """A supplementary draw prepared and not yet run."""
        return next((row for row in self.supplements if row.drawn_at is None), None)


class Supplements:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = CommitteeRepository(session)
        self.draws = CommitteeDraws(session)

    async def state(self, evaluation_id: uuid.UUID, *, lock: bool = False) -> SupplementState:
        first = await self.repo.latest_draw(evaluation_id, lock=lock)
        if first is None or first.drawn_at is None:
            return SupplementState(first, (), {})
        supplements = await self.repo.supplements(first.id, lock=lock)
        return SupplementState(first, supplements, open_places(first, supplements))

    async def _evaluation(self, evaluation_id: uuid.UUID) -> tuple[Evaluation, Tender]:
        evaluation = await self.repo.evaluation(evaluation_id, lock=True)
        if evaluation is None:
            raise EvaluationNotFound("no such evaluation", field="evaluation", rule="exists")
        tender = await self.repo.tender(evaluation.tender_id)
        assert tender is not None  # noqa: S101 - a foreign key
        if evaluation.state is SessionState.COMPLETED:
            raise DrawStateConflict("the evaluation is completed", field="evaluation", rule="not_completed")
        return evaluation, tender

    async def prepare(self, actor: Actor, evaluation_id: uuid.UUID) -> CommitteeDraw:
        """Commit a fresh seed and the spec of exactly the open places."""
        require_operator(actor)
        evaluation, tender = await self._evaluation(evaluation_id)
        state = await self.state(evaluation.id, lock=True)
        if state.first is None:
            raise DrawStateConflict("the committee has not been drawn yet", field="draw", rule="draw_not_run")
        if state.pending is not None:
            raise DrawStateConflict(
                "a supplementary draw is prepared already: run it first", field="draw", rule="supplement_pending"
            )
        if not state.open:
            raise DrawStateConflict("no place of the committee is open", field="draw", rule="no_open_places")
        first_groups = {group.key: group for group in spec_of(state.first).groups}
        spec = DrawSpec(
            tuple(
                GroupSpec(key, first_groups[key].specialties, count, first_groups[key].reserves)
                for key, count in state.open.items()
            )
        )
        check_spec(spec)
        seed = draws.new_secret()
        now = await clock.now(self.session)
        row = CommitteeDraw(
            id=uuid7(),
            evaluation_id=evaluation.id,
            operator_id=_user(actor),
            spec={**spec.as_json(), "supplements": str(state.first.id)},
            rules_version=self.draws.draw_rules.version,
            seed_commitment=draws.commitment(seed),
            committed_at=now,
            seed=seed,
            supplements_draw_id=state.first.id,
        )
        await self.repo.add(row)
        await append_entry(
            self.session,
            actor=actor,
            action="evaluation.supplementary_draw_committed",
            subject_type="evaluation.draw",
            subject_id=str(row.id),
            summary={
                "evaluation": str(evaluation.id),
                "seed_sha256": row.seed_commitment,
                "places": sum(state.open.values()),
            },
            data={"spec": row.spec, "supplements": str(state.first.id)},
            project_code=tender.project_code,
        )
        return row

    async def run(self, actor: Actor, evaluation_id: uuid.UUID) -> CommitteeDraw:
        """Draw the open places over the recomputed avoidance less the experts drawn already."""
        require_operator(actor)
        evaluation, tender = await self._evaluation(evaluation_id)
        state = await self.state(evaluation.id, lock=True)
        row = state.pending
        if row is None or row.seed is None or state.first is None:
            raise DrawStateConflict(
                "prepare the supplementary draw first (commit the seed)", field="draw", rule="draw_not_prepared"
            )
        now = await clock.now(self.session)
        spec = spec_of(row)
        context = await self.draws.context(evaluation, tender, now)
        prefixes = sorted({code for group in spec.groups for code in group.specialties})
        avoided = await CandidateRepository(self.session).avoided(
            context,
            self.draws.draw_rules,
            specialty_prefixes=prefixes if all(group.specialties for group in spec.groups) else None,
            drafting=await drafting_roles(self.session, evaluation),
        )
        drawn_before = already_drawn([state.first, *(r for r in state.supplements if r.drawn_at is not None)])
        taken = set(drawn_before)
        pool = avoided.columns()
        kept = [(e, c) for e, c in zip(pool.ids, pool.codes, strict=True) if e not in taken]
        candidates = CandidateList([e for e, _ in kept], [c for _, c in kept])
        listed_ids = set(pool.ids)
        again = tuple(
            Excluded(expert, (Reason(Avoidance.ALREADY_DRAWN, {"evaluation": str(evaluation.id)}),))
            for expert in drawn_before
            if expert in listed_ids
        )
        excluded = tuple(sorted((*avoided.excluded, *again), key=lambda item: item.expert_id))
        drawn = draw_committee(row.seed, row.seed_commitment, candidates, spec)  # DrawRefused: nothing stored
        listed = candidate_columns(candidates, spec)
        row.candidates = {"candidates": listed.published()}
        row.candidate_list_sha256 = drawn.candidate_list_sha256
        row.excluded = {"excluded": [item.as_json() for item in excluded]}
        row.result = {
            **published_result(
                server_seed=row.seed,
                draw=drawn,
                candidates=candidates,
                spec=spec,
                excluded=excluded,
                rules_version=avoided.rules_version,
            ),
            "supplements": str(state.first.id),
            "already_drawn": drawn_before,
        }
        row.drawn_at = now
        await self.session.flush()
        members: list[Member] = []
        experts = await self.repo.experts([uuid.UUID(e) for g in drawn.groups for e in g.members])
        for group in drawn.groups:
            for position, expert_id in enumerate(group.members):
                expert = experts[uuid.UUID(expert_id)]
                members.append(await self.draws.seat_expert(evaluation, tender, row, expert, group.key, position, now))
        await append_entry(
            self.session,
            actor=actor,
            action="evaluation.committee_supplemented",
            subject_type="evaluation.draw",
            subject_id=str(row.id),
            summary={
                "evaluation": str(evaluation.id),
                "candidates": len(listed),
                "excluded": len(excluded),
                "members": len(members),
                "candidate_list_sha256": drawn.candidate_list_sha256,
            },
            data={"result": row.result, "excluded": row.excluded, "members": [str(m.id) for m in members]},
            project_code=tender.project_code,
        )
        return row


async def notice_open(session: AsyncSession, tender: Tender, row: CommitteeDraw) -> None:
    """Tell the draw operator (the one who ran the evaluation's first draw) that places are open."""
    repo = CommitteeRepository(session)
    first = row if row.supplements_draw_id is None else await repo.draw(row.supplements_draw_id)
    assert first is not None  # noqa: S101 - a foreign key
    state = open_places(first, await repo.supplements(first.id))
    places = sum(state.values())
    await notifications.publish(
        session,
        recipient=notifications.Recipient.user(first.operator_id),
        template=OPEN_NOTICE,
        key=f"{OPEN_NOTICE}:{row.id}:{len(vacated_of(row))}",
        params={"project_code": tender.project_code, "title": tender.title, "places": places},
    )


def _user(actor: Actor) -> uuid.UUID:
    if actor.user_id is None:
        raise DrawStateConflict("a signed-in operator runs draws", field="actor", rule="draw_operator")
    return actor.user_id
