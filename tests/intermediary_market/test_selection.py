"""The selection algorithms (pure) and the standalone lottery recomputation."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from intermediary_market import selection
from intermediary_market.errors import SelectionFailed
from intermediary_market.selection import FundingType
from trading.kernel import draws

ROOT = Path(__file__).resolve().parents[2]
# A fixed seed whose coefficient draw gives r = 97 % (recomputable from the docstring's formula).
SEED_R97 = f"{7:064x}"


def test_commitment_is_the_seed_sha256() -> None:
    seed = selection.new_seed()
    assert len(seed) == 64
    assert selection.commitment(seed) == __import__("hashlib").sha256(seed.encode()).hexdigest()


def test_lottery_is_deterministic_and_order_independent() -> None:
    names = [f"org-{i}" for i in range(7)]
    first = selection.lottery("abc", names, FundingType.STATE)
    again = selection.lottery("abc", list(reversed(names)), FundingType.STATE)
    assert first.winner == again.winner
    assert first.computation["registrants"] == sorted(names)
    winners = {selection.lottery(f"seed-{i}", names, FundingType.STATE).winner for i in range(60)}
    assert len(winners) > 3  # the seed matters


def test_state_funded_needs_three() -> None:
    with pytest.raises(SelectionFailed) as caught:
        selection.lottery("s", ["a", "b"], FundingType.STATE)
    assert caught.value.rule == "state_funded_min_registrants"
    assert selection.lottery("s", ["a", "b"], FundingType.SOCIAL).winner in {"a", "b"}


def test_reference_price_worked_numbers() -> None:
    bids = {
        "A": Decimal("100000.00"),
        "B": Decimal("98000.00"),
        "C": Decimal("95500.00"),
        "D": Decimal("92000.00"),
        "E": Decimal("90000.00"),
    }
    outcome = selection.reference_price(SEED_R97, bids, FundingType.STATE)
    c = outcome.computation
    assert c["dropped"] == {"lowest": "E", "highest": "A"}
    # M = (98000 + 95500 + 92000) / 3 = 95166.666…; R = round_half_up(95166.666… × 0.97) = 92311.67
    assert c["mean"] == "95166.67"
    assert c["coefficient_percent"] == 97
    assert c["reference_price"] == "92311.67"
    assert c["distances"]["D"] == "311.67"
    assert outcome.winner == "D"


def test_reference_price_dropped_bid_cannot_win_and_single_social_bid_wins() -> None:
    bids = {"low": Decimal(1), "mid": Decimal(50), "high": Decimal(100)}
    assert selection.reference_price(SEED_R97, bids, FundingType.STATE).winner == "mid"
    assert selection.reference_price("s", {"only": Decimal(10)}, FundingType.SOCIAL).winner == "only"
    with pytest.raises(SelectionFailed) as caught:
        selection.reference_price("s", {"a": Decimal(1), "b": Decimal(2)}, FundingType.SOCIAL)
    assert caught.value.rule == "reference_price_min_bids"


def test_lowest_price_ties_broken_by_seeded_draw() -> None:
    bids = {"a": Decimal(10), "b": Decimal(10), "c": Decimal(12)}
    outcome = selection.lowest_price("seed", bids, FundingType.STATE)
    assert outcome.winner in {"a", "b"}
    expected = ["a", "b"][selection.draw_index("seed", "tie", ["a", "b"])]
    assert outcome.winner == expected
    assert outcome.computation["tie_break"]["candidates"] == ["a", "b"]


def test_merit_mean_of_panel() -> None:
    scores = {"a": [Decimal(80), Decimal(90)], "b": [Decimal(88), Decimal(86)], "c": [Decimal(70), Decimal(99)]}
    outcome = selection.merit("s", scores, FundingType.STATE)
    assert outcome.winner == "b"
    assert outcome.computation["means"] == {"a": "85.00", "b": "87.00", "c": "84.50"}


def test_direct_requires_registration() -> None:
    assert selection.direct("a", ["a"]).winner == "a"
    with pytest.raises(SelectionFailed):
        selection.direct("z", ["a"])


def test_script_recomputes_a_published_lottery(tmp_path: Path) -> None:
    registrants = [f"9132{i:014d}" for i in range(25)]
    # What the service publishes (``MarketService._decide``), built here from the pure parts.
    seed, secrets = selection.new_seed(), {key: draws.new_secret() for key in registrants[:5]}
    commitments = {key: (draws.commitment(secrets[key]) if key in secrets else None) for key in registrants}
    closed = draws.closed_list_digest(commitments)
    draw_seed = draws.draw_seed(seed, closed, {key: secrets.get(key) for key in registrants})
    outcome = selection.lottery(draw_seed, registrants, FundingType.STATE)
    computation = {
        **outcome.computation,
        "funding": "state",
        "seed": seed,
        "seed_sha256": selection.commitment(seed),
        "closed_list": [{"organisation_id": k, "contribution_sha256": commitments[k]} for k in sorted(registrants)],
        "closed_list_sha256": closed,
        "contributions": {key: secrets.get(key) for key in sorted(registrants)},
    }
    published = tmp_path / "result.json"
    published.write_text(json.dumps({"computation": computation}), encoding="utf-8")
    script = ROOT / "scripts" / "recompute_lottery.py"
    before = ["--commitment", selection.commitment(seed), "--closed-list-sha256", closed, "--method", "random"]
    done = subprocess.run(
        [sys.executable, "-I", str(script), str(published), *before], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["winner"] == outcome.winner
    tampered = dict(computation, winner=next(r for r in registrants if r != outcome.winner))
    published.write_text(json.dumps(tampered), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-I", str(script), str(published), *before], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "MISMATCH" in done.stdout
