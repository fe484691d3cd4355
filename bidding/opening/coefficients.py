"""The public draw of the tender's random coefficients (浮动系数, K) in the opening hall (抽取系数).

1. **Commitment**, when the opening starts (`commit`, in the deadline sweep's transaction, before
   any price is known): one fresh seed per coefficient (`trading.kernel.draws.new_secret`), kept on
   the row and shown to nobody; its SHA-256 is published in the hall, the ledger
   (``bidding.opening_coefficients_committed``) and the live stream.
2. **Draw**, by the host in the stage 抽取系数 (`Stage.COEFFICIENT_DRAW`, after 唱标 and before
   确认; only for tenders with coefficients): each seed is revealed and its value derived
   (`bidding.coefficients.derive`: ``low + step·i``, ``i`` by `trading.kernel.draws.draw_index`),
   recorded on the row and in the ledger (``bidding.opening_coefficient_drawn``, with the seed),
   and published. Anyone recomputes it from the seed (`bidding.coefficients.verify`, or
   ``ggzy bid coefficients`` with the standard library only). The host may move on to 确认 only
   once every coefficient is drawn (rule ``coefficients-drawn``).

The evaluation reads the drawn values through `drawn_values` (plugged in by ``trading.server``: the
evaluation may not import the opening).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bidding import coefficients
from bidding.models import Tender
from bidding.opening import repository
from bidding.opening.events import publish_after_commit
from bidding.opening.models import CoefficientDraw, OpeningSession
from trading.kernel import draws
from trading.kernel.auth.identity import Actor
from trading.ledger.service import append_entry


def spec_of(row: CoefficientDraw) -> coefficients.CoefficientSpec:
    return coefficients.CoefficientSpec(row.name, Decimal(row.low), Decimal(row.high), Decimal(row.step))


async def commit(
    session: AsyncSession, opening: OpeningSession, tender: Tender, now: datetime
) -> list[CoefficientDraw]:
    """One committed seed per coefficient the tender needs (none: nothing happens)."""
    found = coefficients.specs(tender.evaluation_criteria)
    rows = []
    for spec in found:
        seed = draws.new_secret()
        row = CoefficientDraw(
            session_id=opening.id,
            name=spec.name,
            low=str(spec.low),
            high=str(spec.high),
            step=str(spec.step),
            seed_commitment=draws.commitment(seed),
            committed_at=now,
            seed=seed,
        )
        session.add(row)
        rows.append(row)
    if not rows:
        return rows
    await session.flush()
    commitments = {row.name: row.seed_commitment for row in rows}
    await append_entry(
        session,
        actor=Actor.system(),
        action="bidding.opening_coefficients_committed",
        subject_type="bidding.opening",
        subject_id=str(opening.id),
        summary={"commitments": commitments},
        data={"coefficients": [public(row, tender.project_code) for row in rows], "scheme": coefficients.DOMAIN},
        project_code=tender.project_code,
    )
    publish_after_commit(
        session, tender.project_code, {"type": "coefficients-committed", "state": opening.stage.value, "at": now}
    )
    return rows


async def draw_all(
    session: AsyncSession, opening: OpeningSession, tender: Tender, *, now: datetime, actor: Actor
) -> list[CoefficientDraw]:
    """Reveal each seed not drawn yet and record its value; the rows, every one drawn."""
    rows = await repository.coefficient_draws(session, opening.id, lock=True)
    for row in rows:
        if row.drawn_at is not None:
            continue
        if row.seed is None:  # pragma: no cover - committed with its seed
            msg = f"coefficient {row.name} has no seed"
            raise RuntimeError(msg)
        value = coefficients.derive(row.seed, tender.project_code, spec_of(row))
        row.value = str(value)
        row.drawn_at = now
        row.drawn_by = actor.user_id
        await session.flush()
        await append_entry(
            session,
            actor=actor,
            action="bidding.opening_coefficient_drawn",
            subject_type="bidding.opening",
            subject_id=str(opening.id),
            summary={"name": row.name, "value": row.value, "seedCommitment": row.seed_commitment},
            data=public(row, tender.project_code),
            project_code=tender.project_code,
        )
    publish_after_commit(
        session, tender.project_code, {"type": "coefficients-drawn", "state": opening.stage.value, "at": now}
    )
    return rows


def public(row: CoefficientDraw, tender_code: str) -> dict[str, Any]:
    """What everyone sees of a draw: the range, the commitment; after the draw the seed and value."""
    drawn = row.drawn_at is not None
    return {
        "name": row.name,
        "low": row.low,
        "high": row.high,
        "step": row.step,
        "purpose": coefficients.purpose(tender_code, row.name),
        "seedCommitment": row.seed_commitment,
        "committedAt": row.committed_at.isoformat(),
        "seed": row.seed if drawn else None,
        "value": row.value if drawn else None,
        "drawnAt": row.drawn_at.isoformat() if row.drawn_at else None,
    }


async def public_draws(session: AsyncSession, opening: OpeningSession, tender_code: str) -> list[dict[str, Any]]:
    return [public(row, tender_code) for row in await repository.coefficient_draws(session, opening.id)]


async def drawn_values(session: AsyncSession, tender_id: uuid.UUID) -> dict[str, Decimal]:
    """The tender's drawn coefficients by name (only those drawn): what the evaluation's method reads
    (`bidding.evaluation.methods`' ``coefficients``). Empty when the tender has none or none is drawn.
    """
    return {
        row.name: Decimal(row.value)
        for row in await repository.coefficient_draws_of_tender(session, tender_id)
        if row.drawn_at is not None and row.value is not None
    }
