"""The evaluation's result for the award stage (issue 15 item 9): bidding's public service.

`evaluation_result` answers only once the results are published (the report answered by every
current member, the evaluation ``completed``): the ranked candidates with their scores (from
`Evaluation.result`, the contracts' shape), the recommended bids of 评定分离 (unranked), the signed
report's SHA-256, the committee's names (public with the result) and when it was published.
Before that it answers None: nothing of the evaluation leaks to the award stage early.

The moment of publication is handed on through `use_published_hook` (the award stage starts its
award there; this package may not import it, `trading.server.wiring` registers it): the report part
calls `results_published` in the transaction that publishes the results.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Evaluation
from bidding.evaluation.report import repository


@dataclass(frozen=True, slots=True)
class BidResult:
    """One bid's outcome: valid or not (with the reason), its total and rank, the totals per member
    and per criterion (decimal, as the method computed them).
    """

    opening_bid_id: uuid.UUID
    bidder_name: str
    bidder_uscc: str
    price: Decimal | None
    valid: bool
    invalid_reason: str
    total: Decimal | None
    rank: int | None
    by_member: Mapping[str, Decimal] = field(default_factory=dict)
    by_criterion: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CommitteeMember:
    name: str
    kind: str
    """``expert`` or ``representative``."""


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    evaluation_id: uuid.UUID
    tender_id: uuid.UUID
    lot_group: str
    method: str
    method_version: str
    candidates: tuple[BidResult, ...]
    """The ranked candidates (中标候选人), best first (at most the settings' number)."""
    recommended: tuple[BidResult, ...]
    """评定分离: the recommended bids, unranked (empty for ranking methods)."""
    bids: tuple[BidResult, ...]
    """Every evaluated bid, ranked ones first by rank, then the invalid ones."""
    report_sha256: str
    committee: tuple[CommitteeMember, ...]
    published_at: datetime


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _bid(row: Mapping[str, Any]) -> BidResult:
    return BidResult(
        opening_bid_id=uuid.UUID(str(row["opening_bid_id"])),
        bidder_name=str(row.get("bidder_name", "")),
        bidder_uscc=str(row.get("bidder_uscc", "")),
        price=_decimal(row.get("price")),
        valid=bool(row.get("valid")),
        invalid_reason=str(row.get("invalid_reason") or ""),
        total=_decimal(row.get("total")),
        rank=None if row.get("rank") is None else int(row["rank"]),
        by_member={str(k): Decimal(str(v)) for k, v in (row.get("by_member") or {}).items()},
        by_criterion={str(k): Decimal(str(v)) for k, v in (row.get("by_criterion") or {}).items()},
    )


async def result_of(session: AsyncSession, evaluation: Evaluation) -> EvaluationResult | None:
    """The published result of one evaluation, or None before publication."""
    if evaluation.results_published_at is None or evaluation.result is None:
        return None
    result = evaluation.result
    bids = [_bid(row) for row in result.get("bids") or []]
    by_id = {str(b.opening_bid_id): b for b in bids}

    def pick(ids: Sequence[Any]) -> tuple[BidResult, ...]:
        return tuple(by_id[str(i)] for i in ids if str(i) in by_id)

    ordered = sorted(bids, key=lambda b: (b.rank is None, b.rank or 0, b.bidder_name))
    members = await repository.current_members(session, evaluation.id)
    return EvaluationResult(
        evaluation_id=evaluation.id,
        tender_id=evaluation.tender_id,
        lot_group=evaluation.lot_group,
        method=str(result.get("method") or evaluation.method),
        method_version=str(result.get("method_version") or evaluation.method_version),
        candidates=pick(result.get("candidates") or []),
        recommended=pick(result.get("recommended") or []),
        bids=tuple(ordered),
        report_sha256=evaluation.report_sha256 or "",
        committee=tuple(CommitteeMember(m.name, m.kind.value) for m in members),
        published_at=evaluation.results_published_at,
    )


async def evaluation_results(session: AsyncSession, tender_id: uuid.UUID) -> list[EvaluationResult]:
    """Every published result of a tender (one per lot group), ``all`` first."""
    results = [await result_of(session, e) for e in await repository.published_evaluations(session, tender_id)]
    return [r for r in results if r is not None]


async def evaluation_result(session: AsyncSession, tender_id: uuid.UUID) -> EvaluationResult | None:
    """The tender's published evaluation result (the ``all`` lot group, else the first), or None
    while no evaluation of the tender is completed and published.
    """
    results = await evaluation_results(session, tender_id)
    return results[0] if results else None


class PublishedHook(Protocol):
    async def __call__(self, session: AsyncSession, evaluation: Evaluation, /) -> object:
        """Work a later stage does once ``evaluation``'s results are published, in the caller's
        transaction (after ``results_published_at`` is set); must be idempotent.
        """
        ...


_published_hooks: list[PublishedHook] = []


def use_published_hook(hook: PublishedHook | None) -> PublishedHook | None:
    """Register the hook run when results are published (None removes it); returns the previous one."""
    previous = _published_hooks[0] if _published_hooks else None
    _published_hooks.clear()
    if hook is not None:
        _published_hooks.append(hook)
    return previous


async def results_published(session: AsyncSession, evaluation: Evaluation) -> None:
    """Run the registered hook for an evaluation whose results were just published."""
    if evaluation.results_published_at is not None and _published_hooks:
        await _published_hooks[0](session, evaluation)
