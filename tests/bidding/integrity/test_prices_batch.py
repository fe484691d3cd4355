"""The price screens beyond one hand-made lot: the NumPy batch against the scalar screens, the 3- and
4-bid subset summaries (exhaustive and sampled, reproducibly), and the rule table against the code."""

from __future__ import annotations

import hashlib
import json
import math
import random
import tomllib
from importlib import resources

import numpy as np
import pytest

from bidding.integrity.screens.model import BidPrice, InvalidPrice, LotBids
from bidding.integrity.screens.prices import (
    BATCH_SCREENS,
    PRICE_RULES,
    SCREEN_FUNCTIONS,
    batch_values,
    screen_prices,
)
from bidding.integrity.screens.rules import Rule, RuleSet, load_catalogue
from bidding.integrity.screens.subsets import sample_seed, subset_summaries

RULES = load_catalogue()


def test_batch_values_equal_the_scalar_screens_on_random_lots() -> None:
    rng = random.Random(20261207)  # noqa: S311 - reproducible lots
    lots: list[list[float]] = []
    for _ in range(400):
        n = rng.randint(1, 12)
        base = rng.uniform(1e4, 1e7)
        amounts = [round(base * rng.uniform(0.8, 1.2), 2) for _ in range(n)]
        if n >= 3 and rng.random() < 0.2:
            amounts[1:] = [amounts[1]] * (n - 1)  # the losing bids equal
        if rng.random() < 0.05:
            amounts = [amounts[0]] * n  # all equal
        lots.append(amounts)
    flat = [(i, amount) for i, lot_amounts in enumerate(lots) for amount in lot_amounts]
    rng.shuffle(flat)  # the batch sorts within each lot itself
    index = np.array([i for i, _ in flat])
    batch = batch_values(np.array([a for _, a in flat]), index)
    assert batch["n"].tolist() == [len(lot) for lot in lots]
    for name in BATCH_SCREENS:
        expected = []
        for lot in lots:
            try:
                expected.append(SCREEN_FUNCTIONS[name](sorted(lot)))
            except ValueError:
                expected.append(math.nan)
        np.testing.assert_allclose(batch[name], expected, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=name)


def test_batch_values_leave_lot_indices_without_bids_undefined() -> None:
    # lot 1 has no bids; lot 2: [100, 110, 120] → cv 10/110
    batch = batch_values(np.array([100.0, 120.0, 110.0, 7.0]), np.array([2, 2, 2, 0]))
    assert batch["n"].tolist() == [1.0, 0.0, 3.0]
    assert math.isnan(batch["cv"][0])
    assert math.isnan(batch["cv"][1])
    assert batch["cv"][2] == pytest.approx(10 / 110)


@pytest.mark.parametrize("bad", [math.nan, math.inf, 0.0, -1.0])
def test_batch_values_refuse_a_bad_price_by_position(bad: float) -> None:
    with pytest.raises(InvalidPrice, match="bid #1 of lot 4"):
        batch_values(np.array([100.0, bad]), np.array([0, 4]))


def test_batch_values_refuse_mismatched_arrays() -> None:
    with pytest.raises(ValueError, match="same length"):
        batch_values(np.array([100.0, 110.0]), np.array([0]))


def test_subset_summaries_of_four_bids_are_hand_computable() -> None:
    # [100, 110, 120, 130]: the 3-subsets' spd are 20/100, 30/100, 30/100, 20/110; the 4-subset's 30/100
    values, undefined, how = subset_summaries(
        [100, 110, 120, 130], ocid="x", lot=None, exhaustive_up_to=20000, sample_size=4000
    )
    pool = [0.2, 0.3, 0.3, 20 / 110, 0.3]
    assert how == {"method": "exhaustive", "subsets": 5}
    assert values["subset_spd_mean"] == pytest.approx(sum(pool) / 5)
    assert values["subset_spd_median"] == pytest.approx(0.3)
    assert values["subset_spd_min"] == pytest.approx(20 / 110)
    assert values["subset_spd_max"] == pytest.approx(0.3)
    # diffp: 10/100, 10/100, 20/100, 10/110, 10/100 → min 10/110, max 0.2
    assert values["subset_diffp_min"] == pytest.approx(10 / 110)
    assert values["subset_diffp_max"] == pytest.approx(0.2)
    assert undefined == {}


def test_a_screen_undefined_in_every_subset_says_so() -> None:
    # every subset of [100, 100, 100, 100] has equal losing bids
    values, undefined, _ = subset_summaries([100] * 4, ocid="x", lot=None, exhaustive_up_to=20000, sample_size=4000)
    assert values["subset_rd_mean"] is None
    assert undefined["subset_rd_mean"] == "undefined-in-every-subset"
    assert values["subset_cv_max"] == 0.0


