"""append_entry: chain linkage, what is stored (a digest, not the data), chains, validation."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.ledger.factories import append_many, new_project_code, user_actor
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.ledger import encoding
from trading.ledger.errors import LedgerDataNotCanonical, LedgerFieldInvalid
from trading.ledger.models import LedgerChainHead, LedgerEntry
from trading.ledger.service import append_entry, preimage_of


async def test_entries_are_hash_chained_from_genesis(session: AsyncSession) -> None:
    code = new_project_code()
    entries = await append_many(session, 3, project_code=code)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == encoding.GENESIS_HASH
    for previous, entry in pairwise(entries):
        assert entry.prev_hash == previous.entry_hash
    for entry in entries:
        assert entry.entry_hash == hashlib.sha256(preimage_of(entry)).digest()
    head = await session.get(LedgerChainHead, f"project:{code}")
    assert head is not None
    assert (head.seq, head.entry_hash) == (3, entries[-1].entry_hash)


async def test_records_who_when_where_and_what(session: AsyncSession) -> None:
    actor = user_actor("张三", ip="198.51.100.23")
    entry = await append_entry(
        session, actor=actor, action="bidding.bid_submitted", subject_type="bid", subject_id="B-1"
    )
    database_now = await clock.now(session)
    assert entry.actor_kind == "user"
    assert entry.actor_user_id == actor.user_id
    assert entry.actor_label == "张三"
    assert entry.organisation_id == actor.organisation_id
    assert entry.client_ip == "198.51.100.23"
    assert entry.occurred_at == database_now  # PostgreSQL's now(): the transaction's time
    assert (entry.action, entry.subject_type, entry.subject_id) == ("bidding.bid_submitted", "bid", "B-1")


async def test_time_comes_from_the_platform_clock(session: AsyncSession) -> None:
    with clock.use_clock(clock.ShiftedClock(timedelta(days=3))):
        entry = await append_entry(session, actor=Actor.system(), action="tests.x_y", subject_type="x", subject_id="1")
    assert entry.occurred_at - await clock.now(session) == timedelta(days=3)
    assert entry.actor_label == "system"
    assert entry.client_ip is None


async def test_data_is_digested_not_stored_and_summary_is_stored(session: AsyncSession) -> None:
    data = {"price": Decimal("1234567.89"), "bidder": uuid.UUID(int=5), "note": "机密"}
    entry = await append_entry(
        session,
        actor=user_actor(),
        action="bidding.bid_opened",
        subject_type="bid",
        subject_id="B-2",
        data=data,
        summary={"lot": 1, "status": "opened"},
    )
    assert entry.data_digest == hashlib.sha256(encoding.canonical_json(data)).digest()
    assert entry.summary == {"lot": 1, "status": "opened"}
    # Nothing of the data reaches the row, in any column.
    row = (await session.execute(text("SELECT * FROM ledger_entries WHERE id = :id"), {"id": entry.id})).one()
    flat = " ".join(str(value) for value in row)
    assert "1234567.89" not in flat
    assert "机密" not in flat


async def test_project_chains_are_independent_of_the_platform_chain(session: AsyncSession) -> None:
    first, second = new_project_code(), new_project_code()
    platform_before = await session.scalar(
        select(func.coalesce(func.max(LedgerEntry.seq), 0)).where(LedgerEntry.chain == "platform")
    )
    a = await append_many(session, 2, project_code=first)
    b = await append_many(session, 3, project_code=second)
    p = await append_many(session, 1)
    assert [e.chain for e in a] == [f"project:{first}"] * 2
    assert [e.seq for e in b] == [1, 2, 3]
    assert b[0].prev_hash == encoding.GENESIS_HASH
    assert p[0].chain == "platform"
    assert p[0].seq == platform_before + 1
    assert a[0].project_code == first


async def test_a_rolled_back_caller_leaves_no_entry_and_no_head(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    code = new_project_code()
    async with session_maker() as session:
        await append_many(session, 2, project_code=code)
        await session.rollback()
    async with session_maker() as session:
        assert await session.get(LedgerChainHead, f"project:{code}") is None
        count = await session.scalar(select(func.count()).where(LedgerEntry.chain == f"project:{code}"))
        assert count == 0


async def test_append_only_flushes_the_commit_is_the_callers(session_maker: async_sessionmaker[AsyncSession]) -> None:
    code = new_project_code()
    async with session_maker() as session:
        await append_many(session, 1, project_code=code)
        assert session.in_transaction()
        assert not session.new  # flushed


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "NoDot"}, "action"),
        ({"action": "parties.User Registered"}, "action"),
        ({"subject_type": "Has Space"}, "subject_type"),
        ({"subject_id": ""}, "subject_id"),
        ({"subject_id": "x" * 201}, "subject_id"),
        ({"subject_id": "line\nbreak"}, "subject_id"),
        ({"project_code": "has space"}, "project_code"),
        ({"project_code": "project:nested"}, "project_code"),
        ({"summary": {"big": "x" * 5000}}, "summary"),
    ],
)
async def test_invalid_fields_are_refused_naming_the_field(
    session: AsyncSession, kwargs: dict[str, object], field: str
) -> None:
    arguments: dict[str, object] = {"action": "tests.x_y", "subject_type": "x", "subject_id": "1", **kwargs}
    with pytest.raises(LedgerFieldInvalid) as caught:
        await append_entry(session, actor=user_actor(), **arguments)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.status_code == 422


async def test_data_without_a_canonical_form_is_refused(session: AsyncSession) -> None:
    with pytest.raises(LedgerDataNotCanonical) as caught:
        await append_entry(
            session, actor=user_actor(), action="tests.x_y", subject_type="x", subject_id="1", data={"s": {1, 2}}
        )
    assert caught.value.field == "data"


async def test_a_nil_uuid_is_refused_as_it_means_absent(session: AsyncSession) -> None:
    actor = Actor(kind=user_actor().kind, user_id=uuid.UUID(int=0), username="nil")
    with pytest.raises(LedgerFieldInvalid) as caught:
        await append_entry(session, actor=actor, action="tests.x_y", subject_type="x", subject_id="1")
    assert caught.value.field == "actor_user_id"


async def test_actor_with_control_characters_in_the_name_is_refused(session: AsyncSession) -> None:
    with pytest.raises(LedgerFieldInvalid) as caught:
        await append_entry(
            session, actor=user_actor("evil\x1fname"), action="tests.x_y", subject_type="x", subject_id="1"
        )
    assert caught.value.field == "actor"
