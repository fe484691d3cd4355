"""Bid intake asks ``trading.credit`` (issue 13 item 4): a bidder with a blacklist record in force
for bidding is refused when its upload starts, with the record's reason and period; a record out
of scope or run out does not block.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.transport import BidRejected
from bidding.models import BidUpload, BidVersion, Tender, UploadStatus
from certs.devpki.pki import DevPki
from tests.bidding.containers import bid_client, build
from tests.bidding.factories import Party, bidder_party, published_tender, tenderee_party
from tests.bidding.test_web import log_in
from tests.trading.credit.factories import record
from trading.credit.models import Activity, CreditRecord
from trading.credit.service import DISPLAY_TZ
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")
BODY = {"size": 1024, "sha256": hashlib.sha256(b"x").hexdigest()}


@pytest.fixture
async def bidder(session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki) -> Party:
    return await bidder_party(session_maker, settings, dev_pki)


@pytest.fixture
async def tender(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore, dev_pki: DevPki
) -> Tender:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    return await published_tender(session_maker, settings, store, owner, title="某市政道路工程施工招标")


async def _record(
    session_maker: async_sessionmaker[AsyncSession], bidder: Party, *, ago: timedelta, **kwargs: object
) -> CreditRecord:
    async with session_maker() as session:
        now: datetime = await clock.now(session)
        row = await record(session, bidder.organisation_id, now - ago, **kwargs)  # type: ignore[arg-type]
        await session.commit()
    return row


async def _uploads(session_maker: async_sessionmaker[AsyncSession], bidder: Party) -> int:
    async with session_maker() as session:
        count = await session.scalar(
            select(func.count()).select_from(BidUpload).where(BidUpload.organisation_id == bidder.organisation_id)
        )
    return int(count or 0)


async def test_a_blacklisted_bidder_is_refused_with_the_reason_and_period(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], tender: Tender, bidder: Party
) -> None:
    row = await _record(session_maker, bidder, ago=timedelta(days=30))
    assert row.valid_until is not None
    response = await client.post(
        f"/api/v1/bidding/tenders/{tender.project_code}/lots/L1/uploads",
        json=BODY,
        headers=await bidder.headers(client),
    )
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "urn:ggzy:error:credit_ineligible"
    assert problem["errors"][0]["rule"] == "credit-blacklisted"
    until = row.valid_until.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
    start = row.valid_from.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
    assert "提供虚假材料骗取中标" in problem["detail"]
    assert f"from {start} until {until} UTC+08:00" in problem["detail"]
    assert problem["records"][0]["reason"] == "提供虚假材料骗取中标"
    assert problem["records"][0]["decision_no"] == "宁建罚〔2026〕17号"
    assert await _uploads(session_maker, bidder) == 0  # refused before anything was kept


async def test_the_bidders_page_shows_the_refusal_in_chinese(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], tender: Tender, bidder: Party
) -> None:
    await _record(session_maker, bidder, ago=timedelta(days=1))
    token = await log_in(client, bidder)
    response = await client.post(
        f"/bidding/tenders/{tender.project_code}/lots/L1/uploads",
        content=json.dumps(BODY),
        headers={"x-csrftoken": token, "content-type": "application/json"},
    )
    assert response.status_code == 403, response.text
    refusal = response.json()
    assert refusal["rule"] == "credit-blacklisted"
    assert refusal["text"] == "贵单位被列入尚在有效期内的黑名单，不得参加投标。"
    assert "提供虚假材料骗取中标" in refusal["message"]


async def test_out_of_scope_or_run_out_records_do_not_block(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], tender: Tender, bidder: Party
) -> None:
    await _record(session_maker, bidder, ago=timedelta(days=1), scope=(Activity.GOVERNMENT_PROCUREMENT,))
    await _record(session_maker, bidder, ago=timedelta(days=400), days=30)
    await _record(session_maker, bidder, ago=timedelta(days=1), scope=(Activity.INTERMEDIARY_SERVICES,))
    response = await client.post(
        f"/api/v1/bidding/tenders/{tender.project_code}/lots/L1/uploads",
        json=BODY,
        headers=await bidder.headers(client),
    )
    assert response.status_code == 201, response.text
    assert await _uploads(session_maker, bidder) == 1


async def test_a_bidder_barred_after_the_upload_started_gets_no_receipt(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    store: FileStore,
    tender: Tender,
    bidder: Party,
    tmp_path: Path,
) -> None:
    """An upload lives for hours: the credit question is asked again when the bid is accepted."""
    assert tender.deadline is not None
    bids = await bid_client(client, bidder)
    built = await build(tmp_path / "bid", bidder, tender=tender.project_code, lot="L1", deadline=tender.deadline)
    state = await bids.start_upload(tender.project_code, "L1", size=built.size, sha256=built.sha256)
    patch = await client.patch(
        f"/api/v1/bidding/uploads/{state.id}",
        content=built.path.read_bytes(),
        headers={**await bidder.headers(client), "Upload-Offset": "0"},
    )
    assert patch.status_code == 204, patch.text
    await _record(session_maker, bidder, ago=timedelta(minutes=1))  # listed while the bytes were sent

    with pytest.raises(BidRejected) as refused:
        await bids.submit(state.id)
    assert (refused.value.status, refused.value.rule) == (403, "credit-blacklisted")
    async with session_maker() as session:
        upload = await session.get_one(BidUpload, state.id)
        versions = await session.scalar(
            select(func.count()).select_from(BidVersion).where(BidVersion.upload_id == state.id)
        )
    assert versions == 0  # nothing accepted
    assert upload.status is UploadStatus.REFUSED  # kept as a refusal, not left receiving
    assert upload.refusal is not None
    assert upload.refusal["rule"] == "credit-blacklisted"
    assert not store.incoming_path(state.id).exists()  # the bytes are gone, none were promoted
