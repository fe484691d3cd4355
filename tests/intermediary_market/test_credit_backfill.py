"""Listings decided before ``trading.credit`` existed still bar registration once the sweep's
backfill has run (registration reads only the shared records).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market import jobs
from intermediary_market.blacklist import credit_ref
from intermediary_market.errors import RegistrationRefused
from intermediary_market.models import Blacklisting, BlacklistStatus
from intermediary_market.selection import SelectionMethod
from intermediary_market.service import MarketService
from tests.intermediary_market.factories import (
    actor_in_new_organisation,
    announcement_form,
    publish_item,
    qualified_intermediary,
)
from trading.credit.models import CreditStatus
from trading.credit.repository import CreditRepository
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

GGZY = str(Path(sys.executable).parent / "ggzy")


async def _legacy_listing(session: AsyncSession, organisation_id: uuid.UUID, status: BlacklistStatus) -> Blacklisting:
    """A listing as the market stored it before the upgrade: no shared credit record."""
    now = await clock.now(session)
    row = Blacklisting(
        organisation_id=organisation_id,
        reason="提供虚假材料",
        status=status,
        noticed_at=now - timedelta(days=40),
        response_due=now - timedelta(days=30),
        decided_at=now - timedelta(days=20),
        effective_until=now + timedelta(days=60) if status is BlacklistStatus.EFFECTIVE else now - timedelta(days=1),
    )
    session.add(row)
    await session.flush()
    return row


async def test_a_listing_from_before_the_upgrade_bars_registration_after_the_backfill(
    session: AsyncSession, settings: Settings
) -> None:
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    barred = await qualified_intermediary(session, settings)
    assert barred.organisation_id is not None
    listing = await _legacy_listing(session, barred.organisation_id, BlacklistStatus.EFFECTIVE)
    expired = await _legacy_listing(session, barred.organisation_id, BlacklistStatus.EXPIRED)
    market = MarketService(session)
    announcement = await market.announce(await announcement_form(session, SelectionMethod.RANDOM), actor=owner)

    handler = jobs.BlacklistCreditBackfill()
    now = await clock.now(session)
    due = await handler.due(session, now, 100)
    assert {listing.id, expired.id} <= set(due)
    for key in due:
        assert await handler.run(session, key, now)
    assert not await handler.due(session, now, 100)  # idempotent: nothing is due a second time
    assert not await handler.run(session, listing.id, now)

    repo = CreditRepository(session)
    shared = await repo.by_ref(credit_ref(listing.id))
    old = await repo.by_ref(credit_ref(expired.id))
    assert shared is not None
    assert old is not None
    assert (shared.status, shared.valid_from, shared.valid_until) == (
        CreditStatus.EFFECTIVE,
        listing.decided_at,
        listing.effective_until,
    )
    assert old.status is CreditStatus.EXPIRED
    with pytest.raises(RegistrationRefused) as refused:
        await market.register(announcement.id, price=None, actor=barred)
    assert refused.value.rule == "blacklisted"
    assert "提供虚假材料" in refused.value.message  # the listing's reason, and its period
    assert "UTC+08:00" in refused.value.message


async def test_ggzy_credit_backfill_runs_idempotently(pg_databases: None, fresh_db: str, tmp_path: Path) -> None:
    env = {**os.environ, "GGZY_DB_URL": fresh_db, "GGZY_STORAGE_DIR": str(tmp_path / "files")}

    def backfill() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GGZY, "credit", "backfill"], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    for _ in range(2):
        done = await asyncio.to_thread(backfill)
        assert done.returncode == 0, done.stderr
        assert "published 0 listings" in done.stdout
