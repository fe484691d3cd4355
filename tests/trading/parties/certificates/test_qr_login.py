"""QR-code login with the e-licence / e-ID: the login page shows a challenge as a QR code, the
holder app (``certs.tools.holder_app``, run as a subprocess) signs it, the API verifies the answer,
and the page's next poll logs the browser in — only the browser that showed the code."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.auth.challenge import Challenge
from certs.auth.credentials import qr_payload
from certs.devpki.pki import DevPki
from tests.trading.parties.certificates.helpers import account
from tests.trading.parties.factories import csrf_token, ledger_entries
from trading.kernel.settings import Settings
from trading.parties.credentials import SESSION_COOKIE

DevCa = tuple[Path, dict[str, Any]]
ROOT = Path(__file__).resolve().parents[4]
pytestmark = pytest.mark.usefixtures("dev_lists")


async def show_qr(client: httpx.AsyncClient) -> tuple[str, str, str]:
    """The login page's QR section as a browser loads it: the nonce, the QR text, the CSRF token."""
    login = await client.get("/login")
    assert 'hx-post="/login/qr"' in login.text
    token = csrf_token(login.text)
    fragment = await client.post("/login/qr", headers={"x-csrftoken": token, "HX-Request": "true"})
    assert fragment.status_code == 200, fragment.text
    assert "<svg" in fragment.text  # inline, no image request, no CDN
    assert any(h.startswith("ggzy_qr=") and "HttpOnly" in h for h in fragment.headers.get_list("set-cookie"))
    nonce = re.search(r'data-nonce="([^"]+)"', fragment.text)
    payload = re.search(r'class="qr-payload"[^>]*>([^<]+)<', fragment.text)
    assert nonce is not None
    assert payload is not None
    return nonce.group(1), html.unescape(payload.group(1)), token


def holder_app(wallet: Path, payload: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "certs.tools.holder_app", "respond", "--wallet", str(wallet), "--payload", payload],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert "asks to log in" in result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


async def poll(client: httpx.AsyncClient, nonce: str, token: str) -> httpx.Response:
    return await client.post(
        "/login/qr/poll", data={"nonce": nonce, "next": ""}, headers={"x-csrftoken": token, "HX-Request": "true"}
    )


async def test_the_e_licence_holder_app_logs_the_browser_in(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_pki: DevPki,
    dev_ca: DevCa,
) -> None:
    bidder = await account(session_maker, settings, uscc=dev_pki.org_uscc, name="南京示例建设工程有限公司")
    nonce, payload, token = await show_qr(client)
    waiting = await poll(client, nonce, token)
    assert 'hx-trigger="every 2s"' in waiting.text
    out, manifest = dev_ca
    verified = await client.post(
        "/api/v1/auth/qr/responses", json=holder_app(out / manifest["wallets"]["e-licence"], payload)
    )
    assert verified.status_code == 200, verified.text
    assert verified.json()["credential"] == "e-licence"
    # somebody else polling with the nonce but without this browser's cookie gets nothing
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as stranger:
        page = await stranger.get("/login")
        other = await poll(stranger, nonce, csrf_token(page.text))
        assert "hx-redirect" not in other.headers
        assert 'role="alert"' in other.text  # "this code is no longer valid" for that browser
    done = await poll(client, nonce, token)
    assert done.headers["hx-redirect"] == "/dashboard"
    assert any(h.startswith(f"{SESSION_COOKIE}=") for h in done.headers.get_list("set-cookie"))
    account_page = await client.get("/account")
    assert bidder.username in account_page.text
    # the session is handed out once
    assert "hx-redirect" not in (await poll(client, nonce, token)).headers
    entries = await ledger_entries(session_maker, action="parties.qr_login_verified", subject_id=bidder.user_id)
    assert entries[0].summary["credential"] == "e-licence"
    logins = await ledger_entries(session_maker, action="parties.login_succeeded", subject_id=bidder.user_id)
    assert logins[-1].summary["method"] == "qr-credential"


async def test_the_e_id_of_an_unknown_person_is_refused_and_the_page_says_why(
    client: httpx.AsyncClient, dev_ca: DevCa
) -> None:
    client.cookies.set("ggzy_locale", "en")
    nonce, payload, token = await show_qr(client)
    out, manifest = dev_ca
    answer = holder_app(out / manifest["wallets"]["e-id"], payload)
    refused = await client.post("/api/v1/auth/qr/responses", json=answer)
    assert refused.status_code == 401
    assert refused.json()["reason"] == "party-not-registered"
    status = await poll(client, nonce, token)
    assert "party-not-registered" in status.text
    assert "has no account here" in status.text
    again = await client.post("/api/v1/auth/qr/responses", json=answer)
    assert again.json()["reason"] == "challenge-reused"


async def test_the_e_id_logs_in_its_person(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_pki: DevPki,
    dev_ca: DevCa,
) -> None:
    person = await account(session_maker, settings, uscc=dev_pki.org_uscc, id_number=dev_pki.person_id_number)
    nonce, payload, token = await show_qr(client)
    out, manifest = dev_ca
    verified = await client.post(
        "/api/v1/auth/qr/responses", json=holder_app(out / manifest["wallets"]["e-id"], payload)
    )
    assert verified.status_code == 200, verified.text
    done = await poll(client, nonce, token)
    assert done.headers["hx-redirect"] == "/dashboard"
    assert person.username in (await client.get("/account")).text


async def test_a_login_challenge_is_not_a_qr_challenge(client: httpx.AsyncClient, dev_ca: DevCa) -> None:
    issued = await client.post("/api/v1/auth/certificate/challenges")
    payload = qr_payload(Challenge.from_dict(issued.json()["challenge"]))
    out, manifest = dev_ca
    refused = await client.post(
        "/api/v1/auth/qr/responses", json=holder_app(out / manifest["wallets"]["e-licence"], payload)
    )
    assert refused.status_code == 401
    assert refused.json()["reason"] == "challenge-unknown"
