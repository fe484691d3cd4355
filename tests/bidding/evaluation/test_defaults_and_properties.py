"""The defaults file (loaded and validated at import) and properties of the methods (hypothesis)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.evaluation.methods.aggregation import aggregate, rank_by_score
from bidding.evaluation.methods.base_price import Preset, base_price, price_score
from bidding.evaluation.methods.common import Bid, Criterion, CriterionKind, MethodCode, Sector
from bidding.evaluation.methods.defaults import DEFAULTS, DEFAULTS_PATH, DefaultsInvalid, load_defaults
from bidding.evaluation.methods.gp import comprehensive_scoring, gp_price_scores
from bidding.evaluation.methods.settings import MethodSettings

TEXT = DEFAULTS_PATH.read_text(encoding="utf-8")


def test_shipped_defaults() -> None:
    assert DEFAULTS.version == "eval-defaults-2026.1"
    assert DEFAULTS.gp_price_weight_min_goods == Decimal("0.30")
    assert DEFAULTS.gp_price_weight_min_services == Decimal("0.10")
    assert (DEFAULTS.candidates_min, DEFAULTS.candidates_max) == (1, 3)
    assert DEFAULTS.experts_share_min == Fraction(2, 3)
    assert DEFAULTS.outlier_z == Decimal("3.0")
    assert DEFAULTS.presets["F2"].full == Decimal(60)
    assert DEFAULTS.presets["F3"].full == Decimal(30)


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('price_weight_min_goods = "0.30"', "price_weight_min_goods = 0.30", "gp.price_weight_min_goods"),
        ('outlier_z = "3.0"', 'outlier_z = "three"', "art64.outlier_z"),
        ('version = "eval-defaults-2026.1"', 'version = ""', "version"),
        ('experts_share_min = "2/3"', 'experts_share_min = "3/2"', "committee.experts_share_min"),
        ("max = 3\ndefault = 3", "max = 3\ndefault = 4", "candidates.default"),
        ('coefficient_step = "0.005"', 'coefficient_step = "0.03"', "presets.F1.coefficient_step"),
        ('coefficient_low = "0.90"', 'coefficient_low = "1.90"', "presets.F4.coefficient_low"),
        ("trim_min_members = 7\n", "", "aggregation.trim_min_members"),
    ],
)
def test_bad_defaults_are_refused_naming_the_key(old: str, new: str, key: str) -> None:
    assert old in TEXT
    with pytest.raises(DefaultsInvalid) as caught:
        load_defaults(TEXT.replace(old, new, 1))
    assert caught.value.key == key


def test_a_new_defaults_version_is_recorded_in_results() -> None:
    bumped = load_defaults(TEXT.replace('"eval-defaults-2026.1"', '"eval-defaults-2027.1"'))
    criteria = (
        Criterion("price", CriterionKind.PRICE, Decimal("0.3")),
        Criterion("t", CriterionKind.SUBJECTIVE, Decimal("0.7")),
    )
    settings_ = MethodSettings(MethodCode.GP_COMPREHENSIVE, Sector.GOODS, criteria=criteria)
    scores = {"e1": {"a": {"t": Decimal(50)}}}
    result = comprehensive_scoring(settings_, [Bid("a", Decimal(10))], scores, defaults=bumped)
    assert result.as_record()["defaults_version"] == "eval-defaults-2027.1"


money = st.decimals(
    min_value=Decimal("1000.00"), max_value=Decimal("99999999.99"), places=2, allow_nan=False, allow_infinity=False
)
price_maps = st.lists(money, min_size=1, max_size=15).map(lambda ps: {f"b{i:02d}": p for i, p in enumerate(ps)})


@settings(max_examples=200, deadline=None)
@given(price_maps)
def test_gp_price_scores_never_drop_a_price(prices: dict[str, Decimal]) -> None:
    base, factors, _ = gp_price_scores(prices, Decimal("0.3"))
    assert base == min(prices.values())
    assert all(Decimal(0) <= f <= Decimal(100) for f in factors.values())  # a 20,000× price rounds to 0.00
    assert all(factors[k] == Decimal("100.00") for k, p in prices.items() if p == base)
    # adding a price above every other changes nobody else's price score (no highest is dropped)
    _, with_high, _ = gp_price_scores({**prices, "zz": max(prices.values()) + 1}, Decimal("0.3"))
    assert all(with_high[k] == factors[k] for k in prices)


@settings(max_examples=200, deadline=None)
@given(price_maps, st.sampled_from([Decimal("-0.05"), Decimal(0), Decimal("0.05")]))
def test_f1_base_lies_within_the_scaled_price_range(prices: dict[str, Decimal], coefficient: Decimal) -> None:
    result = base_price(Preset.F1, prices, coefficient=coefficient)
    low, high = min(prices.values()) * (1 + coefficient), max(prices.values()) * (1 + coefficient)
    assert low - Decimal("0.01") <= result.base <= high + Decimal("0.01")
    assert all(Decimal(0) <= price_score(Preset.F1, p, result.base) <= Decimal(100) for p in prices.values())
    assert price_score(Preset.F1, result.base, result.base) == Decimal("100.00")


scores_0_100 = st.integers(min_value=0, max_value=10000).map(lambda n: Decimal(n).scaleb(-2))


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.lists(scores_0_100, min_size=2, max_size=2), min_size=5, max_size=9), trim=st.booleans())
def test_aggregated_components_add_up_and_stay_within_the_panel(*, rows: list[list[Decimal]], trim: bool) -> None:
    criteria = (
        Criterion("p", CriterionKind.PRICE, Decimal("0.3")),
        Criterion("t", CriterionKind.SUBJECTIVE, Decimal("0.5")),
        Criterion("o", CriterionKind.OBJECTIVE, Decimal("0.2")),
    )
    scores = {f"e{i}": {"a": {"t": t, "o": o}} for i, (t, o) in enumerate(rows)}
    out = aggregate(criteria, scores, ["a"], trim=trim)["a"]
    assert out.subtotal == sum(out.components.values())
    tech = [t for t, _ in rows]
    assert min(tech) - Decimal("0.01") <= out.means["t"] <= max(tech) + Decimal("0.01")


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.text(alphabet="abcdef", min_size=1, max_size=3),
        st.tuples(st.integers(0, 5), st.integers(1, 3)),
        min_size=1,
        max_size=10,
    ),
    st.randoms(use_true_random=False),
)
def test_ranking_is_deterministic_and_ordered(entries: dict[str, tuple[int, int]], rnd: object) -> None:
    totals = {k: Decimal(t) for k, (t, _) in entries.items()}
    prices = {k: Decimal(p) for k, (_, p) in entries.items()}
    keys = list(entries)
    rnd.shuffle(keys)  # type: ignore[attr-defined]
    shuffled = rank_by_score({k: totals[k] for k in keys}, {k: prices[k] for k in keys})
    ranking = rank_by_score(totals, prices)
    assert shuffled == ranking
    order = ranking.order
    for first, second in itertools.pairwise(order):
        assert (-first.total, first.price, first.key) < (-second.total, second.price, second.key)  # type: ignore[operator]
        assert (first.rank == second.rank) == ((first.total, first.price) == (second.total, second.price))
