"""The assistance run when the session enters ``qualification-review`` (registered by
`trading.server.wiring.register_evaluation_hooks` through `bidding.evaluation.session.hooks`).

It reads the tender's stored requirement set (none: nothing to do), each opened bidder's blocking
credit records in force at the deadline (`trading.credit`), and hands them to the scoring part's
`assist`, which writes each advisory finding once (so entering again, or a second run, adds
nothing). Advisory only: no score, review or state changes here.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.assistance.checks import CreditFact
from bidding.evaluation.models import Evaluation, Finding
from bidding.evaluation.requirementset.service import stored
from bidding.evaluation.scoring.assisting import assist
from bidding.evaluation.scoring.documents import PackageSource
from bidding.evaluation.scoring.repository import ScoringRepository
from trading.credit.repository import CreditRepository
from trading.kernel.storage import Store


async def credit_facts(session: AsyncSession, usccs: list[str], at: object) -> dict[str, list[CreditFact]]:
    """Each bidder's blocking credit records in force at ``at`` (the deadline), as `CreditFact`s."""
    repo = CreditRepository(session)
    out: dict[str, list[CreditFact]] = {}
    for uscc in usccs:
        rows = await repo.in_force(uscc, at)  # type: ignore[arg-type]
        out[uscc] = [
            CreditFact(
                kind=row.kind.value,
                scope=tuple(row.scope),
                reason=row.reason,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
                issuing_body=row.issuing_body,
                decision_no=row.decision_no,
            )
            for row in rows
        ]
    return out


async def assist_evaluation(
    session: AsyncSession, evaluation: Evaluation, *, store: Store, source: PackageSource
) -> list[Finding]:
    """Run the assistance over the evaluation's opened bids against the tender's requirement set."""
    published = await stored(session, evaluation.tender_id)
    if published is None:
        return []
    requirements = published.requirements
    bids = await ScoringRepository(session).bids(evaluation)
    usccs = sorted({b.bidder_uscc for b in bids if b.package_opened})
    credit = await credit_facts(session, usccs, requirements.deadline)
    return await assist(session, evaluation, requirements, store=store, source=source, credit=credit)
