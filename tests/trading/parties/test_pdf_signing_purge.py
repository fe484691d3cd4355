"""In-page PDF signing requests do not pile up: beat deletes those expired for more than a day
(used or not), keeps the live ones and the recently expired, and a second run deletes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import create_account
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties.jobs import purge_pdf_signing_requests
from trading.parties.pdf_signing import PdfSigningRequest


def _request(user_id: object, now: datetime, *, expired_ago: timedelta, used: bool) -> PdfSigningRequest:
    expires_at = now - expired_ago
    return PdfSigningRequest(
        id=uuid7(),
        user_id=user_id,
        purpose="evaluation.report",
        subject_id="subject",
        field_name="Signature1",
        source_sha256="0" * 64,
        certificate=b"certificate",
        certificate_sha256="1" * 64,
        digest_algorithm="sha256",
        prepared_pdf=b"" if used else b"%PDF-1.7 prepared",
        byte_range=[0, 10, 20, 30],
        created_at=expires_at - timedelta(minutes=15),
        expires_at=expires_at,
        finished_at=expires_at - timedelta(minutes=1) if used else None,
    )


async def test_expired_requests_are_purged_and_live_ones_kept(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.EXPERT)
    async with session_maker() as session:
        now = await clock.now(session)
        rows = {
            "old unused": _request(account.user_id, now, expired_ago=timedelta(days=2), used=False),
            "old used": _request(account.user_id, now, expired_ago=timedelta(days=3), used=True),
            "just expired": _request(account.user_id, now, expired_ago=timedelta(hours=1), used=False),
            "live": _request(account.user_id, now, expired_ago=-timedelta(minutes=10), used=False),
        }
        session.add_all(rows.values())
        await session.commit()
        ids = {name: row.id for name, row in rows.items()}

    assert await purge_pdf_signing_requests(session_maker, keep=timedelta(days=1)) == 2
    assert await purge_pdf_signing_requests(session_maker, keep=timedelta(days=1)) == 0
    async with session_maker() as session:
        left = set(
            await session.scalars(sa.select(PdfSigningRequest.id).where(PdfSigningRequest.user_id == account.user_id))
        )
    assert left == {ids["just expired"], ids["live"]}


def test_the_purge_is_a_named_task_on_the_beat_schedule() -> None:
    from trading.server.celery_app import celery

    assert "parties.purge_pdf_signing_requests" in celery.tasks
    schedule = celery.conf.beat_schedule["parties.purge_pdf_signing_requests"]
    assert schedule["task"] == "parties.purge_pdf_signing_requests"
