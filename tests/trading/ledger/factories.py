"""Helpers for ledger tests: actors, a batch of appends, a platform key."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from certs import keys
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.ledger.models import LedgerEntry
from trading.ledger.service import append_entry


def user_actor(username: str = "alice", *, roles: frozenset[Role] = frozenset(), ip: str = "203.0.113.7") -> Actor:
    return Actor(
        kind=ActorKind.USER,
        user_id=uuid.uuid4(),
        username=username,
        organisation_id=uuid.uuid4(),
        roles=roles,
        client_ip=ip,
    )


def new_project_code() -> str:
    return f"TEST-{uuid.uuid4().hex[:12].upper()}"


async def append_many(
    session: AsyncSession, count: int, *, project_code: str | None = None, actor: Actor | None = None
) -> list[LedgerEntry]:
    who = actor or user_actor()
    return [
        await append_entry(
            session,
            actor=who,
            action="tests.thing_changed",
            subject_type="thing",
            subject_id=str(index),
            data={"index": index, "secret": f"s3cret-{index}"},
            summary={"index": index},
            project_code=project_code,
        )
        for index in range(count)
    ]


def new_key() -> keys.PrivateKey:
    return keys.load_private_key(keys.generate_private_key_pem())
