"""Choosing the winner (定标), pure: the order the candidates succeed in, the reasons one is passed
over, and the checks of an award. The service reads the evaluation's result
(`bidding.evaluation.results.evaluation_result`), calls these and records what they return.

**Ranked evaluations.** The order is the committee's ranking: the tenderee awards the first
candidate (实施条例 Art. 55 for state-funded tenders; 87号令 Art. 68 "按顺序"). When that candidate
gives up, fails to provide the performance security, cannot perform for force majeure, refuses the
contract or is found ineligible (`DropReason`, recorded with the drop), the next one in the order
succeeds, or the tenderee re-tenders instead (Art. 55 "也可以重新招标"; GP 实施条例 Art. 49). No
candidate left: the tender fails (流标, `Exhausted`).

**评定分离.** The committee recommends candidates unranked; the tenderee decides by the rule its
tender published (`PublishedRule`), which gives the order:

- ``lowest_price``: by price, lowest first;
- ``committee_vote``: the 定标委员会 votes, one vote per listed voter, every voter votes; most votes
  first;
- ``draw``: the seeded draw without replacement (`trading.kernel.draws.draw_many`) over the
  recommended bids, with the seed the platform committed before (its SHA-256 published): the draw
  seed is ``draws.draw_seed(seed, closed_list_digest(the bids), {})`` and the purpose names the
  tender, so anyone re-derives the order from the published record (`rederive`).

Ties (equal prices, equal votes) are broken by the rule's ``tie_break``: ``lowest_price`` (for
votes; equal prices then go to the draw), ``draw`` (the same seeded draw over the tied bids, purpose
``<purpose> tie``), or ``revote`` (a tie at the top is refused, ``vote_tied``: the committee votes
again; lower ties go by price). A tie nothing resolves is refused (``tie_unresolved``), never
settled by an arbitrary order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from bidding.award.errors import AwardRefused
from trading.kernel import draws

DRAW_PURPOSE_PREFIX = "ggzy-award-v1"


class DropReason(StrEnum):
    """Why a candidate is passed over (实施条例 Art. 55; GP 实施条例 Art. 49)."""

    GAVE_UP = "gave_up"  # 放弃中标
    FORCE_MAJEURE = "force_majeure"  # 因不可抗力不能履行合同
    NO_PERFORMANCE_SECURITY = "no_performance_security"  # 不按照招标文件要求提交履约保证金
    INELIGIBLE = "ineligible"  # 被查实存在影响中标结果的违法行为等，不符合中标条件
    REFUSED_CONTRACT = "refused_contract"  # 拒绝签订合同


class AwardRule(StrEnum):
    """How the tender published that its winner is determined."""

    RANKED = "ranked"  # the committee's ranking (every ranking method)
    LOWEST_PRICE = "lowest_price"  # 评定分离: lowest price among the recommended
    COMMITTEE_VOTE = "committee_vote"  # 评定分离: the 定标委员会's vote
    DRAW = "draw"  # 评定分离: a seeded draw among the recommended


class TieBreak(StrEnum):
    LOWEST_PRICE = "lowest_price"
    DRAW = "draw"
    REVOTE = "revote"


class RankedBid(Protocol):
    """What the evaluation hands over per bid (`bidding.evaluation.results.BidResult`)."""

    @property
    def opening_bid_id(self) -> Any: ...
    @property
    def bidder_uscc(self) -> str: ...
    @property
    def bidder_name(self) -> str: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def rank(self) -> int | None: ...


class EvaluationOutcome(Protocol):
    """The part of `bidding.evaluation.results.EvaluationResult` the award reads."""

    @property
    def candidates(self) -> Sequence[RankedBid]: ...
    @property
    def recommended(self) -> Sequence[RankedBid]: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    bid: str
    """The opening bid's id, as text (the key every record uses)."""
    uscc: str
    name: str
    price: Decimal | None
    rank: int | None = None

    @classmethod
    def of(cls, bid: RankedBid) -> Candidate:
        return cls(str(bid.opening_bid_id), bid.bidder_uscc, bid.bidder_name, bid.price, bid.rank)


