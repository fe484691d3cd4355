"""Sealed chains: entries that would reveal who bid are hidden from every reader until unsealed,
yet chained and verified like every other entry."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.trading.ledger.factories import new_project_code, user_actor
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.ledger.errors import LedgerFieldInvalid
from trading.ledger.policies import LedgerPermission
from trading.ledger.repository import EntryFilter, LedgerRepository
from trading.ledger.service import append_entry, unseal_chain, verify_ledger


async def test_sealed_entries_are_hidden_until_the_chain_is_unsealed(session: AsyncSession) -> None:
    code = new_project_code()
    bidder = user_actor("bidder-a")
    supervisor = dataclasses.replace(
        user_actor("supervisor", roles=frozenset({Role.SUPERVISOR})),
        permissions=frozenset({LedgerPermission.ENTRY_READ}),
    )
    public = await append_entry(
        session, actor=bidder, action="tests.tender_published", subject_type="tender", subject_id="t", project_code=code
    )
    sealed = await append_entry(
        session,
        actor=bidder,
        action="tests.bid_submitted",
        subject_type="bid",
        subject_id="b",
        project_code=code,
        sealed=True,
    )
    assert public.chain == f"project:{code}"
    assert sealed.chain == f"sealed:{code}"
    assert sealed.project_code == code

    repository = LedgerRepository(session)
    before = await repository.list_entries(supervisor, EntryFilter(), limit=1000)
    assert public.id in {e.id for e in before}
    assert sealed.id not in {e.id for e in before}
    # Asking for the sealed chain by name does not get around it.
    by_chain = await repository.list_entries(supervisor, EntryFilter(chain=sealed.chain), limit=10)
    assert by_chain == []

    assert await unseal_chain(session, code, await clock.now(session)) is True
    assert await unseal_chain(session, code, await clock.now(session)) is False  # idempotent
    after = await repository.list_entries(supervisor, EntryFilter(chain=sealed.chain), limit=10)
    assert [e.id for e in after] == [sealed.id]


async def test_sealed_entries_are_verified_like_any_other(session: AsyncSession) -> None:
    code = new_project_code()
    await append_entry(
        session,
        actor=user_actor(),
        action="tests.bid_submitted",
        subject_type="bid",
        subject_id="b",
        project_code=code,
        sealed=True,
    )
    report = await verify_ledger(session, public_keys=[])
    assert f"sealed:{code}" in report.chains
    assert report.ok, report.problems


async def test_a_sealed_entry_needs_a_project(session: AsyncSession) -> None:
    with pytest.raises(LedgerFieldInvalid) as refused:
        await append_entry(
            session, actor=user_actor(), action="tests.bid_submitted", subject_type="bid", subject_id="b", sealed=True
        )
    assert refused.value.rule == "required"
