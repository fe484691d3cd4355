"""Issue 16 item 3: choosing the winner — the first candidate, the next when one is passed over
(reason recorded), 流标 when none is left, and 评定分离 by the tender's published rule (lowest price,
the committee's vote, a draw with a committed seed that anyone re-derives). Every refusal's rule named.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from bidding.award.errors import AwardRefused
from bidding.award.succession import (
    AwardRule,
    Candidate,
    Chosen,
    DrawInput,
    Dropped,
    DropReason,
    Exhausted,
    Order,
    PublishedRule,
    TieBreak,
    candidates_for,
    check_award,
    current,
    decide_order,
    drop,
    rederive,
)
from trading.kernel import draws

SEED = "a5" * 32
DRAW = DrawInput(SEED, draws.commitment(SEED), "T2026-0042 all")


def cand(bid: str, price: str | None, rank: int | None = None) -> Candidate:
    return Candidate(bid, f"91110000{bid:0>9}X"[:18], f"公司{bid}", None if price is None else Decimal(price), rank)


A, B, C, D = cand("a", "980000.00", 1), cand("b", "950000.00", 2), cand("c", "990000.00", 3), cand("d", "950000.00")
RANKED = decide_order([C, A, B], PublishedRule())


def rule_of(call: object) -> tuple[str | None, str | None]:
    assert callable(call)
    with pytest.raises(AwardRefused) as caught:
        call()
    return caught.value.field, caught.value.rule


# --- ranked evaluations ---------------------------------------------------------------------------


def test_the_first_candidate_then_the_next_then_none() -> None:
    assert [c.bid for c in RANKED.candidates] == ["a", "b", "c"]
    first = current(RANKED, [])
    assert isinstance(first, Chosen)
    assert (first.winner, first.may_re_tender) == (A, False)
    gave_up = drop(RANKED, [], "a", DropReason.GAVE_UP, "书面放弃")
    second = current(RANKED, [gave_up])
    assert isinstance(second, Chosen)
    assert second.winner == B
    assert second.passed_over == (Dropped("a", DropReason.GAVE_UP, "书面放弃"),)
    assert second.may_re_tender  # 实施条例 Art. 55: or re-tender
    no_security = drop(RANKED, [gave_up], "b", "no_performance_security")
    ineligible = drop(RANKED, [gave_up, no_security], "c", DropReason.INELIGIBLE)
    left = current(RANKED, [gave_up, no_security, ineligible])
    assert isinstance(left, Exhausted)
    assert left.rule == "candidates_exhausted"
    assert [d.reason for d in left.passed_over] == [
        DropReason.GAVE_UP,
        DropReason.NO_PERFORMANCE_SECURITY,
        DropReason.INELIGIBLE,
    ]


def test_no_candidates_at_all_fails() -> None:
    empty = decide_order([], PublishedRule(AwardRule.DRAW))
    assert empty.candidates == ()
    assert isinstance(current(empty, []), Exhausted)


GAVE_UP = [Dropped("a", DropReason.GAVE_UP)]


@pytest.mark.parametrize(
    ("order", "dropped", "bid", "binding", "expected"),
    [
        (RANKED, [], "a", True, "ok"),
        (RANKED, GAVE_UP, "b", True, "ok"),
        (RANKED, [], "zzz", True, ("bid", "not_a_candidate")),  # award to a non-candidate
        (RANKED, [], "b", True, ("bid", "first_remaining_candidate")),
        (RANKED, [], "c", False, "ok"),  # a tender not bound by the ranking chooses among candidates
        (RANKED, GAVE_UP, "a", True, ("bid", "candidate_dropped")),
        (RANKED, GAVE_UP, "a", False, ("bid", "candidate_dropped")),
        (
            RANKED,
            [Dropped("a", DropReason.GAVE_UP), Dropped("b", DropReason.GAVE_UP), Dropped("c", DropReason.GAVE_UP)],
            "a",
            True,
            ("bid", "candidate_dropped"),
        ),
    ],
)
def test_check_award(order: Order, dropped: list[Dropped], bid: str, *, binding: bool, expected: object) -> None:
    if expected == "ok":
        assert check_award(order, dropped, bid, rank_binding=binding).bid == bid
    else:
        assert rule_of(lambda: check_award(order, dropped, bid, rank_binding=binding)) == expected


@pytest.mark.parametrize(
    ("dropped", "bid", "reason", "expected"),
    [
        ([], "zzz", DropReason.GAVE_UP, ("bid", "not_a_candidate")),
        (GAVE_UP, "a", DropReason.INELIGIBLE, ("bid", "dropped_once")),
        ([], "a", "bored", ("reason", "drop_reason")),
        ([Dropped("b", DropReason.FORCE_MAJEURE)], "b", DropReason.GAVE_UP, ("bid", "dropped_once")),
    ],
)
def test_drop_refusals(dropped: list[Dropped], bid: str, reason: str, expected: tuple[str, str]) -> None:
    assert rule_of(lambda: drop(RANKED, dropped, bid, reason)) == expected


def test_ranked_candidates_need_ranks() -> None:
    assert rule_of(lambda: decide_order([A, D], PublishedRule())) == ("candidates", "candidate_rank")
    assert rule_of(lambda: decide_order([A, A], PublishedRule())) == ("candidates", "candidates_unique")


# --- the evaluation's hand-over -----------------------------------------------------------------


@dataclass(frozen=True)
class Bid:
    opening_bid_id: uuid.UUID
    bidder_uscc: str
    bidder_name: str
    price: Decimal | None
    rank: int | None


@dataclass(frozen=True)
class Result:
    candidates: tuple[Bid, ...] = ()
    recommended: tuple[Bid, ...] = field(default_factory=tuple)


def test_candidates_come_from_the_evaluation_result() -> None:
    one = Bid(uuid.UUID(int=1), "91110000000000001X", "甲公司", Decimal("10.00"), 1)
    two = Bid(uuid.UUID(int=2), "91110000000000002X", "乙公司", Decimal("9.00"), None)
    ranked = candidates_for(Result(candidates=(one,)), PublishedRule())
    assert ranked == [Candidate(str(uuid.UUID(int=1)), "91110000000000001X", "甲公司", Decimal("10.00"), 1)]
    assert candidates_for(Result(recommended=(two,)), PublishedRule(AwardRule.LOWEST_PRICE))[0].rank is None
    assert candidates_for(Result(), PublishedRule()) == []
    assert rule_of(lambda: candidates_for(Result(recommended=(two,)), PublishedRule())) == ("rule", "award_rule")
    assert rule_of(lambda: candidates_for(Result(candidates=(one,)), PublishedRule(AwardRule.DRAW))) == (
        "rule",
        "award_rule",
    )


# --- 评定分离 --------------------------------------------------------------------------------------

RECOMMENDED = [cand("a", "980000.00"), cand("b", "950000.00"), cand("c", "990000.00")]


def order_of(candidates: list[Candidate], rule: PublishedRule, **kwargs: object) -> list[str]:
    return [c.bid for c in decide_order(candidates, rule, **kwargs).candidates]  # type: ignore[arg-type]


def test_lowest_price_among_the_recommended() -> None:
    assert order_of(RECOMMENDED, PublishedRule(AwardRule.LOWEST_PRICE)) == ["b", "a", "c"]
    # Equal prices: the published tie-break draws, with the committed seed; re-derivable.
    tied = [*RECOMMENDED, cand("d", "950000")]
    assert rule_of(lambda: decide_order(tied, PublishedRule(AwardRule.LOWEST_PRICE))) == (
        "candidates",
        "tie_unresolved",
    )
    order = decide_order(tied, PublishedRule(AwardRule.LOWEST_PRICE), draw=DRAW)
    assert {c.bid for c in order.candidates[:2]} == {"b", "d"}
    assert [c.bid for c in order.candidates[2:]] == ["a", "c"]
    assert rederive(order.record, tied)
    assert rule_of(lambda: decide_order([*RECOMMENDED, cand("e", None)], PublishedRule(AwardRule.LOWEST_PRICE))) == (
        "candidates",
        "candidate_price",
    )


VOTERS = ("m1", "m2", "m3", "m4", "m5")


@pytest.mark.parametrize(
    ("votes", "tie_break", "expected"),
    [
        ({"m1": "c", "m2": "c", "m3": "a", "m4": "c", "m5": "b"}, TieBreak.DRAW, ["c", "a|b", "a|b"]),
        ({"m1": "c", "m2": "c", "m3": "a", "m4": "a", "m5": "b"}, TieBreak.LOWEST_PRICE, ["a", "c", "b"]),
        ({"m1": "c", "m2": "c", "m3": "a", "m4": "a", "m5": "b"}, TieBreak.DRAW, ["a|c", "a|c", "b"]),
        (
            {"m1": "c", "m2": "c", "m3": "a", "m4": "b", "m5": "c"},
            TieBreak.REVOTE,
            ["c", "b", "a"],
        ),  # lower tie by price
    ],
)
def test_committee_vote(votes: dict[str, str], tie_break: TieBreak, expected: list[str]) -> None:
    rule = PublishedRule(AwardRule.COMMITTEE_VOTE, tie_break, VOTERS)
    order = decide_order(RECOMMENDED, rule, votes=votes, draw=DRAW)
    got = [c.bid for c in order.candidates]
    assert all(g in want.split("|") for g, want in zip(got, expected, strict=True))
    assert order.record["votes"] == dict(sorted(votes.items()))
    assert rederive(order.record, RECOMMENDED)


@pytest.mark.parametrize(
    ("votes", "tie_break", "draw", "expected"),
    [
        ({"m1": "c", "m2": "c", "m3": "a", "m4": "a", "m5": "b"}, TieBreak.REVOTE, DRAW, ("votes", "vote_tied")),
        ({"m1": "c", "m2": "c", "m3": "a", "m4": "a", "m5": "b"}, TieBreak.DRAW, None, ("seed", "tie_unresolved")),
        ({"m1": "c", "m2": "c", "m3": "a", "m4": "a"}, TieBreak.DRAW, DRAW, ("votes", "votes_complete")),
        (
            {"m1": "c", "m2": "c", "m3": "a", "m4": "a", "m5": "b", "x": "a"},
            TieBreak.DRAW,
            DRAW,
            ("votes", "award_voter"),
        ),
        (
            {"m1": "c", "m2": "c", "m3": "a", "m4": "a", "m5": "zzz"},
            TieBreak.DRAW,
            DRAW,
            ("votes", "vote_for_candidate"),
        ),
    ],
)
def test_committee_vote_refusals(
    votes: dict[str, str], tie_break: TieBreak, draw: DrawInput | None, expected: tuple[str, str]
) -> None:
    rule = PublishedRule(AwardRule.COMMITTEE_VOTE, tie_break, VOTERS)
    assert rule_of(lambda: decide_order(RECOMMENDED, rule, votes=votes, draw=draw)) == expected
    assert rule_of(lambda: decide_order(RECOMMENDED, PublishedRule(AwardRule.COMMITTEE_VOTE), votes=votes)) == (
        "voters",
        "award_voters",
    )


def test_draw_with_a_committed_seed_is_rederivable() -> None:
    rule = PublishedRule(AwardRule.DRAW)
    order = decide_order(RECOMMENDED, rule, draw=DRAW)
    # The kernel's scheme, restated: the seed mixed with the closed list of bids, then draw_many.
    draw_seed = draws.draw_seed(SEED, draws.closed_list_digest({"a": None, "b": None, "c": None}), {})
    expected = draws.draw_many(draw_seed, "ggzy-award-v1 T2026-0042 all", ["a", "b", "c"], 3)
    assert [c.bid for c in order.candidates] == expected
    assert order.record["seed_sha256"] == draws.commitment(SEED)
    assert order.record["draw_seed"] == draw_seed
    assert order.record["order"] == expected
    # The same inputs in another order give the same result; re-derivable from the record alone.
    assert order_of(list(reversed(RECOMMENDED)), rule, draw=DRAW) == expected
    assert rederive(order.record, RECOMMENDED)
    # Any change shows: another order claimed, another candidate list, another purpose.
    assert not rederive({**order.record, "order": list(reversed(expected))}, RECOMMENDED)
    assert not rederive(order.record, [*RECOMMENDED, cand("d", "1")])
    assert not rederive({**order.record, "seed": "b6" * 32}, RECOMMENDED)
    # After a drop the next one in the drawn order succeeds (no second draw to steer).
    nxt = current(order, [Dropped(expected[0], DropReason.REFUSED_CONTRACT)])
    assert isinstance(nxt, Chosen)
    assert nxt.winner.bid == expected[1]
    assert rule_of(lambda: check_award(order, [], expected[1], rank_binding=False)) == (
        "bid",
        "first_remaining_candidate",
    )


def test_draw_refusals() -> None:
    rule = PublishedRule(AwardRule.DRAW)
    assert rule_of(lambda: decide_order(RECOMMENDED, rule)) == ("seed", "award_draw_seed")
    forged = DrawInput("b6" * 32, DRAW.commitment, DRAW.purpose)
    assert rule_of(lambda: decide_order(RECOMMENDED, rule, draw=forged)) == ("seed", "seed_commitment")
    assert rule_of(lambda: decide_order(RECOMMENDED, rule, draw=DrawInput(SEED, "nothex", "x"))) == (
        "seed",
        "seed_commitment",
    )
