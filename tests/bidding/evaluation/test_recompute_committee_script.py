"""Issue 15 item 2: ``scripts/recompute_committee.py`` re-derives a committee from published data
alone (a subprocess in isolated mode, standard library only) and REFUSES every tampered result.

Tampered results are made internally consistent wherever a tamperer could (a new seed with its own
commitment and the committee redrawn, a list with its digest recomputed and redrawn): only what was
published before the draw can expose them, and the script must.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bidding.evaluation.draw.avoidance import apply_avoidance
from bidding.evaluation.draw.committee import DrawSpec, draw_committee, published_result
from bidding.evaluation.draw.rules import shipped_rules
from tests.bidding.evaluation.draw_factories import BIDDER_A, SEVEN, context, expert, spec
from trading.kernel import draws

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "recompute_committee.py"
SEED = draws.new_secret()
WITNESS_SECRET = draws.new_secret()


def experts() -> list:
    found = []
    for n in range(80):
        codes = ("A0101",) if n % 3 else ("B0201",)
        found.append(expert(n, *codes, employer_uscc=BIDDER_A if n % 11 == 0 else "91320000ELSEWHERE1"))
    return found


AVOIDED = apply_avoidance(experts(), context(), shipped_rules())


def publish(
    seed: str = SEED,
    candidates: tuple | list = AVOIDED.candidates,
    committee_spec: DrawSpec = SEVEN,
    declined: tuple[str, ...] = (),
    contributions: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """A result as the platform publishes it, consistent with itself."""
    draw = draw_committee(seed, draws.commitment(seed), candidates, committee_spec, contributions)
    return published_result(
        server_seed=seed,
        draw=draw,
        candidates=candidates,
        spec=committee_spec,
        contributions=contributions,
        excluded=AVOIDED.excluded,
        declined=declined,
        rules_version=AVOIDED.rules_version,
    )


GOOD = publish()
BEFORE = {
    "seed_sha256": GOOD["seed_sha256"],
    "spec": SEVEN.as_json(),
    "candidate_list_sha256": GOOD["candidate_list_sha256"],
}


def run(tmp_path: Path, result: dict[str, Any], before: dict[str, Any] | None = BEFORE, *args: str):
    result_file = tmp_path / "result.json"
    result_file.write_text(json.dumps(result), encoding="utf-8")
    command = [sys.executable, "-I", str(SCRIPT), str(result_file), *args]
    if before is not None:
        before_file = tmp_path / "before.json"
        before_file.write_text(json.dumps(before), encoding="utf-8")
        command += ["--before", str(before_file)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def mismatches(completed) -> list[str]:
    assert completed.returncode == 1, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert lines
    assert all(line.startswith("MISMATCH: ") for line in lines)
    return lines


def test_a_genuine_committee_is_re_derived_and_matches(tmp_path):
    completed = run(tmp_path, GOOD)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["verified"] is True
    assert summary["committee"] == GOOD["committee"]
    assert len(summary["committee"]) == 7
    assert summary["candidates"] == len(AVOIDED.candidates)
    assert GOOD["excluded"][0] == {"expert_id": "e00000", "reasons": ["employer_bidder"]}  # codes, no evidence
    assert {key: g["reserves"] for key, g in summary["groups"].items()} == {
        g["key"]: g["reserves"] for g in GOOD["groups"]
    }


def test_the_script_imports_nothing_of_the_platform():
    source = SCRIPT.read_text(encoding="utf-8")
    assert "import trading" not in source
    assert "from trading" not in source
    assert "bidding" not in source.split('"""', 2)[2]


def test_a_tampered_committee_member_is_refused(tmp_path):
    tampered = copy.deepcopy(GOOD)
    drawn = {e for g in tampered["groups"] for e in g["members"] + g["reserves"]}
    outsider = next(c["expert_id"] for c in tampered["candidate_list"] if c["expert_id"] not in drawn)
    technical = next(g for g in tampered["groups"] if g["key"] == "technical")
    replaced = technical["members"][0]
    technical["members"][0] = outsider
    tampered["committee"] = [outsider if e == replaced else e for e in tampered["committee"]]
    lines = mismatches(run(tmp_path, tampered))
    assert any("group technical: the result's members" in line for line in lines)
    assert any("seated committee" in line for line in lines)


