"""Login, logout, registration and account pages: CSRF-protected forms, 303 on success, 422 on error."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import (
    PASSWORD,
    api_token,
    bearer,
    create_account,
    csrf_token,
    ledger_entries,
    new_uscc,
    new_username,
)
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.parties.credentials import SESSION_COOKIE
from trading.parties.models import User


async def log_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    page = await client.get("/login")
    assert page.status_code == 200
    data = {"_csrf_token": csrf_token(page.text), "username": username, "password": password, **extra}
    return await client.post("/login", data=data)


async def test_login_form_posts_with_csrf_and_redirects_with_a_session_cookie(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    response = await log_in(client, account.username)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # settings.web.secure_cookies is off in tests
    account_page = await client.get("/account")
    assert account_page.status_code == 200
    assert account.username in account_page.text
    succeeded = await ledger_entries(session_maker, action="parties.login_succeeded", subject_id=account.user_id)
    assert succeeded[0].summary["kind"] == "web"


async def test_secure_cookies_when_configured(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    settings.web.secure_cookies = True
    response = await log_in(client, account.username)
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}="))
    assert "Secure" in cookie


async def test_login_follows_a_local_next_only(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    assert (await log_in(client, account.username, next="/account")).headers["location"] == "/account"
    client.cookies.clear()
    assert (await log_in(client, account.username, next="//evil.example/")).headers["location"] == "/dashboard"


async def test_login_without_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/login")
    response = await client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 403


async def test_failed_login_re_renders_the_form_with_422(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    response = await log_in(client, account.username, "not the password")
    assert response.status_code == 422
    assert 'id="login-form"' in response.text
    assert 'class="form-errors"' in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


async def test_throttled_web_login_is_429_with_retry_after(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    settings.auth.login_attempts_per_window = 2
    account = await create_account(session_maker, settings, Role.BIDDER)
    for _ in range(2):
        assert (await log_in(client, account.username, "not the password")).status_code == 422
    response = await log_in(client, account.username)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert 'id="login-form"' in response.text


async def test_logout_revokes_the_session(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    await log_in(client, account.username)
    session_cookie = client.cookies.get(SESSION_COOKIE)
    assert session_cookie
    page = await client.get("/account")
    response = await client.post("/logout", data={"_csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    # The browser drops the cookie; a copy of it kept elsewhere no longer works either.
    assert not client.cookies.get(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, session_cookie)
    again = await client.get("/account")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/login?next=")
    assert len(await ledger_entries(session_maker, action="parties.logged_out", subject_id=account.user_id)) == 1


async def test_web_cookie_is_not_an_api_token_and_vice_versa(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    await log_in(client, account.username)
    web_token = client.cookies.get(SESSION_COOKIE)
    assert web_token
    assert (await client.get("/api/v1/auth/me", headers=bearer(web_token))).status_code == 401
    client.cookies.clear()
    api = await api_token(client, account)
    client.cookies.set(SESSION_COOKIE, api)
    assert (await client.get("/account")).status_code == 303


async def test_anonymous_account_page_redirects_to_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount"


async def test_registration_form_re_renders_field_errors_with_422(client: httpx.AsyncClient) -> None:
    page = await client.get("/register")
    assert page.status_code == 200
    data = {
        "_csrf_token": csrf_token(page.text),
        "uscc": "91350100M000100Y44",
        "organisation_name": "淮安表单测试有限公司",
        "organisation_kind": "enterprise",
        "role": "bidder",
        "username": new_username("web"),
        "display_name": "表单测试",
        "password": "short",
    }
    response = await client.post("/register", data=data)
    assert response.status_code == 422
    assert 'id="error-uscc"' in response.text
    assert 'id="error-password"' in response.text
    assert 'value="淮安表单测试有限公司"' in response.text  # what was typed is kept …
    assert 'value="short"' not in response.text  # … except the password

    bad_choice = await client.post("/register", data={**data, "role": "emperor"})
    assert bad_choice.status_code == 422
    assert 'id="error-role"' in bad_choice.text


async def test_registration_form_success_redirects_to_login(client: httpx.AsyncClient) -> None:
    page = await client.get("/register")
    username = new_username("web")
    response = await client.post(
        "/register",
        data={
            "_csrf_token": csrf_token(page.text),
            "uscc": new_uscc(),
            "organisation_name": "淮安表单测试有限公司",
            "organisation_kind": "purchaser_unit",
            "role": "tenderee",
            "username": username,
            "display_name": "表单测试",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?registered=1"
    assert (await log_in(client, username)).status_code == 303


async def test_account_page_enrols_totp_showing_the_uri(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.INTERMEDIARY)
    await log_in(client, account.username)
    page = await client.get("/account")
    enrolled = await client.post("/account/totp", data={"_csrf_token": csrf_token(page.text)})
    assert enrolled.status_code == 200
    assert "otpauth://totp/ggzy:" in enrolled.text
    assert enrolled.headers["cache-control"] == "no-store"
    wrong = await client.post("/account/totp/confirm", data={"_csrf_token": csrf_token(enrolled.text), "code": "12345"})
    assert wrong.status_code == 422
    assert 'id="error-code"' in wrong.text


async def test_enrolling_when_two_step_sign_in_is_already_on_is_said_on_the_account_page(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """A stale tab or a double submit: the account page says why (422), not a bare error page."""
    account = await create_account(session_maker, settings, Role.INTERMEDIARY)
    await log_in(client, account.username)
    page = await client.get("/account")
    async with session_maker() as session:
        user = await session.get_one(User, account.user_id)
        user.totp_enabled = True
        await session.commit()
    again = await client.post("/account/totp", data={"_csrf_token": csrf_token(page.text)})
    assert again.status_code == 422
    assert "form-errors" in again.text
    assert "otpauth://" not in again.text


async def test_a_form_no_page_produces_is_a_400_naming_the_field(client: httpx.AsyncClient) -> None:
    """Page forms decode whatever a browser sends; a field sent twice (a tampered request) is
    refused before the handler with a 400 page that names the field, nothing written."""
    page = await client.get("/register")
    body = f"_csrf_token={csrf_token(page.text)}&username=a&username=b"
    refused = await client.post(
        "/register", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert refused.status_code == 400
    assert 'data-field="username" data-rule="shape"' in refused.text
