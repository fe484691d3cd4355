"""Certificate login stays open when password logins from the same address are throttled: a
flood of wrong passwords cannot take the certificate path away (issue 11, finding 7)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from tests.trading.parties.certificates.helpers import account, certificate_login
from tests.trading.parties.factories import PASSWORD
from trading.kernel.settings import Settings

pytestmark = pytest.mark.usefixtures("dev_lists")


async def test_certificate_login_is_not_throttled_by_password_failures(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    settings.auth.login_attempts_per_window = 3
    holder = await account(session_maker, settings, uscc=dev_pki.org_uscc, name="南京示例建设工程有限公司")
    for _ in range(3):
        wrong = await client.post("/api/v1/auth/tokens", json={"username": holder.username, "password": "wrong" * 4})
        assert wrong.status_code == 401
    throttled = await client.post("/api/v1/auth/tokens", json={"username": holder.username, "password": PASSWORD})
    assert throttled.status_code == 429
    response = await certificate_login(client, dev_pki.org_sign)
    assert response.status_code == 201, response.text
