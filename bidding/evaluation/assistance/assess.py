"""All the assistance for one tender's (or lot's) responses at once: `assess`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bidding.evaluation.assistance.arithmetic import check_bill
from bidding.evaluation.assistance.checks import (
    CreditFact,
    abnormally_low,
    check_credit,
    check_qualifications,
    check_star,
)
from bidding.evaluation.assistance.findings import Finding, Severity
from bidding.evaluation.assistance.scoring import propose_scores
from bidding.evaluation.assistance.thresholds import Thresholds, defaults
from bidding.evaluation.response.bid import Response
from bidding.evaluation.response.requirements import RequirementSet


@dataclass(frozen=True)
class Assessment:
    findings: tuple[Finding, ...]
    corrected_prices: Mapping[str, Decimal]
    """Each bid's price after the arithmetic corrections (bidder's USCC → yuan)."""

    def of(self, bid: str) -> list[Finding]:
        return [f for f in self.findings if f.bid == bid]


def assess(
    requirements: RequirementSet,
    responses: Sequence[Response],
    *,
    credit: Mapping[str, Sequence[CreditFact]] | None = None,
    valid: Collection[str] | None = None,
    thresholds: Thresholds | None = None,
) -> Assessment:
    """Findings for every response, in response order, then the abnormally low prices.

    ``credit``: each bidder's credit records (USCC → facts). ``valid``: the bids that passed the
    committee's compliance review, whose corrected prices make the mean for abnormally low prices;
    None: every bid without a serious finding.
    """
    credit = credit or {}
    thresholds = thresholds or defaults()
    findings: list[Finding] = []
    prices: dict[str, Decimal] = {}
    serious: set[str] = set()
    for response in responses:
        bid = response.bidder
        if bid in prices:
            raise ValueError(f"two responses from {bid}")
        own: list[Finding] = []
        if (response.tender, response.lot) != (requirements.tender, requirements.lot):
            own.append(
                Finding(
                    "response-other-tender",
                    Severity.SERIOUS,
                    bid,
                    "$.tender",
                    {
                        "tender": response.tender,
                        "lot": response.lot,
                        "expected": f"{requirements.tender}/{requirements.lot}",
                    },
                )
            )
        bill = check_bill(response, requirements.bill)
        prices[bid] = bill.corrected_price
        own += bill.findings
        own += check_star(requirements, response)
        own += check_qualifications(requirements, response)
        own += check_credit(requirements, bid, credit.get(bid, ()))
        own += propose_scores(requirements, response)
        if any(f.severity is Severity.SERIOUS for f in own):
            serious.add(bid)
        findings += own
    counted = set(valid) if valid is not None else set(prices) - serious
    findings += abnormally_low({bid: p for bid, p in prices.items() if bid in counted}, thresholds)
    return Assessment(tuple(findings), prices)
