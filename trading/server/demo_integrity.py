"""Demo data for the integrity alerts: a simulated market screened as the platform screens its own.

The supervisor's alert list would be empty in a fresh demo (no tender has been opened and scored
yet), so the demo records the alerts of a small simulated market (``ggzy alerts simulate --seed
2026``: planted cartels of every kind beside honest lots) through the same service the screening
jobs use: price screens and lot scores per lot, hard evidence, document similarity, and the market
screens with their co-bidding network. Their ocids say they are simulated (``ocds-ggzysm-…``), and
they name no tender of the demo. Nothing twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.integrity import service
from bidding.integrity.models import IntegrityAlert
from bidding.integrity.screeners import with_network
from bidding.integrity.screens import evidence, market, prices, similarity
from bidding.integrity.screens.model import Scope
from bidding.integrity.simulator import simulate

DEMO_SEED = 2026
DEMO_LOTS = 60
MARKET_OCID = "market"


async def seed_demo_alerts(session: AsyncSession) -> list[str]:
    """The simulated market's alerts; lines for the start-up summary."""
    prefix = f"ocds-ggzysm-{DEMO_SEED}-%"
    if await session.scalar(sa.select(sa.func.count()).where(IntegrityAlert.ocid.like(prefix))):
        return []
    rules = await service.current_rules(session)
    simulated = simulate(DEMO_SEED, DEMO_LOTS)
    state = market.MarketState()
    raised = 0
    for item in simulated.simulated_lots():
        lot, ocid = item.bids.lot, item.bids.ocid
        screening = prices.screen_prices(item.bids, rules)
        raised += len(
            await service.record_findings(
                session, tender_id=None, ocid=ocid, lot=lot, scope=Scope.LOT_PRICES, findings=screening.findings
            )
        )
        await service.record_lot_screening(
            session,
            tender_id=None,
            ocid=ocid,
            lot=lot,
            scope=Scope.LOT_PRICES,
            score=screening.score,
            flagged=screening.flagged,
            values={**screening.values, "contributions": dict(screening.contributions)},
        )
        hard = evidence.screen_evidence(ocid, lot, item.signals, rules)
        texts = {signal.bidder: "\n".join(signal.texts) for signal in item.signals if signal.texts}
        documents = similarity.screen_documents(ocid, lot, item.tender_text, texts, rules) if len(texts) > 1 else []
        for scope, findings in ((Scope.LOT_EVIDENCE, hard), (Scope.LOT_DOCUMENTS, documents)):
            raised += len(
                await service.record_findings(
                    session, tender_id=None, ocid=ocid, lot=lot, scope=scope, findings=findings
                )
            )
        state.add_lot(item.bids, item.signals)
    groups = [with_network(finding, state, rules) for finding in state.findings(rules)]
    raised += len(
        await service.record_findings(
            session, tender_id=None, ocid=MARKET_OCID, lot=None, scope=Scope.MARKET, findings=groups
        )
    )
    return [f"  integrity alerts of a simulated market (seed {DEMO_SEED}, {DEMO_LOTS} lots): {raised}"]
