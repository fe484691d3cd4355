"""The parties JSON API: tokens, TOTP, registration, permissions, problem+json errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pyotp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import (
    PASSWORD,
    api_token,
    bearer,
    create_account,
    ledger_entries,
    new_uscc,
    new_username,
)
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.parties.credentials import SESSION_COOKIE
from trading.parties.models import AuthSession, MembershipStatus

PROBLEM = "application/problem+json"


def registration_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "uscc": new_uscc(),
        "organisation_name": "淮安接口测试有限公司",
        "organisation_kind": "enterprise",
        "role": "bidder",
        "username": new_username("api"),
        "display_name": "接口测试",
        "password": PASSWORD,
    }
    body.update(overrides)
    return body


async def test_register_then_log_in_and_see_yourself(client: httpx.AsyncClient) -> None:
    body = registration_body(organisation_kind="bank", role="guarantor")
    response = await client.post("/api/v1/parties/registrations", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["organisation"]["uscc"] == body["uscc"]
    assert created["membership"]["role"] == "guarantor"
    assert "password" not in response.text

    token = await client.post("/api/v1/auth/tokens", json={"username": body["username"], "password": PASSWORD})
    assert token.status_code == 201
    assert token.headers["cache-control"] == "no-store"
    me = await client.get("/api/v1/auth/me", headers=bearer(token.json()["token"]))
    assert me.status_code == 200
    assert me.json()["roles"] == ["guarantor"]
    assert me.json()["organisation_id"] == created["organisation"]["id"]
    assert "parties:profile:read" in me.json()["permissions"]


async def test_registration_errors_are_problem_json_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/parties/registrations", json=registration_body(uscc="91350100M000100Y44"))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["type"] == "urn:ggzy:error:validation_failed"
    assert problem["errors"][0]["field"] == "uscc"
    assert problem["errors"][0]["rule"] == "check_char"

    self_made_supervisor = registration_body(role="supervisor", organisation_kind="supervisory_department")
    response = await client.post("/api/v1/parties/registrations", json=self_made_supervisor)
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "role",
        "rule": "self_registration",
        "message": response.json()["errors"][0]["message"],
    }


async def test_malformed_bodies_are_4xx_not_500(client: httpx.AsyncClient) -> None:
    for body in (registration_body(role="emperor"), {"uscc": 1}, registration_body(extra="field")):
        response = await client.post("/api/v1/parties/registrations", json=body)
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
    response = await client.post(
        "/api/v1/parties/registrations", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500


async def test_duplicate_registration_is_a_409(client: httpx.AsyncClient) -> None:
    body = registration_body()
    assert (await client.post("/api/v1/parties/registrations", json=body)).status_code == 201
    again = await client.post("/api/v1/parties/registrations", json=registration_body(uscc=body["uscc"]))
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "uscc"


async def test_bad_password_is_401_and_recorded(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    response = await client.post("/api/v1/auth/tokens", json={"username": account.username, "password": "wrong" * 3})
    assert response.status_code == 401
    assert response.json()["type"] == "urn:ggzy:error:login_failed"
    unknown = await client.post("/api/v1/auth/tokens", json={"username": "nobody-here", "password": "wrong" * 3})
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == response.json()["detail"]  # no hint which usernames exist
    failed = await ledger_entries(session_maker, action="parties.login_failed", subject_id=account.user_id)
    assert len(failed) == 1
    assert failed[0].summary == {"kind": "api", "reason": "password"}


async def test_failed_logins_lock_the_username_at_this_address_with_429(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    settings.auth.login_free_failures = 3
    account = await create_account(session_maker, settings, Role.BIDDER)
    for _ in range(3):
        response = await client.post(
            "/api/v1/auth/tokens", json={"username": account.username, "password": "not the password"}
        )
        assert response.status_code == 401
    locked = await client.post("/api/v1/auth/tokens", json={"username": account.username, "password": PASSWORD})
    assert locked.status_code == 429
    assert locked.headers["content-type"].startswith(PROBLEM)
    assert 0 < int(locked.headers["retry-after"]) <= settings.auth.login_backoff_max_seconds
    assert locked.json()["retry_after"] == int(locked.headers["retry-after"])


async def test_failed_logins_lock_the_client_ip(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    settings.auth.login_attempts_per_window = 3
    account = await create_account(session_maker, settings, Role.BIDDER)
    for n in range(3):
        await client.post("/api/v1/auth/tokens", json={"username": f"guess-{n}", "password": "not the password"})
    locked = await client.post("/api/v1/auth/tokens", json={"username": account.username, "password": PASSWORD})
    assert locked.status_code == 429


async def test_totp_enrol_confirm_then_required_at_login(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.AGENCY)
    token = await api_token(client, account)
    enrolment = await client.post("/api/v1/auth/totp", headers=bearer(token))
    assert enrolment.status_code == 201
    secret = enrolment.json()["secret"]
    assert enrolment.json()["provisioning_uri"].startswith("otpauth://totp/ggzy:")
    wrong = await client.post("/api/v1/auth/totp/confirm", json={"code": "000000"}, headers=bearer(token))
    if wrong.status_code != 204:  # "000000" is the right code once in a million
        assert wrong.status_code == 422
        assert wrong.json()["errors"][0]["field"] == "code"
    now = datetime.now(UTC)
    confirm = await client.post(
        "/api/v1/auth/totp/confirm", json={"code": pyotp.TOTP(secret).at(now)}, headers=bearer(token)
    )
    assert confirm.status_code == 204

    credentials = {"username": account.username, "password": PASSWORD}
    missing = await client.post("/api/v1/auth/tokens", json=credentials)
    assert missing.status_code == 401
    assert missing.json()["type"] == "urn:ggzy:error:totp_required"
    # The code used to confirm cannot be replayed; the next one is accepted.
    replay = await client.post("/api/v1/auth/tokens", json={**credentials, "totp": pyotp.TOTP(secret).at(now)})
    assert replay.status_code == 401
    assert replay.json()["type"] == "urn:ggzy:error:totp_invalid"
    # The next step's code, or the current one when the requests above took longer than a step
    # (a loaded machine): the server accepts one step either side of its own time, never a used one.
    later = pyotp.TOTP(secret).at(max(now + timedelta(seconds=30), datetime.now(UTC)))
    accepted = await client.post("/api/v1/auth/tokens", json={**credentials, "totp": later})
    assert accepted.status_code == 201, accepted.text
    assert len(await ledger_entries(session_maker, action="parties.totp_enabled", subject_id=account.user_id)) == 1


async def test_revoked_token_stops_working(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.TENDEREE)
    token = await api_token(client, account)
    assert (await client.get("/api/v1/auth/me", headers=bearer(token))).status_code == 200
    assert (await client.delete("/api/v1/auth/tokens", headers=bearer(token))).status_code == 204
    after = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert after.status_code == 401
    assert after.headers["content-type"].startswith(PROBLEM)
    async with session_maker() as session:
        stored = (await session.scalars(select(AuthSession).where(AuthSession.user_id == account.user_id))).one()
        assert stored.revoked_at is not None
        assert token not in stored.token_hash
    assert len(await ledger_entries(session_maker, action="parties.logged_out", subject_id=account.user_id)) == 1


async def test_api_ignores_the_session_cookie(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    token = await api_token(client, account)
    # Even an API token presented as the cookie is not accepted, nor is a cookie on the API.
    client.cookies.set(SESSION_COOKIE, token)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": "Basic " + token})).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=bearer("not-a-token"))).status_code == 401


async def test_anonymous_is_401_and_bidder_on_admin_routes_is_403(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    assert (await client.get("/api/v1/parties/memberships")).status_code == 401
    token = await api_token(client, bidder)
    denied = await client.post(
        "/api/v1/parties/memberships",
        json={"user_id": str(bidder.user_id), "organisation_id": str(bidder.organisation_id), "role": "bidder"},
        headers=bearer(token),
    )
    assert denied.status_code == 403
    assert denied.json()["type"] == "urn:ggzy:error:permission_denied"
    assert (await client.get("/api/v1/parties/memberships", headers=bearer(token))).status_code == 403
    assert (
        await client.post(
            "/api/v1/parties/organisations",
            json={"uscc": new_uscc(), "name": "x", "kind": "enterprise"},
            headers=bearer(token),
        )
    ).status_code == 403


async def test_organisations_are_readable_by_their_members_only(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    other = await create_account(session_maker, settings, Role.BIDDER)
    supervisor = await create_account(session_maker, settings, Role.SUPERVISOR)
    token = await api_token(client, bidder)
    listed = await client.get("/api/v1/parties/organisations", headers=bearer(token))
    assert [o["id"] for o in listed.json()] == [str(bidder.organisation_id)]
    own = await client.get(f"/api/v1/parties/organisations/{bidder.organisation_id}", headers=bearer(token))
    assert own.status_code == 200
    foreign = await client.get(f"/api/v1/parties/organisations/{other.organisation_id}", headers=bearer(token))
    assert foreign.status_code == 403
    watcher = await api_token(client, supervisor)
    seen = await client.get(f"/api/v1/parties/organisations/{other.organisation_id}", headers=bearer(watcher))
    assert seen.status_code == 200


async def test_admin_grants_and_revokes_memberships(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await create_account(session_maker, settings, Role.ADMIN)
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    token = await api_token(client, admin)
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    granted = await client.post(
        "/api/v1/parties/memberships",
        json={
            "user_id": str(bidder.user_id),
            "organisation_id": str(admin.organisation_id),
            "role": "expert",
            "valid_until": until,
        },
        headers=bearer(token),
    )
    assert granted.status_code == 201, granted.text
    membership_id = granted.json()["id"]
    listed = await client.get(f"/api/v1/parties/memberships?user_id={bidder.user_id}", headers=bearer(token))
    assert {m["role"] for m in listed.json()} == {"bidder", "expert"}
    unfit = await client.post(
        "/api/v1/parties/memberships",
        json={"user_id": str(bidder.user_id), "organisation_id": str(admin.organisation_id), "role": "bidder"},
        headers=bearer(token),
    )
    assert unfit.status_code == 422
    assert unfit.json()["errors"][0]["rule"] == "role_fits_kind"
    revoked = await client.post(
        f"/api/v1/parties/memberships/{membership_id}/revoke", json={"reason": "test"}, headers=bearer(token)
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == MembershipStatus.REVOKED


async def test_admin_creates_a_supervisor(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await create_account(session_maker, settings, Role.ADMIN)
    token = await api_token(client, admin)
    bureau = await client.post(
        "/api/v1/parties/organisations",
        json={"uscc": new_uscc(), "name": "淮安市测试局", "kind": "supervisory_department"},
        headers=bearer(token),
    )
    assert bureau.status_code == 201, bureau.text
    created = await client.post(
        "/api/v1/parties/users",
        json={
            "username": new_username("supervisor"),
            "display_name": "监督员",
            "password": PASSWORD,
            "organisation_id": bureau.json()["id"],
            "role": "supervisor",
        },
        headers=bearer(token),
    )
    assert created.status_code == 201, created.text
    assert created.json()["membership"]["role"] == "supervisor"


async def test_password_change_revokes_other_sessions(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    first, second = await api_token(client, account), await api_token(client, account)
    wrong = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": "a new long password"},
        headers=bearer(first),
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "current_password"
    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new long password"},
        headers=bearer(first),
    )
    assert changed.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer(first))).status_code == 200
    assert (await client.get("/api/v1/auth/me", headers=bearer(second))).status_code == 401
