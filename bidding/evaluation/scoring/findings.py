"""Findings: the Art. 64 checks (`bidding.evaluation.scoring_checks`) run over the submitted sheets
and written as `Finding` rows (source ``art64``), and the assistance's advisory findings written as
rows (source ``assistance``). Neither ever changes a score: a member corrects their own score or
justifies it in writing (`service.Scoring.resolve`), the committee acknowledges an advisory one.

When they run:

- on each scoring sheet's submission: the sheet's own checks (sum, range, missing, unknown);
- once every current member has submitted, and again in `result.finalise`: all of them, including
  the panel checks (objective criteria scored differently, 畸高畸低 by the robust z), which need
  every member's sheet and so never show one member another's scores before they submitted.

A finding is written once: a check that finds the same thing again (rule, member, bid, criterion and
the score) adds nothing, whether the first is open or was justified.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal
from typing import Any

from bidding.evaluation import scoring_checks
from bidding.evaluation.assistance.findings import Finding as AssistanceFinding
from bidding.evaluation.methods.common import CriterionKind
from bidding.evaluation.models import Evaluation, Finding, FindingSource
from bidding.evaluation.scoring.repository import OpenedBid, ScoringRepository
from bidding.evaluation.scoring.rules import method_settings
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.ledger.service import append_entry

FINDING_RAISED = "evaluation.finding_raised"


def _key(rule: str, member: uuid.UUID | None, bid: uuid.UUID | None, criterion: str, score: Any) -> tuple[str, ...]:
    return (rule, str(member), str(bid), criterion, str(score))


async def sheets(
    repo: ScoringRepository, evaluation: Evaluation, members: Collection[uuid.UUID]
) -> list[scoring_checks.Sheet]:
    """The submitted sheets of ``members``: subjective scores and objective votes per bid."""
    settings = method_settings(evaluation)
    objective = {c.code for c in settings.criteria if c.kind is CriterionKind.OBJECTIVE}
    grid: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Decimal]] = {}
    for score in await repo.scores(evaluation.id):
        # Scores are subjective by construction; any other row (an unknown criterion, a value out of
        # range written around the service) is checked as it stands. Objective values are the votes.
        if score.member_id in members and score.criterion not in objective:
            grid.setdefault((score.member_id, score.opening_bid_id), {})[score.criterion] = score.points
    for vote in await repo.votes(evaluation.id):
        if vote.member_id in members:
            grid.setdefault((vote.member_id, vote.opening_bid_id), {})[vote.criterion] = vote.points
    return [
        scoring_checks.Sheet(expert=str(member), bid=str(bid), scores=values)
        for (member, bid), values in sorted(grid.items(), key=lambda kv: (str(kv[0][1]), str(kv[0][0])))
    ]


async def run_art64(
    repo: ScoringRepository,
    evaluation: Evaluation,
    project_code: str,
    actor: Actor,
    *,
    members: Collection[uuid.UUID],
    panel: bool,
) -> list[Finding]:
    """Run the checks over the submitted sheets of ``members`` and write the new findings.

    ``panel``: also the checks across members (objective inconsistencies, outliers).
    """
    settings = method_settings(evaluation)
    submitted = await sheets(repo, evaluation, members)
    found = [
        *scoring_checks.summation_errors(settings.criteria, submitted),
        *scoring_checks.range_errors(settings.criteria, submitted),
    ]
    if panel:
        found += [
            *scoring_checks.objective_inconsistencies(settings.criteria, submitted),
            *scoring_checks.outliers(settings.criteria, submitted),
        ]
    existing = {
        _key(f.rule, f.member_id, f.opening_bid_id, f.criterion, f.evidence.get("numbers", {}).get("score"))
        for f in await repo.findings(evaluation.id, FindingSource.ART64)
    }
    now = await clock.now(repo.session)
    written = []
    for check in sorted(found, key=lambda f: (f.bid, f.expert, f.criterion or "", f.code)):
        evidence = check.as_dict()
        member, bid = uuid.UUID(check.expert), uuid.UUID(check.bid)
        key = _key(check.code, member, bid, check.criterion or "", check.numbers.get("score"))
        if key in existing:
            continue
        existing.add(key)
        row = Finding(
            evaluation_id=evaluation.id,
            source=FindingSource.ART64,
            rule=check.code,
            member_id=member,
            opening_bid_id=bid,
            criterion=check.criterion or "",
            evidence=evidence,
            found_at=now,
        )
        await repo.add(row)
        written.append(row)
    if written:
        await append_entry(
            repo.session,
            actor=actor,
            action=FINDING_RAISED,
            subject_type="evaluation_scoring",
            subject_id=str(evaluation.id),
            summary={"source": FindingSource.ART64.value, "count": len(written), "state": evaluation.state.value},
            data={"findings": [str(f.id) for f in written], "rules": sorted({f.rule for f in written})},
            project_code=project_code,
        )
    return written


async def record_assistance(
    repo: ScoringRepository,
    evaluation: Evaluation,
    project_code: str,
    *,
    bids: Sequence[OpenedBid],
    advisory: Iterable[AssistanceFinding],
    actor: Actor,
) -> list[Finding]:
    """Write the assistance's findings (``Finding.bid`` is the bidder's USCC) as advisory rows with
    their evidence; a finding already written (code, bid, JSON path, line) is not written again.
    """
    by_uscc = {b.bidder_uscc: b.id for b in bids}
    existing = {
        (f.rule, str(f.opening_bid_id), f.evidence.get("path"), f.evidence.get("line"))
        for f in await repo.findings(evaluation.id, FindingSource.ASSISTANCE)
    }
    now = await clock.now(repo.session)
    written = []
    for advice in advisory:
        bid = by_uscc.get(advice.bid)
        key = (advice.code, str(bid), advice.path, advice.line)
        if key in existing:
            continue
        existing.add(key)
        row = Finding(
            evaluation_id=evaluation.id,
            source=FindingSource.ASSISTANCE,
            rule=advice.code,
            member_id=None,
            opening_bid_id=bid,
            criterion="",
            evidence=advice.as_dict(),
            found_at=now,
        )
        await repo.add(row)
        written.append(row)
    if written:
        await append_entry(
            repo.session,
            actor=actor,
            action=FINDING_RAISED,
            subject_type="evaluation_scoring",
            subject_id=str(evaluation.id),
            summary={"source": FindingSource.ASSISTANCE.value, "count": len(written), "state": evaluation.state.value},
            data={"findings": [str(f.id) for f in written]},
            project_code=project_code,
        )
    return written
