"""Issue 11, finding 3: a ledger that proves its own completeness against an outsider's copy.

Each tampering case below passed ``ggzy ledger verify`` before checkpoints of format 2 (the plain
verification still passes, as the asserts show: the database alone cannot tell); the outsider's
copy of a published checkpoint (``published_checkpoint``, saved as ``CHECKPOINT.json``) catches
it and the report names the first entry that differs at its own seq.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from certs import keys
from certs.tsa import client as tsa_client
from tests.trading.ledger.factories import append_many, behind_the_triggers, new_key, new_project_code, rewrite_entry
from trading.kernel import clock, tasks
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.ledger import encoding, jobs
from trading.ledger.errors import CheckpointFileInvalid, LedgerChainDamaged
from trading.ledger.models import LedgerCheckpoint
from trading.ledger.service import (
    append_entry,
    create_checkpoint,
    disclose_chain,
    latest_published_checkpoint,
    published_checkpoint,
    unseal_chain,
    verify_ledger,
    withhold_chain,
)


def outsiders_copy(checkpoint: LedgerCheckpoint) -> dict[str, Any]:
    """What an outsider keeps: the published JSON, through a file's round trip."""
    copy: dict[str, Any] = json.loads(json.dumps(published_checkpoint(checkpoint)))
    return copy


async def test_checkpoints_are_chained_and_timestamped(session: AsyncSession, platform_tsa: Settings) -> None:
    del platform_tsa
    key = new_key()
    code = new_project_code()
    entries = await append_many(session, 3, project_code=code)
    first = await create_checkpoint(session, private_key=key)
    await append_many(session, 2, project_code=code)
    second = await create_checkpoint(session, private_key=key)
    assert first is not None
    assert second is not None
    assert second.previous_digest == first.digest
    copy = outsiders_copy(second)
    assert copy["type"] == "ggzy-ledger-checkpoint/2"
    assert copy["previous"] == bytes(first.digest).hex()
    head = copy["heads"][f"project:{code}"]
    assert (head["from"], head["seq"]) == (4, 5)
    assert len(head["hashes"]) == 2 * 64
    assert outsiders_copy(first)["heads"][f"project:{code}"]["hashes"][:64] == bytes(entries[0].entry_hash).hex()
    # The platform TSA's token covers exactly the checkpoint's digest.
    token = bytes(second.timestamp_token or b"")
    stamp = tsa_client.verify_token(token, digest=bytes(second.digest), digest_name="sha256")
    assert stamp.digest == bytes(second.digest)
    report = await verify_ledger(session, public_keys=[key.public_key()], against=[copy])
    assert report.ok, report.summary()
    assert report.timestamped == 3  # both checkpoints in the database, and the copy's token
    assert "matching your checkpoint" in report.summary()


async def test_tail_deletion_with_head_reset_is_caught_by_the_outsiders_copy(session: AsyncSession) -> None:
    key = new_key()
    code = new_project_code()
    chain = f"project:{code}"
    entries = await append_many(session, 3, project_code=code)
    assert await create_checkpoint(session, private_key=key) is not None
    await append_many(session, 2, project_code=code)
    latest = await create_checkpoint(session, private_key=key)
    assert latest is not None
    copy = outsiders_copy(latest)
    # The tamperer removes the last checkpoint and what it signed, and sets the head back.
    await behind_the_triggers(
        session,
        "DELETE FROM ledger_checkpoints WHERE number = :n",
        "DELETE FROM ledger_entries WHERE chain = :chain AND seq > 3",
        "UPDATE ledger_chain_heads SET seq = 3, signed_seq = 3, entry_hash = :hash WHERE chain = :chain",
        n=latest.number,
        chain=chain,
        hash=entries[2].entry_hash,
    )
    session.expunge_all()
    assert (await verify_ledger(session, public_keys=[key.public_key()])).ok  # the database alone looks fine

    report = await verify_ledger(session, public_keys=[key.public_key()], against=[copy])
    assert not report.ok
    first = report.first_problem
    assert first is not None
    assert (first.code, first.chain, first.seq) == ("checkpoint_beyond_chain", chain, 4)
    assert "entries 4…5 are gone" in first.message
    assert ("checkpoint_missing", latest.number) in {(p.code, p.checkpoint) for p in report.problems}


