"""★ responses, qualification claims, credit facts and abnormally low prices.

Dates: a claim is valid on the deadline's day (in the deadline's own time zone, as the requirement
set writes it) when ``validFrom ≤ day ≤ validUntil`` (no ``validUntil``: no expiry). Credit facts
are judged at the deadline itself as `trading.credit.service.may_take_part` judges them: a
blocking kind, a scope naming the sector's activity or ``all``, ``valid_from ≤ deadline <
valid_until``, not withdrawn. They come in as plain data (`CreditFact`, shaped like
`trading.credit.service.BlockingRecord`), so these functions stay pure; the caller reads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from bidding.evaluation.assistance.findings import Finding, Severity, money
from bidding.evaluation.assistance.thresholds import Thresholds
from bidding.evaluation.response.bid import Claim, Response
from bidding.evaluation.response.requirements import QualificationRequirement, RequirementSet
from trading.credit.models import BLOCKING_KINDS, Activity, CreditKind

BASIS_STAR = "12号令 Art. 25 (重大偏差); ★ 实质性要求"
BASIS_QUALIFICATION = "87号令 Art. 44 (资格审查)"
BASIS_CREDIT = "credit records (trading.credit)"
BASIS_LOW = "12号令 Art. 21; 87号令 Art. 60"

_BLOCKING = frozenset(kind.value for kind in BLOCKING_KINDS)
"""Kinds that may bar (an unknown kind in the input bars nothing)."""
SECTOR_ACTIVITY = {"engineering": Activity.BIDDING, "government_procurement": Activity.GOVERNMENT_PROCUREMENT}


@dataclass(frozen=True)
class CreditFact:
    """One credit record of the bidder, as `trading.credit` exposes it (`BlockingRecord`)."""

    kind: str
    scope: tuple[str, ...]
    reason: str
    valid_from: datetime
    valid_until: datetime | None
    issuing_body: str
    decision_no: str
    withdrawn: bool = False


def check_star(requirements: RequirementSet, response: Response) -> list[Finding]:
    """A ★ item with no response, or answered with a deviation; a response to no ★ item (info)."""
    bid = response.bidder
    answered = {star.item: (i, star) for i, star in enumerate(response.star_responses)}
    findings: list[Finding] = []
    for item in requirements.star_items:
        entry = answered.pop(item.code, None)
        if entry is None:
            findings.append(
                Finding(
                    "star-missing",
                    Severity.SERIOUS,
                    bid,
                    "$.starResponses",
                    {"item": item.code, "text": item.text},
                    basis=BASIS_STAR,
                )
            )
        elif entry[1].response == "deviates":
            findings.append(
                Finding(
                    "star-deviates",
                    Severity.SERIOUS,
                    bid,
                    f"$.starResponses[{entry[0]}]",
                    {"item": item.code, "text": item.text, "deviation": entry[1].deviation or ""},
                    basis=BASIS_STAR,
                )
            )
    findings.extend(
        Finding("star-unknown", Severity.INFO, bid, f"$.starResponses[{i}].item", {"item": code})
        for code, (i, _) in answered.items()
    )
    return findings


def deadline_day(requirements: RequirementSet) -> date:
    return requirements.deadline.date()


def valid_on(claim: Claim, day: date) -> bool:
    return claim.valid_from <= day and (claim.valid_until is None or day <= claim.valid_until)


def _claim_problems(
    requirement: QualificationRequirement, claim: Claim, day: date
) -> list[tuple[str, str, dict[str, str]]]:
    problems: list[tuple[str, str, dict[str, str]]] = []
    if requirement.valid_at_deadline:
        if claim.valid_until is not None and claim.valid_until < day:
            problems.append(("qualification-expired", "validUntil", {"valid_until": claim.valid_until.isoformat()}))
        elif claim.valid_from > day:
            problems.append(("qualification-not-yet-valid", "validFrom", {"valid_from": claim.valid_from.isoformat()}))
    if requirement.minimum_grade is not None and (claim.grade is None or claim.grade > requirement.minimum_grade):
        grade = "-" if claim.grade is None else str(claim.grade)
        problems.append(
            ("qualification-grade-too-low", "grade", {"grade": grade, "required": str(requirement.minimum_grade)})
        )
    if requirement.minimum_value is not None and (claim.value is None or claim.value < requirement.minimum_value):
        value = "-" if claim.value is None else str(claim.value)
        problems.append(
            ("qualification-value-too-low", "value", {"value": value, "required": str(requirement.minimum_value)})
        )
    return problems


def check_qualifications(requirements: RequirementSet, response: Response) -> list[Finding]:
    """Each qualification requirement against the claims for it: met by any one claim; when none
    meets it, the problems of the first claim (or ``qualification-missing``).
    """
    bid = response.bidder
    day = deadline_day(requirements)
    claims: dict[str, list[int]] = {}
    for i, claim in enumerate(response.qualifications):
        claims.setdefault(claim.ref, []).append(i)
    findings: list[Finding] = []
    for requirement in requirements.qualifications:
        indexes = claims.get(requirement.code, [])
        base = {"requirement": requirement.code, "name": requirement.name, "deadline": day.isoformat()}
        if not indexes:
            findings.append(
                Finding(
                    "qualification-missing", Severity.SERIOUS, bid, "$.qualifications", base, basis=BASIS_QUALIFICATION
                )
            )
            continue
        verdicts = [(i, _claim_problems(requirement, response.qualifications[i], day)) for i in indexes]
        if any(not problems for _, problems in verdicts):
            continue
        first, problems = verdicts[0]
        claim = response.qualifications[first]
        findings.extend(
            Finding(
                code,
                Severity.SERIOUS,
                bid,
                f"$.qualifications[{first}].{field}",
                {**base, "certificate": claim.certificate_no, **params},
                basis=BASIS_QUALIFICATION,
            )
            for code, field, params in problems
        )
    return findings


def check_credit(requirements: RequirementSet, bid: str, facts: Sequence[CreditFact]) -> list[Finding]:
    """Blocking credit records in force at the deadline for the sector's activity."""
    activity = SECTOR_ACTIVITY[requirements.sector]
    at = requirements.deadline
    findings = []
    for fact in facts:
        blocking = fact.kind in _BLOCKING and (activity in fact.scope or Activity.ALL in fact.scope)
        in_force = fact.valid_from <= at and (fact.valid_until is None or at < fact.valid_until)
        if fact.withdrawn or not blocking or not in_force:
            continue
        findings.append(
            Finding(
                "credit-blacklisted" if fact.kind == CreditKind.BLACKLIST else f"credit-{fact.kind.replace('_', '-')}",
                Severity.SERIOUS,
                bid,
                "$.bidder",
                {
                    "kind": fact.kind,
                    "reason": fact.reason,
                    "issuing_body": fact.issuing_body,
                    "decision_no": fact.decision_no,
                    "valid_from": fact.valid_from.date().isoformat(),
                    "valid_until": fact.valid_until.date().isoformat() if fact.valid_until else "-",
                },
                basis=BASIS_CREDIT,
            )
        )
    return findings


def abnormally_low(prices: Mapping[str, Decimal], thresholds: Thresholds) -> list[Finding]:
    """Each valid price below ``share`` × the mean of the valid prices (the mean counts every valid
    price, the low one too; never a highest or lowest dropped): a prompt to ask for a written
    explanation. Nothing with fewer valid prices than the threshold's minimum.
    """
    if len(prices) < max(thresholds.abnormally_low_minimum_bids, 2):
        return []
    mean = sum(prices.values(), Decimal(0)) / len(prices)
    limit = mean * thresholds.abnormally_low_share
    share = f"{thresholds.abnormally_low_share * 100:.0f}"
    return [
        Finding(
            "abnormally-low-price",
            Severity.WARNING,
            bid,
            "$.total",
            {
                "price": money(price),
                "mean": money(mean),
                "share": share,
                "limit": money(limit),
                "bids": str(len(prices)),
            },
            basis=BASIS_LOW,
        )
        for bid, price in sorted(prices.items())
        if price < limit
    ]
