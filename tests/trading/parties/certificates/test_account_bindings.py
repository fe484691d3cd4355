"""Binding a certificate on ``/account`` (issue 14, item 3): the page's challenge, the signed answer
posted as a form (what ``static/js/pki/bind.js`` sends; the browser side is in
``tests/e2e/test_browser_signing.py``), refusals shown on the page and committed to the ledger,
bindings listed and unbound.
"""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki
from certs.trustlist.model import fingerprint
from tests.trading.parties.certificates.helpers import account, answer
from tests.trading.parties.factories import PASSWORD, csrf_token, ledger_entries
from trading.kernel.settings import Settings

pytestmark = pytest.mark.usefixtures("dev_lists")


async def _log_in(client: httpx.AsyncClient, username: str) -> str:
    page = await client.get("/login")
    done = await client.post(
        "/login", data={"_csrf_token": csrf_token(page.text), "username": username, "password": PASSWORD}
    )
    assert done.status_code == 303, done.text
    return csrf_token((await client.get("/account")).text)


async def _challenge(client: httpx.AsyncClient, token: str) -> dict[str, str]:
    issued = await client.post("/account/certificates/challenge", headers={"x-csrftoken": token})
    assert issued.status_code == 200, issued.text
    assert issued.headers["cache-control"] == "no-store"
    body = issued.json()
    assert set(body) == {"nonce", "toSign", "expiresAt"}
    challenge = json.loads(base64.b64decode(body["toSign"]))
    assert challenge["nonce"] == body["nonce"]
    assert challenge["purpose"] == "bind-certificate"
    return dict(challenge)


async def test_a_bidder_binds_a_certificate_on_the_account_page(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    owner = await account(session_maker, settings, uscc=dev_pki.org_uscc)
    token = await _log_in(client, owner.username)
    page = (await client.get("/account")).text
    assert 'id="no-bindings"' in page
    assert "data-pki-picker" in page
    assert re.search(r'<script type="module" src="/static/js/pki/bind\.js\?v=[0-9a-f]+"></script>', page)
    # the picker's inputs have no name: the form never sends the file or the password
    assert re.search(
        r'<input id="bind-certificate-password" type="password" autocomplete="off" data-pki-password>', page
    )

    response = answer(await _challenge(client, token), dev_pki.org_sign)
    bound = await client.post("/account/certificates", data={"_csrf_token": token, "response": json.dumps(response)})
    assert bound.status_code == 303, bound.text
    assert bound.headers["location"] == "/account?done=bound"
    page = (await client.get("/account?done=bound")).text
    assert "证书已绑定到您的账号。" in page
    sha256 = fingerprint(dev_pki.org_sign.certificate)
    assert f'data-binding="{sha256}"' in page
    binding_id = re.search(r'action="/account/certificates/([0-9a-f-]{36})/unbind"', page)
    assert binding_id
    entries = await ledger_entries(session_maker, action="parties.certificate_bound", subject_id=binding_id.group(1))
    assert [entry.summary["proof"] for entry in entries] == ["signed-challenge"]

    # Bound already: the refusal is said on the page (422) and its ledger entry is committed.
    again = answer(await _challenge(client, token), dev_pki.org_sign)
    refused = await client.post("/account/certificates", data={"_csrf_token": token, "response": json.dumps(again)})
    assert refused.status_code == 422
    assert "该证书已绑定到某个账号。" in refused.text
    assert 'data-rule="already-bound"' in refused.text
    assert "(already-bound)" not in refused.text
    assert await ledger_entries(session_maker, action="parties.certificate_bind_refused", subject_id=sha256)

    # A challenge answers once: the used one is refused by name.
    replay = await client.post("/account/certificates", data={"_csrf_token": token, "response": json.dumps(again)})
    assert replay.status_code == 422
    assert 'data-rule="challenge-reused"' in replay.text

    # Unbinding from the page: the binding stays listed as history.
    ended = await client.post(f"/account/certificates/{binding_id.group(1)}/unbind", data={"_csrf_token": token})
    assert ended.status_code == 303, ended.text
    assert ended.headers["location"] == "/account?done=unbound"
    page = (await client.get("/account?done=unbound")).text
    assert "证书已从您的账号解绑。" in page
    assert "已解绑" in page
    assert "/unbind" not in page


async def test_a_binding_answer_that_is_not_json_or_names_another_party_is_refused_on_the_page(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    stranger = await account(session_maker, settings, uscc=dev_pki.anhui_uscc)
    token = await _log_in(client, stranger.username)
    garbled = await client.post("/account/certificates", data={"_csrf_token": token, "response": "{not json"})
    assert garbled.status_code == 422
    assert 'data-rule="malformed"' in garbled.text
    response = answer(await _challenge(client, token), dev_pki.org_sign)
    refused = await client.post("/account/certificates", data={"_csrf_token": token, "response": json.dumps(response)})
    assert refused.status_code == 422
    assert "证书所载单位或个人不是您的单位或您本人。" in refused.text
    assert 'data-rule="party-mismatch"' in refused.text
    without_csrf = await client.post("/account/certificates/challenge")
    assert without_csrf.status_code == 403
