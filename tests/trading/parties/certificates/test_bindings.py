"""Binding a certificate to one's account by signing a challenge with its key (proof of
possession), and what a binding changes for certificate login."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki, Identity
from certs.trustlist.model import fingerprint
from tests.trading.parties.certificates.helpers import account, answer, certificate_login
from tests.trading.parties.factories import Account, api_token, bearer, ledger_entries
from trading.kernel.settings import Settings
from trading.parties.models import User

pytestmark = pytest.mark.usefixtures("dev_lists")


async def bind(client: httpx.AsyncClient, token: str, identity: Identity) -> httpx.Response:
    issued = await client.post("/api/v1/certs/bindings/challenges", headers=bearer(token))
    assert issued.status_code == 201, issued.text
    assert issued.json()["purpose"] == "bind-certificate"
    return await client.post(
        "/api/v1/certs/bindings", json=answer(issued.json()["challenge"], identity), headers=bearer(token)
    )


async def _me(client: httpx.AsyncClient, response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    me = await client.get("/api/v1/auth/me", headers=bearer(response.json()["token"]))
    return str(me.json()["username"])


async def test_a_bound_certificate_opens_its_account(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    first = await account(session_maker, settings, uscc=dev_pki.org_uscc)
    await account(session_maker, settings, uscc=dev_pki.org_uscc)
    assert (await certificate_login(client, dev_pki.org_sign)).json()["reason"] == "party-ambiguous"
    token = await api_token(client, first)
    bound = await bind(client, token, dev_pki.org_sign)
    assert bound.status_code == 201, bound.text
    assert bound.json()["party_kind"] == "organisation"
    assert bound.json()["organisation_id"] == str(first.organisation_id)
    assert await _me(client, await certificate_login(client, dev_pki.org_sign)) == first.username
    listed = await client.get("/api/v1/certs/bindings", headers=bearer(token))
    assert [item["certificate_sha256"] for item in listed.json()] == [bound.json()["certificate_sha256"]]
    entries = await ledger_entries(session_maker, action="parties.certificate_bound", subject_id=bound.json()["id"])
    assert entries[0].summary["proof"] == "signed-challenge"

    again = await bind(client, token, dev_pki.org_sign)
    assert again.status_code == 409
    assert again.json()["reason"] == "already-bound"

    removed = await client.delete(f"/api/v1/certs/bindings/{bound.json()['id']}", headers=bearer(token))
    assert removed.status_code == 204
    assert (await certificate_login(client, dev_pki.org_sign)).json()["reason"] == "party-ambiguous"


async def test_only_ones_own_organisation_or_person_can_be_bound(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    stranger: Account = await account(session_maker, settings, uscc=dev_pki.anhui_uscc)
    token = await api_token(client, stranger)
    refused = await bind(client, token, dev_pki.org_sign)
    assert refused.status_code == 422
    assert refused.json()["reason"] == "party-mismatch"
    revoked = await bind(client, token, dev_pki.revoked)
    assert revoked.json()["reason"] == "revoked"
    entries = await ledger_entries(
        session_maker, action="parties.certificate_bind_refused", subject_id=fingerprint(dev_pki.org_sign.certificate)
    )
    assert [entry.summary for entry in entries] == [{"reason": "party-mismatch", "purpose": "bind-certificate"}]


async def test_a_binding_challenge_belongs_to_who_asked(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    owner = await account(session_maker, settings, uscc=dev_pki.org_uscc)
    other = await account(session_maker, settings, uscc=dev_pki.org_uscc)
    owner_token, other_token = await api_token(client, owner), await api_token(client, other)
    issued = await client.post("/api/v1/certs/bindings/challenges", headers=bearer(owner_token))
    signed = answer(issued.json()["challenge"], dev_pki.org_sign)
    taken = await client.post("/api/v1/certs/bindings", json=signed, headers=bearer(other_token))
    assert taken.status_code == 422
    assert taken.json()["reason"] == "challenge-unknown"
    # a binding challenge does not log anybody in either
    login = await client.post("/api/v1/auth/certificate/sessions", json=signed)
    assert login.json()["reason"] == "challenge-unknown"
    assert (await client.post("/api/v1/certs/bindings", json=signed, headers=bearer(owner_token))).status_code == 201


async def test_binding_a_personal_certificate_links_the_person(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    user = await account(session_maker, settings, uscc=dev_pki.org_uscc)
    token = await api_token(client, user)
    bound = await bind(client, token, dev_pki.person_sign)
    assert bound.status_code == 201, bound.text
    assert bound.json()["party_kind"] == "person"
    assert dev_pki.person_id_number not in bound.text  # the ID number is never shown or stored
    async with session_maker() as session:
        row = await session.get(User, user.user_id)
        assert row is not None
        assert row.person_id is not None
    assert await _me(client, await certificate_login(client, dev_pki.person_sign)) == user.username


async def test_bindings_need_a_login(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/certs/bindings/challenges")).status_code == 401
    assert (await client.get("/api/v1/certs/bindings")).status_code == 401
