"""The screens plugged into the platform's moments (`screening.register_screener`; `plug_screeners`
is called where the server wires the integrity sinks): what runs when a tender's opening closes,
when an evaluation's scores are all in, and over the market.

Each screener reads (never writes) and returns findings; `jobs.run_screeners` records them as
alerts. Bidders are organisation ids everywhere (`sources`, `signals`, `evaluation_source`).
"""

from __future__ import annotations

import asyncio
import io
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Evaluation, ObjectiveVote
from bidding.evaluation.models import Score as EvaluationScore
from bidding.integrity import market_batch, sources
from bidding.integrity.evaluation_source import evaluation_panel, tender_panels
from bidding.integrity.models import IntegrityMarketState
from bidding.integrity.screening import (
    LotContext,
    LotScore,
    ScreenResult,
    Trigger,
    register_screener,
    screeners,
    unregister_screener,
)
from bidding.integrity.screens import evidence, experts, market, prices, similarity
from bidding.integrity.screens.extract import DocumentUnreadable, extract_text
from bidding.integrity.screens.model import Finding, LotBids, Scope
from bidding.integrity.screens.rules import RuleSet
from bidding.integrity.signals import lot_signals
from bidding.models import Lot, Tender, TenderDocument
from bidding.opening import repository as opening_repository
from bidding.opening.authoring import INNER_MANIFEST
from bidding.opening.models import READ_OUT, OpeningSession, PartStatus
from bidding.opening.service import OpeningService
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import open_store


async def lot_prices(session: AsyncSession, lot: LotContext, *, bids: LotBids | None = None) -> ScreenResult:
    """The price screens over the lot's read-out bids (``bids``: these instead), and its combined
    score for the charts.
    """
    if lot.tender_id is None or lot.lot_id is None:
        return ScreenResult()
    if bids is None:
        bids = await sources.opened_lot_bids(session, lot.tender_id, lot.lot_id)
    if bids is None:
        return ScreenResult()
    screening = prices.screen_prices(bids, lot.rules)
    values: dict[str, object] = dict(screening.values)
    values["contributions"] = dict(screening.contributions)
    if screening.not_screened:
        values["notScreened"] = screening.not_screened
    return ScreenResult(screening.findings, LotScore(screening.score, screening.flagged, values))


async def lot_evidence(session: AsyncSession, lot: LotContext) -> Sequence[Finding]:
    """Hard evidence (铁证) from what was captured with the lot's bids."""
    if lot.tender_id is None:
        return ()
    signals = await lot_signals(session, lot.tender_id, lot.lot)
    return evidence.screen_evidence(lot.ocid, lot.lot, signals, lot.rules)


async def evaluation_behaviour(session: AsyncSession, lot: LotContext) -> Sequence[Finding]:
    """The experts' scoring of one evaluation against their panel."""
    if lot.evaluation_id is None:
        return ()
    panel = await evaluation_panel(session, lot.evaluation_id)
    return experts.screen_panel(panel, lot.rules)


async def award_prices(session: AsyncSession, lot: LotContext) -> ScreenResult:
    """At the award (``lot.award_id``): the price screens again with the winner known. Only the
    rules that read the winner (`prices.WINNER_RULES`: PRICE-CEILING) are raised, so the opening's
    alerts are never raised twice (nor again under a rule version changed since); the lot's
    combined score is recorded anew, the winner's rules counted in it.
    """
    if lot.tender_id is None or lot.lot_id is None or lot.award_id is None:
        return ScreenResult()
    winner = (await sources.lot_winners(session, award_id=lot.award_id)).get(lot.lot_id)
    bids = await sources.opened_lot_bids(session, lot.tender_id, lot.lot_id)
    if winner is None or bids is None or not bids.bids:
        return ScreenResult()
    result = await lot_prices(session, lot, bids=_with_winner(bids, winner))
    return replace(result, findings=tuple(f for f in result.findings if f.rule in prices.WINNER_RULES))


async def market_lots(session: AsyncSession) -> list[LotBids]:
    """Every opened lot of the platform with its read-out bids and, once awarded, its winner."""
    winners = await sources.lot_winners(session)
    found: list[LotBids] = []
    for tender_id in (await session.scalars(sa.select(OpeningSession.tender_id))).all():
        for lot_id, bids in (await sources.opened_lots(session, tender_id)).items():
            if bids.bids:
                winner = winners.get(lot_id)
                found.append(bids if winner is None else _with_winner(bids, winner))
    return found


def _with_winner(bids: LotBids, winner: str) -> LotBids:
    return replace(bids, winner=winner) if any(b.bidder == winner for b in bids.bids) else bids


MARKET = "platform"
"""The one market the platform keeps a state for (`IntegrityMarketState.name`)."""


