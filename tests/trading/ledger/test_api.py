"""/api/v1/ledger: supervisors read and verify; everyone else is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.ledger.factories import append_many, new_project_code, user_actor
from tests.trading.parties.factories import api_token, bearer, create_account
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry


async def _token(
    client: httpx.AsyncClient, maker: async_sessionmaker[AsyncSession], settings: Settings, role: Role
) -> dict[str, str]:
    account = await create_account(maker, settings, role)
    return bearer(await api_token(client, account))


@pytest.mark.parametrize("path", ["/api/v1/ledger/entries", "/api/v1/ledger/verification"])
async def test_anonymous_requests_get_401(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("role", [Role.BIDDER, Role.TENDEREE, Role.EXPERT])
@pytest.mark.parametrize("path", ["/api/v1/ledger/entries", "/api/v1/ledger/verification"])
async def test_other_roles_get_403(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    role: Role,
    path: str,
) -> None:
    headers = await _token(client, session_maker, settings, role)
    response = await client.get(path, headers=headers)
    assert response.status_code == 403
    assert response.json()["type"] == "urn:ggzy:error:permission_denied"


async def test_supervisor_lists_filters_and_pages(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    headers = await _token(client, session_maker, settings, Role.SUPERVISOR)
    code = new_project_code()
    async with session_maker() as session:
        await append_many(session, 5, project_code=code, actor=user_actor("王五"))
        await append_entry(
            session,
            actor=user_actor("赵六"),
            action="bidding.bid_withdrawn",
            subject_type="bid",
            subject_id="B-77",
            summary={"lot": 2},
            project_code=code,
        )
        await session.commit()

    chain = f"project:{code}"
    response = await client.get("/api/v1/ledger/entries", params={"chain": chain, "limit": 4}, headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert [item["seq"] for item in page["items"]] == [6, 5, 4, 3]
    newest = page["items"][0]
    assert newest["actor_label"] == "赵六"
    assert newest["summary"] == {"lot": 2}
    assert len(newest["entry_hash"]) == 64
    assert newest["client_ip"] == "203.0.113.7"
    older = await client.get(
        "/api/v1/ledger/entries", params={"chain": chain, "limit": 4, "cursor": page["next_cursor"]}, headers=headers
    )
    assert [item["seq"] for item in older.json()["items"]] == [2, 1]
    assert older.json()["next_cursor"] is None

    by_action = await client.get(
        "/api/v1/ledger/entries", params={"action": "bidding.bid_withdrawn", "chain": chain}, headers=headers
    )
    assert [item["subject_id"] for item in by_action.json()["items"]] == ["B-77"]
    by_user = await client.get("/api/v1/ledger/entries", params={"username": "王五", "chain": chain}, headers=headers)
    assert len(by_user.json()["items"]) == 5
    by_subject = await client.get(
        "/api/v1/ledger/entries", params={"subject_type": "thing", "subject_id": "3", "chain": chain}, headers=headers
    )
    assert [item["seq"] for item in by_subject.json()["items"]] == [4]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    in_future = await client.get("/api/v1/ledger/entries", params={"since": future, "chain": chain}, headers=headers)
    assert in_future.json()["items"] == []
    until_future = await client.get("/api/v1/ledger/entries", params={"until": future, "chain": chain}, headers=headers)
    assert len(until_future.json()["items"]) == 6


async def test_bad_filters_are_named(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    headers = await _token(client, session_maker, settings, Role.SUPERVISOR)
    naive = await client.get("/api/v1/ledger/entries", params={"since": "2026-11-26T10:00:00"}, headers=headers)
    assert naive.status_code == 422
    assert naive.json()["errors"][0]["field"] == "since"
    cursor = await client.get("/api/v1/ledger/entries", params={"cursor": "not-a-cursor"}, headers=headers)
    assert cursor.status_code == 422
    assert cursor.json()["errors"][0]["field"] == "cursor"
    limit = await client.get("/api/v1/ledger/entries", params={"limit": 1000}, headers=headers)
    assert limit.status_code == 400


async def test_supervisor_runs_a_verification(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    headers = await _token(client, session_maker, settings, Role.SUPERVISOR)
    response = await client.get("/api/v1/ledger/verification", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True, body
    assert body["first_problem"] is None
    assert body["entries"] >= 1  # at least the parties entries of creating the supervisor
    assert body["summary"].startswith("ledger OK")


async def test_admin_may_read_too(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    headers = await _token(client, session_maker, settings, Role.ADMIN)
    assert (await client.get("/api/v1/ledger/entries", headers=headers)).status_code == 200


async def test_verification_names_the_first_broken_entry(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    headers = await _token(client, session_maker, settings, Role.SUPERVISOR)
    code = new_project_code()
    async with session_maker() as session:
        entries = await append_many(session, 3, project_code=code)
        await session.execute(text("ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only"))
        await session.execute(text("UPDATE ledger_entries SET summary = '{}' WHERE id = :id"), {"id": entries[1].id})
        await session.execute(text("ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_append_only"))
        await session.commit()
    body = (await client.get("/api/v1/ledger/verification", headers=headers)).json()
    assert body["ok"] is False
    assert body["first_problem"]["entry_id"] == str(entries[1].id)
    assert body["first_problem"]["chain"] == f"project:{code}"
    assert body["first_problem"]["seq"] == 2
    assert body["first_problem"]["code"] == "entry_hash_mismatch"
