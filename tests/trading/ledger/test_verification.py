"""verify_ledger recomputes everything and names the first broken entry."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from certs import keys
from tests.trading.ledger.factories import append_many, new_key, new_project_code, user_actor
from trading.kernel.auth.identity import Actor, ActorKind
from trading.ledger import encoding
from trading.ledger.models import LedgerEntry
from trading.ledger.service import append_entry, create_checkpoint, preimage_of, verify_ledger


async def _behind_the_triggers(session: AsyncSession, *statements: str, **params: object) -> None:
    """Run statements with the append-only triggers disabled, as a superuser could."""
    await session.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only"))
    await session.execute(text("ALTER TABLE ledger_checkpoints DISABLE TRIGGER ledger_checkpoints_append_only"))
    for statement in statements:
        await session.execute(text(statement), params)
    await session.execute(text("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only"))
    await session.execute(text("ALTER TABLE ledger_checkpoints ENABLE TRIGGER ledger_checkpoints_append_only"))


async def test_an_intact_ledger_verifies(session: AsyncSession) -> None:
    key = new_key()
    first, second = new_project_code(), new_project_code()
    await append_many(session, 3, project_code=first)
    assert await create_checkpoint(session, private_key=key) is not None
    await append_many(session, 4, project_code=second)
    await append_many(session, 2, project_code=first)
    assert await create_checkpoint(session, private_key=key) is not None
    report = await verify_ledger(session, public_keys=[key.public_key()], batch_size=2)
    assert report.ok, report.summary()
    assert report.chains[f"project:{first}"] == 5
    assert report.chains[f"project:{second}"] == 4
    assert report.checkpoints_checked == 2
    assert report.first_problem is None
    assert report.summary().startswith("ledger OK")


async def test_database_and_python_assembly_agree_on_awkward_values(session: AsyncSession) -> None:
    code = new_project_code()
    awkward = [
        Actor(kind=ActorKind.USER, user_id=uuid.uuid4(), username='张三 O\'Brien "q" \\ ;', client_ip="2001:db8::1"),
        Actor(kind=ActorKind.ANONYMOUS, client_ip=""),
        Actor.system(),
    ]
    for index, actor in enumerate(awkward):
        await append_entry(
            session,
            actor=actor,
            action="tests.awkward_value",
            subject_type="thing.kind",
            subject_id=f"  spaced {index} 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ",
            data={"nested": {"list": [1.5, None, True]}},
            summary={"引号": "\"'\n\t", "emoji": "🙂", "n": index},
            project_code=code,
        )
    fast = await verify_ledger(session, public_keys=[])
    reference = await verify_ledger(session, public_keys=[], assemble_in_python=True)
    assert fast.ok, fast.summary()
    assert reference.ok, reference.summary()
    assert fast.bytes_hashed == reference.bytes_hashed
    assert fast.chains == reference.chains


async def test_a_forged_row_with_a_wrong_hash_is_named(session: AsyncSession) -> None:
    code = new_project_code()
    entries = await append_many(session, 3, project_code=code)
    forged_id = uuid.uuid4()
    # Inserting needs no trigger to be disabled: append-only stops changes, not new rows.
    await session.execute(
        text(
            "INSERT INTO ledger_entries (id, chain, seq, occurred_at, actor_kind, actor_label, action, "
            "subject_type, subject_id, data_digest, summary, prev_hash, entry_hash) "
            "VALUES (:id, :chain, 4, now(), 'user', 'mallory', 'bidding.bid_withdrawn', 'bid', 'B-9', "
            ":digest, '{}', :prev, :hash)"
        ),
        {
            "id": forged_id,
            "chain": f"project:{code}",
            "digest": bytes(32),
            "prev": entries[-1].entry_hash,
            "hash": b"\x01" * 32,
        },
    )
    report = await verify_ledger(session, public_keys=[])
    assert not report.ok
    first = report.first_problem
    assert first is not None
    assert (first.chain, first.seq, first.entry_id, first.code) == (
        f"project:{code}",
        4,
        forged_id,
        "entry_hash_mismatch",
    )
    codes = {problem.code for problem in report.problems}
    assert "head_mismatch" in codes  # the head row still ends at seq 3


async def test_a_row_edited_behind_disabled_triggers_is_named(session: AsyncSession) -> None:
    code = new_project_code()
    entries = await append_many(session, 5, project_code=code)
    await _behind_the_triggers(
        session,
        "UPDATE ledger_entries SET actor_label = 'mallory' WHERE chain = :chain AND seq = 3",
        chain=f"project:{code}",
    )
    report = await verify_ledger(session, public_keys=[])
    assert not report.ok
    first = report.first_problem
    assert first is not None
    assert (first.chain, first.seq, first.entry_id) == (f"project:{code}", 3, entries[2].id)
    assert first.code == "entry_hash_mismatch"
    assert f"seq 3, entry {entries[2].id}" in report.summary()
    # Checking from the stored hashes on, one edit is one problem, not a cascade.
    assert report.problem_count == 1


async def test_a_consistently_rehashed_edit_breaks_the_next_link(session: AsyncSession) -> None:
    code = new_project_code()
    entries = await append_many(session, 4, project_code=code)
    # A transient copy with the forged field: the tamperer recomputes a self-consistent hash.
    columns = [attribute.key for attribute in LedgerEntry.__mapper__.column_attrs]
    forged = LedgerEntry(**{name: getattr(entries[1], name) for name in columns})
    forged.subject_id = "forged"
    new_hash = encoding.sha256(preimage_of(forged))
    await _behind_the_triggers(
        session,
        "UPDATE ledger_entries SET subject_id = 'forged', entry_hash = :hash WHERE id = :id",
        hash=new_hash,
        id=entries[1].id,
    )
    report = await verify_ledger(session, public_keys=[])
    first = report.first_problem
    assert first is not None
    assert (first.seq, first.code, first.entry_id) == (3, "broken_link", entries[2].id)


async def test_a_deleted_entry_leaves_a_gap(session: AsyncSession) -> None:
    code = new_project_code()
    entries = await append_many(session, 4, project_code=code)
    await _behind_the_triggers(session, "DELETE FROM ledger_entries WHERE id = :id", id=entries[1].id)
    report = await verify_ledger(session, public_keys=[])
    first = report.first_problem
    assert first is not None
    assert (first.seq, first.code, first.entry_id) == (3, "seq_gap", entries[2].id)
    assert "seq 2 is missing" in first.message


async def test_a_rewritten_chain_tail_is_caught_by_the_signed_checkpoint(session: AsyncSession) -> None:
    """Delete the last entries and fix the head row: the chain alone looks fine, the checkpoint does not."""
    key = new_key()
    code = new_project_code()
    chain = f"project:{code}"
    entries = await append_many(session, 4, project_code=code)
    assert await create_checkpoint(session, private_key=key) is not None
    await _behind_the_triggers(
        session,
        "DELETE FROM ledger_entries WHERE chain = :chain AND seq > 2",
        "UPDATE ledger_chain_heads SET seq = 2, entry_hash = :hash WHERE chain = :chain",
        chain=chain,
        hash=entries[1].entry_hash,
    )
    report = await verify_ledger(session, public_keys=[key.public_key()])
    assert not report.ok
    assert [p.code for p in report.problems] == ["checkpoint_beyond_chain"]
    assert report.problems[0].chain == chain
    assert "signed seq 4, but the chain ends at seq 2" in report.problems[0].message


async def test_a_tampered_checkpoint_signature_is_detected(session: AsyncSession) -> None:
    key = new_key()
    await append_many(session, 2, project_code=new_project_code())
    checkpoint = await create_checkpoint(session, private_key=key)
    assert checkpoint is not None
    flipped = bytes([checkpoint.signature[0] ^ 1]) + bytes(checkpoint.signature[1:])
    await _behind_the_triggers(
        session, "UPDATE ledger_checkpoints SET signature = :sig WHERE number = :n", sig=flipped, n=checkpoint.number
    )
    report = await verify_ledger(session, public_keys=[key.public_key()])
    assert [(p.code, p.checkpoint) for p in report.problems] == [("checkpoint_signature", checkpoint.number)]


async def test_a_checkpoint_re_signed_with_another_key_is_not_trusted(session: AsyncSession) -> None:
    platform, intruder = new_key(), new_key()
    await append_many(session, 1, project_code=new_project_code())
    assert await create_checkpoint(session, private_key=intruder) is not None
    report = await verify_ledger(session, public_keys=[platform.public_key()])
    assert [p.code for p in report.problems] == ["checkpoint_unknown_key"]
    assert (await verify_ledger(session, public_keys=[intruder.public_key()])).ok


async def test_edited_checkpoint_heads_break_its_digest(session: AsyncSession) -> None:
    key = new_key()
    code = new_project_code()
    await append_many(session, 2, project_code=code)
    checkpoint = await create_checkpoint(session, private_key=key)
    assert checkpoint is not None
    await _behind_the_triggers(
        session,
        "UPDATE ledger_checkpoints SET heads = jsonb_set(heads, ARRAY[:chain, 'seq'], '1') WHERE number = :n",
        chain=f"project:{code}",
        n=checkpoint.number,
    )
    report = await verify_ledger(session, public_keys=[key.public_key()])
    assert {p.code for p in report.problems} >= {"checkpoint_digest", "checkpoint_signature"}


@pytest.mark.parametrize("batch_size", [1, 2, 7, 5000])
async def test_batches_of_any_size_see_the_same_break(session: AsyncSession, batch_size: int) -> None:
    code = new_project_code()
    entries = await append_many(session, 9, project_code=code)
    await _behind_the_triggers(session, "UPDATE ledger_entries SET summary = '{}' WHERE id = :id", id=entries[6].id)
    report = await verify_ledger(session, public_keys=[], batch_size=batch_size)
    first = report.first_problem
    assert first is not None
    assert (first.seq, first.entry_id, report.problem_count) == (7, entries[6].id, 1)
    assert report.chains[f"project:{code}"] == 9


async def test_a_signing_key_changes_nothing_about_entries(session: AsyncSession) -> None:
    """Entries verify without any key; keys only matter for checkpoints."""
    await append_many(session, 2, actor=user_actor("bob"))
    assert (await verify_ledger(session, public_keys=[])).ok
    assert keys.key_id(new_key().public_key())  # the helper produces usable keys


def test_entry_model_exposes_no_setter_for_the_summary() -> None:
    assert isinstance(LedgerEntry.summary, property)
    assert LedgerEntry.summary.fset is None


async def test_breaks_in_several_chains_report_the_first_in_order(session: AsyncSession) -> None:
    codes = sorted(new_project_code() for _ in range(3))
    entries = {code: await append_many(session, 3, project_code=code) for code in codes}
    await _behind_the_triggers(
        session,
        "UPDATE ledger_entries SET subject_type = 'forged' WHERE id IN (:late, :early)",
        late=entries[codes[2]][0].id,
        early=entries[codes[1]][2].id,
    )
    report = await verify_ledger(session, public_keys=[], batch_size=4)  # batches straddle chains
    assert report.problem_count == 2
    first = report.first_problem
    assert first is not None
    assert (first.chain, first.seq, first.entry_id) == (f"project:{codes[1]}", 3, entries[codes[1]][2].id)
    assert [p.chain for p in report.ordered_problems()] == [f"project:{codes[1]}", f"project:{codes[2]}"]
