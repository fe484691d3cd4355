"""Naming the ids in summaries (one lookup for a page) and the chain filter's labels."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from tests.trading.parties.factories import PASSWORD, new_uscc, new_username
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.web import i18n
from trading.ledger import actions, names
from trading.parties.models import OrganisationKind
from trading.parties.repository import party_names
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService


async def test_one_query_names_organisations_and_users(session: AsyncSession, settings: Settings) -> None:
    parties = PartiesService(session, settings)
    organisation = await parties.create_organisation(
        OrganisationCreate(uscc=new_uscc(), name="一次查询单位", kind=OrganisationKind.ENTERPRISE), actor=Actor.system()
    )
    user, _ = await parties.create_user(
        UserCreate(
            username=new_username("names"),
            display_name="一次查询用户",
            password=PASSWORD,
            organisation_id=organisation.id,
            role=Role.BIDDER,
        ),
        actor=Actor.system(),
    )
    await session.flush()
    unknown = uuid.uuid4()
    summaries: list[dict[str, object]] = [
        {"organisation_id": str(organisation.id), "user_id": str(user.id)},
        {"tenderee_organisation_id": str(unknown), "user_id": "not-a-uuid", "index": 3},
        {"agency_organisation_id": str(user.id)},  # a user's id where an organisation's is meant
    ]

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    assert session.bind is not None
    engine = session.bind.sync_engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        shown = await names.resolve(session, party_names, summaries)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    assert len(statements) == 1, statements
    assert shown == {
        ("organisation_id", str(organisation.id)): "一次查询单位",
        ("user_id", str(user.id)): "一次查询用户",
    }


async def test_nothing_to_name_asks_nothing(session: AsyncSession) -> None:
    calls: list[object] = []

    async def lookup(
        session: AsyncSession, *, organisations: Collection[uuid.UUID], users: Collection[uuid.UUID]
    ) -> Mapping[tuple[names.PartyKind, uuid.UUID], str]:
        calls.append((organisations, users))
        return {}

    assert await names.resolve(session, lookup, [{"index": 1}, {"user_id": "admin"}]) == {}
    assert await names.resolve(session, None, [{"user_id": str(uuid.uuid4())}]) == {}
    assert calls == []


def test_chain_labels_name_chains() -> None:
    with i18n.use_locale("zh_CN"):
        _chain_labels_name_chains()


def _chain_labels_name_chains() -> None:
    assert actions.chain_matching("项目 A-1（截止前密封）") == "sealed:A-1"
    assert actions.chain_matching("平台") == "platform"
    assert actions.chain_matching("Platform") == "platform"
    assert actions.chain_matching("项目 A-1") == "project:A-1"
    assert actions.chain_matching("Project A-1") == "project:A-1"
    assert actions.chain_matching("A-1") == "project:A-1"
    assert actions.chain_matching("Project A-1 (sealed until its deadline)") == "sealed:A-1"
    assert actions.chain_matching("project:A-1") == "project:A-1"
    assert actions.chain_matching("没有这个链") == "没有这个链"
