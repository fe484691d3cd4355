"""The outlier prompt on the JSON API (bearer tokens), under ``/api/v1/evaluation``: the same prompt the
bid page shows beside a score (issue 19 §5), for clients that score outside the browser.

| method and path | who | body / answer |
|---|---|---|
| ``GET /e/{evaluation}/outlier-prompts`` | a current member | the member's Art. 64(4) outlier findings |
| ``POST /e/{evaluation}/outlier-prompts/{finding}/reason`` | the member concerned | `OutlierReason` → `OutlierPrompt` |

A prompt exists only once every current member has submitted (the panel checks run then), so it never
shows anyone's scores early. The reason is required: an empty one is refused 422 naming
``justification`` (rule ``justification_required``), as on the page; ``points`` also corrects the
score. Other refusals name their field and rule as the page's do; nothing is stored on a refusal.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Finding
from bidding.evaluation.scoring.errors import ScoringNotFound, ScoringRefused
from bidding.evaluation.scoring.policies import ScoringPermission
from bidding.evaluation.scoring.repository import ScoringRepository
from bidding.evaluation.scoring.service import Scoring
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.bounds import Input

OUTLIER_RULES = frozenset({"outlier_high", "outlier_low"})
MAX_REASON = 2000  # evaluation_findings.justification


async def provide_scoring_api(db_session: NamedDependency[AsyncSession]) -> Scoring:
    """The service without the package source: the prompts never read the opened documents."""
    return Scoring(ScoringRepository(db_session))


class OutlierReason(Input, rename="camel"):
    justification: str
    points: str | None = None  # a corrected score, as a decimal string


class OutlierPrompt(msgspec.Struct, rename="camel"):
    finding_id: str
    rule: str
    opening_bid_id: str | None
    criterion: str
    score: str | None
    median_others: str | None
    z: str | None
    resolution: str | None
    justification: str

    @classmethod
    def of(cls, finding: Finding) -> OutlierPrompt:
        numbers = finding.evidence.get("numbers", {})
        return cls(
            finding_id=str(finding.id),
            rule=finding.rule,
            opening_bid_id=None if finding.opening_bid_id is None else str(finding.opening_bid_id),
            criterion=finding.criterion,
            score=numbers.get("score"),
            median_others=numbers.get("median_others"),
            z=numbers.get("z"),
            resolution=None if finding.resolution is None else finding.resolution.value,
            justification=finding.justification,
        )


class OutlierPromptApi(Controller):
    path = "/evaluation"
    tags = ["evaluation"]
    dependencies = {"scoring": Provide(provide_scoring_api)}

    @get(
        "/e/{evaluation_id:uuid}/outlier-prompts",
        operation_id="evaluation_outlier_prompts",
        opt=requires(ScoringPermission.ENTER),
    )
    async def prompts(
        self, evaluation_id: FromPath[uuid.UUID], scoring: NamedDependency[Scoring], actor: NamedDependency[Actor]
    ) -> list[OutlierPrompt]:
        """The caller's outlier findings in this evaluation (members only; a refusal is recorded)."""
        workspace = await scoring.workspace(actor, evaluation_id)
        return [OutlierPrompt.of(f) for f in workspace.my_findings if f.rule in OUTLIER_RULES]

    @post(
        "/e/{evaluation_id:uuid}/outlier-prompts/{finding_id:uuid}/reason",
        operation_id="evaluation_outlier_reason",
        status_code=HTTP_200_OK,
        opt=requires(ScoringPermission.WORK),
    )
    async def reason(
        self,
        evaluation_id: FromPath[uuid.UUID],
        finding_id: FromPath[uuid.UUID],
        data: JSONBody[OutlierReason],
        scoring: NamedDependency[Scoring],
        actor: NamedDependency[Actor],
    ) -> OutlierPrompt:
        """The member's reason for an outlier score (required), optionally with a corrected score."""
        if len(data.justification) > MAX_REASON:
            raise ScoringRefused(f"at most {MAX_REASON} characters", field="justification", rule="max_length")
        points = None
        if data.points is not None and data.points.strip():
            try:
                points = Decimal(data.points.strip())
            except InvalidOperation:
                raise ScoringRefused("a decimal number", field="points", rule="number") from None
        await scoring.seat(actor, evaluation_id, "finding")  # members only (recorded) before anything is told
        finding = await scoring.repo.finding(evaluation_id, finding_id)
        if finding is not None and finding.rule not in OUTLIER_RULES:
            raise ScoringNotFound("no such outlier finding", field="finding_id", rule="exists")
        resolved = await scoring.resolve(
            actor, evaluation_id, finding_id, corrected=points, justification=data.justification
        )
        return OutlierPrompt.of(resolved)


CONTROLLERS = (OutlierPromptApi,)
