"""Status changes pushed to a guarantor's ``callback_url``, signed by the platform and retried with backoff.

An outbox the worker fills by scanning, not hooks in the core's service: the job ``guarantees.push_callbacks``
(`push_callbacks`, beat every 30 s) first records every event not yet in ``guarantees_callbacks`` for
guarantors that have a callback URL — an application reaching a status (``application.applied``,
``.paid``, ``.refused``, ``.issued``, ``.withdrawn``), a claim filed (``claim.filed``), a release requested
(``release.requested``) — keyed by ``event_key`` (unique, so an event is recorded once), then POSTs the
due ones. Body (JSON)::

    {"delivery_id": "…", "event": "application.paid", "occurred_at": "…", "application_no": "…",
     "guarantee_no": null, "claim_id": null}

signed with `httpsig.sign_callback` by the platform's record-signing key (``GGZY_CERTS_RECEIPT_P12``),
``Idempotency-Key`` = the delivery id (the same on every retry). A 2xx is delivered; anything else is
retried after 1 min, doubling, at most 6 h (as releases are). The callback only says *that* something
changed: the guarantor's system reads the facts through the signed API, so a lost or late callback
costs a poll, never a wrong state.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import httpx
import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from trading.guarantees import httpsig
from trading.guarantees.models import (
    Guarantee,
    GuaranteeApplication,
    GuaranteeClaim,
    GuaranteeRelease,
    Guarantor,
    GuarantorStatus,
)
from trading.kernel import clock
from trading.kernel.db.base import Base, UUIDPrimaryKey
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.parties.records import platform_identity

log = structlog.get_logger(__name__)

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
BATCH = 100
TIMEOUT = 10.0


class GuarantorCallback(UUIDPrimaryKey, Base):
    """One event to push to one guarantor (the id is the delivery id, its ``Idempotency-Key``)."""

    __tablename__ = "guarantees_callbacks"

    guarantor_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("guarantees_guarantors.id"), index=True)
    event_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    event: Mapped[str] = mapped_column(sa.String(40))
    body: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    """When the worker pushes it (again); None once delivered."""
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(sa.String(2000))


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` failed pushes: 1 min, 2, 4 … at most 6 h."""
    wait: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(wait, LONGEST_RETRY)


async def collect(session: AsyncSession, now: datetime) -> int:
    """Record the events not yet in the outbox for guarantors with a callback URL; how many were new."""
    guarantors = (
        await session.scalars(
            sa.select(Guarantor.id).where(
                Guarantor.callback_url.is_not(None), Guarantor.status == GuarantorStatus.ACTIVE
            )
        )
    ).all()
    if not guarantors:
        return 0
    events: list[tuple[uuid.UUID, str, str, dict[str, str | None]]] = []
    applications = await session.execute(
        sa.select(
            GuaranteeApplication.guarantor_id, GuaranteeApplication.application_no, GuaranteeApplication.status
        ).where(GuaranteeApplication.guarantor_id.in_(guarantors))
    )
    for guarantor_id, number, status in applications.all():
        events.append(
            (
                guarantor_id,
                f"application:{number}:{status.value}",
                f"application.{status.value}",
                {"application_no": number},
            )
        )
    claims = await session.execute(
        sa.select(Guarantee.guarantor_id, Guarantee.guarantee_no, GuaranteeClaim.id)
        .join(GuaranteeClaim, GuaranteeClaim.guarantee_id == Guarantee.id)
        .where(Guarantee.guarantor_id.in_(guarantors))
    )
    for guarantor_id, number, claim_id in claims.all():
        events.append(
            (guarantor_id, f"claim:{claim_id}", "claim.filed", {"guarantee_no": number, "claim_id": str(claim_id)})
        )
    releases = await session.execute(
        sa.select(Guarantee.guarantor_id, Guarantee.guarantee_no)
        .join(GuaranteeRelease, GuaranteeRelease.guarantee_id == Guarantee.id)
        .where(Guarantee.guarantor_id.in_(guarantors))
    )
    for guarantor_id, number in releases.all():
        events.append((guarantor_id, f"release:{number}", "release.requested", {"guarantee_no": number}))
    known = set(
        (
            await session.scalars(
                sa.select(GuarantorCallback.event_key).where(GuarantorCallback.guarantor_id.in_(guarantors))
            )
        ).all()
    )
    added = 0
    for guarantor_id, key, event, facts in events:
        if key in known:
            continue
        delivery = uuid.uuid4()
        body = {
            "delivery_id": str(delivery),
            "event": event,
            "occurred_at": now.isoformat(),
            "application_no": None,
            "guarantee_no": None,
            "claim_id": None,
            **facts,
        }
        session.add(
            GuarantorCallback(
                id=delivery,
                guarantor_id=guarantor_id,
                event_key=key,
                event=event,
                body=json.dumps(body, ensure_ascii=False, sort_keys=True),
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
        )
        added += 1
    await session.flush()
    return added


async def due(session: AsyncSession, now: datetime, limit: int = BATCH) -> Sequence[tuple[GuarantorCallback, str]]:
    rows = await session.execute(
        sa.select(GuarantorCallback, Guarantor.callback_url)
        .join(Guarantor, Guarantor.id == GuarantorCallback.guarantor_id)
        .where(GuarantorCallback.next_attempt_at.is_not(None), GuarantorCallback.next_attempt_at <= now)
        .order_by(GuarantorCallback.created_at)
        .limit(limit)
        .with_for_update(of=GuarantorCallback, skip_locked=True)
    )
    return [(row, url) for row, url in rows.all() if url]


async def deliver(session: AsyncSession, settings: Settings, http: httpx.AsyncClient, now: datetime) -> tuple[int, int]:
    """Push the due callbacks; (delivered, failed)."""
    identity = platform_identity(settings)
    delivered = failed = 0
    for row, url in await due(session, now):
        body = row.body.encode()
        headers = httpsig.sign_callback(
            url=url,
            headers={"Content-Type": "application/json", "Idempotency-Key": str(row.id)},
            body=body,
            key=identity.signer,
            certificate=identity.certificate,
            now=now,
        )
        error: str | None = None
        try:
            response = await http.post(url, content=body, headers=headers, timeout=TIMEOUT)
            if not response.is_success:
                error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
        if error is None:
            row.delivered_at, row.next_attempt_at, row.last_error = now, None, None
            delivered += 1
        else:
            row.attempts += 1
            row.next_attempt_at = now + backoff(row.attempts)
            row.last_error = error
            failed += 1
            log.info("guarantees.callback_failed", delivery=str(row.id), kind=row.event, error=error)
    await session.flush()
    return delivered, failed


async def push_callbacks(session_maker: async_sessionmaker[AsyncSession], settings: Settings) -> dict[str, int]:
    """The job: collect new events, then push what is due (each in its own unit of work)."""
    async with transaction(session_maker) as session:
        added = await collect(session, await clock.now(session))
    async with transaction(session_maker) as session, httpx.AsyncClient() as http:
        delivered, failed = await deliver(session, settings, http, await clock.now(session))
    return {"recorded": added, "delivered": delivered, "failed": failed}
