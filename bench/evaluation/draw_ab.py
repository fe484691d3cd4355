"""Evaluation benchmark: the committee draw end to end, this tree against an earlier commit, alternated.

    uv run --frozen python bench/evaluation/draw_ab.py [--before 380e8b7] [--runs 21]

The pool, tender and spec of ``bench/evaluation/draw.py`` (100,000 experts, 25 declared drafters),
written once into a scratch PostgreSQL database. The earlier commit's draw modules
(`draw.candidates`, `draw.avoidance`, `draw.committee`, `draw.rules`, `pool.linecache`,
`pool.repository`) are read with ``git show`` into a temporary package beside this tree's, and
``CandidateRepository.listed`` (the line cache warm) + ``draw_committee`` of each run alternately
on the same connection. First, for several seeds, both must give the same candidate list, digest,
exclusion record (every expert, reason and evidence, in order), committee and published result.
Reported: the median CPU time of this process (``time.process_time``: what other sessions' load
on a shared machine inflates least) and wall time, and the median of the per-pair ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import bench.evaluation.draw as bench  # noqa: E402
from trading.kernel import draws  # noqa: E402

MODULES = ("draw/candidates", "draw/avoidance", "draw/committee", "draw/rules", "pool/linecache", "pool/repository")
PACKAGE = "draw_before"


def before_modules(commit: str, into: Path) -> tuple[Any, Any]:
    """The earlier commit's draw modules as package ``draw_before`` (imports among them renamed)."""
    package = into / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module in MODULES:
        source = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{commit}:bidding/evaluation/{module}.py"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for name in ("candidates", "avoidance", "committee", "rules"):
            source = source.replace(f"bidding.evaluation.draw.{name}", f"{PACKAGE}.{name}")
        source = source.replace("from bidding.evaluation.pool import linecache", f"from {PACKAGE} import linecache")
        (package / f"{module.split('/')[1]}.py").write_text(source)
    sys.path.insert(0, str(into))
    return importlib.import_module(f"{PACKAGE}.committee"), importlib.import_module(f"{PACKAGE}.repository")


