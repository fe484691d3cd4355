"""The leave-one-out robust z of one expert's score against the rest of the panel (pure, stdlib only).

Shared by the evaluation's Art. 64(4) check — the prompt asking an expert for a reason
(``bidding.evaluation.scoring_checks.outliers``) — and the integrity screen EXPERT-DEVIATION
(``bidding.integrity.screens.experts``), so the expert is asked exactly when the screen would flag
them. It lives in bidding's core because the stage may not import integrity and the screens must stay
pure (no ``bidding.evaluation``, whose method modules reach ``trading``; import contracts).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

TWO = Decimal(2)


def median(values: Sequence[Decimal]) -> Decimal:
    """The median (mean of the two middle values for an even count), exact."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / TWO


def leave_one_out_z(
    score: Decimal, others: Sequence[Decimal], *, floor: Decimal, mad_scale: Decimal
) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
    """The robust z of ``score`` against the other experts' scores: (median, MAD, scale, z).

    z = (score − median(others)) / max(mad_scale · MAD(others), floor). The floor (a share of the
    criterion's maximum) keeps a panel whose other members all agree (MAD = 0) from turning any
    difference into an infinite z. None when there are no others or the scale is 0 (MAD = 0 and no
    floor): no z can be told then. Computed in the caller's decimal context.
    """
    if not others:
        return None
    centre = median(others)
    mad = median([abs(v - centre) for v in others])
    scale = max(mad_scale * mad, floor)
    if scale <= 0:
        return None
    return centre, mad, scale, (score - centre) / scale
