"""The faster draw gives byte for byte what the draw gave before it (`reference.py`, the code of
commit 61a88df): over random pools with every kind of avoidance input, the same candidate list,
digest, draw seed, groups, reserves and published result, from `Candidate` records and from
columns; avoidance over the settled/others split gives the same candidates and exclusion record
as over the whole pool; and column input is held to the same format and order as records.
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import replace
from datetime import date, timedelta

import pytest

from bidding.evaluation.draw.avoidance import (
    Excluded,
    apply_avoidance,
    apply_avoidance_settled,
    availability_reasons,
    standing_reasons,
    window,
)
from bidding.evaluation.draw.candidates import (
    Candidate,
    CandidateLines,
    CandidateList,
    CheckedLines,
    DeclaredConflict,
    DraftingRole,
    ExpertStatus,
    PastDraw,
)
from bidding.evaluation.draw.committee import (
    CommitteeDraw,
    DrawRefused,
    DrawSpec,
    candidate_columns,
    candidate_list,
    candidate_list_digest,
    draw_committee,
    published_candidates,
    published_result,
)
from bidding.evaluation.draw.rules import shipped_rules
from tests.bidding.evaluation.draw_factories import (
    AGENCY,
    BIDDER_A,
    BIDDER_B,
    EVALUATION,
    SUPERVISOR,
    TENDER,
    TENDEREE,
    context,
    spec,
)
from tests.bidding.evaluation.drawperf import reference
from trading.kernel import draws

CODES = ("A01", "A0101", "A0102", "A0501", "B02", "B0201", "B0202", "C03", "C0301", "D", "ZA01", "DB0201")
PARTIES = (TENDEREE, AGENCY, BIDDER_A, BIDDER_B, SUPERVISOR)
ELSEWHERE = [f"913200000000{n:06d}" for n in range(30)]
SPECS = (
    spec(("technical", ("A01",), 5, 2), ("economic", ("B02",), 2, 1)),
    spec(("a", ("A",), 3, 3), ("b", ("A01", "B0201"), 2, 0), ("c", ("C03", "D"), 1, 1)),
    spec(("experts", (), 7, 2)),
    spec(("x", ("A0101",), 1, 0), ("y", (), 4, 1)),
)


def random_pool(rng: random.Random, size: int) -> list[Candidate]:
    experts = []
    for number in range(size):
        status = rng.choice([ExpertStatus.ACTIVE] * 12 + [ExpertStatus.SUSPENDED, ExpertStatus.REMOVED])
        experts.append(
            Candidate(
                expert_id=f"{rng.getrandbits(40):010x}-{number}",
                specialties=tuple(rng.sample(CODES, rng.randint(0, 3))),
                region="320100",
                employer_uscc=rng.choice([*ELSEWHERE, *PARTIES, None]) if rng.random() < 0.3 else ELSEWHERE[0],
                status=status,
                suspended_until=EVALUATION + timedelta(days=rng.randint(-3, 3))
                if status is ExpertStatus.SUSPENDED and rng.random() < 0.8
                else None,
                unavailable=frozenset(EVALUATION + timedelta(days=rng.randint(-2, 2)) for _ in range(rng.randint(0, 2)))
                if rng.random() < 0.2
                else frozenset(),
                conflicts=tuple(
                    DeclaredConflict(
                        rng.choice([*PARTIES, *ELSEWHERE[:3]]),
                        "employment",
                        date(2018, 1, 1) if rng.random() < 0.5 else None,
                        date(2020 + rng.randint(0, 6), 6, 30) if rng.random() < 0.5 else None,
                    )
                    for _ in range(rng.randint(1, 2))
                )
                if rng.random() < 0.15
                else (),
                drafting_roles=(DraftingRole(rng.choice([TENDER, "other"]), "documents"),)
                if rng.random() < 0.05
                else (),
                past_draws=tuple(
                    PastDraw(rng.choice([TENDEREE, *ELSEWHERE[:2]]), EVALUATION - timedelta(days=rng.randint(1, 500)))
                    for _ in range(rng.randint(1, 5))
                )
                if rng.random() < 0.3
                else (),
            )
        )
    return experts


def settled_and_others(candidates: list[Candidate]) -> tuple[CandidateList, list[Candidate]]:
    """Split as the pool's query does: settled = no filter has any input for the expert."""
    ctx = context()
    bounds = window(ctx, shipped_rules())
    days = set(ctx.evaluation_days())
    rules = shipped_rules()

    def settled(c: Candidate) -> bool:
        counted = [
            d
            for d in c.past_draws
            if d.tenderee_uscc == ctx.tenderee_uscc and bounds.frequency_after < d.drawn_on <= ctx.draw_date
        ]
        return (
            c.status is ExpertStatus.ACTIVE
            and c.employer_uscc not in bounds.parties
            and not any(k.organisation_uscc in bounds.parties for k in c.conflicts)
            and not (c.unavailable & days)
            and len(counted) < rules.max_draws_per_tenderee
            and not c.drafting_roles
        )

    ordered = sorted(candidates, key=lambda c: c.expert_id)
    return CandidateList.of([c for c in ordered if settled(c)]), [c for c in candidates if not settled(c)]


