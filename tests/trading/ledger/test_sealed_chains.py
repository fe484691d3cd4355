"""Sealed chains: entries that would reveal who bid are hidden from every reader until unsealed,
yet chained and verified like every other entry."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.trading.ledger.factories import new_project_code, user_actor
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.ledger.errors import LedgerFieldInvalid
from trading.ledger.models import LedgerChainHead
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
    assert report.ok, report.problems
    assert report.sealed_chains_intact
    await unseal_chain(session, code, await clock.now(session))
    assert (await verify_ledger(session, public_keys=[])).chains[f"sealed:{code}"] == 1


async def _download(session: AsyncSession, code: str, bidder: str) -> None:
    await append_entry(
        session,
        actor=user_actor(bidder),
        action="tests.documents_downloaded",
        subject_type="tender",
        subject_id=code,
        project_code=code,
        sealed=True,
    )


async def test_verification_does_not_reveal_how_many_downloaded_before_the_deadline(session: AsyncSession) -> None:
    """Order 20 Art. 21 (issue 21 item 2): a sealed chain's length is not in the report (API, page,
    CLI all render it) before it is unsealed; each download must leave the report unchanged."""
    code = new_project_code()
    await _download(session, code, "bidder-a")
    first = (await verify_ledger(session, public_keys=[])).as_dict()
    await _download(session, code, "bidder-b")
    await _download(session, code, "bidder-c")
    second = (await verify_ledger(session, public_keys=[])).as_dict()
    for report in (first, second):
        assert report["ok"]
        assert report["sealed_chains_intact"]
        assert not any(chain.startswith("sealed:") for chain in report["chains"])
        assert code not in str(report)
    assert (first["entries"], first["bytes_hashed"], first["chains"]) == (
        second["entries"],
        second["bytes_hashed"],
        second["chains"],
    )
    # Once unsealed (the deadline), the chain is reported with its length.
    await unseal_chain(session, code, await clock.now(session))
    assert (await verify_ledger(session, public_keys=[])).chains[f"sealed:{code}"] == 3


async def test_a_broken_sealed_chain_is_reported_without_its_place(session: AsyncSession) -> None:
    """A damaged sealed chain still fails verification, named, but without seq, entry or size."""
    code = new_project_code()
    for bidder in ("bidder-a", "bidder-b"):
        await _download(session, code, bidder)
    # The head row (not append-only) is moved back: verification must catch it.
    await session.execute(update(LedgerChainHead).where(LedgerChainHead.chain == f"sealed:{code}").values(seq=1))
    report = await verify_ledger(session, public_keys=[])
    assert not report.ok
    assert not report.sealed_chains_intact
    withheld = [problem for problem in report.problems if problem.chain == f"sealed:{code}"]
    assert [(p.code, p.seq, p.entry_id) for p in withheld] == [("sealed_chain_broken", None, None)]
    assert "seq" not in withheld[0].message


async def test_a_sealed_entry_needs_a_project(session: AsyncSession) -> None:
    with pytest.raises(LedgerFieldInvalid) as refused:
        await append_entry(
            session, actor=user_actor(), action="tests.bid_submitted", subject_type="bid", subject_id="b", sealed=True
        )
    assert refused.value.rule == "required"
