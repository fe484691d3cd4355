"""Who is working: the evaluation, its tender, and the actor's current membership.

The membership itself is the committee part's ``bidding.evaluation.access.current_member`` (not
voided, confirmed or signed in). A refusal
is appended to the ledger (``evaluation.access_refused``) in the caller's transaction *before*
`ScoringForbidden` is raised: the pages call `require_member` outside their savepoint and answer
403 without raising, so the record commits while nothing else does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bidding.evaluation.access import current_member
from bidding.evaluation.models import Evaluation, Member
from bidding.evaluation.scoring.errors import ScoringForbidden, ScoringNotFound
from bidding.evaluation.scoring.repository import ScoringRepository
from bidding.models import Tender
from trading.kernel.auth.identity import Actor
from trading.ledger.service import append_entry

ACCESS_REFUSED = "evaluation.access_refused"


@dataclass(frozen=True, slots=True)
class Seat:
    """A current member at work: the evaluation, its tender and the member row."""

    evaluation: Evaluation
    tender: Tender
    member: Member


async def load(repo: ScoringRepository, evaluation_id: uuid.UUID, *, lock: bool = False) -> tuple[Evaluation, Tender]:
    evaluation = await repo.evaluation(evaluation_id, lock=lock)
    if evaluation is None:
        raise ScoringNotFound("no such evaluation", field="evaluation_id", rule="exists")
    return evaluation, await repo.tender(evaluation.tender_id)


async def record_refusal(
    repo: ScoringRepository, evaluation: Evaluation, tender: Tender, actor: Actor, *, what: str, rule: str
) -> None:
    await append_entry(
        repo.session,
        actor=actor,
        action=ACCESS_REFUSED,
        subject_type="evaluation_scoring",
        subject_id=str(evaluation.id),
        summary={"what": what, "rule": rule},
        project_code=tender.project_code,
    )


async def require_member(
    repo: ScoringRepository, evaluation_id: uuid.UUID, actor: Actor, what: str, *, lock: bool = False
) -> Seat:
    """The actor's current membership of the evaluation, or `ScoringForbidden` (rule ``member``)
    after recording the attempt.
    """
    evaluation, tender = await load(repo, evaluation_id, lock=lock)
    member = await current_member(repo.session, actor, evaluation.id)
    if member is None:
        await record_refusal(repo, evaluation, tender, actor, what=what, rule="member")
        raise ScoringForbidden(
            "only the evaluation committee's current members work here", field="evaluation_id", rule="member"
        )
    return Seat(evaluation, tender, member)


def is_chair(seat: Seat) -> bool:
    return seat.evaluation.chair_member_id == seat.member.id
