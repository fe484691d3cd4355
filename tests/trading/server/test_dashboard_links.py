"""Every card on every role's dashboard leads to a page that role can open: no card leads nowhere.

Real accounts log in through the login page; the dashboard's card links are then followed as that
user (a 303 must land on a page that answers 200), and the dashboard never says 即将上线.
"""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import create_account, csrf_token
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

# The links a panel offers must be there for the role: a dashboard that silently lost its way to
# the pages it describes would pass a test that only follows whatever links remain.
EXPECTED_LINKS = {
    Role.BIDDER: {
        "/bidding/tenders",
        "/bidding/bids",
        "/bidding/notices",
        "/guarantees/mine",
        "/evaluation/clarifications",
        "/inbox",
        "/account",
        "/procurement/supplier",
    },
    Role.TENDEREE: {
        "/bidding/manage",
        "/bidding/manage/new",
        "/organisation/mandates",
        "/market/owner",
        "/procurement/requirements",
        "/procurement/requirements/reviews",
        "/guarantees/securities",
        "/inbox",
        "/account",
        "/procurement/suppliers",
        "/procurement/catalogue",
        "/procurement/purchasers",
        "/procurement/projects",
        "/procurement/plans",
        "/procurement/intentions/new",
    },
    Role.AGENCY: {
        "/bidding/manage",
        "/organisation/mandates",
        "/evaluation/ratings",
        "/guarantees/securities",
        "/inbox",
        "/account",
    },
    Role.EXPERT: {
        "/inbox",
        "/account",
        "/bidding/tenders",
        "/evaluation/profile",
        "/evaluation/my",
        "/evaluation/reports",
    },
    Role.INTERMEDIARY: {"/market/intermediary", "/market", "/inbox", "/account"},
    Role.GUARANTOR: {"/guarantees/console", "/inbox", "/bidding/tenders", "/account"},
    Role.SUPERVISOR: {
        "/ledger",
        "/bidding/tenders",
        "/bidding/supervision/complaints",
        "/market/regulator",
        "/guarantees/supervision",
        "/credit/imports",
        "/procurement/requirements/supervision",
        "/account",
        "/procurement/rules",
        "/procurement/purchasers",
        "/procurement/suppliers",
        "/procurement/catalogue",
        "/procurement/calendar",
        "/procurement/notices",
        "/integrity/alerts",
        "/integrity/rules",
    },
    Role.ADMIN: {
        "/trust-list",
        "/admin/calendar",
        "/market/centre",
        "/credit/imports",
        "/admin/guarantors",
        "/evaluation/experts",
        "/evaluation/imports",
        "/evaluation/draws",
        "/evaluation/venues",
        "/ledger",
        "/account",
        "/integrity/alerts",
        "/integrity/rules",
    },
}


_CARD = re.compile(r'<article class="card panel">(.*?)</article>', re.DOTALL)
_HREF = re.compile(r'<a href="([^"]+)"')


def card_links(html: str) -> list[str]:
    """The ``href`` of every link inside a dashboard card (``shell/_panel.html``)."""
    return [href for card in _CARD.findall(html) for href in _HREF.findall(card)]


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> None:
    login = await client.get("/login")
    response = await client.post(
        "/login", data={"_csrf_token": csrf_token(login.text), "username": username, "password": password}
    )
    assert response.status_code == 303, response.text


@pytest.mark.parametrize("role", list(Role))
async def test_every_dashboard_card_leads_to_a_page_the_role_can_open(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    role: Role,
) -> None:
    account = await create_account(session_maker, settings, role)
    await sign_in(client, account.username, account.password)

    dashboard = await client.get("/dashboard")
    assert dashboard.status_code == 200
    assert f'data-role="{role}"' in dashboard.text
    assert "即将上线" not in dashboard.text
    assert "Coming soon" not in dashboard.text
    links = card_links(dashboard.text)
    assert set(links) == EXPECTED_LINKS[role]

    for href in links:
        response = await client.get(href)
        if response.status_code == 303:
            target = response.headers["location"]
            assert not target.startswith("/login"), (role, href, target)  # never a page they may not use
            response = await client.get(target)
        assert response.status_code == 200, (role, href, response.status_code)
