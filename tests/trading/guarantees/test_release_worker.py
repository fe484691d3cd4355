"""The release of bid securities through a real Celery worker (issue 17 point 5): the award's event,
enqueued by name in a committed transaction, is run by a prefork worker (its own process and engine),
which releases the guarantee and tells every side. Fixtures are the worker test's.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.guarantees.factories import SYSTEM, issued
from tests.trading.server.test_celery_worker import _wait_for, app_side, worker, worker_env
from trading.guarantees import service
from trading.guarantees.models import Guarantee, GuaranteeRelease, GuaranteeStatus
from trading.guarantees.release_jobs import RELEASE_TASK
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.tasks import enqueue

pytestmark = pytest.mark.worker

__all__ = ["app_side", "worker", "worker_env"]


async def test_the_worker_releases_a_losers_guarantee_after_the_contract(
    app_side: async_sessionmaker[AsyncSession],
    worker: subprocess.Popen[bytes],
    settings: Settings,
    tmp_path: Path,
) -> None:
    bid_id = uuid.uuid4()  # the bid is bidding's row: the guarantees tables refer to it without a key
    async with transaction(app_side) as session:
        guarantee, _, bidder, _ = await issued(session, settings, tmp_path)
        await service.attach_to_bid(session, SYSTEM, guarantee.id, bid_id)
        enqueue(
            session,
            RELEASE_TASK,
            tender=guarantee.project_code,
            signed_at="2026-12-07T02:00:00+00:00",
            winner_organisation_id=str(uuid.uuid4()),
            notice_issued_at="2026-12-01T02:00:00+00:00",
            securities=[
                {
                    "bid_id": str(bid_id),
                    "organisation_id": str(bidder.id),
                    "lot": guarantee.lot_code,
                    "form": "guarantee",
                    "reference": guarantee.guarantee_no,
                    "amount": str(guarantee.amount),
                }
            ],
        )
        guarantee_id = guarantee.id

    async def released() -> bool:
        async with app_side() as session:
            return await session.scalar(select(Guarantee.status).where(Guarantee.id == guarantee_id)) is (
                GuaranteeStatus.RELEASED
            )

    assert await _wait_for(released), (tmp_path / "worker.log").read_text()
    async with app_side() as session:
        release = await session.scalar(select(GuaranteeRelease).where(GuaranteeRelease.guarantee_id == guarantee_id))
    assert release is not None
    assert release.reason.value == "not_awarded"
    assert worker.poll() is None
