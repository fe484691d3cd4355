"""Evaluation benchmark: the committee draw — 9 experts with avoidance from 100,000 candidates.

Issue 15's aim: drawing 9 experts with avoidance from a pool of 100,000 in under 100 ms end to end
against the database, and the pure draw against a floor: sorting the 100,000 ids plus one SHA-256
over the seed and the ids (the irreducible work of any seeded draw over a canonical list).

    .venv/bin/python bench/evaluation/draw.py [--candidates 100000] [--runs 11] [--no-database]

The pool is synthetic and built before timing: ids are ``str(uuid)`` in random order, 1–3
specialty codes from 60 (a third technical A01…, a third economic B02…), employers among 5,000
organisations, 5 % with a declared conflict, 2 % suspended, 10 % with unavailable days, 20 % with
1–4 past draws, and 25 declared drafters of the tender (the evaluation's declaration, passed to
the repository as the committee part passes it, `drafting=`). The tender has a
tenderee, an agency and 8 bidders among those employers; the spec is 6 technical + 3 economic
members with 2 + 1 reserves.

**Pure** (this process's CPU time, so other sessions' load on the shared machine does not inflate
it; ratio = floor / measured, the median of per-run ratios, the floor timed right before the
subject in every run): the draw over `Candidate` records (``apply_avoidance`` then
``draw_committee``, the way before the pool query existed) and over columns (what the database
path runs after its queries: ``apply_avoidance_settled`` over the settled experts as a
``CandidateList`` and the others as records, then ``draw_committee``).

**Database** (wall time, since PostgreSQL's work is in another process): a scratch database
migrated with alembic, the same pool written once with COPY (people, organisations, experts with
their joined codes, specialty rows, unavailability, conflicts, past draws; foreign-key triggers
off for the load only, since past draws name tenders that do not exist), VACUUM ANALYZE. Timed:
``CandidateRepository.avoided`` on an ``AsyncSession`` with the spec's specialty codes, as the
committee part calls it (the read and avoidance) and end to end
``avoided`` + ``draw_committee``, against the floor of a bare ``SELECT id FROM evaluation_experts``
round trip on the same connection (asyncpg), alternated run by run. The result is checked equal
to the pure draw over the records, and ``avoided_by_records`` (every expert as a record through
SQLAlchemy, then ``apply_avoidance``: the path before) is timed once for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import hashlib
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bidding.evaluation.draw.avoidance import (  # noqa: E402
    apply_avoidance,
    apply_avoidance_settled,
    window,
)
from bidding.evaluation.draw.candidates import (  # noqa: E402
    Candidate,
    CandidateLines,
    CandidateList,
    DeclaredConflict,
    DraftingRole,
    DrawContext,
    ExpertStatus,
    PastDraw,
)
from bidding.evaluation.draw.committee import (  # noqa: E402
    DrawSpec,
    GroupSpec,
    candidate_columns,
    candidate_list_digest,
    draw_committee,
    published_candidates,
)
from bidding.evaluation.draw.rules import DrawRules, shipped_rules  # noqa: E402
from trading.kernel import draws  # noqa: E402

if TYPE_CHECKING:
    from bidding.evaluation.pool.repository import CandidateRepository

EVALUATION = date(2026, 12, 16)
AIM_S = 0.1
TENDER = "bench-tender"
CHINA = ZoneInfo("Asia/Shanghai")


def paired(fn: Callable[[], object], floor: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """Median CPU time of ``fn``, of ``floor``, and the median of their per-run ratios (floor /
    fn). CPU time of this process (``time.process_time``): for pure single-threaded work it agrees
    with wall time on an idle machine and stays put under other people's load. Each run times the
    floor right before the subject; one warm-up call each; a full collection before each timing.
    """
    fn()
    floor()
    times, floors, ratios = [], [], []
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        floor()
        floors.append(time.process_time() - start)
        gc.collect()
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
        ratios.append(floors[-1] / times[-1])
    return statistics.median(times), statistics.median(floors), statistics.median(ratios)


async def paired_wall(
    fn: Callable[[], Awaitable[object]], floor: Callable[[], Awaitable[object]], runs: int
) -> dict[str, float]:
    """Like `paired` for database work: wall time (and this process's CPU time) of each, median
    of ``runs`` alternated runs, and the median per-run wall ratio floor / subject.
    """
    await fn()
    await floor()
    walls, cpus, floor_walls, floor_cpus, ratios = [], [], [], [], []
    for _ in range(runs):
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        await floor()
        floor_cpus.append(time.process_time() - cpu)
        floor_walls.append(time.perf_counter() - wall)
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        await fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
        ratios.append(floor_walls[-1] / walls[-1])
    median = statistics.median
    return {
        "wall": median(walls),
        "cpu": median(cpus),
        "floor_wall": median(floor_walls),
        "floor_cpu": median(floor_cpus),
        "ratio": median(ratios),
        "best": min(walls),
    }


def row(name: str, seconds: float, ratio: float | None = None, aim: float | None = None) -> None:
    text = f"  {name:<66} {seconds * 1000:>9,.1f} ms"
    if ratio is not None:
        text += f"   {ratio:5.2f}x floor"
    if aim is not None:
        text += f"  (aim < {aim * 1000:,.0f} ms: {'met' if seconds < aim else 'NOT met'})"
    print(text)


def db_row(name: str, figures: dict[str, float], aim: float | None = None) -> None:
    text = (
        f"  {name:<54} wall {figures['wall'] * 1000:>7,.1f} ms (best {figures['best'] * 1000:,.1f};"
        f" CPU here {figures['cpu'] * 1000:>6,.1f} ms)   {figures['ratio']:5.2f}x floor"
    )
    if aim is not None:
        text += f"  (aim < {aim * 1000:,.0f} ms: {'met' if figures['wall'] < aim else 'NOT met'})"
    print(text)


def pool(rng: random.Random, size: int, organisations: list[str]) -> list[Candidate]:
    codes = [f"A01{n:02d}" for n in range(20)] + [f"B02{n:02d}" for n in range(20)] + [f"C03{n:02d}" for n in range(20)]
    experts = []
    for _ in range(size):
        roll = rng.random()
        experts.append(
            Candidate(
                expert_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                specialties=tuple(rng.sample(codes, rng.randint(1, 3))),
                region=rng.choice(["320100", "320200", "340100", "310000"]),
                employer_uscc=rng.choice(organisations),
                status=ExpertStatus.SUSPENDED if roll < 0.02 else ExpertStatus.ACTIVE,
                suspended_until=EVALUATION + timedelta(days=30) if roll < 0.02 else None,
                unavailable=frozenset({EVALUATION + timedelta(days=rng.randint(-5, 5))})
                if rng.random() < 0.1
                else frozenset(),
                conflicts=(
                    DeclaredConflict(rng.choice(organisations), "employment", date(2020, 1, 1), date(2025, 6, 30)),
                )
                if rng.random() < 0.05
                else (),
                past_draws=tuple(
                    PastDraw(
                        rng.choice(organisations[:20]),
                        EVALUATION - timedelta(days=rng.randint(1, 500)),
                        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    )
                    for _ in range(rng.randint(1, 4))
                )
                if rng.random() < 0.2
                else (),
            )
        )
    return experts


DRAFTERS = 25
"""Experts the host declared as drafters of the tender (some settled otherwise, some not)."""


def with_drafters(candidates: list[Candidate], rng: random.Random) -> list[Candidate]:
    """``DRAFTERS`` experts given a drafting role on the tender (the evaluation's declaration)."""
    chosen = set(rng.sample(range(len(candidates)), min(DRAFTERS, len(candidates))))
    return [
        dataclasses.replace(c, drafting_roles=(DraftingRole(TENDER, "documents"),)) if i in chosen else c
        for i, c in enumerate(candidates)
    ]


def drafting_of(candidates: list[Candidate]) -> dict[str, tuple[DraftingRole, ...]]:
    """What the committee part passes to `CandidateRepository.avoided` (`committee.drafting`)."""
    return {c.expert_id: c.drafting_roles for c in candidates if c.drafting_roles}


def split(candidates: list[Candidate], context: DrawContext, rules: DrawRules) -> tuple[CandidateList, list[Candidate]]:
    """The pool as the database query splits it (settled: no filter has input; the others)."""
    bounds = window(context, rules)
    days = set(context.evaluation_days())

    def settled(c: Candidate) -> bool:
        counted = sum(
            1
            for d in c.past_draws
            if d.tenderee_uscc == context.tenderee_uscc and bounds.frequency_after < d.drawn_on <= context.draw_date
        )
        return (
            c.status is ExpertStatus.ACTIVE
            and not c.drafting_roles
            and c.employer_uscc not in bounds.parties
            and not any(k.organisation_uscc in bounds.parties for k in c.conflicts)
            and not (c.unavailable & days)
            and counted < rules.max_draws_per_tenderee
        )

    ordered = sorted(candidates, key=lambda c: c.expert_id)
    return CandidateList.of([c for c in ordered if settled(c)]), [c for c in ordered if not settled(c)]


async def load(url: str, candidates: list[Candidate], organisations: list[str], rng: random.Random) -> float:
    """Write the pool with COPY (asyncpg); returns the seconds it took."""
    import asyncpg  # type: ignore[import-untyped]

    start = time.perf_counter()
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute("SET session_replication_role = replica")  # FK triggers off for the load
        now = datetime(2026, 12, 1, tzinfo=CHINA)

        def new_id() -> uuid.UUID:
            return uuid.UUID(int=rng.getrandbits(128), version=4)

        org_ids = {uscc: new_id() for uscc in organisations}
        await connection.copy_records_to_table(
            "parties_organisations",
            records=[(uscc, "单位", "enterprise", "320100", "active", now, i) for uscc, i in org_ids.items()],
            columns=["uscc", "name", "kind", "region_code", "status", "created_at", "id"],
        )
        people, experts, codes, unavailable, conflicts, past = [], [], [], [], [], []
        for c in candidates:
            person, expert = new_id(), uuid.UUID(c.expert_id)
            people.append((person.hex * 2, "320802********0011", "专家", now, person))
            until = (
                datetime.combine(c.suspended_until + timedelta(days=1), clock_time(0), CHINA)
                if c.suspended_until
                else None
            )
            experts.append(
                (
                    person,
                    "专家",
                    "",
                    c.region,
                    "本库",
                    False,
                    "",
                    c.employer_uscc or "",
                    "单位",
                    c.status.value,
                    until,
                    "",
                    False,
                    until,
                    now,
                    now,
                    ",".join(c.specialties),
                    expert,
                )
            )
            codes += [(expert, code, now) for code in c.specialties]
            unavailable += [(expert, day, day, "", now, None, new_id()) for day in c.unavailable]
            conflicts += [
                (expert, k.organisation_uscc, "单位", None, k.relation, k.since, k.until, "", now, new_id())
                for k in c.conflicts
            ]
            past += [
                (
                    expert,
                    uuid.UUID(p.tender_id),
                    org_ids[p.tenderee_uscc],
                    None,
                    "confirmed",
                    datetime.combine(p.drawn_on, clock_time(12), CHINA),
                    None,
                    new_id(),
                )
                for p in c.past_draws
            ]
        tables = {
            "parties_people": (people, ["id_hash", "id_masked", "name", "created_at", "id"]),
            "evaluation_experts": (
                experts,
                [
                    *("person_id", "name", "title", "region_code", "home_library", "shared", "fee_standard"),
                    *("employer_uscc", "employer_name", "status", "suspended_until", "status_reason", "senior"),
                    *("next_check", "created_at", "updated_at", "specialty_codes", "id"),
                ],
            ),
            "evaluation_expert_specialties": (codes, ["expert_id", "code", "added_at"]),
            "evaluation_expert_unavailability": (
                unavailable,
                ["expert_id", "first_day", "last_day", "reason", "declared_at", "withdrawn_at", "id"],
            ),
            "evaluation_expert_conflicts": (
                conflicts,
                [
                    *("expert_id", "organisation_uscc", "organisation_name", "organisation_id", "relation"),
                    *("period_from", "period_until", "note", "declared_at", "id"),
                ],
            ),
            "evaluation_expert_draws": (
                past,
                [
                    *("expert_id", "tender_id", "tenderee_organisation_id", "draw_id", "outcome", "drawn_at"),
                    *("answered_at", "id"),
                ],
            ),
        }
        for table, (records, columns) in tables.items():
            await connection.copy_records_to_table(table, records=records, columns=columns)
        await connection.execute("SET session_replication_role = origin")
        # The load bypassed the triggers that move the pool's version (the draw's line cache key).
        await connection.execute(
            "UPDATE evaluation_pool_version SET version = version + 1, token = md5(random()::text) WHERE id = 1"
        )
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()
    return time.perf_counter() - start


async def database_part(
    url: str,
    *,
    candidates: list[Candidate],
    organisations: list[str],
    context: DrawContext,
    spec: DrawSpec,
    rules: DrawRules,
    seed: str,
    runs: int,
) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bidding.evaluation.pool.repository import CandidateRepository
    from trading.kernel.db.engine import create_engine

    seconds = await load(url, candidates, organisations, random.Random(16))  # noqa: S311 - synthetic ids
    print(f"database: {len(candidates):,} experts written with COPY and analysed in {seconds:,.1f} s")
    engine = create_engine(url)
    commitment = draws.commitment(seed)
    expected = apply_avoidance(candidates, context, rules)
    prefixes = sorted({code for group in spec.groups for code in group.specialties})  # as the committee part
    drafting = drafting_of(candidates)
    try:
        async with AsyncSession(engine) as session:
            repository = CandidateRepository(session)
            connection = await session.connection()
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None

            async def floor() -> object:
                return await raw.fetch("SELECT id FROM evaluation_experts")

            async def avoided() -> object:
                return await repository.avoided(context, rules, specialty_prefixes=prefixes, drafting=drafting)

            async def end_to_end() -> object:
                found = await repository.avoided(context, rules, specialty_prefixes=prefixes, drafting=drafting)
                return draw_committee(seed, commitment, found.candidates, spec)

            async def with_list() -> object:
                found = await repository.avoided(context, rules, specialty_prefixes=prefixes, drafting=drafting)
                drawn = draw_committee(seed, commitment, found.candidates, spec)
                return drawn, published_candidates(found.candidates), found.exclusion_record()

            found = await repository.avoided(context, rules, specialty_prefixes=prefixes, drafting=drafting)
            fitting = {
                c.expert_id for c in candidates if any(code.startswith(tuple(prefixes)) for code in c.specialties)
            }
            assert candidate_columns(found.candidates, spec) == candidate_columns(expected.candidates, spec)
            assert found.excluded == tuple(e for e in expected.excluded if e.expert_id in fitting)
            assert draw_committee(seed, commitment, found.candidates, spec) == draw_committee(
                seed, commitment, expected.candidates, spec
            )
            print(
                f"committee draw against PostgreSQL: {len(found.excluded):,} avoided, {len(found.candidates):,} left "
                f"(same as the pure draw over the records; median of {runs} alternated runs):"
            )
            figures = await paired_wall(floor, floor, runs)
            print(
                f"  {'floor: SELECT id FROM evaluation_experts (asyncpg, every uuid)':<54} wall "  # noqa: S608
                f"{figures['wall'] * 1000:>7,.1f} ms (best {figures['best'] * 1000:,.1f};"
                f" CPU here {figures['cpu'] * 1000:>6,.1f} ms)"
            )
            db_row("CandidateRepository.avoided (read + avoidance)", await paired_wall(avoided, floor, runs))
            db_row("end to end: avoided + draw_committee", await paired_wall(end_to_end, floor, runs), AIM_S)
            db_row("  … + published list (dicts) + exclusion record", await paired_wall(with_list, floor, runs))
            await lines_part(
                repository, raw, floor, context=context, spec=spec, rules=rules, seed=seed, runs=runs, drafting=drafting
            )
            start = time.perf_counter()
            before = await repository.avoided_by_records(context, rules, specialty_prefixes=prefixes, drafting=drafting)
            print(
                f"  {'before: avoided_by_records (every expert a record, once)':<54} wall "
                f"{(time.perf_counter() - start) * 1000:>7,.1f} ms"
            )
            assert before.candidates == found.candidates
    finally:
        await engine.dispose()


async def lines_part(  # noqa: PLR0915 - one figure after another
    repository: CandidateRepository,
    raw: Any,
    floor: Callable[[], Awaitable[object]],
    *,
    context: DrawContext,
    spec: DrawSpec,
    rules: DrawRules,
    seed: str,
    runs: int,
    drafting: dict[str, tuple[DraftingRole, ...]],
) -> None:
    """The lines path (`CandidateRepository.listed`: the database builds the list's lines and the
    groups' fits; the others judged as records), checked equal to the columns path, timed against
    the same floor; then what each of its queries costs in PostgreSQL (EXPLAIN ANALYZE, server
    time) and what is left for this process.
    """
    from bidding.evaluation.pool import linecache
    from bidding.evaluation.pool import repository as pool_sql

    commitment = draws.commitment(seed)
    columns = await repository.avoided(context, rules, specialty_prefixes=_prefixes(spec), drafting=drafting)
    found = await repository.listed(context, rules, spec, drafting=drafting)
    assert candidate_columns(found.candidates, spec) == candidate_columns(columns.candidates, spec)
    assert candidate_list_digest(found.candidates) == candidate_list_digest(candidate_columns(columns.candidates, spec))
    assert found.excluded == columns.excluded
    for _ in range(5):  # several seeds: the same committee both ways
        other = draws.new_secret()
        assert draw_committee(other, draws.commitment(other), found.candidates, spec) == draw_committee(
            other, draws.commitment(other), columns.candidates, spec
        )

    async def listed() -> object:
        return await repository.listed(context, rules, spec, drafting=drafting)

    async def end_to_end() -> object:
        found = await repository.listed(context, rules, spec, drafting=drafting)
        return draw_committee(seed, commitment, found.candidates, spec)

    async def with_list() -> object:
        found = await repository.listed(context, rules, spec, drafting=drafting)
        drawn = draw_committee(seed, commitment, found.candidates, spec)
        return drawn, published_candidates(candidate_columns(found.candidates, spec)), found.exclusion_record()

    async def uncached() -> object:
        found = await repository.listed(context, rules, spec, drafting=drafting, use_cache=False)
        return draw_committee(seed, commitment, found.candidates, spec)

    async def cold() -> object:
        linecache.CACHE.clear()  # as the first draw after a change of the pool's ids or codes
        found = await repository.listed(context, rules, spec, drafting=drafting)
        return draw_committee(seed, commitment, found.candidates, spec)

    uncached_found = await repository.listed(context, rules, spec, drafting=drafting, use_cache=False)
    assert candidate_list_digest(uncached_found.candidates) == candidate_list_digest(found.candidates)
    assert uncached_found.excluded == found.excluded
    print(
        "  the lines path (the pool's lines cached per pool version, less the judged experts; "
        "same result as without the cache):"
    )
    db_row("CandidateRepository.listed (read + avoidance)", await paired_wall(listed, floor, runs))
    db_row("end to end: listed + draw_committee", await paired_wall(end_to_end, floor, runs), AIM_S)
    db_row("  … + published list (dicts) + exclusion record", await paired_wall(with_list, floor, runs))
    db_row("  first draw of a pool version (cache emptied each run)", await paired_wall(cold, floor, runs))
    db_row("  without the cache (the database builds the lines)", await paired_wall(uncached, floor, runs))
    # Where the time goes: each query's server time, and the draw's share in this process.
    days = context.evaluation_days()
    bounds = window(context, rules)
    parties = sorted(uscc for uscc in bounds.parties if uscc)
    counted_from = datetime.combine(bounds.frequency_after + timedelta(days=1), clock_time(0), CHINA)
    counted_until = datetime.combine(context.draw_date + timedelta(days=1), clock_time(0), CHINA)
    patterns = pool_sql._like_prefixes(_prefixes(spec))  # noqa: SLF001 - the bench reads the query's arguments
    arguments = (parties, days[0], days[-1], context.tenderee_uscc, counted_from, counted_until)
    arguments += (rules.max_draws_per_tenderee, patterns, sorted(drafting))
    others = [row[0] for row in await raw.fetch(pool_sql._PG_JUDGED, *arguments)]  # noqa: SLF001
    fitted = sorted({tuple(sorted(group.specialties)) for group in spec.groups if group.specialties})
    query, codes = pool_sql._pg_lines(fitted)  # noqa: SLF001

    async def server_ms(sql: str, *values: object) -> float:
        found = []
        for _ in range(runs):
            plan = await raw.fetch("EXPLAIN (ANALYZE, TIMING OFF) " + sql, *values)
            found.append(float(plan[-1][0].split(":")[1].split()[0]))
        return statistics.median(found)

    judged_ms = await server_ms(pool_sql._PG_JUDGED, *arguments)  # noqa: SLF001
    lines_ms = await server_ms(query, others, patterns, *codes)
    bare_ms = await server_ms(
        "SELECT count(*) FROM evaluation_experts e WHERE e.specialty_codes LIKE ANY($2::text[]) AND NOT EXISTS "
        "(SELECT FROM unnest($1::text[]::uuid[]) o(x) WHERE o.x = e.id)",
        others,
        patterns,
    )
    floor_ms = await server_ms("SELECT id FROM evaluation_experts")
    versioned_ms = await server_ms(pool_sql._PG_JUDGED_VERSIONED, *arguments)  # noqa: SLF001
    fill_ms = await server_ms(pool_sql._PG_POOL_LINES)  # noqa: SLF001
    print(
        f"  PostgreSQL's own time (EXPLAIN ANALYZE, median): the others' query {judged_ms:,.1f} ms (with the "
        f"version token, as the cached path runs it: {versioned_ms:,.1f} ms); without the cache, the lines "
        f"and fits {lines_ms:,.1f} ms (of which scanning and anti-joining the pool, counting only: {bare_ms:,.1f} ms); "
        f"the cache's fill (every expert's line, once per pool version) {fill_ms:,.1f} ms; "
        f"the floor's SELECT id {floor_ms:,.1f} ms"
    )
    found = await repository.listed(context, rules, spec, drafting=drafting)
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        draw_committee(seed, commitment, found.candidates, spec)
        times.append(time.process_time() - start)
    print(f"  draw_committee over the lines (this process, CPU): {statistics.median(times) * 1000:,.1f} ms")


def _prefixes(spec: DrawSpec) -> list[str]:
    return sorted({code for group in spec.groups for code in group.specialties})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--no-database", action="store_true", help="the pure part only")
    args = parser.parse_args()
    rng = random.Random(15)  # noqa: S311 - a reproducible synthetic pool
    organisations = [f"9132{n:014d}" for n in range(5_000)]
    candidates = with_drafters(pool(rng, args.candidates, organisations), rng)
    context = DrawContext(
        tender_id=TENDER,
        tenderee_uscc=organisations[0],
        agency_uscc=organisations[1],
        bidder_usccs=frozenset(organisations[2:10]),
        evaluation_date=EVALUATION,
        draw_date=EVALUATION - timedelta(days=1),
        government_procurement=True,
    )
    spec = DrawSpec(
        (
            GroupSpec("technical", frozenset({"A01"}), 6, 2),
            GroupSpec("economic", frozenset({"B02"}), 3, 1),
        )
    )
    rules = shipped_rules()
    seed = draws.new_secret()
    commitment = draws.commitment(seed)
    ids = [c.expert_id for c in candidates]
    settled, others = split(candidates, context, rules)

    def floor() -> bytes:
        return hashlib.sha256("\n".join([seed, "committee", *sorted(ids)]).encode()).digest()

    def avoid() -> object:
        return apply_avoidance(candidates, context, rules)

    kept = apply_avoidance(candidates, context, rules)

    def drawn() -> object:
        return draw_committee(seed, commitment, kept.candidates, spec)

    def records() -> object:
        return draw_committee(seed, commitment, apply_avoidance(candidates, context, rules).candidates, spec)

    def columns() -> object:
        left = apply_avoidance_settled(settled, others, context, rules)
        return draw_committee(seed, commitment, left.candidates, spec)

    listed = candidate_columns(kept.candidates, spec)  # what the database hands over, built before timing
    text = "\n".join(listed.lines())
    fits = {
        (code,): bytes(any(c.startswith(code) for c in joined.split(",")) for joined in listed.codes)
        for group in spec.groups
        for code in group.specialties
    }
    as_lines = CandidateLines(text.split("\n"), text, fits)

    def lines() -> object:
        apply_avoidance(others, context, rules)  # the others judged as records
        return draw_committee(seed, commitment, as_lines, spec)

    result = draw_committee(seed, commitment, kept.candidates, spec)
    assert lines() == result
    assert len(result.members()) == 9
    assert not {item.expert_id for item in kept.excluded} & set(result.members())
    assert columns() == result
    print(
        f"committee draw: 9 experts (+3 reserves) from {args.candidates:,} candidates, "
        f"{len(kept.excluded):,} avoided, {len(kept.candidates):,} left; "
        f"{len(others):,} with a filter's input (median of {args.runs} paired runs, CPU time):"
    )
    avoid_s, floor_a, avoid_r = paired(avoid, floor, args.runs)
    draw_s, floor_d, draw_r = paired(drawn, floor, args.runs)
    total_s, floor_t, total_r = paired(records, floor, args.runs)
    columns_s, floor_c, columns_r = paired(columns, floor, args.runs)
    row("floor: sort the ids + one SHA-256 over seed and ids", statistics.median([floor_a, floor_d, floor_t, floor_c]))
    row("records: apply_avoidance (filters, canonical sort, exclusions)", avoid_s, avoid_r)
    row("records: draw_committee (commitment, list, digest, groups)", draw_s, draw_r)
    row("records: avoidance + draw", total_s, total_r)
    row("columns: apply_avoidance_settled + draw_committee (pure part)", columns_s, columns_r, AIM_S)
    lines_s, _, lines_r = paired(lines, floor, args.runs)
    row("lines: others' avoidance + draw_committee over lines (pure part)", lines_s, lines_r, AIM_S)
    if args.no_database:
        return
    from bench.common import scratch_database

    with scratch_database("ggzy_bench_draw") as url:
        asyncio.run(
            database_part(
                url,
                candidates=candidates,
                organisations=organisations,
                context=context,
                spec=spec,
                rules=rules,
                seed=seed,
                runs=args.runs,
            )
        )


if __name__ == "__main__":
    main()
