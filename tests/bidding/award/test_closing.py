"""Closing a tender into its archive, on PostgreSQL: the sweep closes the award of a signed contract
(journal, ledger) and writes the tender's archive in the same unit of work; the archive verifies
offline and ends with the close; a second sweep changes nothing; an award not yet signed is not
closed; the public archive page (linked from the tender's page) says so before, lists the version
after and serves exactly the stored bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from io import BytesIO

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import closing, publicity
from bidding.award.archive import format as fmt
from bidding.award.archive.chainrule import decode_entry
from bidding.award.archive.checks import verify_archive
from bidding.award.jobs import AwardCloseDue, AwardDue
from bidding.award.models import Award
from bidding.award.states import AwardEvent, AwardState, transition
from bidding.models import Bid, BidVersion
from bidding.receipts import sign_receipt
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import (
    award_hook,
    award_of,
    confirm_winner,
    db_now,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    open_publicity,
    settings,
    signed_report,
    store,
)
from tests.bidding.evaluation.report.world import World
from tests.bidding.factories import ledger_entries, tenderee_party
from trading.kernel.auth.identity import Actor
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.service import chain_for

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]


async def _record(session_maker: async_sessionmaker[AsyncSession], award: Award, event: AwardEvent) -> None:
    """Stand-in for the notices' and the contract's own services (built beside this part): the step
    recorded through the state machine and the journal exactly as they record it.
    """
    async with transaction(session_maker, lock=True) as session:
        row = await session.get_one(Award, award.id)
        after = transition(publicity.position_of(row), event, row.sector, publicity.rules_of(row))
        await publicity.record_step(session, row, event, after, actor=Actor.system(), now=await db_now(session_maker))


async def _receipts_signed(session_maker: async_sessionmaker[AsyncSession], settings: Settings, world: World) -> None:
    """The report's world stores its bids' receipts unsigned (placeholders: the evaluation does not
    read them); the archive verifies every receipt, so they get real platform-signed ones here, as
    the intake signs them (`bidding.receipts.sign_receipt`).
    """
    async with transaction(session_maker, lock=True) as session:
        versions = await session.scalars(
            sa.select(BidVersion)
            .join(Bid, Bid.current_version_id == BidVersion.id)
            .where(Bid.tender_id == world.tender_id)
        )
        for version in versions:
            signed = await sign_receipt(
                session,
                settings,
                {"receiptNo": version.receipt_no, "bid": str(version.bid_id)},
                client_ip=None,
                at=version.received_at,
            )
            version.receipt, version.receipt_signature = signed.data, signed.signature


async def test_the_sweep_closes_a_signed_contract_into_a_verifiable_archive(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
    client: httpx.AsyncClient,
) -> None:
    del dev_lists
    owner = await tenderee_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    await _receipts_signed(session_maker, settings, world)
    archive_page = f"/bidding/tenders/{world.project_code}/archive"
    tender_page = await client.get(f"/bidding/tenders/{world.project_code}")
    assert f'href="{archive_page}" id="archive-link"' in tender_page.text
    before = await client.get(archive_page)
    assert before.status_code == 200
    assert 'id="archive-not-yet"' in before.text
    award = await award_of(session_maker, world)
    opened = await open_publicity(session_maker, settings, award, owner, owner)
    now = await db_now(session_maker)
    with use_clock(ShiftedClock(opened.closes_at - now)):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1
        await confirm_winner(session_maker, settings, award, owner, str(world.bids[0]))
        await _record(session_maker, award, AwardEvent.ISSUE_NOTICES)

        # Not signed yet: nothing to close.
        closer = AwardCloseDue(settings)
        assert (await run_sweep(session_maker, [closer])).total_changed == 0

        await _record(session_maker, award, AwardEvent.SIGN_CONTRACT)
        assert (await run_sweep(session_maker, [closer])).total_changed == 1
        assert (await run_sweep(session_maker, [closer])).total_changed == 0  # closed once

    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state is AwardState.CLOSED
        steps = [s.event for s in await publicity.steps_of(session, award.id)]
        assert steps[-2:] == [AwardEvent.SIGN_CONTRACT, AwardEvent.CLOSE]
        chain = chain_for(world.project_code)
        [closed] = await ledger_entries(session, chain, closing.CLOSED_ACTION)
        assert closed.summary["state"] == "closed"
        [version] = await closing.archives_of(session, world.project_code)
    assert version.version == 1
    archive = store.path(FileStore.key_for("archives", version.sha256)).read_bytes()
    assert hashlib.sha256(archive).hexdigest() == version.sha256

    # The public page lists it and serves exactly the stored bytes; nothing else by that path.
    listed = await client.get(archive_page)
    assert f'data-archive="{version.sha256}"' in listed.text
    downloaded = await client.get(f"{archive_page}/{version.sha256}.zip")
    assert downloaded.status_code == 200
    assert downloaded.content == archive
    assert (await client.get(f"{archive_page}/{'0' * 64}.zip")).status_code == 404
    assert (await client.get(f"{archive_page}/../manifest.json")).status_code == 404

    report = verify_archive(archive)
    assert report.ok, report.text()
    with zipfile.ZipFile(BytesIO(archive)) as bundle:
        manifest = json.loads(bundle.read(fmt.MANIFEST))
    kinds = {row["kind"] for row in manifest["files"]}
    assert fmt.OPENING_RECORD in kinds or fmt.EVALUATION_REPORT in kinds
    # The close is inside the archive: the project chain's entries include award.closed.
    project = next(c for c in manifest["ledger"]["chains"] if c["chain"] == f"project:{world.project_code}")
    with zipfile.ZipFile(BytesIO(archive)) as bundle:
        lines = [json.loads(line) for line in bundle.read(project["path"]).splitlines() if line.strip()]
    actions = [decode_entry(base64.b64decode(line["preimage"])).action for line in lines]
    assert closing.CLOSED_ACTION in actions