async def market_behaviour(session: AsyncSession, lot: LotContext) -> Sequence[Finding]:
    """The market screens. In the daily batch (``ocid`` "market") the state is rebuilt from every
    opened lot with its winner, kept, and screened, with the experts' history (favouritism,
    leniency); at a lot's opening the kept state takes the new lot and the findings about its
    bidders are raised at once (the next batch puts the winners in).
    """
    if lot.ocid == "market":
        state = await market_state(session)
        await _keep(session, state)
        findings = with_networks(state.findings(lot.rules), state, lot.rules)
        history = [
            panel for tender_id in await scored_tenders(session) for panel in await tender_panels(session, tender_id)
        ]
        return [*findings, *experts.screen_history(history, lot.rules)]
    kept = await session.get(IntegrityMarketState, MARKET, with_for_update=True)
    if kept is None or lot.tender_id is None or lot.lot_id is None:
        return ()  # no batch has run yet: the first one builds the market from every opened lot
    bids = await sources.opened_lot_bids(session, lot.tender_id, lot.lot_id)
    if bids is None or not bids.bids:
        return ()
    state = kept_state(kept)
    state.add_lot(bids)  # the same lot again replaces itself (a re-run screening adds nothing)
    await _keep(session, state)
    bidders = {bid.bidder for bid in bids.bids}
    return [
        with_network(finding, state, lot.rules)
        for finding in state.findings(lot.rules)
        if bidders & set(finding.subjects)
    ]


async def market_state(session: AsyncSession) -> market.MarketState:
    """The market rebuilt from every opened lot with its winner: on PostgreSQL in one streamed
    read folded with NumPy (`market_batch.read_market`), elsewhere lot by lot (`market_lots`).
    Both give the same state (``tests/bidding/integrity/test_market_batch.py``).
    """
    if session.get_bind().dialect.name == "postgresql":
        return (await market_batch.read_market(session)).state
    state = market.MarketState()
    for opened in await market_lots(session):
        state.add_lot(opened)
    return state


async def scored_tenders(session: AsyncSession) -> list[uuid.UUID]:
    """The tenders with an evaluation someone scored or voted in: a panel without scores has no
    residuals, so the history screens (favouritism, leniency) would read it for nothing.
    """
    scored = sa.union(sa.select(EvaluationScore.evaluation_id), sa.select(ObjectiveVote.evaluation_id)).subquery()
    query = sa.select(Evaluation.tender_id).distinct().where(Evaluation.id.in_(sa.select(scored.c.evaluation_id)))
    return list((await session.scalars(query)).all())


def kept_state(kept: IntegrityMarketState) -> market.MarketState:
    """The kept state: its binary form, else (a row kept before migration 0053) its JSON."""
    if kept.data is not None:
        return market.MarketState.from_bytes(kept.data)
    return market.MarketState.from_json(kept.state or "")


# PostgreSQL compresses the kept state (12 MB for 1.1 M bids) as it stores it: with its default
# pglz that took 0.3 s of every batch, lz4 takes 0.08 s for a value 4 % larger. The column keeps
# the server's default (no migration): the setting is changed around this one write, only on a
# server built with lz4, and put back at once (the rest of the transaction writes as before).
_FAST_COMPRESSION = sa.text("""
    SELECT current_setting('default_toast_compression'),
           set_config('default_toast_compression', 'lz4', true)
    FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)
""")
_RESTORE_COMPRESSION = sa.text("SELECT set_config('default_toast_compression', :previous, true)")


async def _keep(session: AsyncSession, state: market.MarketState) -> None:
    now = await clock.now(session)
    data = state.to_bytes()
    previous = None
    if session.get_bind().dialect.name == "postgresql":
        previous = (await session.execute(_FAST_COMPRESSION)).scalar()
    # One UPDATE with the bytes as its parameter: the kept row is not read back first (its old
    # state is megabytes); a session already holding the row sees the new values.
    changed = await session.execute(
        sa.update(IntegrityMarketState)
        .where(IntegrityMarketState.name == MARKET)
        .values(state=None, data=data, lots=state.lot_count, updated_at=now)
    )
    if not getattr(changed, "rowcount", 0):
        session.add(IntegrityMarketState(name=MARKET, state=None, data=data, lots=state.lot_count, updated_at=now))
    await session.flush()
    if previous is not None:
        await session.execute(_RESTORE_COMPRESSION, {"previous": previous})