async def compare(url: str, commit: str, runs: int, into: Path) -> None:  # noqa: PLR0915 - one figure after another
    from sqlalchemy.ext.asyncio import AsyncSession

    from bidding.evaluation.draw import committee as after_draw
    from bidding.evaluation.pool import repository as after_sql
    from trading.kernel.db.engine import create_engine

    before_draw, before_sql = before_modules(commit, into)
    candidates, organisations, context, spec, rules = world()
    print(f"database: written in {await bench.load(url, candidates, organisations, random.Random(16)):,.1f} s")  # noqa: S311
    drafting = bench.drafting_of(candidates)
    del candidates
    gc.collect()
    spec_before = before_draw.DrawSpec(
        tuple(before_draw.GroupSpec(g.key, g.specialties, g.count, g.reserves) for g in spec.groups)
    )
    engine = create_engine(url)
    try:
        async with AsyncSession(engine) as session:
            sides = {
                "before": (before_sql.CandidateRepository(session), before_draw, spec_before),
                "after": (after_sql.CandidateRepository(session), after_draw, spec),
            }

            async def run(side: str, seed: str, commitment: str) -> tuple[Any, Any]:
                repository, module, committee = sides[side]
                found = await repository.listed(context, rules, committee, drafting=drafting)
                return found, module.draw_committee(seed, commitment, found.candidates, committee)

            for _ in range(5):  # the same result for several seeds
                seed = draws.new_secret()
                commitment = draws.commitment(seed)
                (old, old_draw), (new, new_draw) = (
                    await run("before", seed, commitment),
                    await run("after", seed, commitment),
                )
                assert list(new.candidates.lines) == list(old.candidates.lines)
                assert new.exclusion_record() == old.exclusion_record()
                assert after_draw.candidate_list_digest(new.candidates) == before_draw.candidate_list_digest(
                    old.candidates
                )
                assert (new_draw.candidate_list_sha256, new_draw.draw_seed) == (
                    old_draw.candidate_list_sha256,
                    old_draw.draw_seed,
                )
                assert [(g.key, g.members, g.reserves, g.eligible) for g in new_draw.groups] == [
                    (g.key, g.members, g.reserves, g.eligible) for g in old_draw.groups
                ]
                assert after_draw.published_result(
                    server_seed=seed, draw=new_draw, candidates=new.candidates, spec=spec, excluded=new.excluded
                ) == before_draw.published_result(
                    server_seed=seed, draw=old_draw, candidates=old.candidates, spec=spec_before, excluded=old.excluded
                )
            print(
                f"{len(new.excluded):,} avoided, {len(new.candidates):,} left; the same list, digest, exclusion "
                f"record, committee and published result as {commit} for 5 seeds"
            )
            seed = draws.new_secret()
            commitment = draws.commitment(seed)
            figures: dict[str, dict[str, list[float]]] = {
                side: {"cpu": [], "wall": [], "listed": [], "draw": []} for side in sides
            }
            for number in range(runs):
                for side in ("before", "after") if number % 2 == 0 else ("after", "before"):
                    repository, module, committee = sides[side]
                    gc.collect()
                    wall, cpu = time.perf_counter(), time.process_time()
                    found = await repository.listed(context, rules, committee, drafting=drafting)
                    listed = time.process_time()
                    module.draw_committee(seed, commitment, found.candidates, committee)
                    figures[side]["draw"].append(time.process_time() - listed)
                    figures[side]["listed"].append(listed - cpu)
                    figures[side]["cpu"].append(time.process_time() - cpu)
                    figures[side]["wall"].append(time.perf_counter() - wall)
    finally:
        await engine.dispose()
    median = statistics.median
    print(f"end to end, listed (cached) + draw_committee, median of {runs} alternated runs:")
    for side, label in (("before", commit), ("after", "this tree")):
        f = figures[side]
        print(
            f"  {label:<10} CPU {median(f['cpu']) * 1000:6.1f} ms (listed {median(f['listed']) * 1000:5.1f},"
            f" draw {median(f['draw']) * 1000:5.1f}); wall {median(f['wall']) * 1000:6.1f} ms"
            f" (best {min(f['wall']) * 1000:6.1f})"
        )
    cpu = median([b / a for b, a in zip(figures["before"]["cpu"], figures["after"]["cpu"], strict=True)])
    wall = median([b / a for b, a in zip(figures["before"]["wall"], figures["after"]["wall"], strict=True)])
    print(f"  before / after: CPU {cpu:.2f}x, wall {wall:.2f}x (medians of per-pair ratios)")


def world() -> tuple[Any, ...]:
    """The pool, context, spec and rules of ``bench/evaluation/draw.py``'s ``main``."""
    from datetime import timedelta

    from bidding.evaluation.draw.candidates import DrawContext
    from bidding.evaluation.draw.committee import DrawSpec, GroupSpec
    from bidding.evaluation.draw.rules import shipped_rules

    rng = random.Random(15)  # noqa: S311 - the bench's reproducible pool
    organisations = [f"9132{n:014d}" for n in range(5_000)]
    candidates = bench.with_drafters(bench.pool(rng, 100_000, organisations), rng)
    context = DrawContext(
        tender_id=bench.TENDER,
        tenderee_uscc=organisations[0],
        agency_uscc=organisations[1],
        bidder_usccs=frozenset(organisations[2:10]),
        evaluation_date=bench.EVALUATION,
        draw_date=bench.EVALUATION - timedelta(days=1),
        government_procurement=True,
    )
    spec = DrawSpec((GroupSpec("technical", frozenset({"A01"}), 6, 2), GroupSpec("economic", frozenset({"B02"}), 3, 1)))
    return candidates, organisations, context, spec, shipped_rules()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="380e8b7", help="the commit to compare with")
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    from bench.common import scratch_database

    with scratch_database("ggzy_bench_draw_ab") as url, tempfile.TemporaryDirectory() as into:
        asyncio.run(compare(url, args.before, args.runs, Path(into)))


if __name__ == "__main__":
    main()
