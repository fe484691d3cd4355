"""The evaluation screens' input from ggzy's own tables: one evaluation → ``experts.Panel``.

Integrity reads the evaluation stage (never the reverse, import contract). What each field is:

- **experts**: the current members (not voided, confirmed or signed in); the subject is the pool's
  expert id (stable across tenders, so the history screens can follow one expert), else the member id
  (a tenderee's representative has no pool record).
- **bidders**: the bidding organisation's id, stable across tenders.
- **scores**: subjective scores (``evaluation_scores``) and objective votes
  (``evaluation_objective_votes``) of the current members, each **weighted** (Fᵢ × Aᵢ, maximum
  high × Aᵢ): the panel's totals are then the method's weighted totals, and neither the robust z nor
  the deviation rate nor the objective agreement changes under a common factor.
- **timing**: ``scored_at`` is the score's ``updated_at`` (the vote's ``voted_at``);
  ``first_opened_at`` the member's first recorded reading of that bid (``evaluation_document_reads``);
  ``edits`` the corrections through an Art. 64 finding (``resolved_at`` of a ``corrected`` finding).
- **reason**: the member's written justification of an Art. 64(4) outlier finding on that score
  (``evaluation_findings.justification``: the existing place the reason is kept, with the rule, the
  member, the bid, the criterion and the score in its evidence); no new column is needed.
- **signed_at**: the first signature of the report; **winner** and **fixed_points** (the price
  criteria's weighted points) from ``Evaluation.result`` once the result is computed.
- **pages**: the pages the bid's opened files state (``bidding_opening_bids.package_files``,
  recorded at the opening: `bidding.opening.authoring`), summed per bidder; a bid whose files state
  none (a package opened before the pages were recorded, files of other kinds) is skipped by the
  timing screen. A caller may pass its own counts instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.methods.common import CriterionKind
from bidding.evaluation.models import Evaluation, FindingSource, ReportSignature, Resolution
from bidding.evaluation.scoring.repository import ScoringRepository
from bidding.evaluation.scoring.rules import method_settings
from bidding.integrity.screens.experts import ExpertScore, Panel
from bidding.models import Tender
from bidding.opening.authoring import stated_pages
from bidding.opening.models import OpeningBid

OUTLIER_RULES = frozenset({"outlier_high", "outlier_low"})


class EvaluationNotFound(LookupError):
    def __init__(self, field: str, value: object) -> None:
        self.field = field
        super().__init__(f"{field} {value!r}: no such evaluation")


def _weighted(points: Decimal, weight: Decimal) -> float:
    return float(points * weight)


async def evaluation_panel(
    session: AsyncSession, evaluation_id: uuid.UUID, *, pages: Mapping[str, int] | None = None
) -> Panel:
    """The panel of one evaluation (module docstring); ``pages``: bidder organisation id → pages,
    instead of the pages the opened files state.
    """
    repo = ScoringRepository(session)
    evaluation = await repo.evaluation(evaluation_id)
    if evaluation is None:
        raise EvaluationNotFound("evaluation_id", evaluation_id)
    tender = await session.get_one(Tender, evaluation.tender_id)
    criteria = {c.code: c for c in method_settings(evaluation).criteria}
    members = {m.id: str(m.expert_id or m.id) for m in await repo.current_members(evaluation.id)}
    bidders = {b.id: str(b.organisation_id) for b in await repo.bids(evaluation)}

    opened: dict[tuple[uuid.UUID, uuid.UUID], datetime] = {}
    for read in await repo.reads(evaluation.id):
        key = (read.member_id, read.opening_bid_id)
        opened[key] = min(opened.get(key, read.read_at), read.read_at)
    edits: dict[tuple[uuid.UUID, uuid.UUID, str], list[datetime]] = {}
    reasons: dict[tuple[uuid.UUID, uuid.UUID, str], str] = {}
    for f in await repo.findings(evaluation.id, FindingSource.ART64):
        if f.member_id is None or f.opening_bid_id is None:
            continue
        key3 = (f.member_id, f.opening_bid_id, f.criterion)
        if f.resolution is Resolution.CORRECTED and f.resolved_at is not None:
            edits.setdefault(key3, []).append(f.resolved_at)
        if f.rule in OUTLIER_RULES and f.justification:
            reasons[key3] = f.justification

    rows: list[tuple[uuid.UUID, uuid.UUID, str, Decimal, datetime]] = [
        (s.member_id, s.opening_bid_id, s.criterion, s.points, s.updated_at) for s in await repo.scores(evaluation.id)
    ]
    votes = await repo.votes(evaluation.id)
    rows += [(v.member_id, v.opening_bid_id, v.criterion, v.points, v.voted_at) for v in votes]
    scores = []
    for member, bid, code, points, at in sorted(rows, key=lambda r: (str(r[0]), str(r[1]), r[2])):
        criterion = criteria.get(code)
        if member not in members or bid not in bidders or criterion is None or criterion.kind is CriterionKind.PRICE:
            continue  # a voided member, a bid off the lots, an unknown criterion: the Art. 64 checks' matter
        scores.append(
            ExpertScore(
                expert=members[member],
                bidder=bidders[bid],
                criterion=code,
                score=_weighted(points, criterion.weight),
                max_score=_weighted(criterion.high, criterion.weight),
                objective=criterion.kind is CriterionKind.OBJECTIVE,
                scored_at=at,
                first_opened_at=opened.get((member, bid)),
                edits=tuple(sorted(edits.get((member, bid, code), []))),
                reason=reasons.get((member, bid, code), ""),
            )
        )
    if pages is None:
        pages = await _recorded_pages(session, bidders)
    signed_at = await session.scalar(
        sa.select(sa.func.min(ReportSignature.at)).where(
            ReportSignature.evaluation_id == evaluation.id, ReportSignature.signed.is_(True)
        )
    )
    winner, fixed = _from_result(evaluation, bidders, {c for c, k in criteria.items() if k.kind is CriterionKind.PRICE})
    return Panel(
        ocid=tender.project_code,
        lot=None if evaluation.lot_group == "all" else evaluation.lot_group,
        scores=tuple(scores),
        signed_at=signed_at,
        pages=dict(pages or {}),
        winner=winner,
        fixed_points=fixed,
    )


async def _recorded_pages(session: AsyncSession, bidders: Mapping[uuid.UUID, str]) -> dict[str, int]:
    """Per bidder, the pages its opened files state (the bids of all the evaluation's lots)."""
    found: dict[str, int] = {}
    rows = await session.execute(
        sa.select(OpeningBid.id, OpeningBid.package_files).where(OpeningBid.id.in_(list(bidders)))
    )
    for opening_bid_id, listing in rows:
        if pages := stated_pages(listing):
            bidder = bidders[opening_bid_id]
            found[bidder] = found.get(bidder, 0) + pages
    return found


def _from_result(
    evaluation: Evaluation, bidders: Mapping[uuid.UUID, str], price_codes: set[str]
) -> tuple[str | None, dict[str, float]]:
    """The first candidate and each bid's price points, from the computed result (if any)."""
    result = evaluation.result or {}
    by_bid = {str(k): v for k, v in bidders.items()}
    candidates = [c for c in result.get("candidates", []) if c in by_bid]
    fixed = {}
    for row in result.get("bids", []):
        bidder = by_bid.get(str(row.get("opening_bid_id")))
        if bidder is not None:
            by_criterion = row.get("by_criterion", {})
            fixed[bidder] = sum(float(by_criterion[c]) for c in price_codes if c in by_criterion)
    return (by_bid[candidates[0]] if candidates else None), fixed


async def tender_panels(session: AsyncSession, tender_id: uuid.UUID) -> list[Panel]:
    """Every evaluation of a tender (one per lot group), oldest first."""
    ids = await session.scalars(
        sa.select(Evaluation.id).where(Evaluation.tender_id == tender_id).order_by(Evaluation.created_at)
    )
    return [await evaluation_panel(session, evaluation_id) for evaluation_id in ids]
