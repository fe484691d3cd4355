"""The archive's chain rule (`bidding.award.archive.chainrule`, standard library only) agrees with
the ledger's own encoding and verification on real chains written by `append_entry` on PostgreSQL,
with real checkpoints; and names a changed entry at its seq, as the ledger's verification does."""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.archive import chainrule
from bidding.award.archive import format as fmt
from certs import keys
from trading.kernel.auth.identity import Actor
from trading.ledger import encoding
from trading.ledger.models import LedgerEntry
from trading.ledger.service import append_entry, create_checkpoint, published_checkpoint, verify_ledger


def project() -> str:
    return f"ARC-{uuid.uuid4().hex[:10]}"


async def written_chain(session: AsyncSession, code: str, count: int) -> list[LedgerEntry]:
    for index in range(count):
        await append_entry(
            session,
            actor=Actor.system(),
            action="bidding.tender_archived",
            subject_type="bidding.tender",
            subject_id=f"{index}",
            summary={"n": index, "price": Decimal("1.10"), "名称": "南京 — 开标", "nested": {"b": [1, None]}},
            data={"secret": index},
            project_code=code,
        )
    query = sa.select(LedgerEntry).where(LedgerEntry.chain == f"project:{code}").order_by(LedgerEntry.seq)
    return list((await session.scalars(query)).all())


async def test_decoding_the_chain_and_the_checkpoint_agrees_with_the_ledger(session: AsyncSession) -> None:
    code = project()
    key = keys.load_private_key(keys.generate_private_key_pem())
    first = await written_chain(session, code, 5)
    checkpoint = await create_checkpoint(session, private_key=key)
    assert checkpoint is not None
    entries = [*first, *(await written_chain(session, code, 8))[5:]]
    second = await create_checkpoint(session, private_key=key)
    assert second is not None
    assert (await verify_ledger(session, public_keys=[key.public_key()])).ok

    chain = f"project:{code}"
    rows = [(e.seq, bytes(e.entry_hash), e.preimage()) for e in entries]
    problems, decoded = chainrule.check_chain(chain, rows)
    assert problems == []
    for entry, mine in zip(entries, decoded, strict=True):
        assert (mine.seq, mine.entry_id, mine.chain, mine.action) == (entry.seq, entry.id, entry.chain, entry.action)
        assert mine.occurred_at == entry.occurred_at
        assert mine.summary_json == entry.summary_json
        assert mine.data_digest == bytes(entry.data_digest)
        assert mine.prev_hash == bytes(entry.prev_hash)
        assert mine.actor_user_id == entry.actor_user_id
        assert fmt.canonical_json(json.loads(entry.summary_json)) == entry.summary_json.encode()

    hashes = {seq: stored for seq, stored, _ in rows}
    claims = []
    for signed in (checkpoint, second):
        copy = published_checkpoint(signed)
        message = chainrule.checkpoint_message(copy)
        assert hashlib.sha256(message).digest() == bytes(signed.digest)
        assert keys.verify(
            key.public_key(), keys.Signature(signed.algorithm, signed.key_id, bytes(signed.signature)), message
        )
        claims.append(chainrule.claims(copy)[chain])
    assert [(c.first, c.seq) for c in claims] == [(1, 5), (6, 13)]
    assert chainrule.check_claims(chain, hashes, claims) == []
    assert chainrule.check_claims(chain, hashes, claims[:1])[0].what.startswith("no checkpoint")


async def test_a_changed_entry_is_named_at_its_seq_even_when_rehashed(session: AsyncSession) -> None:
    code = project()
    key = keys.load_private_key(keys.generate_private_key_pem())
    entries = await written_chain(session, code, 6)
    signed = await create_checkpoint(session, private_key=key)
    assert signed is not None
    chain = f"project:{code}"
    rows = [(e.seq, bytes(e.entry_hash), e.preimage()) for e in entries]

    # Changed in place: its hash no longer matches, and the next entry's link breaks.
    changed = bytearray(rows[2][2])
    changed[-3] ^= 0x01
    tampered = [*rows[:2], (3, rows[2][1], bytes(changed)), *rows[3:]]
    problems, _ = chainrule.check_chain(chain, tampered)
    assert [p.where for p in problems] == [f"ledger {chain} seq 3"]

    # Re-hashed consistently from there on: the chain holds, the checkpoint names seq 3.
    rewritten, prev = list(rows[:2]), rows[1][1]
    for seq, _, preimage in rows[2:]:
        body = bytearray(preimage)
        body[encoding.PREV_HASH_OFFSET : encoding.PREV_HASH_OFFSET + 32] = prev
        if seq == 3:
            body[-3] ^= 0x01
        digest = hashlib.sha256(bytes(body)).digest()
        rewritten.append((seq, digest, bytes(body)))
        prev = digest
    problems, _ = chainrule.check_chain(chain, rewritten)
    assert problems == []
    claim = chainrule.claims(published_checkpoint(signed))[chain]
    named = chainrule.check_claims(chain, {s: h for s, h, _ in rewritten}, [claim])
    assert [p.where for p in named] == [f"ledger {chain} seq 3"]
    assert "was changed" in named[0].what

    # A preimage moved to another chain or seq is named too.
    problems, _ = chainrule.check_chain("project:OTHER", rows)
    assert problems[0].what.startswith("the entry's content names chain")
