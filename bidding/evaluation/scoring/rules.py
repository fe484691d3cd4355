"""The scoring part's pure decisions: criteria, validity by the reviews' majority, the joint vote's
majority, and the canonical sheet. No database.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bidding.evaluation.methods.common import Criterion, CriterionKind
from bidding.evaluation.methods.serialise import settings_from_data
from bidding.evaluation.methods.settings import MethodSettings
from bidding.evaluation.models import Evaluation, ObjectiveVote, ReviewDecision, Score


def method_settings(evaluation: Evaluation) -> MethodSettings:
    return settings_from_data(evaluation.settings)


def criteria_of(settings: MethodSettings, kind: CriterionKind) -> tuple[Criterion, ...]:
    return tuple(c for c in settings.criteria if c.kind is kind)


def rejected_bids(reviews: Iterable[ReviewDecision], members: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Bid → why it was rejected: at a review stage (the bid as a whole, ``item`` empty, or a ★ item)
    a strict majority of the current members decided "fail" (87号令 Art. 61: the committee decides
    by majority). The reason is the failing members' reasons joined.
    """
    current = set(members)
    fails: dict[tuple[uuid.UUID, str, str], list[str]] = defaultdict(list)
    for decision in reviews:
        if decision.member_id in current and not decision.passed:
            fails[decision.opening_bid_id, decision.stage.value, decision.item].append(decision.reason)
    out: dict[uuid.UUID, str] = {}
    for (bid, stage, item), reasons in sorted(fails.items(), key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2])):
        if len(reasons) * 2 > len(current) and bid not in out:
            where = f"{stage}:{item}" if item else stage
            out[bid] = f"{where} — " + "；".join(sorted({r for r in reasons if r}))
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    """The committee's decision on one objective criterion of one bid."""

    value: Decimal | None
    """The strict-majority value of the current members' votes; None while there is none."""
    votes: int
    members: int


def majorities(votes: Iterable[ObjectiveVote], members: Sequence[uuid.UUID]) -> dict[tuple[uuid.UUID, str], Decision]:
    """(bid, criterion) → the joint decision: a value is decided when more than half of the current
    members voted it (87号令 Art. 61).
    """
    current = set(members)
    panels: dict[tuple[uuid.UUID, str], list[Decimal]] = defaultdict(list)
    for vote in votes:
        if vote.member_id in current:
            panels[vote.opening_bid_id, vote.criterion].append(vote.points)
    out = {}
    for key, values in panels.items():
        value, count = Counter(values).most_common(1)[0]
        out[key] = Decision(value if count * 2 > len(current) else None, len(values), len(current))
    return out


def canonical_sheet(
    evaluation_id: uuid.UUID,
    member_id: uuid.UUID,
    stage: str,
    *,
    scores: Sequence[Score] = (),
    votes: Sequence[ObjectiveVote] = (),
    reviews: Sequence[ReviewDecision] = (),
) -> bytes:
    """The sheet as submitted, canonical JSON (sorted keys, no spaces, decimals as strings)."""
    body: dict[str, Any] = {
        "format": "ggzy-evaluation-sheet/1",
        "evaluation": str(evaluation_id),
        "member": str(member_id),
        "stage": stage,
        "scores": sorted(
            ([str(s.opening_bid_id), s.criterion, str(s.points), s.comment] for s in scores), key=lambda r: r[:2]
        ),
        "votes": sorted(([str(v.opening_bid_id), v.criterion, str(v.points)] for v in votes), key=lambda r: r[:2]),
        "reviews": sorted(
            ([str(r.opening_bid_id), r.stage.value, r.item, r.passed, r.reason] for r in reviews),
            key=lambda r: (str(r[0]), str(r[1]), str(r[2])),
        ),
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sheet_sha256(sheet: bytes) -> str:
    return hashlib.sha256(sheet).hexdigest()