def test_a_tampered_seed_is_refused_even_with_its_own_commitment_and_a_consistent_redraw(tmp_path):
    tampered = publish(seed=draws.new_secret())
    assert tampered["committee"] != GOOD["committee"]
    lines = mismatches(run(tmp_path, tampered))
    assert any("does not match the commitment published before the draw" in line for line in lines)
    # The seed alone swapped (the rest left as published) is refused as well.
    swapped = copy.deepcopy(GOOD) | {"seed": draws.new_secret()}
    assert any("the seed was replaced" in line for line in mismatches(run(tmp_path, swapped)))


def test_a_tampered_candidate_list_is_refused_even_with_its_digest_recomputed(tmp_path):
    drawn = set(GOOD["committee"])
    without_one = [c for c in AVOIDED.candidates if c.expert_id != next(iter(sorted(drawn)))]
    tampered = publish(candidates=without_one)
    lines = mismatches(run(tmp_path, tampered))
    assert any("differs from the one frozen before the draw" in line for line in lines)
    # An excluded expert (a bidder's employee) slipped back in, list and committee redrawn.
    bidder_employee = expert(0, "A0101", employer_uscc=BIDDER_A)
    with_one = sorted([*AVOIDED.candidates, bidder_employee], key=lambda c: c.expert_id)
    lines = mismatches(run(tmp_path, publish(candidates=with_one)))
    assert any("recorded as excluded but is on the candidate list" in line for line in lines)
    assert any("differs from the one frozen" in line for line in lines)
    # The list edited but the digest left as claimed: the claim itself fails.
    edited = copy.deepcopy(GOOD)
    edited["candidate_list"][3]["specialties"] = ["B0201"]
    assert any("the result claims" in line for line in mismatches(run(tmp_path, edited)))


def test_a_list_out_of_canonical_order_or_with_an_expert_twice_is_refused(tmp_path):
    reordered = copy.deepcopy(GOOD)
    reordered["candidate_list"].reverse()
    assert any("canonical order" in line for line in mismatches(run(tmp_path, reordered)))
    doubled = copy.deepcopy(GOOD)
    doubled["candidate_list"].append(doubled["candidate_list"][-1])
    assert any("appears 2 times" in line for line in mismatches(run(tmp_path, doubled)))


def test_tampered_reserves_or_spec_are_refused(tmp_path):
    reserves = copy.deepcopy(GOOD)
    technical = next(g for g in reserves["groups"] if g["key"] == "technical")
    technical["reserves"].reverse()
    assert any("reserves" in line for line in mismatches(run(tmp_path, reserves)))
    smaller = spec(("technical", ("A01",), 5, 0), ("economic", ("B02",), 2, 0))
    lines = mismatches(run(tmp_path, publish(committee_spec=smaller)))
    assert any("spec other than the one published" in line for line in lines)


def test_declines_are_re_seated_from_the_reserves_and_a_wrong_replacement_is_refused(tmp_path):
    technical = next(g for g in GOOD["groups"] if g["key"] == "technical")
    declining = technical["members"][1]
    declined = publish(declined=(declining,))
    assert technical["reserves"][0] in declined["committee"]
    completed = run(tmp_path, declined)
    assert completed.returncode == 0, completed.stdout
    assert json.loads(completed.stdout)["committee"] == declined["committee"]
    # The platform seats the second reserve instead of the first.
    wrong = copy.deepcopy(declined)
    wrong["committee"] = [technical["reserves"][1] if e == technical["reserves"][0] else e for e in wrong["committee"]]
    assert any("seated committee" in line for line in mismatches(run(tmp_path, wrong)))
    unknown = copy.deepcopy(GOOD) | {"declined": ["nobody"]}
    assert any("was not drawn" in line for line in mismatches(run(tmp_path, unknown)))


def test_witness_contributions_are_checked_against_their_commitments(tmp_path):
    witnessed = publish(contributions={"supervisor": WITNESS_SECRET})
    before = BEFORE | {"contribution_commitments": {"supervisor": draws.commitment(WITNESS_SECRET)}}
    assert run(tmp_path, witnessed, before).returncode == 0
    forged = publish(contributions={"supervisor": "another secret"})
    lines = mismatches(run(tmp_path, forged, before))
    assert any("witness supervisor's revealed contribution does not match" in line for line in lines)
    # Leaving the witness out of the result changes the draw seed the script expects.
    assert any("draw seed" in line for line in mismatches(run(tmp_path, GOOD, before)))


