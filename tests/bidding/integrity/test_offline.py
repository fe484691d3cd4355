"""The screens run together over a whole market: ``ggzy alerts evaluate`` on a simulated market
with planted cartels (seeds never used to calibrate the points table: the table was tuned on seeds
11 and 23), and ``ggzy alerts screen --ocds`` on the simulator's package and on a real published
package (ocdskit's fixtures: tenders and awards, no bids).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bidding.integrity.cli import alerts
from bidding.integrity.offline import RULE_KINDS, evaluate_simulated
from bidding.integrity.screens.rules import load_catalogue
from bidding.integrity.simulator import COVER_BIDDING, simulate

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("seed", [404, 9001])
def test_the_combined_lot_flag_meets_the_aim_on_a_fresh_seed(seed: int) -> None:
    """Issue 19's aim: ≥ 90 % recall at ≥ 80 % precision on lots whose cartel leaves price traces."""
    evaluation = evaluate_simulated(seed, 600, load_catalogue())
    combined = evaluation.report.combined
    assert combined.recall is not None
    assert combined.precision is not None
    assert combined.recall >= 0.9, evaluation.report.to_text()
    assert combined.precision >= 0.8, evaluation.report.to_text()
    # Every rule meant for a planted kind fires on some lot of that kind.
    by_rule = {score.name: score for score in evaluation.report.rules}
    assert set(by_rule) == set(RULE_KINDS)
    for score in by_rule.values():
        assert score.true_positives > 0, f"{score.name} never fired on {sorted(score.kinds)}"
    # The document, device and rotation screens are exact on the simulator: no honest lot is caught.
    for name in ("DOC-SIMILAR", "EVID-DEVICE", "MARKET-ROTATION"):
        assert by_rule[name].false_positives == 0
        assert by_rule[name].recall == 1.0


def test_screen_writes_alerts_and_a_summary_of_every_lot(tmp_path: Path) -> None:
    package = tmp_path / "market.json"
    runner = CliRunner()
    made = runner.invoke(alerts, ["simulate", "--seed", "77", "--lots", "150", "--out", str(package)])
    assert made.exit_code == 0, made.output
    out = tmp_path / "alerts.jsonl"
    screened = runner.invoke(alerts, ["screen", "--ocds", str(package), "--out", str(out)])
    assert screened.exit_code == 0, screened.output
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    lots = [r for r in records if r["type"] == "lot"]
    assert len(lots) == 150
    assert all({"ocid", "lot", "score", "flagged"} <= set(r) for r in lots)
    found = [r for r in records if r["type"] == "alert"]
    assert found
    for alert in found:
        assert {"ocid", "lot", "rule", "ruleVersion", "severity", "score", "evidence"} <= set(alert)
    # The planted cover-bidding lots are mostly flagged by the price screens read from the package
    # (the aim's figures are over 600 lots above; 20 lots here make a coarse check).
    market = simulate(77, 150)
    covers = {key for key, truth in market.truth.items() if COVER_BIDDING in truth.kinds}
    flagged = {(r["ocid"], r["lot"]) for r in lots if r["flagged"]}
    assert covers
    assert len(covers & flagged) >= 0.8 * len(covers)
    assert "已筛查标段 150 个" in screened.output


def test_screen_says_what_it_could_not_screen_in_a_real_package(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("ocdskit-cdmx-release-package.json", "ocdskit-mx-record-package.json"):
        result = runner.invoke(alerts, ["screen", "--ocds", str(FIXTURES / name)])
        assert result.exit_code == 0, result.output
        records = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        assert [r["type"] for r in records] == ["unusable"]
        assert "no bids" in records[0]["reason"]
        assert "无法筛查 1 个" in result.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"releases": [', "utf-8")
    assert runner.invoke(alerts, ["screen", "--ocds", str(broken)]).exit_code == 2


def test_screen_runs_on_real_published_bids_and_says_what_it_could_not_screen(tmp_path: Path) -> None:
    """150 compiled releases of the Dominican Republic's DGCP (fixtures/README.md): real bids."""
    out = tmp_path / "alerts.jsonl"
    result = CliRunner().invoke(
        alerts, ["screen", "--ocds", str(FIXTURES / "cardinal-dgcp-150-release-package.json"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    kinds = {kind: [r for r in records if r["type"] == kind] for kind in ("lot", "alert", "unusable")}
    assert len(kinds["lot"]) == 133
    assert all(r["ocid"].startswith("ocds-6550wx-") for r in kinds["lot"])
    reasons = {r["reason"].split(":")[0] for r in kinds["unusable"]}
    assert "no bids" in reasons
    assert any("value.amount is missing" in r["reason"] for r in kinds["unusable"])
    assert kinds["alert"]  # the screens ran on real prices: some fire (advisory, explained)
    screened = {(r["ocid"], r["lot"]) for r in kinds["lot"]}
    for alert in kinds["alert"]:
        assert alert["summary"]
        assert alert["ocid"] is None or (alert["ocid"], alert["lot"]) in screened  # market alerts name no lot
    # Consortia named as one supplier cannot be placed among the bids: said, and not fatal.
    assert "已筛查标段 133 个" in result.output
    assert "市场筛查" in result.output
    assert "winner is not among the lot's valid bids" in result.output