async def test_all_checkpoints_deleted_and_an_entry_rewritten_is_named_at_its_seq(session: AsyncSession) -> None:
    key = new_key()
    code = new_project_code()
    chain = f"project:{code}"
    entries = await append_many(session, 6, project_code=code)
    checkpoint = await create_checkpoint(session, private_key=key)
    assert checkpoint is not None
    copy = outsiders_copy(checkpoint)
    await behind_the_triggers(
        session,
        "DELETE FROM ledger_checkpoints",
        "UPDATE ledger_chain_heads SET signed_seq = 0 WHERE chain = :chain",
        chain=chain,
    )
    await rewrite_entry(session, chain, 3, subject_id="forged")
    assert (await verify_ledger(session, public_keys=[key.public_key()])).ok  # consistent in itself

    report = await verify_ledger(session, public_keys=[key.public_key()], against=[copy])
    first = report.first_problem
    assert first is not None
    assert (first.code, first.chain, first.seq, first.entry_id) == ("checkpoint_mismatch", chain, 3, entries[2].id)
    assert "your copy of checkpoint 1" in first.message
    assert {p.code for p in report.problems} == {"checkpoint_mismatch", "checkpoint_missing"}


async def test_checkpoints_re_signed_with_the_platform_key_do_not_match_the_copy(session: AsyncSession) -> None:
    """Even a tamperer holding the signing key cannot produce the checkpoint the outsider kept."""
    key = new_key()
    code = new_project_code()
    chain = f"project:{code}"
    await append_many(session, 4, project_code=code)
    checkpoint = await create_checkpoint(session, private_key=key)
    assert checkpoint is not None
    copy = outsiders_copy(checkpoint)
    await behind_the_triggers(
        session,
        "DELETE FROM ledger_checkpoints",
        "UPDATE ledger_chain_heads SET signed_seq = 0 WHERE chain = :chain",
        chain=chain,
    )
    await rewrite_entry(session, chain, 2, subject_id="forged")
    assert await create_checkpoint(session, private_key=key) is not None  # a fresh, validly signed history
    assert (await verify_ledger(session, public_keys=[key.public_key()])).ok

    report = await verify_ledger(session, public_keys=[key.public_key()], against=[copy])
    assert [(p.code, p.seq) for p in report.ordered_problems()][:1] == [("checkpoint_mismatch", 2)]
    assert ("checkpoint_replaced", 1) in {(p.code, p.checkpoint) for p in report.problems}


async def test_a_rehashed_edit_is_named_at_its_own_seq_not_the_checkpoints(session: AsyncSession) -> None:
    """Before: the edit was reported at the checkpoint's head (seq 8); now at the edited entry."""
    key = new_key()
    code = new_project_code()
    chain = f"project:{code}"
    await append_many(session, 3, project_code=code)
    assert await create_checkpoint(session, private_key=key) is not None
    entries = await append_many(session, 5, project_code=code)
    latest = await create_checkpoint(session, private_key=key)
    assert latest is not None
    copy = outsiders_copy(latest)
    await rewrite_entry(session, chain, 5, subject_id="forged")
    for against in ([], [copy]):
        report = await verify_ledger(session, public_keys=[key.public_key()], against=against, batch_size=3)
        first = report.first_problem
        assert first is not None
        assert (first.code, first.seq, first.entry_id) == ("checkpoint_mismatch", 5, entries[1].id)
    assert {p.seq for p in report.problems} == {5}, "one report per signer, at the first changed entry"


