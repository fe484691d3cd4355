"""The platform's committee draw and the independent restatement in ``scripts/recompute_committee.py``
agree on varied pools, specs, witnesses and declines (the script's ``check`` called in-process;
the subprocess runs are in ``test_recompute_committee_script``).
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from bidding.evaluation.draw.committee import draw_committee, published_result, seat
from tests.bidding.evaluation.draw_factories import expert, spec
from trading.kernel import draws

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "recompute_committee.py"
_spec = importlib.util.spec_from_file_location("recompute_committee", SCRIPT)
assert _spec is not None
assert _spec.loader is not None
recompute = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(recompute)

CODES = ("A01", "A0101", "A0102", "A02", "B02", "B0201", "C03")


@pytest.mark.parametrize("case", range(12))
def test_the_script_re_derives_what_the_platform_drew(case):
    rng = random.Random(case)  # noqa: S311 - reproducible test data
    candidates = sorted(
        (expert(rng.randrange(10**6), *rng.sample(CODES, rng.randint(1, 3))) for _ in range(rng.randint(30, 60))),
        key=lambda c: c.expert_id,
    )
    unique = list({c.expert_id: c for c in candidates}.values())
    committee_spec = spec(
        ("technical", ("A01",), rng.randint(1, 5), rng.randint(0, 4)),
        ("economic", ("B02", "C"), rng.randint(1, 3), rng.randint(0, 2)),
        ("all", ("A", "B", "C") if case % 3 else (), 1, rng.randint(0, 2)),
    )
    seed = draws.new_secret()
    witnesses = {"supervisor": draws.new_secret()} if case % 2 else {}
    draw = draw_committee(seed, draws.commitment(seed), unique, committee_spec, witnesses)
    reserves = [e for g in draw.groups for e in g.reserves]
    declined = [draw.groups[0].members[0]] if draw.groups[0].reserves else []
    declined += reserves[-1:] if len(reserves) > 1 else []
    seat(draw, declined)
    result = published_result(
        server_seed=seed, draw=draw, candidates=unique, spec=committee_spec, contributions=witnesses, declined=declined
    )
    before = {
        "seed_sha256": draws.commitment(seed),
        "spec": committee_spec.as_json(),
        "candidate_list_sha256": result["candidate_list_sha256"],
        "contribution_commitments": {k: draws.commitment(v) for k, v in witnesses.items()},
    }
    problems, summary = recompute.check(result, before)
    assert problems == []
    assert summary["committee"] == result["committee"]
    assert summary["draw_seed"] == draw.draw_seed
