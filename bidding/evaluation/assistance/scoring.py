"""Objective scores computed from the response, for the experts to confirm (never entered by themselves).

The rule vocabulary (``rule`` of an objective criterion in ``ggzy-requirements/1``), over the
``evidence`` claims whose ``ref`` is the criterion's code and that are valid on the deadline's day:

* ``present`` — ``points`` when there is at least one such claim, else the criterion's minimum;
* ``per-claim`` — ``points`` × the number of claims, at most the criterion's maximum;
* ``grade-bands`` — the most points among the bands whose ``gradeAtMost`` the best (lowest-numbered)
  claimed grade meets, else the minimum;
* ``value-bands`` — the most points among the bands whose ``atLeast`` the highest claimed value
  reaches, else the minimum.

An objective criterion without a rule is decided by the committee jointly (87号令 Art. 61).
"""

from __future__ import annotations

from decimal import Decimal

from bidding.evaluation.assistance.checks import deadline_day, valid_on
from bidding.evaluation.assistance.findings import Finding, Severity
from bidding.evaluation.response.bid import Claim, Response
from bidding.evaluation.response.requirements import (
    GradeBands,
    ObjectiveRule,
    PerClaim,
    Present,
    RequirementSet,
    ScoringCriterion,
    ValueBands,
)


def points_for(criterion: ScoringCriterion, rule: ObjectiveRule, claims: list[Claim]) -> Decimal:
    floor = criterion.minimum
    if isinstance(rule, Present):
        return rule.points if claims else floor
    if isinstance(rule, PerClaim):
        return max(floor, min(criterion.maximum, rule.points * len(claims)))
    if isinstance(rule, GradeBands):
        grades = [c.grade for c in claims if c.grade is not None]
        best = min(grades) if grades else None
        met = [band.points for band in rule.bands if best is not None and best <= band.grade_at_most]
        return max(met, default=floor)
    assert isinstance(rule, ValueBands)  # noqa: S101 - the union is closed
    values = [c.value for c in claims if c.value is not None]
    top = max(values) if values else None
    reached = [band.points for band in rule.bands if top is not None and top >= band.at_least]
    return max(reached, default=floor)


def propose_scores(requirements: RequirementSet, response: Response) -> list[Finding]:
    day = deadline_day(requirements)
    findings = []
    for criterion in requirements.criteria:
        if not criterion.objective or criterion.rule is None:
            continue
        indexes = [i for i, c in enumerate(response.evidence) if c.ref == criterion.code and valid_on(c, day)]
        points = points_for(criterion, criterion.rule, [response.evidence[i] for i in indexes])
        findings.append(
            Finding(
                "objective-score-proposed",
                Severity.INFO,
                response.bidder,
                f"$.evidence[{indexes[0]}]" if indexes else "$.evidence",
                {
                    "criterion": criterion.code,
                    "name": criterion.name,
                    "points": str(points),
                    "maximum": str(criterion.maximum),
                    "rule": str(criterion.rule.__struct_config__.tag),
                    "claims": str(len(indexes)),
                },
                basis="87号令 Art. 55",
            )
        )
    return findings