@pytest.mark.parametrize("seed", range(12))
def test_the_draw_is_byte_identical_to_the_one_before(seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible pools
    pool = random_pool(rng, rng.choice([60, 200, 1500]))
    avoided = apply_avoidance(pool, context(), shipped_rules())
    kept = list(avoided.candidates)
    server_seed = draws.new_secret()
    commitment = draws.commitment(server_seed)
    witnesses = {"supervisor": "s3cret", "tenderee": None} if seed % 2 else None
    for committee in SPECS:
        before: CommitteeDraw | None = None
        rule: str | None = None
        try:
            before = reference.draw_committee(server_seed, commitment, kept, committee, witnesses)
        except DrawRefused as refused:
            rule = refused.rule
        if before is None:  # a shortfall: refused the same way
            with pytest.raises(DrawRefused) as again:
                draw_committee(server_seed, commitment, kept, committee, witnesses)
            assert again.value.rule == rule
            continue
        assert draw_committee(server_seed, commitment, kept, committee, witnesses) == before
        assert draw_committee(server_seed, commitment, CandidateList.of(kept), committee, witnesses) == before
        listed = reference.candidate_list(kept, committee)
        assert candidate_list(kept, committee) == listed
        assert candidate_columns(kept, committee) == CandidateList.of(listed)
        assert candidate_list_digest(listed) == reference.candidate_list_digest(listed)
        assert candidate_list_digest(CandidateList.of(listed)) == reference.candidate_list_digest(listed)
        assert published_candidates(CandidateList.of(listed)) == reference.published_candidates(listed)
        result = published_result(server_seed=server_seed, draw=before, candidates=kept, spec=committee)
        assert result["candidate_list"] == reference.published_candidates(listed)
        assert (
            published_result(server_seed=server_seed, draw=before, candidates=CandidateList.of(kept), spec=committee)
            == result
        )


@pytest.mark.parametrize("seed", range(12))
def test_avoidance_over_the_split_pool_is_avoidance_over_the_whole(seed: int) -> None:
    rng = random.Random(1000 + seed)  # noqa: S311 - reproducible pools
    pool = random_pool(rng, rng.choice([50, 400, 2000]))
    whole = apply_avoidance(pool, context(), shipped_rules())
    settled, others = settled_and_others(pool)
    assert others  # the pools have something for every filter
    split = apply_avoidance_settled(settled, reversed(others), context(), shipped_rules())
    assert split.candidates == CandidateList.of(whole.candidates)
    assert split.excluded == whole.excluded
    assert split.exclusion_record() == whole.exclusion_record()
    assert split.rules_version == whole.rules_version
    assert len(split.candidates) < len(pool)  # some were excluded, and some others kept
    assert len(split.candidates) > len(settled)


def test_an_expert_in_both_parts_is_refused() -> None:
    expert = Candidate("e1", ("A0101",), "320100", ELSEWHERE[0], past_draws=(PastDraw(TENDEREE, EVALUATION),))
    with pytest.raises(ValueError, match="listed twice"):
        apply_avoidance_settled(CandidateList.of([expert]), [expert], context(), shipped_rules())


def test_column_input_is_held_to_the_records_rules() -> None:
    server_seed = draws.new_secret()
    commitment = draws.commitment(server_seed)
    good = CandidateList([f"e{n:03d}" for n in range(10)], ["A0101"] * 10)
    committee = spec(("experts", (), 5, 0))
    assert len(draw_committee(server_seed, commitment, good, committee).members()) == 5
    for bad_id in ("e005 x", "e005\nx", "e005\tx", "e005\u3000x"):
        ids = list(good.ids)
        ids[5] = bad_id
        with pytest.raises(DrawRefused) as refused:
            draw_committee(server_seed, commitment, CandidateList(ids, list(good.codes)), committee)
        assert refused.value.rule == "candidate_format"
    spaced = replace(good, codes=["A0101", "A01 01", *good.codes[2:]])
    with pytest.raises(DrawRefused) as refused:
        draw_committee(server_seed, commitment, spaced, committee)
    assert refused.value.rule == "candidate_format"
    shuffled = CandidateList(list(reversed(good.ids)), list(good.codes))
    with pytest.raises(DrawRefused) as refused:
        draw_committee(server_seed, commitment, shuffled, committee)
    assert refused.value.rule == "canonical_order"
    short = CandidateList(list(good.ids), list(good.codes[:-1]))
    with pytest.raises(DrawRefused) as refused:
        draw_committee(server_seed, commitment, short, committee)
    assert refused.value.rule == "candidate_format"


def _lines(listing: CandidateList, committee: DrawSpec, *, with_fits: bool) -> CandidateLines:
    """The columns as the database hands them over: one text, and (optionally) each group's fit."""
    lines = list(listing.lines())
    fits = {}
    if with_fits:
        for group in committee.groups:
            codes = tuple(sorted(group.specialties))
            fits[codes] = bytes(
                any(code.startswith(codes) for code in joined.split(",") if code) if codes else True
                for joined in listing.codes
            )
    return CandidateLines(lines, "\n".join(lines), fits) if with_fits else CandidateLines(lines)


@pytest.mark.parametrize("seed", range(12))
def test_the_draw_over_lines_is_the_draw_over_columns(seed: int) -> None:
    rng = random.Random(2000 + seed)  # noqa: S311 - reproducible pools
    pool = random_pool(rng, rng.choice([0, 1, 60, 200, 1500]))
    kept = CandidateList.of(apply_avoidance(pool, context(), shipped_rules()).candidates)
    server_seed = draws.new_secret()
    commitment = draws.commitment(server_seed)
    witnesses = {"supervisor": "s3cret", "tenderee": None} if seed % 2 else None
    for committee in (*SPECS, spec(("lonely", ("ZA01",), 1, 50))):
        for with_fits, with_ids, checked in (
            (False, False, False),
            (True, False, False),
            (True, True, False),
            (True, True, True),
        ):
            lines = _lines(kept, committee, with_fits=with_fits)
            if with_ids:  # the ids the line cache hands over beside the lines
                lines = dataclasses.replace(lines, ids=list(kept.ids))
            if checked:  # as the line cache hands over lines it checked when caching them
                lines = CheckedLines(lines.lines, lines.text, lines.fits, lines.ids)
            assert candidate_columns(lines, committee) == candidate_columns(kept, committee)
            assert candidate_list_digest(lines) == candidate_list_digest(kept)
            rule: str | None = None
            try:
                expected = draw_committee(server_seed, commitment, kept, committee, witnesses)
            except DrawRefused as refused:
                rule = refused.rule
            if rule is not None:  # a shortfall: refused the same way
                with pytest.raises(DrawRefused) as again:
                    draw_committee(server_seed, commitment, lines, committee, witnesses)
                assert again.value.rule == rule
                continue
            assert draw_committee(server_seed, commitment, lines, committee, witnesses) == expected
            assert published_result(
                server_seed=server_seed, draw=expected, candidates=lines, spec=committee
            ) == published_result(server_seed=server_seed, draw=expected, candidates=kept, spec=committee)


def test_lines_input_is_held_to_the_records_rules() -> None:
    server_seed = draws.new_secret()
    commitment = draws.commitment(server_seed)
    good = [f"e{n:03d} A0101" for n in range(10)]
    committee = spec(("experts", (), 5, 0))
    assert len(draw_committee(server_seed, commitment, CandidateLines(good), committee).members()) == 5
    for bad in ("e005 x y", "e005\tx A0101", "e005\u3000x A0101", "e005A0101", "e005 A01\x0001"):
        lines = list(good)
        lines[5] = bad
        with pytest.raises(DrawRefused) as refused:
            draw_committee(server_seed, commitment, CandidateLines(lines), committee)
        assert refused.value.rule == "candidate_format"
    with pytest.raises(DrawRefused) as refused:
        draw_committee(server_seed, commitment, CandidateLines(list(reversed(good))), committee)
    assert refused.value.rule == "canonical_order"
    with pytest.raises(DrawRefused) as refused:
        draw_committee(server_seed, commitment, CandidateLines([*good[:3], good[2], *good[3:]]), committee)
    assert refused.value.rule == "canonical_order"
    ids = [line.partition(" ")[0] for line in good]
    assert draw_committee(server_seed, commitment, CandidateLines(good, ids=ids), committee) == draw_committee(
        server_seed, commitment, CandidateLines(good), committee
    )
    # Ids beside the lines must be exactly each line's text before its space: none missing, none
    # another line's, none a prefix of the line's id.
    for bad_ids in (ids[:-1], [ids[1], ids[0], *ids[2:]], [*ids[:4], "e00", *ids[5:]]):
        with pytest.raises(DrawRefused) as refused:
            draw_committee(server_seed, commitment, CandidateLines(good, ids=bad_ids), committee)
        assert refused.value.rule == "candidate_format"
    # One id on two lines with different codes: the lines are in order, the ids are not.
    repeated = sorted([*good, "e004 B02"])
    with pytest.raises(DrawRefused) as refused:
        draw_committee(
            server_seed, commitment, CandidateLines(repeated, ids=[line[:4] for line in repeated]), committee
        )
    assert refused.value.rule == "canonical_order"
    wrong_length = CandidateLines(good, None, {("A01",): b"\x01" * 9})
    with pytest.raises(DrawRefused) as refused:
        draw_committee(server_seed, commitment, wrong_length, spec(("a", ("A01",), 5, 0)))
    assert refused.value.rule == "candidate_format"


def test_a_record_refuses_what_the_patterns_refused() -> None:
    """`Candidate` checks ids and codes without a regular expression; it refuses exactly what the
    patterns ``[^\\s]+`` / ``[^\\s,]+`` with ``isprintable`` refused, character by character.
    """
    token, code = re.compile(r"[^\s]+"), re.compile(r"[^\s,]+")
    characters = [chr(point) for point in range(0x3100)]
    characters += ["\u3000", "\u2028", "\u2029", "\u202f", "\u205f", "\ufeff", "\U0001f600"]
    for character in characters:
        for sample in (character, "a" + character, character + "b", ""):
            try:
                Candidate(sample, (), "320100", None)
            except ValueError:
                accepted = False
            else:
                accepted = True
            assert accepted == (token.fullmatch(sample) is not None and sample.isprintable()), repr(sample)
            try:
                Candidate("e1", (sample,), "320100", None)
            except ValueError:
                accepted = False
            else:
                accepted = True
            assert accepted == (code.fullmatch(sample) is not None and sample.isprintable()), repr(sample)


@pytest.mark.parametrize("seed", range(6))
def test_plain_exclusions_are_what_avoidance_records_over_the_record(seed: int) -> None:
    """`standing_reasons` and `availability_reasons` (what `CandidateRepository.listed` records,
    without a record, for an expert whose only filter input is their standing or their unavailable
    days) give the exclusion `apply_avoidance` records over that expert's record — the same
    reasons, evidence and order — or nothing where it keeps the expert; over a multi-day
    evaluation too.
    """
    rng = random.Random(3000 + seed)  # noqa: S311 - reproducible inputs
    ctx = context(evaluation_end=EVALUATION + timedelta(days=seed % 3))
    rules = shipped_rules()
    bounds = window(ctx, rules)
    for number in range(300):
        status = rng.choice(list(ExpertStatus))
        until = EVALUATION + timedelta(days=rng.randint(-3, 3)) if rng.random() < 0.8 else None
        days = frozenset(EVALUATION + timedelta(days=rng.randint(-3, 4)) for _ in range(rng.randint(0, 3)))
        plain_status = Candidate(
            f"x{number:04d}", ("A0101",), "320100", ELSEWHERE[0], status=status, suspended_until=until
        )
        expected = apply_avoidance([plain_status], ctx, rules).excluded
        # The records path reads the last day for a suspended expert only.
        found = standing_reasons(status.value, until if status is ExpertStatus.SUSPENDED else None, bounds)
        assert (Excluded(plain_status.expert_id, found),) == expected if found else expected == ()
        if found:
            assert expected[0].as_json() == Excluded(plain_status.expert_id, found).as_json()
        absent = Candidate(f"y{number:04d}", ("A0101",), "320100", ELSEWHERE[0], unavailable=days)
        expected = apply_avoidance([absent], ctx, rules).excluded
        found = availability_reasons(sorted(days), bounds)
        assert (Excluded(absent.expert_id, found),) == expected if found else expected == ()
    assert standing_reasons("active", None, bounds) == ()
    assert standing_reasons("unknown", None, bounds) == ()
