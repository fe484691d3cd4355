"""The credit model: 70 / 10 / 20, deductions, grades."""

from __future__ import annotations

from decimal import Decimal

from intermediary_market.credit import UNRATED, CreditConfig, OwnerRating, score


def test_ratings_and_an_overdue_delivery_give_score_and_grade() -> None:
    ratings = [OwnerRating(90, 80, 100, 90), OwnerRating(70, 60, 80, 70)]  # means 90 and 70 → 80 %
    result = score(regulator=Decimal(63), public_credit=Decimal(9), ratings=ratings, overdue_deliveries=1)
    assert result.social == Decimal("16.00")
    assert result.overdue_deduction == Decimal("5.00")
    assert result.total == Decimal("83.00")  # 63 + 9 + 16 - 5
    assert result.grade == "B"
    without_overdue = score(regulator=Decimal(63), public_credit=Decimal(9), ratings=ratings)
    assert without_overdue.total == Decimal("88.00")


def test_complaints_thresholds_and_clamping() -> None:
    result = score(
        regulator=Decimal(80), public_credit=Decimal(15), ratings=[OwnerRating(100, 100, 100, 100)], upheld_complaints=1
    )
    assert result.regulator == Decimal(70)
    assert result.public_credit == Decimal(10)
    assert result.total == Decimal("98.00")
    assert result.grade == "A"
    low = score(regulator=Decimal(10), public_credit=Decimal(0), ratings=[], overdue_deliveries=10)
    assert low.total == Decimal(0)
    assert low.grade == "D"
    strict = CreditConfig(thresholds={"A": Decimal(99), "B": Decimal(95), "C": Decimal(90)})
    assert (
        score(regulator=Decimal(70), public_credit=Decimal(10), ratings=[], input_on_record=True, config=strict).grade
        == "B"
    )  # 70 + 10 (recorded) + 16 (no owner rating yet)


def test_nothing_on_record_is_no_grade() -> None:
    """A newcomer's score is defaults only (96): no grade (暂无评级) until something is on record."""
    fresh = score(regulator=Decimal(70), public_credit=Decimal(10), ratings=[])
    assert (fresh.total, fresh.grade) == (Decimal(96), UNRATED)
    assert score(regulator=Decimal(70), public_credit=Decimal(10), ratings=[OwnerRating(80, 80, 80, 80)]).grade == "A"
    assert score(regulator=Decimal(70), public_credit=Decimal(10), ratings=[], upheld_complaints=1).grade == "A"
    assert score(regulator=Decimal(70), public_credit=Decimal(10), ratings=[], overdue_deliveries=3).grade == "B"
