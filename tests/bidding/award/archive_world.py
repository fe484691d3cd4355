"""A tender taken through the opening hall to its signed record, for the archive tests: three
sealed bids, sign-in, decryption, the price reading, confirmation, close, and the platform-signed
opening record (开标记录) rendered by its job."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.hall import decrypt_bid
from bidding.opening.record import publish_record
from certs.devpki.pki import DevPki
from tests.bidding.opening.hall_support import ThreeBids, host_transition, sign_in_hall, three_bids_at_sign_in
from tests.trading.kernel.test_pdf import warm_renderer
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore


async def closed_opening(  # noqa: PLR0917 - the fixtures it needs
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> ThreeBids:
    setup = await three_bids_at_sign_in(
        client=client, session_maker=session_maker, settings=settings, store=store, dev_pki=dev_pki, tmp_path=tmp_path
    )
    with clock.use_clock(setup.shifted):
        for name in "ABC":
            await sign_in_hall(setup.clients[name], setup.code, setup.bidders[name])
        assert (await host_transition(client, setup, "decryption")).status_code == 200
        for name, bidder in setup.bidders.items():
            assert bidder.encrypt is not None
            await decrypt_bid(setup.clients[name], setup.code, "L1", bidder.uscc, bidder.encrypt.key)  # type: ignore[arg-type]
        moved = await host_transition(client, setup, "confirmation")
        assert moved.status_code == 200, moved.text
        setup.shifted.advance(timedelta(minutes=31))  # the minimum confirmation window
        moved = await host_transition(client, setup, "closed")
        assert moved.status_code == 200, moved.text
        warm_renderer()
        assert await publish_record(session_maker, settings, store, setup.code) is not None
    return setup