def test_the_published_values_by_hand_work_like_the_before_file(tmp_path):
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(SEVEN.as_json()), encoding="utf-8")
    args = [
        "--commitment",
        GOOD["seed_sha256"],
        "--candidate-list-sha256",
        GOOD["candidate_list_sha256"],
        "--spec",
        str(spec_file),
    ]
    assert run(tmp_path, GOOD, None, *args).returncode == 0
    assert run(tmp_path, publish(seed=draws.new_secret()), None, *args).returncode == 1


@pytest.mark.parametrize(
    "missing",
    ["seed_sha256", "spec", "candidate_list_sha256"],
)
def test_a_result_is_never_judged_against_itself_alone(tmp_path, missing):
    before = {key: value for key, value in BEFORE.items() if key != missing}
    completed = run(tmp_path, GOOD, before)
    assert completed.returncode == 2, completed.stdout
    assert completed.stdout.startswith("CANNOT VERIFY: ")


def test_missing_or_malformed_data_exits_2(tmp_path):
    assert run(tmp_path, GOOD, None).returncode == 2
    assert run(tmp_path, {k: v for k, v in GOOD.items() if k != "seed"}).returncode == 2
    assert run(tmp_path, {k: v for k, v in GOOD.items() if k != "candidate_list"}).returncode == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-I", str(SCRIPT), str(broken), "--commitment", "00"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout.startswith("CANNOT VERIFY: ")


def test_a_listed_expert_fitting_no_group_is_refused(tmp_path):
    padded = copy.deepcopy(GOOD)
    padded["candidate_list"].append({"expert_id": "zz-outsider", "specialties": ["C0301"]})
    lines = mismatches(run(tmp_path, padded))
    assert any("zz-outsider fits no group" in line for line in lines)


def test_a_seat_left_open_only_when_the_group_has_no_reserve_left(tmp_path):
    economic = next(g for g in GOOD["groups"] if g["key"] == "economic")
    members, reserves = economic["members"], economic["reserves"]
    # Every economic reserve is called by declines; the next member to leave leaves the seat open.
    declined = tuple(members[: len(reserves)])
    used_up = publish(declined=declined)
    leaving = next(e for e in used_up["committee"] if e in members[len(reserves) :] or e in reserves)
    opened = copy.deepcopy(used_up)
    opened["vacated"] = [leaving]
    opened["committee"] = [e for e in used_up["committee"] if e != leaving]
    completed = run(tmp_path, opened)
    assert completed.returncode == 0, completed.stdout
    assert leaving not in json.loads(completed.stdout)["committee"]
    # A seat claimed open while the group still had a reserve, or by someone holding none, is refused.
    early = copy.deepcopy(GOOD)
    early["vacated"] = [members[0]]
    early["committee"] = [e for e in GOOD["committee"] if e != members[0]]
    assert any("still has a reserve" in line for line in mismatches(run(tmp_path, early)))
    stranger = copy.deepcopy(used_up) | {"vacated": ["nobody"]}
    assert any("holds none" in line for line in mismatches(run(tmp_path, stranger)))


def test_a_supplementary_draw_lists_nobody_drawn_before(tmp_path):
    drawn = {e for g in GOOD["groups"] for e in g["members"] + g["reserves"]}
    fresh = [c for c in AVOIDED.candidates if c.expert_id not in drawn]
    one_place = spec(("technical", ("A01",), 1, 1))
    supplement = publish(candidates=fresh, committee_spec=one_place) | {"already_drawn": sorted(drawn)}
    before = {
        "seed_sha256": supplement["seed_sha256"],
        "spec": one_place.as_json(),
        "candidate_list_sha256": supplement["candidate_list_sha256"],
    }
    first = tmp_path / "first.json"
    first.write_text(json.dumps(GOOD), encoding="utf-8")
    completed = run(tmp_path, supplement, before, "--first", str(first))
    assert completed.returncode == 0, completed.stdout
    # Drawing over the whole list again (an expert drawn before on it) is caught.
    again = publish(committee_spec=one_place) | {"already_drawn": sorted(drawn)}
    before_again = before | {
        "seed_sha256": again["seed_sha256"],
        "candidate_list_sha256": again["candidate_list_sha256"],
    }
    assert any("drawn before for this evaluation" in line for line in mismatches(run(tmp_path, again, before_again)))
    # Leaving a first-draw expert out of already_drawn is caught against the first draw's document.
    forgetful = supplement | {"already_drawn": sorted(drawn)[1:]}
    lines = mismatches(run(tmp_path, forgetful, before, "--first", str(first)))
    assert any("not listed as drawn before" in line for line in lines)
