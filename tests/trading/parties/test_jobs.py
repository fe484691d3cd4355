"""Membership expiry through the sweep: due memberships expire once, even with concurrent sweeps."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import create_account, ledger_entries
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.sweep import run_sweep
from trading.ledger.models import LedgerEntry
from trading.parties.jobs import MembershipExpiry
from trading.parties.models import Membership, MembershipStatus
from trading.parties.schemas import MembershipCreate
from trading.parties.service import PartiesService


async def _grant_expert_for_an_hour(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[Membership, Settings]:
    admin = await create_account(session_maker, settings, Role.ADMIN)
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    async with session_maker() as session:
        now = await clock.now(session)
        membership = await PartiesService(session, settings).grant_membership(
            MembershipCreate(
                user_id=bidder.user_id,
                organisation_id=admin.organisation_id,
                role=Role.EXPERT,
                valid_until=now + timedelta(hours=1),
            ),
            actor=Actor.system(),
        )
        await session.commit()
    return membership, settings


async def test_membership_expires_when_due_and_not_before(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    membership, _ = await _grant_expert_for_an_hour(session_maker, settings)
    handler = MembershipExpiry()
    with use_clock(ShiftedClock()) as shifted:
        assert (await run_sweep(session_maker, [handler])).total_changed == 0
        shifted.advance(timedelta(hours=1, seconds=1))
        assert (await run_sweep(session_maker, [handler])).changed == {handler.name: 1}
        assert (await run_sweep(session_maker, [handler])).total_changed == 0  # nothing left to do
    async with session_maker() as session:
        stored = await session.get(Membership, membership.id)
        assert stored is not None
        assert stored.status is MembershipStatus.EXPIRED
        assert stored.next_check is None
        assert stored.ended_at is not None
    expired = await ledger_entries(session_maker, action="parties.membership_expired", subject_id=membership.id)
    assert len(expired) == 1
    assert expired[0].actor_label == "system"


async def test_two_concurrent_sweeps_expire_a_membership_exactly_once(
    pg_databases: None, fresh_db: str, settings: Settings
) -> None:
    settings = settings.model_copy(update={"db": settings.db.model_copy(update={"url": fresh_db})})
    engines = [create_engine(fresh_db, pool_size=2) for _ in range(2)]
    try:
        makers = [create_session_maker(engine) for engine in engines]
        membership, _ = await _grant_expert_for_an_hour(makers[0], settings)
        handler = MembershipExpiry()
        with use_clock(ShiftedClock(timedelta(hours=2))):
            reports = await asyncio.gather(*(run_sweep(maker, [handler]) for maker in makers))
        assert sum(report.total_changed for report in reports) == 1
        assert all(not report.failed for report in reports)
        async with makers[1]() as session:
            stored = await session.get(Membership, membership.id)
            assert stored is not None
            assert stored.status is MembershipStatus.EXPIRED
            count = await session.scalar(
                select(func.count())
                .select_from(LedgerEntry)
                .where(
                    LedgerEntry.action == "parties.membership_expired",
                    LedgerEntry.subject_id == str(membership.id),
                )
            )
            assert count == 1
    finally:
        for engine in engines:
            await engine.dispose()


async def test_expired_membership_no_longer_grants_its_role(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    # The actor's roles come from memberships valid now, even before the sweep has run.
    from trading.parties.credentials import new_session_token
    from trading.parties.models import AuthSession, SessionKind
    from trading.parties.sessions import resolve_actor
    from trading.server.wiring import grants

    membership, _ = await _grant_expert_for_an_hour(session_maker, settings)
    token, hashed = new_session_token()
    async with session_maker() as session:
        now = await clock.now(session)
        session.add(
            AuthSession(
                token_hash=hashed,
                user_id=membership.user_id,
                kind=SessionKind.API,
                created_at=now,
                expires_at=now + timedelta(days=1),
                organisation_id=membership.organisation_id,
            )
        )
        await session.commit()
    async with session_maker() as session:
        actor = await resolve_actor(session, token, SessionKind.API, client_ip=None, grants=grants())
        assert actor is not None
        assert actor.roles == {Role.EXPERT}
        with use_clock(ShiftedClock(timedelta(hours=2))):
            later = await resolve_actor(session, token, SessionKind.API, client_ip=None, grants=grants())
        assert later is not None
        # The chosen organisation no longer fits: the actor falls back to the bidder membership.
        assert later.roles == {Role.BIDDER}
        with use_clock(ShiftedClock(timedelta(days=2))):
            assert await resolve_actor(session, token, SessionKind.API, client_ip=None, grants=grants()) is None