@dataclass(frozen=True, slots=True)
class PublishedRule:
    """The tender's published 定标 rule."""

    rule: AwardRule = AwardRule.RANKED
    tie_break: TieBreak = TieBreak.DRAW
    voters: tuple[str, ...] = ()
    """``committee_vote``: who votes (the 定标委员会 members' keys)."""


@dataclass(frozen=True, slots=True)
class DrawInput:
    """The committed seed of a 定标 draw, revealed: the seed, the commitment published before, and
    the purpose (the tender's code and lot group, so no two draws share one).
    """

    seed: str
    commitment: str
    purpose: str


@dataclass(frozen=True, slots=True)
class Order:
    """The candidates in the order they succeed, and how the order came about (JSON-ready)."""

    rule: AwardRule
    candidates: tuple[Candidate, ...]
    record: Mapping[str, Any] = field(default_factory=dict)

    def candidate(self, bid: str) -> Candidate | None:
        return next((c for c in self.candidates if c.bid == bid), None)


def candidates_for(result: EvaluationOutcome, published: PublishedRule) -> list[Candidate]:
    """The bids the rule chooses among: the ranked candidates, or for 评定分离 the recommended ones.
    An evaluation of the other kind is refused (``award_rule``).
    """
    ranked, recommended = list(result.candidates), list(result.recommended)
    if published.rule is AwardRule.RANKED:
        if recommended and not ranked:
            raise AwardRefused(
                "the evaluation recommended unranked candidates (评定分离): publish a 定标 rule for them",
                field="rule",
                rule="award_rule",
            )
        return [Candidate.of(b) for b in ranked]
    if ranked and not recommended:
        raise AwardRefused(
            f"the rule {published.rule.value} decides among recommended candidates; this evaluation ranked them",
            field="rule",
            rule="award_rule",
        )
    return [Candidate.of(b) for b in recommended]


def _keys(candidates: Sequence[Candidate]) -> list[str]:
    keys = [c.bid for c in candidates]
    if len(set(keys)) != len(keys):
        raise AwardRefused("each candidate appears once", field="candidates", rule="candidates_unique")
    return keys


def _draw_seed(draw: DrawInput | None, keys: Sequence[str]) -> str:
    if draw is None:
        raise AwardRefused("a draw needs the committed seed", field="seed", rule="award_draw_seed")
    if not draws.is_sha256_hex(draw.commitment) or not draws.reveal_matches(draw.seed, draw.commitment):
        raise AwardRefused(
            "the seed does not match the commitment published before the draw", field="seed", rule="seed_commitment"
        )
    return draws.draw_seed(draw.seed, draws.closed_list_digest(dict.fromkeys(keys)), {})


def _purpose(draw: DrawInput) -> str:
    return f"{DRAW_PURPOSE_PREFIX} {draw.purpose}"


def _price(candidate: Candidate) -> Decimal:
    if candidate.price is None or not candidate.price.is_finite():
        raise AwardRefused(
            f"candidate {candidate.bid} has no price to compare", field="candidates", rule="candidate_price"
        )
    return candidate.price


def _group_by(items: Sequence[Candidate], key: Callable[[Candidate], Any]) -> list[list[Candidate]]:
    """``items`` (already sorted by ``key``) split into runs of equal ``key``."""
    groups: list[list[Candidate]] = []
    for item in items:
        if groups and key(groups[-1][0]) == key(item):
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _by_draw(group: Sequence[Candidate], draw_seed: str | None, draw: DrawInput | None) -> list[Candidate]:
    if len(group) == 1:
        return list(group)
    if draw_seed is None or draw is None:
        raise AwardRefused(
            f"candidates {', '.join(c.bid for c in group)} are tied and the rule breaks ties by a draw: "
            "reveal the committed seed",
            field="seed",
            rule="tie_unresolved",
        )
    by_key = {c.bid: c for c in group}
    return [by_key[k] for k in draws.draw_many(draw_seed, f"{_purpose(draw)} tie", sorted(by_key), len(group))]


def _by_price(group: Sequence[Candidate], draw_seed: str | None, draw: DrawInput | None) -> list[Candidate]:
    ordered: list[Candidate] = []
    for same in _group_by(sorted(group, key=_price), _price):
        if len(same) > 1 and draw_seed is None:
            raise AwardRefused(
                f"candidates {', '.join(c.bid for c in same)} are tied at the same price and no draw can break it",
                field="candidates",
                rule="tie_unresolved",
            )
        ordered += _by_draw(same, draw_seed, draw)
    return ordered


