"""What the opening tests share: five bidders' prices, sealing a bid, signing in, refusals, the
ledger's actions, and an opening in sign-in with three bids under a shifted clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.sdk import (
    BuiltBid,
    PriceSummary,
    build_container_async,
)
from bidding.client.transport import (
    BidClient,
    BidRejected,
    sign_in_signed,
)
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.opening.record import record_data
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client
from tests.bidding.factories import Party, bidder_party, published_tender, tenderee_party
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.models import LedgerEntry

PRICES = {"A": "1180000.00", "B": "1095000.50", "C": "1230000.00", "D": "990000.00", "E": "1150000.00"}


async def seal_bid(
    directory: Path,
    bidder: Party,
    *,
    code: str,
    deadline: Any,
    price: str,
    holders: list[Party],
    backup_dir: Path | None = None,
) -> BuiltBid:
    directory.mkdir(parents=True, exist_ok=True)
    document = directory / "技术标.txt"
    document.write_bytes(f"技术标 {bidder.name}\n".encode() * 100)
    assert bidder.encrypt is not None
    return await build_container_async(
        directory / "bid.zip",
        tender=code,
        lot="L1",
        bidder_uscc=bidder.uscc,
        deadline=deadline,
        files=[document],
        price_summary=PriceSummary(
            tender=code, lot="L1", bidder=bidder.uscc, total_price=Decimal(price), duration_days=180
        ),
        guarantee={"form": "cash", "reference": ""},
        signer=bidder.sign.signing(),
        bidder_encryption=bidder.encrypt.certificate,
        key_holders=[h.encrypt.certificate for h in holders if h.encrypt is not None],
        threshold=3,
        backup_dir=backup_dir,
    )


async def sign_in_hall(bid_client_: BidClient, code: str, bidder: Party) -> Any:
    """签到 with the bidder's signature over the sign-in statement."""
    return await sign_in_signed(bid_client_, code, bidder.uscc, bidder.sign.signing())


async def refused_with(call: Any, rule: str, status: int | None = None) -> BidRejected:
    with pytest.raises(BidRejected) as refused:
        await call
    assert refused.value.rule == rule, refused.value
    if status is not None:
        assert refused.value.status == status
    return refused.value


async def ledger_actions(session: AsyncSession, code: str, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.chain == f"project:{code}", LedgerEntry.action.startswith(prefix))
        .order_by(LedgerEntry.seq)
    )
    return [(row.action, row.summary) for row in rows]


@dataclass
class ThreeBids:
    """An opening in sign-in with bidders A, B and C (A the cheapest), under a shifted clock."""

    code: str
    bidders: dict[str, Party]
    clients: dict[str, BidClient]
    host: dict[str, str]
    shifted: clock.ShiftedClock
    tenderee: Party
    """The host (no agency): for its pages."""


async def three_bids_at_sign_in(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> ThreeBids:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await published_tender(session_maker, settings, store, tenderee, lots=1)
    assert tender.deadline is not None
    code = tender.project_code
    bidders = {name: await bidder_party(session_maker, settings, dev_pki) for name in "ABC"}
    clients = {name: await bid_client(client, p) for name, p in bidders.items()}
    for name, bidder in bidders.items():
        built = await seal_bid(
            tmp_path / name,
            bidder,
            code=code,
            deadline=tender.deadline,
            price=PRICES[name],
            holders=[],
            backup_dir=tmp_path / name / "backup",
        )
        await clients[name].upload(code, "L1", built.path)
    async with session_maker() as session:
        shifted = clock.ShiftedClock(tender.deadline - await clock.now(session) + timedelta(seconds=1))
    with clock.use_clock(shifted):
        await run_sweep(session_maker, [TenderDeadline(store), OpeningClock()])
    return ThreeBids(code, bidders, clients, await tenderee.headers(client), shifted, tenderee)


async def db_now(session_maker: async_sessionmaker[AsyncSession]) -> datetime:
    async with session_maker() as session:
        return await clock.now(session)


async def host_transition(client: httpx.AsyncClient, setup: ThreeBids, action: str) -> httpx.Response:
    return await client.post(
        f"/api/v1/bidding/opening/{setup.code}/transitions", json={"action": action}, headers=setup.host
    )


async def read_record_data(session_maker: async_sessionmaker[AsyncSession], code: str) -> dict[str, Any]:
    async with session_maker() as session:
        return await record_data(session, code)