class LotDocuments:
    """Document similarity between the lot's opened packages, the tender's own documents
    subtracted (template subtraction). Reads the packages as the evaluation does
    (`OpeningService.opened_package`: decrypted again with the content key kept at the opening)
    and the tender's published documents from the file store; text extraction runs in a thread.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = open_store(settings)

    async def __call__(self, session: AsyncSession, lot: LotContext) -> Sequence[Finding]:
        if lot.tender_id is None or lot.lot_id is None:
            return ()
        tender = await session.get(Tender, lot.tender_id)
        lot_row = await session.get(Lot, lot.lot_id)
        opening = await opening_repository.opening_of_tender(session, lot.tender_id)
        if tender is None or lot_row is None or opening is None:
            return ()
        rows = [
            row
            for row in await opening_repository.bid_rows(session, opening)
            if row.lot_id == lot_row.id and row.outcome in READ_OUT and row.package_status is PartStatus.OPENED
        ]
        if len(rows) < 2:  # noqa: PLR2004 - similarity compares pairs
            return ()
        # The opening reads the packages in its own sessions on the same database (the engine, or
        # in tests the connection: a savepoint there), as the evaluation's assistance does.
        maker = async_sessionmaker(bind=session.bind, expire_on_commit=False, join_transaction_mode="create_savepoint")
        hall = OpeningService(maker, self.settings, self.store).hall
        texts: dict[str, str] = {}
        for row in rows:
            package = await hall.opened_package(tender.project_code, lot_row.code, row.bidder_uscc)
            texts[str(row.organisation_id)] = await asyncio.to_thread(_package_text, package)
        documents = (
            await session.scalars(
                sa.select(TenderDocument).where(
                    TenderDocument.tender_id == tender.id, TenderDocument.published_at.is_not(None)
                )
            )
        ).all()
        template_parts = []
        for document in documents:
            data = await self.store.read_bytes(document.storage_key)
            template_parts.append(await asyncio.to_thread(_file_text, document.filename, data))
        return similarity.screen_documents(lot.ocid, lot.lot, "\n".join(template_parts), texts, lot.rules)


def _file_text(name: str, data: bytes) -> str:
    try:
        return extract_text(name, data)
    except DocumentUnreadable:
        return ""  # a file that is not text (drawings, scans) has nothing to compare


def _package_text(package: bytes) -> str:
    """The text of every readable file of an opened inner package (a ZIP with its manifest)."""
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        names = [info.filename for info in archive.infolist() if info.filename != INNER_MANIFEST]
        return "\n".join(_file_text(name, archive.read(name)) for name in names)


_NETWORK_RULES = frozenset({market.COBID_GROUP, market.ROTATION, market.SHARED_IDENTITY})


def with_networks(findings: Sequence[Finding], state: market.MarketState, rules: RuleSet) -> list[Finding]:
    """`with_network` over many findings, the groups and co-bids computed once for all of them."""
    wanted = [finding for finding in findings if finding.rule in _NETWORK_RULES]
    if not wanted:
        return list(findings)
    context = market.NetworkContext.of(state, rules, focus={name for f in wanted for name in f.subjects})
    return [
        replace(
            finding,
            evidence={
                **finding.evidence,
                "network": market.network_picture(state, focus=finding.subjects, rules=rules, context=context),
            },
        )
        if finding.rule in _NETWORK_RULES
        else finding
        for finding in findings
    ]


def with_network(finding: Finding, state: market.MarketState, rules: RuleSet) -> Finding:
    """A group's alert carries its co-bidding network around its members (the page draws it)."""
    if finding.rule not in _NETWORK_RULES:
        return finding
    picture = market.network_picture(state, focus=finding.subjects, rules=rules)
    return replace(finding, evidence={**finding.evidence, "network": picture})


def plug_screeners(settings: Settings | None = None) -> None:
    """Register the screens (idempotent): the opening's (prices, hard evidence and, on PostgreSQL,
    documents), the evaluation's, the market's and the award's (prices with the winner).
    """
    register_screener(Trigger.OPENING, Scope.LOT_PRICES, lot_prices, name="prices")
    register_screener(Trigger.OPENING, Scope.LOT_EVIDENCE, lot_evidence, name="evidence")
    # Documents: every package decrypted again and its text extracted (a PDF takes ~0.2 s) inside
    # the screening job's transaction. On SQLite that transaction holds the database's one write
    # lock, so the embedded mode leaves this screen out until the text is extracted once at
    # decryption and stored (bidding/integrity/AGENTS.md, known gaps).
    # The documents screen reads files where these settings keep them: the last app built wins
    # (one per process in production; tests build one per test).
    for registered in screeners(Trigger.OPENING):
        if registered.name == "documents":
            unregister_screener(registered.screener)
    if settings is not None and settings.db.url.startswith("postgresql"):
        register_screener(Trigger.OPENING, Scope.LOT_DOCUMENTS, LotDocuments(settings), name="documents")
    register_screener(Trigger.EVALUATION, Scope.EVALUATION, evaluation_behaviour, name="experts")
    register_screener(Trigger.MARKET, Scope.MARKET, market_behaviour, name="market")
    register_screener(Trigger.AWARD, Scope.LOT_PRICES, award_prices, name="award-prices")
