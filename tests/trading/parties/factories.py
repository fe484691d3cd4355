"""Helpers for parties tests: valid identifiers, users with a role, tokens, CSRF-carrying forms."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry
from trading.parties.identifiers import USCC_CHARSET, uscc_check_char
from trading.parties.policies import ROLE_ORGANISATION_KINDS
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def new_uscc(region: str = "320812") -> str:
    """A fresh, valid 统一社会信用代码 (random organisation code, computed check character)."""
    body = "".join(secrets.choice(USCC_CHARSET) for _ in range(9))
    first17 = "91" + region + body
    return first17 + uscc_check_char(first17)


def new_username(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True)
class Account:
    user_id: uuid.UUID
    organisation_id: uuid.UUID
    membership_id: uuid.UUID
    username: str
    password: str = PASSWORD


async def create_account(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    role: Role,
    *,
    username: str | None = None,
    password: str = PASSWORD,
) -> Account:
    """An organisation of a kind fitting ``role`` and a user holding ``role`` in it (committed)."""
    kind = min(ROLE_ORGANISATION_KINDS[role])
    async with session_maker() as session:
        service = PartiesService(session, settings)
        organisation = await service.create_organisation(
            OrganisationCreate(uscc=new_uscc(), name=f"测试单位 {uuid.uuid4().hex[:6]}", kind=kind),
            actor=Actor.system(),
        )
        user, membership = await service.create_user(
            UserCreate(
                username=username or new_username(role.value),
                display_name="测试用户",
                password=password,
                organisation_id=organisation.id,
                role=role,
            ),
            actor=Actor.system(),
        )
        await session.commit()
    return Account(user.id, organisation.id, membership.id, user.username, password)


async def api_token(client: httpx.AsyncClient, account: Account) -> str:
    response = await client.post(
        "/api/v1/auth/tokens", json={"username": account.username, "password": account.password}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def ledger_entries(
    session_maker: async_sessionmaker[AsyncSession], *, action: str, subject_id: object
) -> list[LedgerEntry]:
    async with session_maker() as session:
        rows = await session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.action == action, LedgerEntry.subject_id == str(subject_id))
            .order_by(LedgerEntry.seq)
        )
        return list(rows)
