"""The credit model (domain-rules §7.4) as a pure function.

Base credit 100 = industry-regulator evaluation (70) + government public-credit result (10) +
social evaluation (20). The social part comes from owner ratings: each rating scores quality,
timeliness, attitude and fees from 0 to 100; their mean over all ratings, as a share of 100, times
20, less a deduction per upheld complaint. Each overdue delivery then deducts from the total. The
result is clamped to [0, 100] and mapped to A–D by configurable thresholds.

An intermediary with nothing on record (no owner rating, no stored regulator or public-credit
input, no upheld complaint, no overdue delivery) has no grade: ``UNRATED`` (暂无评级). Its score is
made of defaults only, and grading it A would rank a newcomer above rated intermediaries and put it
on the red list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

REGULATOR_WEIGHT = Decimal(70)
PUBLIC_CREDIT_WEIGHT = Decimal(10)
SOCIAL_WEIGHT = Decimal(20)
RATING_DIMENSIONS = ("quality", "timeliness", "attitude", "fees")
UNRATED = "unrated"
"""The grade of an intermediary with nothing on record yet."""
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class CreditConfig:
    thresholds: Mapping[str, Decimal] = field(
        default_factory=lambda: {"A": Decimal(90), "B": Decimal(80), "C": Decimal(70)}
    )
    """Lowest score for each grade, best first; below the last one is D."""
    complaint_deduction: Decimal = Decimal(2)
    """Points off the social part per upheld complaint (the social part never goes below 0)."""
    overdue_deduction: Decimal = Decimal(5)
    """Points off the total per overdue delivery."""
    unrated_social_share: Decimal = Decimal("0.8")
    """The social share of an intermediary nobody has rated yet."""
    default_regulator: Decimal = REGULATOR_WEIGHT
    """The regulator's evaluation where none is on record: full marks (no adverse record)."""
    default_public_credit: Decimal = PUBLIC_CREDIT_WEIGHT
    """The public-credit result where none is on record: full marks (no adverse record)."""
    red_list_grade: str = "A"
    """The grade a red-list (诚信红名单) member holds …"""
    red_list_minimum: Decimal = Decimal(95)
    """… and its lowest score."""
    blacklisted_grade: str = "D"
    """The grade an intermediary holds while a blacklisting is in force, whatever its score."""
    clean_record_window: timedelta = timedelta(days=365)
    """A red-list member has had no upheld complaint and no overdue delivery for this long."""


@dataclass(frozen=True)
class OwnerRating:
    quality: int
    timeliness: int
    attitude: int
    fees: int

    def mean(self) -> Decimal:
        return Decimal(self.quality + self.timeliness + self.attitude + self.fees) / len(RATING_DIMENSIONS)


@dataclass(frozen=True)
class RatingSummary:
    """Owner ratings as aggregates (count and the sum of each field), as a grouped query returns
    them; ``score`` gives the same result for a summary as for the ratings it sums.
    """

    count: int = 0
    quality: int = 0
    timeliness: int = 0
    attitude: int = 0
    fees: int = 0

    @classmethod
    def of(cls, ratings: Sequence[OwnerRating]) -> RatingSummary:
        return cls(
            count=len(ratings),
            quality=sum(r.quality for r in ratings),
            timeliness=sum(r.timeliness for r in ratings),
            attitude=sum(r.attitude for r in ratings),
            fees=sum(r.fees for r in ratings),
        )

    def share(self) -> Decimal:
        """The mean rating as a share of 100 (each rating's mean is exact in quarters, so summing
        first changes nothing).
        """
        total = Decimal(self.quality + self.timeliness + self.attitude + self.fees) / len(RATING_DIMENSIONS)
        return total / self.count / _HUNDRED

    def means(self) -> dict[str, str]:
        """Each field's mean over the ratings (two decimals), for the published computation."""
        if not self.count:
            return {}
        return {name: str(_q(Decimal(getattr(self, name)) / self.count)) for name in RATING_DIMENSIONS}


@dataclass(frozen=True)
class CreditScore:
    regulator: Decimal
    public_credit: Decimal
    social: Decimal
    overdue_deduction: Decimal
    total: Decimal
    grade: str
    complaint_deduction: Decimal = Decimal("0.00")
    """What the upheld complaints took off the social part (after the clamp at 0)."""


def _q(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _clamp(value: Decimal, high: Decimal) -> Decimal:
    return max(Decimal(0), min(high, value))


def grade(total: Decimal, config: CreditConfig) -> str:
    for name, lowest in sorted(config.thresholds.items(), key=lambda item: item[1], reverse=True):
        if total >= lowest:
            return name
    return "D"


def score(
    *,
    regulator: Decimal,
    public_credit: Decimal,
    ratings: Sequence[OwnerRating] | RatingSummary,
    upheld_complaints: int = 0,
    overdue_deliveries: int = 0,
    input_on_record: bool = False,
    config: CreditConfig | None = None,
) -> CreditScore:
    """``regulator`` is out of 70 and ``public_credit`` out of 10 (both clamped); ``ratings`` are
    the owners' ratings or their ``RatingSummary``; ``input_on_record`` says whether either part
    was recorded (else both are the configured defaults). With no rating, no input, no complaint
    and no overdue delivery the grade is ``UNRATED``.
    """
    config = config or CreditConfig()
    if isinstance(ratings, RatingSummary):
        share = ratings.share() if ratings.count else config.unrated_social_share
    else:
        share = (
            sum((rating.mean() for rating in ratings), Decimal(0)) / len(ratings) / _HUNDRED
            if ratings
            else config.unrated_social_share
        )
    before = _clamp(SOCIAL_WEIGHT * share, SOCIAL_WEIGHT)
    social = _clamp(SOCIAL_WEIGHT * share - config.complaint_deduction * upheld_complaints, SOCIAL_WEIGHT)
    deduction = config.overdue_deduction * overdue_deliveries
    total = _clamp(
        _clamp(regulator, REGULATOR_WEIGHT) + _clamp(public_credit, PUBLIC_CREDIT_WEIGHT) + social - deduction,
        _HUNDRED,
    )
    total = _q(total)
    rated = bool(ratings.count if isinstance(ratings, RatingSummary) else ratings)
    on_record = rated or input_on_record or upheld_complaints > 0 or overdue_deliveries > 0
    return CreditScore(
        regulator=_q(_clamp(regulator, REGULATOR_WEIGHT)),
        public_credit=_q(_clamp(public_credit, PUBLIC_CREDIT_WEIGHT)),
        social=_q(social),
        overdue_deduction=_q(deduction),
        total=total,
        grade=grade(total, config) if on_record else UNRATED,
        complaint_deduction=_q(before - social),
    )