def _big_lot(ocid: str, n: int = 300) -> LotBids:
    rng = random.Random(7)  # noqa: S311 - reproducible lots
    return LotBids(
        ocid=ocid, lot="2", bids=tuple(BidPrice(f"B{i:03d}", round(rng.uniform(9e5, 1.1e6), 2)) for i in range(n))
    )


def test_the_subset_sample_is_reproducible_and_seeded_by_the_lot() -> None:
    first = screen_prices(_big_lot("ocds-a"), RULES)
    again = screen_prices(_big_lot("ocds-a"), RULES)
    other = screen_prices(_big_lot("ocds-b"), RULES)
    assert first.sampling["method"] == "sample"
    assert first.sampling["seed"] == int.from_bytes(hashlib.sha256(b"ocds-a\x1f2").digest()[:8], "big")
    assert first.sampling["seed"] == sample_seed("ocds-a", "2")
    subset_keys = [key for key in first.values if key.startswith("subset_")]
    assert [first.values[k] for k in subset_keys] == [again.values[k] for k in subset_keys]
    assert first.values["subset_cv_mean"] != other.values["subset_cv_mean"]  # another lot, another sample


def test_the_sample_estimates_the_exhaustive_summaries() -> None:
    # 30 bids: C(30,3) + C(30,4) = 4,060 + 27,405 = 31,465 subsets, above 20,000, so sampled
    rng = random.Random(3)  # noqa: S311 - reproducible lots
    amounts = sorted(rng.uniform(100, 200) for _ in range(30))
    every, _, how_every = subset_summaries(amounts, ocid="x", lot="1", exhaustive_up_to=10**6, sample_size=4000)
    sampled, _, how = subset_summaries(amounts, ocid="x", lot="1", exhaustive_up_to=20000, sample_size=4000)
    assert how_every["subsets"] == 31465
    assert (how["method"], how["population"]) == ("sample", 31465)
    for name in ("subset_cv_mean", "subset_spd_median", "subset_rdnor_mean"):
        assert sampled[name] == pytest.approx(every[name], rel=0.05), name
    assert sampled["subset_cv_min"] >= every["subset_cv_min"]  # type: ignore[operator]
    assert sampled["subset_cv_max"] <= every["subset_cv_max"]  # type: ignore[operator]


def test_a_300_bid_lot_is_screened_well_under_a_second() -> None:
    import time

    lot = _big_lot("ocds-speed")
    started = time.perf_counter()
    screen_prices(lot, RULES)
    assert time.perf_counter() - started < 0.5


class _Recording(RuleSet):
    """A rule set that notes which rules the screens read."""

    def __init__(self, rules: list[Rule]) -> None:
        super().__init__(rules)
        self.read: set[str] = set()

    def __getitem__(self, rule_id: str) -> Rule:
        self.read.add(rule_id)
        return super().__getitem__(rule_id)

    def threshold(self, rule_id: str, name: str) -> float:
        self.read.add(rule_id)
        return super().threshold(rule_id, name)


def test_every_rule_in_prices_toml_is_used_and_every_rule_emitted_is_in_it() -> None:
    text = resources.files("bidding.integrity.screens").joinpath("catalogue", "prices.toml").read_text("utf-8")
    in_file = {entry["id"] for entry in tomllib.loads(text)["rule"]}
    rules = _Recording([rule for rule in RULES if rule.id in in_file])
    emitted: set[str] = set()
    bank: list[tuple[list[float], float | None]] = [
        ([90, 100, 101, 103], None),  # CV, RD, COVER, SKEW
        ([100, 100, 150, 175], None),  # IDENTICAL
        ([100, 100.05, 180], None),  # NEAR-IDENTICAL
        ([100, 110, 120, 400], 101.0),  # PROGRESSION, CEILING
    ]
    for amounts, estimate in bank:
        bids = tuple(BidPrice(chr(65 + i), a) for i, a in enumerate(amounts))
        screening = screen_prices(LotBids(ocid="x", lot=None, bids=bids, estimate=estimate, winner="A"), rules)
        emitted |= {finding.rule for finding in screening.findings}
        json.dumps([dict(f.evidence) for f in screening.findings])  # evidence is stored as JSON
    assert rules.read == in_file == set(PRICE_RULES)
    assert emitted <= in_file
    # every rule that can fire did, in this bank: the table has no rule the code cannot raise
    assert emitted == in_file - {"PRICE-SUBSETS", "PRICE-LOT"}
    for entry in tomllib.loads(text)["rule"]:
        assert entry["scope"] == "lot-prices"
        if entry["id"] not in {"PRICE-SUBSETS", "PRICE-LOT"}:
            assert {"points", "points_mean_price"} <= set(entry["thresholds"]), entry["id"]