async def test_an_untampered_ledger_verifies_against_the_copy(session: AsyncSession) -> None:
    key = new_key()
    for _ in range(3):
        await append_many(session, 2, project_code=new_project_code())
        await append_many(session, 1)
        assert await create_checkpoint(session, private_key=key) is not None
    copies = [outsiders_copy(c) for c in [c for c in [await _checkpoint(session, n) for n in (1, 2, 3)] if c]]
    report = await verify_ledger(session, public_keys=[key.public_key()], against=copies, batch_size=2)
    assert report.ok, report.summary()
    assert report.copies_checked == [1, 2, 3]


async def _checkpoint(session: AsyncSession, number: int) -> LedgerCheckpoint | None:
    return await session.get(LedgerCheckpoint, number)


async def test_a_forged_copy_or_one_signed_by_another_key_fails(session: AsyncSession) -> None:
    key, other = new_key(), new_key()
    await append_many(session, 2, project_code=new_project_code())
    checkpoint = await create_checkpoint(session, private_key=key)
    assert checkpoint is not None
    forged = outsiders_copy(checkpoint)
    forged["created_at"] = "2020-01-01T00:00:00.000000Z"
    report = await verify_ledger(session, public_keys=[key.public_key()], against=[forged])
    assert [p.code for p in report.problems] == ["copy_digest"]
    untrusted = await verify_ledger(session, public_keys=[other.public_key()], against=[outsiders_copy(checkpoint)])
    assert {"copy_unknown_key", "checkpoint_unknown_key"} <= {p.code for p in untrusted.problems}


@pytest.mark.parametrize(
    "raw",
    [b"", b"\xff\xfe", b"[]", b"[1, 2]", b'{"type": "ggzy-ledger-checkpoint/1", "number": 1}'],
    ids=["empty", "not-utf8", "no-copies", "not-objects", "wrong-type"],
)
async def test_an_unreadable_copy_is_refused_by_name(session: AsyncSession, raw: bytes) -> None:
    async def load_and_verify() -> None:
        await verify_ledger(session, public_keys=[], against=jobs.load_checkpoint_copies(raw))

    with pytest.raises(CheckpointFileInvalid):
        await load_and_verify()


async def test_sealed_chains_are_published_only_as_a_digest_until_unsealed(session: AsyncSession) -> None:
    """The public checkpoint must not reveal how many bids or downloads a tender has before its deadline."""
    key = new_key()
    code = new_project_code()
    sealed_chain = f"sealed:{code}"
    for index in range(3):
        await append_entry(
            session,
            actor=Actor.system(),
            action="tests.bid_received",
            subject_type="thing",
            subject_id=str(index),
            project_code=code,
            sealed=True,
        )
    await append_many(session, 1, project_code=code)
    sealed_checkpoint = await create_checkpoint(session, private_key=key)
    assert sealed_checkpoint is not None
    copy = outsiders_copy(sealed_checkpoint)
    text = json.dumps(copy)
    assert sealed_chain not in text
    assert list(copy["heads"]) == [f"project:{code}"]
    assert copy["sealed"] is not None
    assert sealed_checkpoint.sealed_heads is not None
    assert sealed_checkpoint.sealed_heads[sealed_chain]["seq"] == 3

    # The deadline unseals the chain and asks for a checkpoint (a legal milestone) ...
    assert await unseal_chain(session, code, sealed_checkpoint.created_at)
    assert [(m.name, m.kwargs) for m in tasks.pending(session)][-1] == (
        "ledger.checkpoint_chains",
        {"milestone": "deadline", "project_code": code},
    )
    # ... which publishes the chain's whole history.
    unsealed_checkpoint = await create_checkpoint(session, private_key=key)
    assert unsealed_checkpoint is not None
    head = outsiders_copy(unsealed_checkpoint)["heads"][sealed_chain]
    assert (head["from"], head["seq"]) == (1, 3)
    assert outsiders_copy(unsealed_checkpoint)["sealed"] is None
    report = await verify_ledger(
        session, public_keys=[key.public_key()], against=[copy, outsiders_copy(unsealed_checkpoint)]
    )
    assert report.ok, report.summary()