def _check_votes(votes: Mapping[str, str], voters: Sequence[str], keys: Sequence[str]) -> None:
    if not voters:
        raise AwardRefused("the published rule names no voters", field="voters", rule="award_voters")
    unknown = sorted(set(votes) - set(voters))
    if unknown:
        raise AwardRefused(f"{', '.join(unknown)} may not vote", field="votes", rule="award_voter")
    missing = sorted(set(voters) - set(votes))
    if missing:
        raise AwardRefused(f"{', '.join(missing)} have not voted", field="votes", rule="votes_complete")
    stray = sorted({bid for bid in votes.values() if bid not in keys})
    if stray:
        raise AwardRefused(
            f"votes for {', '.join(stray)}, which are not recommended candidates",
            field="votes",
            rule="vote_for_candidate",
        )


def _by_votes(
    candidates: Sequence[Candidate],
    votes: Mapping[str, str],
    published: PublishedRule,
    draw_seed: str | None,
    draw: DrawInput | None,
) -> list[Candidate]:
    tally = Counter(votes.values())
    ordered: list[Candidate] = []
    groups = _group_by(sorted(candidates, key=lambda c: -tally[c.bid]), lambda c: tally[c.bid])
    for index, group in enumerate(groups):
        if len(group) == 1:
            ordered += group
        elif published.tie_break is TieBreak.DRAW:
            ordered += _by_draw(group, draw_seed, draw)
        elif published.tie_break is TieBreak.REVOTE and index == 0:
            raise AwardRefused(
                f"{', '.join(c.bid for c in group)} are tied at {tally[group[0].bid]} votes: the committee votes again",
                field="votes",
                rule="vote_tied",
            )
        else:  # lowest price (and lower ties under revote): by price, equal prices by the draw
            ordered += _by_price(group, draw_seed, draw)
    return ordered


def decide_order(
    candidates: Sequence[Candidate],
    published: PublishedRule,
    *,
    votes: Mapping[str, str] | None = None,
    draw: DrawInput | None = None,
) -> Order:
    """The order the candidates succeed in under the published rule (module docstring), with the
    record that lets anyone re-derive it. No candidates: an empty order (the tender fails).
    """
    keys = _keys(candidates)
    record: dict[str, Any] = {
        "rule": published.rule.value,
        "tie_break": published.tie_break.value,
        "candidates": sorted(keys),
    }
    if not keys:
        return Order(published.rule, (), record | {"order": []})
    uses_draw = published.rule is AwardRule.DRAW or (draw is not None and published.rule is not AwardRule.RANKED)
    draw_seed = _draw_seed(draw, sorted(keys)) if uses_draw else None
    if published.rule is AwardRule.RANKED:
        if any(c.rank is None for c in candidates):
            raise AwardRefused("every ranked candidate has a rank", field="candidates", rule="candidate_rank")
        ordered = sorted(candidates, key=lambda c: c.rank or 0)
    elif published.rule is AwardRule.LOWEST_PRICE:
        ordered = _by_price(candidates, draw_seed, draw)
    elif published.rule is AwardRule.COMMITTEE_VOTE:
        cast = dict(votes or {})
        _check_votes(cast, published.voters, keys)
        ordered = _by_votes(candidates, cast, published, draw_seed, draw)
        record |= {"voters": sorted(published.voters), "votes": dict(sorted(cast.items()))}
    else:
        if draw_seed is None or draw is None:
            raise AwardRefused("a draw needs the committed seed", field="seed", rule="award_draw_seed")
        by_key = {c.bid: c for c in candidates}
        ordered = [by_key[k] for k in draws.draw_many(draw_seed, _purpose(draw), sorted(by_key), len(by_key))]
    if draw is not None and draw_seed is not None:
        record |= {
            "seed_sha256": draw.commitment,
            "seed": draw.seed,
            "purpose": draw.purpose,
            "draw_seed": draw_seed,
        }
    record["order"] = [c.bid for c in ordered]
    return Order(published.rule, tuple(ordered), record)


