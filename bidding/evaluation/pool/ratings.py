"""An agency rates an expert after an evaluation (0–100, with a comment), and the ratings decide
suspension and the senior flag by the shipped rules (`rules.judge`).

Known gap, until the evaluation stage exists: a rating names a tender the rating organisation runs
(its agency, or its tenderee when it has none) that has reached its opening, and the expert by name
and the last four characters of their ID number (as on the committee's sign-in sheet), because
there is no committee yet to pick them from. Once evaluations exist, the rating names the
evaluation and the expert from its committee (``Rating.evaluation_id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bidding.evaluation.pool.errors import ExpertRefused, RatingNotAllowed
from bidding.evaluation.pool.models import Expert, ExpertStatus, Rating, StatusChangeRule
from bidding.evaluation.pool.rules import RatingVerdict, judge
from bidding.evaluation.pool.service import ExpertPool
from bidding.models import Tender, TenderStatus
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7

BEFORE_EVALUATION: Final = frozenset(
    {TenderStatus.DRAFT, TenderStatus.PUBLISHED, TenderStatus.CLOSED, TenderStatus.FAILED, TenderStatus.CANCELLED}
)
"""A tender in these states has had no evaluation to rate (later stages' states all come after)."""
ID_SUFFIX_LENGTH: Final = 4


@dataclass(frozen=True, slots=True)
class RatingInput:
    tender_code: str
    expert_name: str
    id_suffix: str
    score: int | None
    comment: str


@dataclass(frozen=True, slots=True)
class RatingOutcome:
    rating: Rating
    expert: Expert
    verdict: RatingVerdict
    suspended: bool
    proposed: bool


def runs(tender: Tender, organisation_id: object) -> bool:
    """The organisation runs the tender: its agency, or its tenderee when it has none."""
    if tender.agency_organisation_id is not None:
        return tender.agency_organisation_id == organisation_id
    return tender.tenderee_organisation_id == organisation_id


class ExpertRatings(ExpertPool):
    async def _tender(self, actor: Actor, code: str) -> Tender:
        if not code.strip():
            raise ExpertRefused("name the tender", field="tender_code", rule="required")
        tender = await self.repo.tender_by_code(code.strip())
        if tender is None or actor.organisation_id is None or not runs(tender, actor.organisation_id):
            # Another organisation's tender is refused like an unknown one: no probing.
            raise RatingNotAllowed(
                "you may rate experts only of an evaluation your organisation ran",
                field="tender_code",
                rule="own_tender",
            )
        if tender.status in BEFORE_EVALUATION:
            raise ExpertRefused("the tender has had no evaluation yet", field="tender_code", rule="after_evaluation")
        return tender

    async def _expert(self, name: str, suffix: str) -> Expert:
        matches = [
            expert
            for expert, person in await self.repo.experts_named(name.strip())
            if person.id_masked[-ID_SUFFIX_LENGTH:].upper() == suffix.strip().upper()
        ]
        if len(suffix.strip()) != ID_SUFFIX_LENGTH or not matches:
            raise ExpertRefused(
                "no expert of the pool has this name and these last four characters of the ID number",
                field="expert_name",
                rule="expert_identified",
            )
        if len(matches) > 1:
            raise ExpertRefused("several experts match: ask the centre", field="expert_name", rule="expert_ambiguous")
        return matches[0]

    async def rate(self, actor: Actor, data: RatingInput) -> RatingOutcome:
        """Record the rating (once per expert and tender), then apply the rules: the senior flag
        follows the verdict; an average below the threshold suspends (or flags) an active expert.
        """
        score_range = f"{self.rules.score_min}–{self.rules.score_max}"
        if data.score is None or not self.rules.score_min <= data.score <= self.rules.score_max:
            raise ExpertRefused(f"the score is a whole number in {score_range}", field="score", rule="range")
        comment = data.comment.strip()
        if not comment:
            raise ExpertRefused("say why, in a comment", field="comment", rule="required")
        if len(comment) > 1000:  # noqa: PLR2004 - the column's length
            raise ExpertRefused("the comment has at most 1000 characters", field="comment", rule="max_length")
        tender = await self._tender(actor, data.tender_code)
        expert = await self.expert((await self._expert(data.expert_name, data.id_suffix)).id, lock=True)
        if await self.repo.rating_of(expert.id, tender.id) is not None:
            raise ExpertRefused(
                "this expert is rated for this tender already", field="expert_name", rule="already_rated"
            )
        now = await self._now()
        assert actor.organisation_id is not None  # noqa: S101 - _tender checked it
        assert actor.user_id is not None  # noqa: S101 - a signed-in user
        rating = Rating(
            id=uuid7(),
            expert_id=expert.id,
            tender_id=tender.id,
            organisation_id=actor.organisation_id,
            rated_by=actor.user_id,
            score=data.score,
            comment=comment,
            rated_at=now,
        )
        await self.repo.add(rating)
        await self._record(
            actor,
            "expert_rated",
            "expert",
            expert.id,
            summary={"rating_id": str(rating.id), "rules_version": self.rules.version},
            data={"score": data.score, "comment": comment, "tender": tender.project_code},
            project_code=tender.project_code,
        )
        ratings = await self.repo.ratings(expert.id)
        verdict = judge(self.rules, [(r.rated_at, r.score) for r in ratings], now)
        if verdict.senior != expert.senior:
            expert.senior = verdict.senior
            expert.senior_since = now if verdict.senior else None
            await self._record(
                Actor.system(),
                "expert_senior" if verdict.senior else "expert_senior_ended",
                "expert",
                expert.id,
                summary={"count": verdict.senior_count, "rules_version": self.rules.version},
            )
        suspended = proposed = False
        if verdict.low_average_breached and expert.status is ExpertStatus.ACTIVE:
            reason = (
                f"average rating {verdict.low_average} over {verdict.low_count} ratings is below "
                f"{self.rules.low_threshold} (rules {self.rules.version})"
            )
            if self.rules.low_action == "suspend":
                await self._change(
                    expert,
                    ExpertStatus.SUSPENDED,
                    reason,
                    Actor.system(),
                    StatusChangeRule.RATING_AVERAGE,
                    now + self.rules.suspension,
                )
                suspended = True
            else:
                await self._record(
                    Actor.system(),
                    "suspension_proposed",
                    "expert",
                    expert.id,
                    summary={"average": str(verdict.low_average), "count": verdict.low_count},
                    data={"reason": reason},
                )
                proposed = True
        return RatingOutcome(rating, expert, verdict, suspended, proposed)