async def test_a_withheld_chain_is_not_named_by_public_checkpoints_until_disclosed(session: AsyncSession) -> None:
    """A draft project's chain must not show in the public checkpoint (its existence, its size)
    until the project is published; then the next checkpoint publishes its whole history."""
    key = new_key()
    code = new_project_code()
    chain = f"project:{code}"
    public_code = new_project_code()
    now = await clock.now(session)
    assert await withhold_chain(session, code, now)
    assert not await withhold_chain(session, code, now)
    await append_many(session, 2, project_code=code)
    await append_many(session, 1, project_code=public_code)
    withheld_checkpoint = await create_checkpoint(session, private_key=key)
    assert withheld_checkpoint is not None
    copy = outsiders_copy(withheld_checkpoint)
    assert code not in json.dumps(copy)
    assert list(copy["heads"]) == [f"project:{public_code}"]
    assert copy["sealed"] is not None
    assert withheld_checkpoint.sealed_heads is not None
    assert withheld_checkpoint.sealed_heads[chain]["seq"] == 2
    # Still withheld: more draft entries stay out of the next checkpoint too.
    await append_many(session, 1, project_code=code)
    still_withheld = await create_checkpoint(session, private_key=key)
    assert still_withheld is not None
    assert code not in json.dumps(outsiders_copy(still_withheld))

    # Publication discloses the chain: the next checkpoint publishes its whole history from seq 1.
    assert await disclose_chain(session, code, now)
    assert not await disclose_chain(session, code, now)
    disclosed = await create_checkpoint(session, private_key=key)
    assert disclosed is not None
    disclosed_copy = outsiders_copy(disclosed)
    head = disclosed_copy["heads"][chain]
    assert (head["from"], head["seq"]) == (1, 3)
    assert disclosed_copy["sealed"] is None
    report = await verify_ledger(
        session, public_keys=[key.public_key()], against=[copy, outsiders_copy(still_withheld), disclosed_copy]
    )
    assert report.ok, report.summary()


async def test_a_chain_never_withheld_is_not_disclosed_again(session: AsyncSession) -> None:
    """Projects published before withholding existed keep their chains public, untouched."""
    key = new_key()
    code = new_project_code()
    await append_many(session, 2, project_code=code)
    assert await create_checkpoint(session, private_key=key) is not None
    assert not await disclose_chain(session, code, await clock.now(session))
    assert await create_checkpoint(session, private_key=key) is None


async def test_a_sealed_entry_rewritten_before_the_deadline_is_caught_then_named_once_unsealed(
    session: AsyncSession,
) -> None:
    """Before the deadline the report says only that a sealed chain is broken (its seqs would tell how
    many downloaded or bid: Order 20 Art. 21); once unsealed, the rewritten entry is named at its seq."""
    key = new_key()
    code = new_project_code()
    for index in range(4):
        await append_entry(
            session,
            actor=Actor.system(),
            action="tests.bid_received",
            subject_type="thing",
            subject_id=str(index),
            project_code=code,
            sealed=True,
        )
    assert await create_checkpoint(session, private_key=key) is not None
    await rewrite_entry(session, f"sealed:{code}", 2, subject_id="forged")
    sealed = await verify_ledger(session, public_keys=[key.public_key()])
    assert not sealed.ok
    assert not sealed.sealed_chains_intact
    assert [(p.code, p.chain, p.seq) for p in sealed.problems] == [("sealed_chain_broken", f"sealed:{code}", None)]

    assert await unseal_chain(session, code, await clock.now(session))
    first = (await verify_ledger(session, public_keys=[key.public_key()])).first_problem
    assert first is not None
    assert (first.code, first.chain, first.seq) == ("checkpoint_mismatch", f"sealed:{code}", 2)


def test_the_checkpoint_message_commits_to_sealed_heads_through_their_digest() -> None:
    sealed = {"sealed:X": {"seq": 2, "hash": "ab" * 32, "from": 1, "hashes": "cd" * 32 + "ab" * 32}}
    digest = encoding.sha256(encoding.sealed_heads_message(sealed))
    message = encoding.checkpoint_message_v2(
        number=1, created_at=_epoch(), previous=encoding.GENESIS_HASH, heads={}, sealed=digest
    )
    assert b"sealed:X" not in message
    assert digest.hex().encode() in message


