"""The evaluation's result: `finalise(session, evaluation)` (called by the session part when entering
``report-signing``) runs the Art. 64 checks across the panel once more, refuses while any Art. 64
finding is open (rule ``art64_unresolved``), then aggregates and ranks with the method
(`bidding.evaluation.methods`) and writes `Evaluation.result` in the contracts' JSON shape.

Inputs, all from the current members only (a voided member's scores, votes and decisions are
left out):

- validity: a bid is invalid when its package was not opened, or when a strict majority of the
  current members failed it at a review stage (`rules.rejected_bids`);
- prices: the total read out at 唱标 (the decrypted price summary);
- subjective criteria: each member's own scores (every current member must have scored every valid
  bid: a member conflicted with a valid bid must be replaced first, rule ``member_conflicted``;
  a missing sheet is ``sheet_missing``);
- objective criteria: the joint decision, the strict majority of the votes (``objective_undecided``
  while there is none);
- the price criterion: computed by the method. Ties: the method ranks by total, then the lower
  price (`methods.aggregation.rank_by_score`).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.methods import engineering, gp, separation
from bidding.evaluation.methods.common import Bid, CriterionKind, MethodCode, MethodResult, round_score
from bidding.evaluation.methods.settings import MethodSettings
from bidding.evaluation.models import Evaluation, Member, SessionState
from bidding.evaluation.scoring.errors import ScoringRefused
from bidding.evaluation.scoring.findings import run_art64
from bidding.evaluation.scoring.repository import OpenedBid, ScoringRepository
from bidding.evaluation.scoring.rules import majorities, method_settings, rejected_bids
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.ledger.service import append_entry

RESULT_COMPUTED = "evaluation.result_computed"
CHINA = ZoneInfo("Asia/Shanghai")


def _run(
    settings: MethodSettings,
    bids: list[Bid],
    scores: Mapping[str, Mapping[str, Mapping[str, Decimal]]],
    decided: Mapping[str, Mapping[str, Decimal]],
) -> MethodResult:
    method = settings.method
    if method is MethodCode.GP_COMPREHENSIVE:
        return gp.comprehensive_scoring(settings, bids, scores, decided=decided or None)
    if method is MethodCode.GP_LOWEST_PRICE:
        return gp.lowest_evaluated_price(settings, bids)
    if method is MethodCode.ENG_COMPREHENSIVE:
        return engineering.comprehensive_evaluation(
            settings, bids, scores, settings.coefficients or None, decided=decided or None
        )
    if method is MethodCode.ENG_LOWEST_PRICE:
        return engineering.reviewed_lowest_price(settings, bids)
    if method is MethodCode.SEPARATION:
        # 评定分离: the committee evaluates with 综合评估法 when the settings name a preset and a
        # price criterion, else 经评审的最低投标价法; `_record` keeps only the unranked recommendation.
        scored = settings.preset is not None and settings.price_criterion is not None
        source = MethodCode.ENG_COMPREHENSIVE if scored else MethodCode.ENG_LOWEST_PRICE
        return _run(dataclasses.replace(settings, method=source), bids, scores, decided)
    raise ScoringRefused(
        f"{method.value}: the scoring part does not finalise this method yet", field="method", rule="method_supported"
    )


async def finalise(session: AsyncSession, evaluation: Evaluation, actor: Actor | None = None) -> dict[str, Any]:
    """Compute and store ``evaluation.result`` (see the module docstring); refusals name the rule."""
    actor = actor or Actor.system()
    repo = ScoringRepository(session)
    tender = await repo.tender(evaluation.tender_id)
    settings = method_settings(evaluation)
    members = await repo.current_members(evaluation.id)
    current = [m.id for m in members]
    expert_scored = any(c.kind is not CriterionKind.PRICE for c in settings.criteria)
    if expert_scored:
        await _sheets_in(repo, evaluation, members)
        await run_art64(repo, evaluation, tender.project_code, actor, members=set(current), panel=True)
    open_findings = await repo.open_art64(evaluation.id)
    if open_findings:
        raise ScoringRefused(
            f"{len(open_findings)} Art. 64 finding(s) are neither corrected nor justified",
            field="findings",
            rule="art64_unresolved",
            extra={"findings": [str(f.id) for f in open_findings]},
        )
    bids = await repo.bids(evaluation)
    reasons = await _invalid(repo, evaluation, bids, current)
    valid = [b for b in bids if b.id not in reasons]
    if expert_scored:
        await _no_conflicts(session, repo, members, valid)
    subjective = {c.code for c in settings.criteria if c.kind is CriterionKind.SUBJECTIVE}
    scores: dict[str, dict[str, dict[str, Decimal]]] = {str(m): {} for m in current} if subjective else {}
    for score in await repo.scores(evaluation.id):
        if score.member_id in current and score.criterion in subjective and score.opening_bid_id not in reasons:
            scores[str(score.member_id)].setdefault(str(score.opening_bid_id), {})[score.criterion] = score.points
    decided = await _decided(repo, evaluation, settings, valid, current)
    method_bids = [
        Bid(key=str(b.id), price=b.price, quoted=b.price, valid=b.id not in reasons)
        for b in bids
        if b.price is not None
    ]
    computed = _run(settings, method_bids, scores, decided)
    now = await clock.now(session)
    result = _record(evaluation, settings, computed, bids, reasons, scores, decided, now)
    evaluation.result = result
    evaluation.updated_at = now
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action=RESULT_COMPUTED,
        subject_type="evaluation_scoring",
        subject_id=str(evaluation.id),
        summary={"method": result["method"], "bids": len(result["bids"]), "candidates": len(result["candidates"])},
        data=result,
        project_code=tender.project_code,
    )
    return result


async def _sheets_in(repo: ScoringRepository, evaluation: Evaluation, members: list[Member]) -> None:
    submitted = {s.member_id for s in await repo.submissions(evaluation.id) if s.stage is SessionState.SCORING}
    missing = [m.name for m in members if m.id not in submitted]
    if missing:
        raise ScoringRefused(
            "not every member submitted the scoring sheet: " + ", ".join(missing),
            field="members",
            rule="sheet_missing",
        )


async def _invalid(
    repo: ScoringRepository, evaluation: Evaluation, bids: list[OpenedBid], current: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    rejected = rejected_bids(await repo.reviews(evaluation.id), current)
    reasons: dict[uuid.UUID, str] = {}
    for bid in bids:
        if bid.revoked:
            reasons[bid.id] = "bid_revoked"  # 撤销 after the deadline (实施条例 Art. 35)
        elif not bid.package_opened or bid.price is None:
            reasons[bid.id] = "package_not_opened"
        elif bid.id in rejected:
            reasons[bid.id] = rejected[bid.id]
    return reasons


async def _no_conflicts(
    session: AsyncSession, repo: ScoringRepository, members: list[Member], valid: list[OpenedBid]
) -> None:
    today = (await clock.now(session)).astimezone(CHINA).date()
    for member in members:
        for bid in valid:
            if await repo.conflicted(member, bid, today) is not None:
                raise ScoringRefused(
                    f"{member.name} is conflicted with {bid.bidder_name}: replace the member first (回避)",
                    field="members",
                    rule="member_conflicted",
                )


async def _decided(
    repo: ScoringRepository,
    evaluation: Evaluation,
    settings: MethodSettings,
    valid: list[OpenedBid],
    current: list[uuid.UUID],
) -> dict[str, dict[str, Decimal]]:
    decisions = majorities(await repo.votes(evaluation.id), current)
    decided: dict[str, dict[str, Decimal]] = {}
    for c in settings.criteria:
        if c.kind is not CriterionKind.OBJECTIVE:
            continue
        for bid in valid:
            decision = decisions.get((bid.id, c.code))
            if decision is None or decision.value is None:
                raise ScoringRefused(
                    f"{c.code} on {bid.bidder_name}: no majority of the members' votes yet",
                    field="votes",
                    rule="objective_undecided",
                )
            decided.setdefault(c.code, {})[str(bid.id)] = decision.value
    return decided


def _record(  # noqa: PLR0917 - one call site, every input named by its type
    evaluation: Evaluation,
    settings: MethodSettings,
    computed: MethodResult,
    bids: list[OpenedBid],
    reasons: Mapping[uuid.UUID, str],
    scores: Mapping[str, Mapping[str, Mapping[str, Decimal]]],
    decided: Mapping[str, Mapping[str, Decimal]],
    now: datetime,
) -> dict[str, Any]:
    rows = {row.key: row for row in computed.rows}
    ranks = {r.key: r.rank for r in computed.ranking.order}
    weights = {c.code: c.weight for c in settings.criteria}
    price_codes = [c.code for c in settings.criteria if c.kind is CriterionKind.PRICE]
    out = []
    for bid in bids:
        key = str(bid.id)
        row = rows.get(key)
        valid = bid.id not in reasons
        by_member: dict[str, str] = {}
        if valid and row is not None:
            shared = sum(
                (v for code, v in row.components.items() if code in price_codes or code in decided), Decimal(0)
            )
            for member, sheet in scores.items():
                own = sum(
                    (round_score(points * weights[code]) for code, points in sheet.get(key, {}).items()), Decimal(0)
                )
                by_member[member] = str(shared + own)
        out.append(
            {
                "opening_bid_id": key,
                "bidder_name": bid.bidder_name,
                "bidder_uscc": bid.bidder_uscc,
                "price": None if bid.price is None else str(bid.price),
                "valid": valid,
                "invalid_reason": reasons.get(bid.id, ""),
                "total": None if row is None or row.total is None else str(row.total),
                "rank": ranks.get(key),
                "by_member": by_member,
                "by_criterion": {} if row is None else {k: str(v) for k, v in row.components.items()},
            }
        )
    out.sort(key=lambda b: (b["rank"] is None, b["rank"] or 0, b["bidder_name"]))
    if settings.method is MethodCode.SEPARATION:
        return _unranked(evaluation, settings, computed, out, now)
    return {
        "method": computed.method.code.value,
        "method_version": computed.method.version,
        "defaults_version": computed.defaults_version,
        "computed_at": now.isoformat(),
        "bids": out,
        "candidates": list(computed.ranking.candidates),
        "recommended": [],
        "flags": [{"code": f.code, "rule": f.rule} for f in computed.ranking.flags],
        "evaluation_id": str(evaluation.id),
    }


def _unranked(
    evaluation: Evaluation,
    settings: MethodSettings,
    computed: MethodResult,
    rows: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """评定分离's result: ``recommended`` holds the recommended bids sorted by id, with no ranks;
    ``candidates`` stays empty (the tenderer decides by its 定标 rules). Each bid keeps the
    committee's scores for the report, but no rank.
    """
    recommendation = separation.recommend(settings, computed)
    for row in rows:
        row["rank"] = None
    rows.sort(key=lambda b: (not b["valid"], b["bidder_name"]))
    return {
        "method": recommendation.method.code.value,
        "method_version": recommendation.method.version,
        "defaults_version": recommendation.defaults_version,
        "source_method": recommendation.source.code.value,
        "source_method_version": recommendation.source.version,
        "computed_at": now.isoformat(),
        "bids": rows,
        "candidates": [],
        "recommended": list(recommendation.candidates),
        "ranked": False,
        "flags": [{"code": f.code, "rule": f.rule} for f in recommendation.flags],
        "evaluation_id": str(evaluation.id),
    }