def rederive(record: Mapping[str, Any], candidates: Sequence[Candidate]) -> bool:
    """Whether ``record`` (an `Order.record` as published) yields its own order again from the
    candidates: the published rule, the votes and the revealed seed decide, nobody else.
    """
    try:
        published = PublishedRule(
            AwardRule(record["rule"]), TieBreak(record["tie_break"]), tuple(record.get("voters", ()))
        )
        draw = (
            DrawInput(str(record["seed"]), str(record["seed_sha256"]), str(record["purpose"]))
            if "seed" in record
            else None
        )
        if sorted(c.bid for c in candidates) != list(record["candidates"]):
            return False
        again = decide_order(candidates, published, votes=record.get("votes"), draw=draw)
    except (AwardRefused, KeyError, ValueError, TypeError):
        return False
    return list(again.record["order"]) == list(record["order"])


@dataclass(frozen=True, slots=True)
class Dropped:
    """A candidate passed over, and why (recorded with the award)."""

    bid: str
    reason: DropReason
    note: str = ""


@dataclass(frozen=True, slots=True)
class Chosen:
    """Who is awarded now: the first candidate not passed over."""

    winner: Candidate
    passed_over: tuple[Dropped, ...]
    may_re_tender: bool
    """A candidate was passed over, so the tenderee may re-tender instead (实施条例 Art. 55)."""


@dataclass(frozen=True, slots=True)
class Exhausted:
    """No candidate is left: the tender fails (流标)."""

    passed_over: tuple[Dropped, ...]
    rule: str = "candidates_exhausted"


def drop(order: Order, dropped: Sequence[Dropped], bid: str, reason: DropReason | str, note: str = "") -> Dropped:
    """Pass over candidate ``bid`` for ``reason``: refused for a non-candidate (``not_a_candidate``),
    one already passed over (``dropped_once``) or a reason not in `DropReason` (``drop_reason``).
    """
    try:
        why = DropReason(reason)
    except ValueError:
        raise AwardRefused(
            f"{reason!r} is not a reason to pass a candidate over", field="reason", rule="drop_reason"
        ) from None
    if order.candidate(bid) is None:
        raise AwardRefused(f"{bid} is not a candidate of this award", field="bid", rule="not_a_candidate")
    if any(d.bid == bid for d in dropped):
        raise AwardRefused(f"{bid} has already been passed over", field="bid", rule="dropped_once")
    return Dropped(bid, why, note)


def current(order: Order, dropped: Sequence[Dropped]) -> Chosen | Exhausted:
    """The candidate to award now, or `Exhausted` when every candidate has been passed over."""
    gone = {d.bid for d in dropped}
    remaining = [c for c in order.candidates if c.bid not in gone]
    if not remaining:
        return Exhausted(tuple(dropped))
    return Chosen(remaining[0], tuple(dropped), may_re_tender=bool(dropped))


def check_award(order: Order, dropped: Sequence[Dropped], bid: str, *, rank_binding: bool = True) -> Candidate:
    """The candidate the tenderee confirms, checked: refused when ``bid`` is not a candidate
    (``not_a_candidate``), has been passed over (``candidate_dropped``), none is left
    (``candidates_exhausted``), or, while the order binds (``rank_binding``: state-funded engineering,
    every GP tender, every 评定分离 rule), it is not the first remaining (``first_remaining_candidate``).
    """
    chosen = order.candidate(bid)
    if chosen is None:
        raise AwardRefused(f"{bid} is not a candidate of this award", field="bid", rule="not_a_candidate")
    if any(d.bid == bid for d in dropped):
        raise AwardRefused(f"{bid} has been passed over", field="bid", rule="candidate_dropped")
    now = current(order, dropped)
    if isinstance(now, Exhausted):
        raise AwardRefused("no candidate is left", field="bid", rule="candidates_exhausted")
    if (rank_binding or order.rule is not AwardRule.RANKED) and now.winner.bid != bid:
        raise AwardRefused(
            f"the award goes to the first remaining candidate ({now.winner.bid}), not {bid}",
            field="bid",
            rule="first_remaining_candidate",
        )
    return chosen