def _epoch() -> Any:
    return encoding.TIME_EPOCH


async def test_deleted_checkpoints_show_in_the_heads_unless_they_are_reset_too(session: AsyncSession) -> None:
    key = new_key()
    code = new_project_code()
    await append_many(session, 2, project_code=code)
    assert await create_checkpoint(session, private_key=key) is not None
    await behind_the_triggers(session, "DELETE FROM ledger_checkpoints")
    session.expunge_all()
    report = await verify_ledger(session, public_keys=[key.public_key()])
    assert [(p.code, p.chain) for p in report.problems] == [("checkpoint_missing", f"project:{code}")]


async def test_a_damaged_chain_is_not_signed(session: AsyncSession) -> None:
    """A head row that ran ahead of its entries is damage to report, not a state to seal."""
    key = new_key()
    code = new_project_code()
    await append_many(session, 3, project_code=code)
    await behind_the_triggers(
        session, "UPDATE ledger_chain_heads SET seq = 5 WHERE chain = :chain", chain=f"project:{code}"
    )
    with pytest.raises(LedgerChainDamaged, match="run ggzy ledger verify"):
        await create_checkpoint(session, private_key=key)


async def test_format_1_checkpoints_still_verify_and_are_never_published(session: AsyncSession) -> None:
    """Checkpoints written before format 2 signed sealed heads openly: they verify, unpublished."""
    key = new_key()
    code = new_project_code()
    entries = await append_many(session, 2, project_code=code)
    created_at = entries[-1].occurred_at
    heads = {f"project:{code}": {"seq": 2, "hash": bytes(entries[-1].entry_hash).hex()}}
    message = encoding.checkpoint_message(number=1, created_at=created_at, previous=encoding.GENESIS_HASH, heads=heads)
    signature = keys.sign(key, message)
    session.add(
        LedgerCheckpoint(
            number=1,
            created_at=created_at,
            heads=heads,
            previous_digest=encoding.GENESIS_HASH,
            digest=encoding.sha256(message),
            algorithm=signature.algorithm,
            key_id=signature.key_id,
            public_key_pem=keys.public_key_pem(key).decode(),
            signature=signature.value,
            format=1,
        )
    )
    await session.flush()
    assert await latest_published_checkpoint(session) is None
    await append_many(session, 1, project_code=code)
    second = await create_checkpoint(session, private_key=key)
    assert second is not None
    assert second.previous_digest == encoding.sha256(message)
    report = await verify_ledger(session, public_keys=[key.public_key()], against=[outsiders_copy(second)])
    assert report.ok, report.summary()
    assert report.checkpoints_checked == 2


async def test_a_tsa_failure_leaves_none_of_its_rows_behind(session: AsyncSession, platform_tsa: Settings) -> None:
    """The TSA issued (and recorded) a token, then its answer was unusable: the checkpoint is
    kept without a token, and the token row the TSA wrote goes with the failure."""
    from trading.ledger import timestamping
    from trading.parties.models import TimestampToken

    working = timestamping.use_platform_tsa(None)
    assert working is not None

    class Garbled:
        def __init__(self, inner: tsa_client.TsaTransport) -> None:
            self.inner = inner

        async def request(self, request_der: bytes) -> bytes:
            return (await self.inner.request(request_der))[:-7]

    timestamping.use_platform_tsa(lambda s: Garbled(working(s)))
    try:
        before = await session.scalar(sa.select(sa.func.count()).select_from(TimestampToken))
        await append_many(session, 1, project_code=new_project_code())
        checkpoint = await create_checkpoint(session, private_key=new_key())
        assert checkpoint is not None
        assert checkpoint.timestamp_token is None
        await session.flush()
        assert await session.scalar(sa.select(sa.func.count()).select_from(TimestampToken)) == before
    finally:
        timestamping.use_platform_tsa(working)
