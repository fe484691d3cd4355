"""Issue 15 item 2: avoidance (回避) before the draw — each reason, its evidence, the canonical order."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from bidding.evaluation.draw.avoidance import Avoidance, apply_avoidance, months_before, years_before
from bidding.evaluation.draw.candidates import DeclaredConflict, DraftingRole, ExpertStatus, PastDraw
from bidding.evaluation.draw.rules import DrawRulesError, shipped_rules
from tests.bidding.evaluation.draw_factories import (
    AGENCY,
    BIDDER_A,
    BIDDER_B,
    DRAW_DAY,
    ELSEWHERE,
    EVALUATION,
    SUPERVISOR,
    TENDER,
    TENDEREE,
    context,
    expert,
)

RULES = shipped_rules()


def reasons(candidate, ctx=None, rules=RULES):
    result = apply_avoidance([candidate, expert(99999)], ctx or context(), rules)
    assert [c.expert_id for c in result.candidates][-1] == "e99999"  # the control expert stays
    found = {item.expert_id: item.reasons for item in result.excluded}
    return found.get(candidate.expert_id, ())


def codes(candidate, ctx=None, rules=RULES):
    return [reason.code for reason in reasons(candidate, ctx, rules)]


def test_the_shipped_rules_are_versioned_defaults():
    assert RULES.version
    assert RULES.conflict_lookback_years_gp == 3
    assert RULES.draw_earliest_working_days_gp == 2
    assert RULES.max_draws_per_tenderee >= 1
    assert RULES.frequency_months >= 1
    changed = RULES.with_overrides({"max_draws_per_tenderee": 1, "version": "local-1"})
    assert (changed.max_draws_per_tenderee, changed.version) == (1, "local-1")
    with pytest.raises(DrawRulesError, match="unknown"):
        RULES.with_overrides({"max_draws": 1})
    with pytest.raises(DrawRulesError, match="frequency"):
        RULES.with_overrides({"frequency_months": 0})


@pytest.mark.parametrize(
    ("employer", "reason", "party"),
    [
        (TENDEREE, Avoidance.EMPLOYER_TENDEREE, "tenderee"),
        (AGENCY, Avoidance.EMPLOYER_AGENCY, "agency"),
        (BIDDER_B, Avoidance.EMPLOYER_BIDDER, "bidder"),
        (SUPERVISOR, Avoidance.EMPLOYER_OTHER_PARTY, "other_party"),
    ],
)
def test_an_employee_of_a_party_is_avoided_with_the_employer_as_evidence(employer, reason, party):
    found = reasons(expert(1, employer_uscc=employer))
    assert [r.code for r in found] == [reason]
    assert dict(found[0].evidence) == {"employer_uscc": employer, "party": party}


def test_an_unrelated_or_unemployed_expert_is_kept():
    assert codes(expert(1, employer_uscc=ELSEWHERE)) == []
    assert codes(expert(1, employer_uscc=None)) == []


@pytest.mark.parametrize(
    ("organisation", "reason"),
    [
        (TENDEREE, Avoidance.CONFLICT_TENDEREE),
        (AGENCY, Avoidance.CONFLICT_AGENCY),
        (BIDDER_A, Avoidance.CONFLICT_BIDDER),
        (SUPERVISOR, Avoidance.CONFLICT_OTHER_PARTY),
    ],
)
def test_a_declared_conflict_in_force_is_avoided_with_relation_and_period(organisation, reason):
    conflict = DeclaredConflict(organisation, "relative", since=date(2020, 1, 1))
    found = reasons(expert(1, conflicts=(conflict,)))
    assert [r.code for r in found] == [reason]
    evidence = dict(found[0].evidence)
    assert evidence["organisation_uscc"] == organisation
    assert evidence["relation"] == "relative"
    assert evidence["since"] == "2020-01-01"
    assert evidence["until"] == ""


def test_gp_counts_a_conflict_that_ended_within_three_years_engineering_only_one_in_force():
    two_years_ago = DeclaredConflict(BIDDER_A, "employment", since=date(2015, 1, 1), until=date(2024, 12, 31))
    four_years_ago = DeclaredConflict(BIDDER_A, "employment", since=date(2015, 1, 1), until=date(2022, 12, 31))
    just_inside = DeclaredConflict(BIDDER_A, "director", until=years_before(EVALUATION, 3))
    gp, engineering = context(government_procurement=True), context(government_procurement=False)
    assert codes(expert(1, conflicts=(two_years_ago,)), gp) == [Avoidance.CONFLICT_BIDDER]
    assert dict(reasons(expert(1, conflicts=(two_years_ago,)), gp)[0].evidence)["counted_from"] == "2023-12-16"
    assert codes(expert(1, conflicts=(just_inside,)), gp) == [Avoidance.CONFLICT_BIDDER]
    assert codes(expert(1, conflicts=(four_years_ago,)), gp) == []
    assert codes(expert(1, conflicts=(two_years_ago,)), engineering) == []
    in_force = DeclaredConflict(BIDDER_A, "shareholder", since=date(2026, 1, 1))
    assert codes(expert(1, conflicts=(in_force,)), engineering) == [Avoidance.CONFLICT_BIDDER]


def test_a_conflict_starting_after_the_evaluation_or_with_an_unrelated_organisation_is_not_counted():
    later = DeclaredConflict(TENDEREE, "employment", since=EVALUATION + timedelta(days=1))
    unrelated = DeclaredConflict(ELSEWHERE, "employment")
    assert codes(expert(1, conflicts=(later, unrelated))) == []


def test_a_drafting_role_on_this_tender_is_avoided_one_on_another_tender_is_not():
    this = DraftingRole(TENDER, "requirement")
    other = DraftingRole("another-tender", "documents")
    found = reasons(expert(1, drafting_roles=(other, this)))
    assert [r.code for r in found] == [Avoidance.DRAFTING_ROLE]
    assert dict(found[0].evidence) == {"tender_id": TENDER, "role": "requirement"}
    assert codes(expert(2, drafting_roles=(other,))) == []


def test_suspension_covers_the_evaluation_day_inclusive_or_is_indefinite_removal_always():
    suspended = ExpertStatus.SUSPENDED
    assert codes(expert(1, status=suspended, suspended_until=EVALUATION)) == [Avoidance.SUSPENDED]
    assert codes(expert(1, status=suspended, suspended_until=None)) == [Avoidance.SUSPENDED]
    assert codes(expert(1, status=suspended, suspended_until=EVALUATION - timedelta(days=1))) == []
    found = reasons(expert(1, status=suspended, suspended_until=date(2027, 3, 1)))
    assert dict(found[0].evidence) == {"status": "suspended", "suspended_until": "2027-03-01"}
    assert codes(expert(1, status=ExpertStatus.REMOVED)) == [Avoidance.REMOVED]


def test_unavailability_on_any_evaluation_day_is_avoided():
    second_day = EVALUATION + timedelta(days=1)
    assert codes(expert(1, unavailable=frozenset({EVALUATION}))) == [Avoidance.UNAVAILABLE]
    assert codes(expert(1, unavailable=frozenset({second_day}))) == []
    two_days = context(evaluation_end=second_day)
    found = reasons(expert(1, unavailable=frozenset({second_day, date(2026, 1, 1)})), two_days)
    assert [r.code for r in found] == [Avoidance.UNAVAILABLE]
    assert dict(found[0].evidence) == {"dates": "2026-12-17"}


def test_frequency_counts_this_tenderees_draws_within_the_window():
    n, months = RULES.max_draws_per_tenderee, RULES.frequency_months
    recent = tuple(PastDraw(TENDEREE, DRAW_DAY - timedelta(days=10 * (i + 1))) for i in range(n))
    assert codes(expert(1, past_draws=recent)) == [Avoidance.FREQUENCY]
    evidence = dict(reasons(expert(1, past_draws=recent))[0].evidence)
    assert evidence["draws"] == str(n)
    assert evidence["tenderee_uscc"] == TENDEREE
    assert evidence["months"] == str(months)
    assert codes(expert(1, past_draws=recent[:-1])) == []
    other_tenderee = tuple(PastDraw(ELSEWHERE, draw.drawn_on) for draw in recent)
    assert codes(expert(1, past_draws=other_tenderee)) == []
    old = (*recent[:-1], PastDraw(TENDEREE, months_before(DRAW_DAY, months)))
    assert codes(expert(1, past_draws=old)) == []  # the window is (draw day − M months, draw day]
    strict = RULES.with_overrides({"max_draws_per_tenderee": 1})
    assert codes(expert(1, past_draws=recent[:1]), rules=strict) == [Avoidance.FREQUENCY]


def test_every_reason_is_recorded_in_filter_order():
    candidate = expert(
        1,
        employer_uscc=BIDDER_A,
        conflicts=(DeclaredConflict(TENDEREE, "advisory"),),
        drafting_roles=(DraftingRole(TENDER, "documents"),),
        status=ExpertStatus.REMOVED,
        unavailable=frozenset({EVALUATION}),
        past_draws=tuple(PastDraw(TENDEREE, DRAW_DAY) for _ in range(RULES.max_draws_per_tenderee)),
    )
    assert codes(candidate) == [
        Avoidance.EMPLOYER_BIDDER,
        Avoidance.CONFLICT_TENDEREE,
        Avoidance.DRAFTING_ROLE,
        Avoidance.REMOVED,
        Avoidance.UNAVAILABLE,
        Avoidance.FREQUENCY,
    ]


def test_the_output_is_in_canonical_order_whatever_the_input_order():
    candidates = [expert(n, employer_uscc=BIDDER_A if n % 7 == 0 else ELSEWHERE) for n in range(200)]
    first = apply_avoidance(candidates, context(), RULES)
    shuffled = list(candidates)
    random.Random(15).shuffle(shuffled)  # noqa: S311 - a test's fixed shuffle
    second = apply_avoidance(shuffled, context(), RULES)
    ids = [c.expert_id for c in first.candidates]
    assert ids == sorted(ids)
    assert first == second
    assert first.exclusion_record() == second.exclusion_record()
    assert len(first.excluded) == len(range(0, 200, 7))
    assert first.exclusion_record()[0] == {
        "expert_id": "e00000",
        "reasons": [{"reason": "employer_bidder", "evidence": {"employer_uscc": BIDDER_A, "party": "bidder"}}],
    }
    assert first.rules_version == RULES.version


def test_an_expert_listed_twice_or_an_impossible_evaluation_is_refused():
    with pytest.raises(ValueError, match="listed twice"):
        apply_avoidance([expert(1), expert(1)], context(), RULES)
    with pytest.raises(ValueError, match="evaluation lasts"):
        apply_avoidance([expert(1)], context(evaluation_end=EVALUATION - timedelta(days=1)), RULES)


def test_calendar_arithmetic_clamps_month_and_leap_day_ends():
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 12) == date(2025, 1, 15)
    assert years_before(date(2028, 2, 29), 3) == date(2025, 2, 28)


def test_the_fast_path_agrees_with_every_filter_run_on_every_expert():
    """`apply_avoidance` settles most experts without calling the filters; over a mixed pool (party
    employers, conflicts with parties and with others, roles, suspensions, absences, past draws for
    the tenderee and for others) it keeps and excludes exactly whom running every filter on every
    expert would, with the same reasons, in canonical order."""
    from bidding.evaluation.draw.avoidance import reasons_for, window

    rng = random.Random(1515)  # noqa: S311 - a reproducible pool
    orgs = [TENDEREE, AGENCY, BIDDER_A, BIDDER_B, SUPERVISOR, ELSEWHERE]
    experts = []
    for number in rng.sample(range(10_000), 600):
        fields: dict = {"employer_uscc": rng.choice([*orgs, None])}
        if rng.random() < 0.2:
            fields["conflicts"] = (DeclaredConflict(rng.choice(orgs), "advisory"),)
        if rng.random() < 0.1:
            fields["drafting_roles"] = (DraftingRole(rng.choice([TENDER, "other"]), "documents"),)
        if rng.random() < 0.1:
            fields["status"] = rng.choice([ExpertStatus.SUSPENDED, ExpertStatus.REMOVED])
        if rng.random() < 0.2:
            fields["unavailable"] = frozenset({EVALUATION + timedelta(days=rng.randint(-2, 2))})
        if rng.random() < 0.4:
            fields["past_draws"] = tuple(
                PastDraw(rng.choice([TENDEREE, ELSEWHERE]), DRAW_DAY - timedelta(days=rng.randint(1, 400)))
                for _ in range(rng.randint(1, 4))
            )
        experts.append(expert(number, **fields))
    ctx = context(other_parties=frozenset({SUPERVISOR}))
    result = apply_avoidance(experts, ctx, RULES)
    bounds = window(ctx, RULES)
    ordered = sorted(experts, key=lambda candidate: candidate.expert_id)
    every = {candidate.expert_id: reasons_for(candidate, ctx, bounds, RULES) for candidate in ordered}
    assert [c.expert_id for c in result.candidates] == [key for key, found in every.items() if not found]
    assert {item.expert_id: list(item.reasons) for item in result.excluded} == {
        key: found for key, found in every.items() if found
    }
    assert [item.expert_id for item in result.excluded] == sorted(item.expert_id for item in result.excluded)
    assert 50 < len(result.excluded) < 550  # the pool mixes both
