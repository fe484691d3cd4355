"""A binding answer on ``/account`` nested too deep for the JSON reader (``[[[…``) is refused on the
page like any other malformed answer (422, ``malformed``), not a 500.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from tests.trading.parties.certificates.helpers import account
from tests.trading.parties.certificates.test_account_bindings import _log_in
from trading.kernel.settings import Settings

pytestmark = pytest.mark.usefixtures("dev_lists")


async def test_a_deeply_nested_binding_answer_is_refused_as_malformed(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    owner = await account(session_maker, settings, uscc=dev_pki.org_uscc)
    token = await _log_in(client, owner.username)
    nested = await client.post("/account/certificates", data={"_csrf_token": token, "response": "[" * 50_000})
    assert nested.status_code == 422
    assert "(malformed)" in nested.text
