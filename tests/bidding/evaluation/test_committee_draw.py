"""Issue 15 item 2: the committee draw over the kernel's seeded draw — determinism, the candidate
list and the seed commitment bind it, groups, reserves replacing decliners, the GP timing rule.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from bidding.evaluation.draw.avoidance import apply_avoidance
from bidding.evaluation.draw.committee import (
    DrawRefused,
    DrawSpec,
    candidate_list,
    candidate_list_digest,
    check_spec,
    draw_committee,
    draw_spec,
    next_reserve,
    seat,
)
from bidding.evaluation.draw.rules import shipped_rules
from bidding.evaluation.draw.timing import draw_timing
from bidding.evaluation.methods.common import Sector
from bidding.evaluation.methods.settings import CommitteeSpec, check_committee
from tests.bidding.evaluation.draw_factories import BIDDER_A, SEVEN, context, expert, pool, spec
from trading.kernel import draws
from trading.kernel.calendar import CHINA, WorkingCalendar, shipped_schedules

SEED = "5eed" * 16
COMMITMENT = draws.commitment(SEED)


def mixed_pool(size: int = 60) -> list:
    """Technical (A01…) and economic (B02…) experts, a few with both."""
    experts = []
    for n in range(size):
        codes = ("A0101",) if n % 3 else ("B0201",)
        if n % 10 == 0:
            codes = ("A0102", "B0203")
        experts.append(expert(n, *codes))
    return experts


def test_draw_many_is_a_deterministic_draw_without_replacement_over_canonical_order():
    candidates = [f"c{n:03d}" for n in range(50)]
    drawn = draws.draw_many(SEED, "committee:x", candidates, 12)
    assert len(set(drawn)) == 12
    assert set(drawn) <= set(candidates)
    assert draws.draw_many(SEED, "committee:x", list(reversed(candidates)), 12) == drawn
    assert draws.draw_many(SEED, "committee:x", candidates, 5) == drawn[:5]  # a prefix: reserves extend it
    assert draws.draw_many(SEED, "committee:y", candidates, 12) != drawn
    assert sorted(draws.draw_many(SEED, "p", candidates, 50)) == candidates
    assert draws.draw_many(SEED, "p", candidates, 0) == []
    with pytest.raises(ValueError, match="cannot draw"):
        draws.draw_many(SEED, "p", candidates, 51)
    with pytest.raises(ValueError, match="distinct"):
        draws.draw_many(SEED, "p", ["a", "a"], 1)


def test_the_committee_is_deterministic_and_independent_of_input_order():
    candidates = mixed_pool()
    kept = apply_avoidance(candidates, context(), shipped_rules()).candidates
    first = draw_committee(SEED, COMMITMENT, kept, SEVEN)
    shuffled = list(candidates)
    random.Random(7).shuffle(shuffled)  # noqa: S311 - a test's fixed shuffle
    again = draw_committee(SEED, COMMITMENT, apply_avoidance(shuffled, context(), shipped_rules()).candidates, SEVEN)
    assert first == again
    assert [g.key for g in first.groups] == ["economic", "technical"]  # drawn by key order
    assert len(first.members()) == 7
    assert len(set(first.members())) == 7
    economic, technical = first.group("economic"), first.group("technical")
    assert (len(technical.members), len(technical.reserves), len(economic.members), len(economic.reserves)) == (
        5,
        2,
        2,
        1,
    )
    drawn = {*economic.members, *economic.reserves, *technical.members, *technical.reserves}
    assert len(drawn) == 10  # an expert fitting two groups is drawn for one only
    by_id = {c.expert_id: c for c in candidates}
    assert all(any(code.startswith("B02") for code in by_id[e].specialties) for e in economic.members)
    assert all(any(code.startswith("A01") for code in by_id[e].specialties) for e in technical.members)
    assert first.candidate_list_sha256 == candidate_list_digest(kept)
    assert first.draw_seed == draws.draw_seed(SEED, first.candidate_list_sha256, {})


def test_a_different_candidate_list_gives_a_different_committee():
    kept = list(apply_avoidance(mixed_pool(), context(), shipped_rules()).candidates)
    first = draw_committee(SEED, COMMITMENT, kept, SEVEN)
    not_drawn = next(c for c in kept if c.expert_id not in first.members() + list(first.group("technical").reserves))
    fewer = [c for c in kept if c is not not_drawn]
    second = draw_committee(SEED, COMMITMENT, fewer, SEVEN)
    assert second.candidate_list_sha256 != first.candidate_list_sha256
    assert second.draw_seed != first.draw_seed
    assert second.members() != first.members()
    # A changed specialty is a different list too.
    relabelled = [expert(int(c.expert_id[1:]), "A0199") if c is not_drawn else c for c in kept]
    assert candidate_list_digest(relabelled) != first.candidate_list_sha256


def test_a_changed_seed_fails_the_commitment_check():
    kept = apply_avoidance(mixed_pool(), context(), shipped_rules()).candidates
    with pytest.raises(DrawRefused) as refused:
        draw_committee("0" * 64, COMMITMENT, kept, SEVEN)
    assert (refused.value.field, refused.value.rule) == ("seed", "seed_commitment")
    with pytest.raises(DrawRefused):
        draw_committee(SEED, "not-a-digest", kept, SEVEN)


def test_witness_contributions_change_the_draw():
    kept = apply_avoidance(mixed_pool(), context(), shipped_rules()).candidates
    plain = draw_committee(SEED, COMMITMENT, kept, SEVEN)
    witnessed = draw_committee(SEED, COMMITMENT, kept, SEVEN, {"supervisor": "a secret"})
    assert witnessed.draw_seed != plain.draw_seed
    assert witnessed.members() != plain.members()


def test_the_draw_refuses_a_list_out_of_canonical_order_a_bad_spec_and_a_shortfall():
    kept = list(apply_avoidance(mixed_pool(), context(), shipped_rules()).candidates)
    with pytest.raises(DrawRefused) as refused:
        draw_committee(SEED, COMMITMENT, list(reversed(kept)), SEVEN)
    assert refused.value.rule == "canonical_order"
    with pytest.raises(DrawRefused) as refused:
        draw_committee(SEED, COMMITMENT, kept, spec(("technical", ("A01",), 43, 0)))
    assert (refused.value.field, refused.value.rule) == ("groups.technical.count", "shortfall")
    assert refused.value.extra == {"group": "technical", "needed": 43, "eligible": 42}
    for bad, rule in [
        (DrawSpec(()), "group_count"),
        (spec(("a b", ("A01",), 5, 0)), "group_key"),
        (spec(("a", ("A01",), 3, 0), ("a", ("B02",), 2, 0)), "group_key_unique"),
        (spec(("a", ("A 01",), 5, 0)), "specialties"),
        (spec(("a", ("A01",), 0, 0)), "group_size"),
        (spec(("a", ("A01",), 5, -1)), "reserves"),
    ]:
        with pytest.raises(DrawRefused) as refused:
            check_spec(bad)
        assert refused.value.rule == rule


def test_reserves_are_truncated_to_the_eligible_experts_left():
    draw = draw_committee(SEED, COMMITMENT, pool(6), spec(("technical", ("A",), 5, 3)))
    assert len(draw.group("technical").members) == 5
    assert len(draw.group("technical").reserves) == 1


def test_reserves_replace_decliners_deterministically():
    kept = apply_avoidance(mixed_pool(), context(), shipped_rules()).candidates
    draw = draw_committee(SEED, COMMITMENT, kept, SEVEN)
    technical = draw.group("technical")
    first, second = technical.reserves
    declining = technical.members[2]
    seating = seat(draw, [declining])
    assert seating.members["technical"][2] == first  # takes the decliner's seat
    assert seating.remaining_reserves["technical"] == (second,)
    assert declining not in seating.committee()
    assert len(seating.committee()) == 7
    assert next_reserve(draw, [], declining) == first
    # The reserve called declines too: the next one in order takes the seat.
    again = seat(draw, [declining, first])
    assert again.members["technical"][2] == second
    assert [(r.declined, r.replacement) for r in again.replacements] == [(declining, first), (first, second)]
    # A reserve declining before being called is passed over.
    skipped = seat(draw, [first, declining])
    assert skipped.members["technical"][2] == second
    assert seat(draw, [declining]) == seating  # the same declines give the same committee
    economic = draw.group("economic")
    with pytest.raises(DrawRefused) as refused:
        seat(draw, [economic.members[0], economic.members[1]])
    assert refused.value.rule == "reserves_exhausted"
    with pytest.raises(DrawRefused) as refused:
        seat(draw, ["e99999"])
    assert refused.value.rule == "not_drawn"
    with pytest.raises(DrawRefused) as refused:
        seat(draw, [declining, declining])
    assert refused.value.rule == "declined_twice"


def test_an_employee_of_a_bidder_is_never_drawn():
    candidates = [expert(n, employer_uscc=BIDDER_A if n < 30 else "91320000ELSEWHERE1") for n in range(40)]
    kept = apply_avoidance(candidates, context(), shipped_rules()).candidates
    for seed in (draws.new_secret() for _ in range(5)):
        draw = draw_committee(seed, draws.commitment(seed), kept, spec(("technical", ("A",), 7, 2)))
        assert all(int(e[1:]) >= 30 for e in draw.members())


CALENDAR = WorkingCalendar(shipped_schedules())
RULES = shipped_rules()


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA)


def timing(draw_day: date, evaluation_day: date, *, gp: bool = True, deadline: datetime | None = None):
    return [
        v.rule
        for v in draw_timing(
            at(draw_day),
            at(evaluation_day, 14),
            bid_deadline=deadline or at(draw_day - timedelta(days=20)),
            government_procurement=gp,
            calendar=CALENDAR,
            rules=RULES,
        )
    ]


def test_gp_draws_are_not_earlier_than_two_working_days_before_the_evaluation():
    wednesday = date(2026, 12, 16)
    assert timing(date(2026, 12, 14), wednesday) == []  # Monday
    assert timing(date(2026, 12, 16), wednesday) == []  # the same morning
    assert timing(date(2026, 12, 13), wednesday) == ["draw_working_days_before"]  # Sunday: 3 working days
    assert timing(date(2026, 12, 11), wednesday) == ["draw_working_days_before"]  # Friday
    assert timing(date(2026, 12, 11), wednesday, gp=False) == []  # engineering: no such rule by default
    # Over the National Day holiday (1–7 October 2026) ten calendar days are two working days.
    assert timing(date(2026, 9, 29), date(2026, 10, 8)) == []
    assert timing(date(2026, 9, 28), date(2026, 10, 8)) == ["draw_working_days_before"]


def test_the_draw_is_after_the_deadline_before_the_evaluation_and_on_a_loaded_calendar():
    day = date(2026, 12, 15)
    assert timing(day, date(2026, 12, 16), deadline=at(day, 10)) == ["after_deadline"]
    assert timing(day, day - timedelta(days=1)) == ["before_evaluation"]
    missing = [
        v.rule
        for v in draw_timing(
            at(date(2099, 1, 5)),
            at(date(2099, 1, 6)),
            bid_deadline=at(date(2099, 1, 1)),
            government_procurement=True,
            calendar=CALENDAR,
            rules=RULES,
        )
    ]
    assert missing == ["calendar_year_loaded"]
    naive = draw_timing(
        datetime(2026, 12, 15, 9),  # noqa: DTZ001 - the naive time refused
        at(day),
        bid_deadline=at(day),
        government_procurement=True,
        calendar=CALENDAR,
        rules=RULES,
    )
    assert [v.rule for v in naive] == ["zone"]
    utc_evening = datetime(2026, 12, 13, 17, tzinfo=UTC)  # Monday 01:00 in Shanghai
    assert (
        draw_timing(
            utc_evening,
            at(date(2026, 12, 16)),
            bid_deadline=at(date(2026, 12, 1)),
            government_procurement=True,
            calendar=CALENDAR,
            rules=RULES,
        )
        == []
    )


def test_a_candidate_keeps_its_codes_sorted_and_refuses_ids_or_codes_that_would_make_a_line_ambiguous():
    candidate = expert(1, "B0201", "A0101", "B0201")
    assert candidate.specialties == ("A0101", "B0201")
    for bad_id in ("e 1", "", "e\t1", "e\x001"):
        with pytest.raises(ValueError, match="expert id"):
            expert(1, expert_id=bad_id)
    for bad_code in ("A01 01", "A01,02", "", "A\x0001"):
        with pytest.raises(ValueError, match="specialty code"):
            expert(1, bad_code)


def test_the_candidate_list_is_the_experts_fitting_a_group_whatever_the_pool_query_kept():
    fitting = apply_avoidance(mixed_pool(), context(), shipped_rules()).candidates
    others = [expert(n, "C0301") for n in range(1000, 1040)]
    whole = sorted([*fitting, *others], key=lambda c: c.expert_id)
    assert candidate_list(whole, SEVEN) == list(fitting)
    assert draw_committee(SEED, COMMITMENT, whole, SEVEN) == draw_committee(SEED, COMMITMENT, fitting, SEVEN)


def test_a_validated_committee_spec_becomes_the_draws_groups():
    split = CommitteeSpec(size=7, representatives=1, specialties={"B02": 2, "A01": 4}, reserves=2)
    assert check_committee(split, Sector.GOODS) == []
    groups = draw_spec(split)
    assert [(g.key, sorted(g.specialties), g.count, g.reserves) for g in groups.ordered()] == [
        ("A01", ["A01"], 4, 2),
        ("B02", ["B02"], 2, 2),
    ]
    kept = apply_avoidance(mixed_pool(), context(), shipped_rules()).candidates
    assert len(draw_committee(SEED, COMMITMENT, kept, groups).members()) == 6  # the representative is appointed
    whole = CommitteeSpec(size=5, reserves=1)
    assert draw_spec(whole).as_json() == {"groups": [{"key": "experts", "specialties": [], "count": 5, "reserves": 1}]}


def test_a_group_without_codes_takes_every_candidate_whatever_their_codes():
    candidates = [expert(n, "C0301" if n % 2 else "A0101") for n in range(12)]
    everyone = spec(("experts", (), 5, 7))
    draw = draw_committee(SEED, COMMITMENT, candidates, everyone)
    assert sorted([*draw.members(), *draw.group("experts").reserves]) == [c.expert_id for c in candidates]
    assert candidate_list(candidates, everyone) == candidates
    # Beside a split group, the listed candidates are still everyone.
    both = spec(("experts", (), 3, 0), ("a", ("A01",), 2, 0))
    assert candidate_list(candidates, both) == candidates
    assert set(draw_committee(SEED, COMMITMENT, candidates, both).group("a").members) <= {
        c.expert_id for c in candidates if c.specialties == ("A0101",)
    }
