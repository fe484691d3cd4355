"""Security headers on every response (issue 11, finding 7): a Content-Security-Policy that allows
scripts from this origin only and no framing, nosniff, a Referrer-Policy, no-store for anything
personal, HSTS behind TLS; and templates that need nothing the policy forbids."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import api_token, bearer, create_account
from tests.trading.parties.test_web import log_in
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings, WebSettings
from trading.server.routing import TEMPLATE_PACKAGES
from trading.server.security_headers import security_headers

ROOT = Path(__file__).resolve().parents[3]
# Rendered for WeasyPrint (the signed PDF record), never served as a web page.
PRINT_SUFFIX = "_pdf.html"
"""Print templates (rendered to PDF by WeasyPrint, never served as pages): the CSP does not apply."""


def _policy(response: httpx.Response) -> dict[str, str]:
    header = response.headers["content-security-policy"]
    pairs = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {pair[0]: pair[1] for pair in pairs}


def assert_common_headers(response: httpx.Response) -> None:
    policy = _policy(response)
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert "unsafe" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_pages_api_and_router_errors_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/", "/login", "/bidding/tenders", "/api/v1/bidding/tenders", "/healthz", "/no-such-page"):
        response = await client.get(path)
        assert_common_headers(response)
    # The router's own 405, answered before any route middleware runs.
    assert_common_headers(await client.post("/healthz"))


async def test_swagger_ui_has_its_own_policy_and_still_no_framing(client: httpx.AsyncClient) -> None:
    docs = await client.get("/api/v1/docs/swagger")
    assert docs.status_code == 200
    policy = _policy(docs)
    assert policy["frame-ancestors"] == "'none'"
    assert "'self'" in policy["script-src"]
    # The JSON document itself gets the strict policy.
    assert_common_headers(await client.get("/api/v1/docs/openapi.json"))


async def test_anonymous_public_pages_are_not_marked_no_store(client: httpx.AsyncClient) -> None:
    await client.get("/")  # the CSRF cookie is set on the first page
    response = await client.get("/bidding/tenders")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("cache-control", "")


async def test_pages_for_a_logged_in_user_are_no_store(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    assert (await log_in(client, account.username)).status_code == 303
    for path in ("/account", "/dashboard", "/", "/bidding/tenders", "/no-such-page"):
        response = await client.get(path)
        assert response.headers.get("cache-control") == "no-store", path
    # Static files keep their own caching.
    static = await client.get("/static/css/ggzy.css")
    assert static.status_code == 200
    assert static.headers.get("cache-control") != "no-store"


async def test_api_answers_to_a_token_are_no_store(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    account = await create_account(session_maker, settings, Role.BIDDER)
    token = await api_token(client, account)
    response = await client.get("/api/v1/auth/me", headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_hsts_only_when_secure_cookies_are_on(client: httpx.AsyncClient, settings: Settings) -> None:
    assert "strict-transport-security" not in (await client.get("/")).headers
    settings.web.secure_cookies = True
    hsts = (await client.get("/")).headers["strict-transport-security"]
    assert hsts.startswith("max-age=")
    assert int(hsts.split("=", 1)[1].split(";")[0]) >= 180 * 24 * 3600


async def test_htmx_runs_without_eval_or_injected_styles(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert match is not None
    config = json.loads(match.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False


def _template_files() -> list[Path]:
    folders = [ROOT / "trading" / "kernel" / "web" / "templates"]
    folders += [ROOT.joinpath(*package.split(".")) / "templates" for package in TEMPLATE_PACKAGES]
    return [path for folder in folders for path in folder.rglob("*.html") if not path.name.endswith(PRINT_SUFFIX)]


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
_FORBIDDEN = (
    (_INLINE_SCRIPT, "inline <script>"),
    (_HANDLER, "inline event handler"),
    (re.compile(r"javascript:", re.IGNORECASE), "javascript: URL"),
    (re.compile(r"<style", re.IGNORECASE), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.IGNORECASE), "style attribute"),
    (re.compile(r"hx-on", re.IGNORECASE), "hx-on (needs eval)"),
    (re.compile(r"hx-vars|hx-vals='?\"?(js|javascript):", re.IGNORECASE), "evaluated hx values"),
)


def test_templates_need_nothing_the_policy_forbids() -> None:
    """A page template with an inline script, handler or style would break under the CSP."""
    files = _template_files()
    assert len(files) > 20
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in files
        for pattern, what in _FORBIDDEN
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


async def test_an_inline_pdf_keeps_every_header_but_the_page_policy(settings: Settings) -> None:
    """The browser's PDF viewer must not be blocked by the pages' ``object-src 'none'``."""
    add_headers = security_headers(settings)
    message: Any = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/pdf")]}
    scope: Any = {"type": "http", "path": "/api/v1/bidding/opening/X/record.pdf", "headers": [], "state": {}}
    await add_headers(message, scope)
    sent = {name.decode(): value.decode() for name, value in message["headers"]}
    assert "content-security-policy" not in sent
    assert sent["x-frame-options"] == "DENY"
    assert sent["x-content-type-options"] == "nosniff"


async def test_pages_may_connect_to_the_local_certificate_agent(client: httpx.AsyncClient, settings: Settings) -> None:
    """``pki/agent.js`` calls ``ggzy agent`` on the user's machine: that origin, and only it, joins 'self'."""
    assert _policy(await client.get("/login"))["connect-src"] == "'self' http://127.0.0.1:17321"
    elsewhere = settings.model_copy(update={"web": WebSettings(agent_url="http://localhost:18000")})
    message: Any = {"type": "http.response.start", "status": 200, "headers": []}
    await security_headers(elsewhere)(message, {"type": "http", "path": "/", "headers": [], "state": {}})
    sent = {name.decode(): value.decode() for name, value in message["headers"]}
    assert "connect-src 'self' http://localhost:18000;" in sent["content-security-policy"]
    none = settings.model_copy(update={"web": WebSettings(agent_url="")})
    message = {"type": "http.response.start", "status": 200, "headers": []}
    await security_headers(none)(message, {"type": "http", "path": "/", "headers": [], "state": {}})
    assert "connect-src 'self';" in dict(message["headers"])[b"content-security-policy"].decode()


@pytest.mark.parametrize(
    "value", ["http://127.0.0.1:17321; script-src *", "http://127.0.0.1:17321/path", "javascript:x", "*", "HTTP://A"]
)
def test_the_agent_url_must_be_an_origin(value: str) -> None:
    with pytest.raises(ValidationError, match="must be an origin"):
        WebSettings(agent_url=value)
