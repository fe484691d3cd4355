"""Certificate login end to end: challenge, signature, chain, revocation, the "login" usage, the
mapping to an account, and every refusal named (and recorded) — through the API and the page."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.devlist import dev_trust_list
from certs.devpki.pki import DevPki, Identity
from certs.trustlist.model import fingerprint
from certs.trustlist.sign import publish
from certs.tsa.client import LocalTsa
from tests.trading.parties.certificates.helpers import account, answer, certificate_login, load_list
from tests.trading.parties.factories import bearer, csrf_token, ledger_entries
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry
from trading.parties.credentials import SESSION_COOKIE
from trading.parties.models import LoginChallenge, RevocationCacheEntry

DevCa = tuple[Path, dict[str, Any]]
pytestmark = pytest.mark.usefixtures("dev_lists")


async def _refusals(session_maker: async_sessionmaker[AsyncSession], identity: Identity) -> list[LedgerEntry]:
    async with session_maker() as session:
        rows = await session.scalars(
            select(LedgerEntry)
            .where(
                LedgerEntry.action == "parties.certificate_login_refused",
                LedgerEntry.subject_id == fingerprint(identity.certificate),
            )
            .order_by(LedgerEntry.seq)
        )
        return list(rows)


async def test_certificates_of_two_independent_cas_log_in(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    jiangsu = await account(session_maker, settings, uscc=dev_pki.org_uscc, name="南京示例建设工程有限公司")
    anhui = await account(session_maker, settings, uscc=dev_pki.anhui_uscc, name="合肥示例工程咨询有限公司")
    for identity, expected in ((dev_pki.org_sign, jiangsu), (dev_pki.anhui_org_sign, anhui)):
        response = await certificate_login(client, identity)
        assert response.status_code == 201, response.text
        assert response.headers["cache-control"] == "no-store"
        me = await client.get("/api/v1/auth/me", headers=bearer(response.json()["token"]))
        assert me.json()["username"] == expected.username
        assert me.json()["organisation_id"] == str(expected.organisation_id)
        assert me.json()["roles"] == ["bidder"]
        entries = await ledger_entries(session_maker, action="parties.login_succeeded", subject_id=expected.user_id)
        assert entries[-1].summary == {"kind": "api", "second_factor": False, "method": "certificate"}


@pytest.mark.parametrize(
    ("leaf", "reason"),
    [
        ("revoked", "revoked"),
        ("expired", "expired"),
        ("not_yet_valid", "not-yet-valid"),
        ("guarantor", "ca-not-recognised-for-usage"),  # a CA recognised for guarantees only
        ("enc_only", "wrong-key-usage"),  # a Jiangsu encryption certificate may not log in
        ("rogue_leaf", "ca-not-recognised"),
    ],
)
async def test_refusals_name_their_reason_and_are_recorded(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    dev_pki: DevPki,
    leaf: str,
    reason: str,
) -> None:
    identity: Identity = getattr(dev_pki, leaf)
    chain = identity.chain if leaf == "rogue_leaf" else None  # the rogue root travels along, unlisted
    response = await certificate_login(client, identity, chain=chain)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["reason"] == reason
    assert problem["errors"][0]["rule"] == reason
    assert problem["reason_text"]
    if reason == "revoked":
        assert "reason_at" in problem  # the revocation date
        assert "keyCompromise" in problem["reason_text"]
    refusals = await _refusals(session_maker, identity)
    assert [entry.summary for entry in refusals] == [{"reason": reason, "purpose": "login"}]


async def test_a_withdrawn_ca_is_refused(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
) -> None:
    await account(session_maker, settings, uscc=dev_pki.org_uscc)
    assert (await certificate_login(client, dev_pki.org_sign)).status_code == 201
    withdrawn = dev_trust_list(dev_pki, sequence=2, jiangsu_withdrawn_at=dev_pki.now - timedelta(hours=1))
    published = await publish(withdrawn, dev_pki.operator.signing(), tsa=dev_tsa)
    assert (await load_list(session_maker, settings, published.document, published.signature)).refusal is None
    response = await certificate_login(client, dev_pki.org_sign)
    assert response.status_code == 401
    assert response.json()["reason"] == "ca-withdrawn"
    # the Anhui CA, recognised through the peer list, is untouched
    await account(session_maker, settings, uscc=dev_pki.anhui_uscc)
    assert (await certificate_login(client, dev_pki.anhui_org_sign)).status_code == 201


async def test_wrong_origin_reused_and_expired_challenges_are_refused(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    await account(session_maker, settings, uscc=dev_pki.org_uscc)
    # a challenge a phishing page obtained: the browser names the page's origin, the signer signs it
    phished = await certificate_login(client, dev_pki.org_sign, origin="https://ggzy-login.example.com")
    assert phished.status_code == 401
    assert phished.json()["reason"] == "challenge-wrong-origin"

    issued = await client.post("/api/v1/auth/certificate/challenges")
    signed = answer(issued.json()["challenge"], dev_pki.org_sign)
    first = await client.post("/api/v1/auth/certificate/sessions", json=signed)
    assert first.status_code == 201
    replayed = await client.post("/api/v1/auth/certificate/sessions", json=signed)
    assert replayed.status_code == 401
    assert replayed.json()["reason"] == "challenge-reused"

    issued = await client.post("/api/v1/auth/certificate/challenges")
    signed = answer(issued.json()["challenge"], dev_pki.org_sign)
    with clock.use_clock(clock.ShiftedClock(timedelta(seconds=settings.certs.challenge_ttl_seconds + 5))):
        late = await client.post("/api/v1/auth/certificate/sessions", json=signed)
    assert late.status_code == 401
    assert late.json()["reason"] == "challenge-expired"
    async with session_maker() as session:
        row = await session.get(LoginChallenge, signed["nonce"])
        assert row is not None
        assert row.used_at is not None  # answered once, refused or not

    unknown = {**signed, "nonce": "not-a-challenge-we-issued"}
    response = await client.post("/api/v1/auth/certificate/sessions", json=unknown)
    assert response.json()["reason"] == "challenge-unknown"
    reasons = [entry.summary["reason"] for entry in await _refusals(session_maker, dev_pki.org_sign)]
    # the unknown nonce names nothing we issued: it is not on the ledger
    assert reasons == ["challenge-wrong-origin", "challenge-reused", "challenge-expired"]


async def test_a_signature_by_another_key_is_refused(client: httpx.AsyncClient, dev_pki: DevPki) -> None:
    issued = await client.post("/api/v1/auth/certificate/challenges")
    signed = answer(issued.json()["challenge"], dev_pki.org_sign)
    other = answer(issued.json()["challenge"], dev_pki.person_sign)
    forged = {**other, "signature": signed["signature"]}
    response = await client.post("/api/v1/auth/certificate/sessions", json=forged)
    assert response.status_code == 401
    assert response.json()["reason"] == "bad-signature"


async def test_the_certificate_must_name_exactly_one_account(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    nobody = await certificate_login(client, dev_pki.org_sign)
    assert nobody.json()["reason"] == "party-not-registered"
    await account(session_maker, settings, uscc=dev_pki.org_uscc)
    await account(session_maker, settings, uscc=dev_pki.org_uscc)
    two = await certificate_login(client, dev_pki.org_sign)
    assert two.status_code == 401
    assert two.json()["reason"] == "party-ambiguous"
    # a personal certificate maps by the ID number's keyed hash
    person = await account(
        session_maker, settings, uscc=dev_pki.org_uscc, id_number=dev_pki.person_id_number, username="zhang-san"
    )
    response = await certificate_login(client, dev_pki.person_sign)
    assert response.status_code == 201, response.text
    me = await client.get("/api/v1/auth/me", headers=bearer(response.json()["token"]))
    assert me.json()["username"] == person.username


async def test_without_revocation_data_the_login_fails_closed(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_pki: DevPki,
) -> None:
    async with session_maker() as session:
        await session.execute(delete(RevocationCacheEntry))
        await session.commit()
    await account(session_maker, settings, uscc=dev_pki.org_uscc)
    response = await certificate_login(client, dev_pki.org_sign)
    assert response.status_code == 401
    assert response.json()["reason"] == "revocation-unknown"


async def test_an_expired_trust_list_stops_every_certificate(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    await account(session_maker, settings, uscc=dev_pki.org_uscc)
    issued = await client.post("/api/v1/auth/certificate/challenges")
    signed = answer(issued.json()["challenge"], dev_pki.org_sign)
    with clock.use_clock(clock.ShiftedClock(timedelta(days=31))):
        response = await client.post("/api/v1/auth/certificate/sessions", json=signed)
    assert response.json()["reason"] == "trust-list-expired"


async def test_the_login_page_takes_a_signed_challenge_and_sets_the_cookie(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    bidder = await account(session_maker, settings, uscc=dev_pki.org_uscc)
    login = await client.get("/login")
    assert 'hx-post="/login/certificate/challenge"' in login.text
    token = csrf_token(login.text)
    fragment = await client.post("/login/certificate/challenge", headers={"x-csrftoken": token, "HX-Request": "true"})
    assert fragment.status_code == 200
    assert 'name="response"' in fragment.text
    found = re.search(r'id="certificate-challenge"[^>]*>([^<]+)<', fragment.text)
    assert found is not None
    challenge_json = html.unescape(found.group(1))
    signed = answer(json.loads(challenge_json), dev_pki.org_sign)
    bad = await client.post("/login/certificate", data={"_csrf_token": token, "response": "{not json"})
    assert bad.status_code == 422
    assert "malformed" in bad.text
    done = await client.post("/login/certificate", data={"_csrf_token": token, "response": json.dumps(signed)})
    assert done.status_code == 303, done.text
    assert any(h.startswith(f"{SESSION_COOKIE}=") for h in done.headers.get_list("set-cookie"))
    account_page = await client.get("/account")
    assert account_page.status_code == 200
    assert bidder.username in account_page.text


async def test_refused_on_the_page_names_the_reason(client: httpx.AsyncClient, dev_pki: DevPki) -> None:
    client.cookies.set("ggzy_locale", "en")
    login = await client.get("/login")
    token = csrf_token(login.text)
    issued = await client.post("/api/v1/auth/certificate/challenges")
    signed = answer(issued.json()["challenge"], dev_pki.revoked)
    refused = await client.post("/login/certificate", data={"_csrf_token": token, "response": json.dumps(signed)})
    assert refused.status_code == 422
    assert "The certificate has been revoked by its CA." in refused.text
    assert 'data-rule="revoked"' in refused.text


async def test_a_login_answer_nested_too_deep_is_refused_as_malformed(client: httpx.AsyncClient) -> None:
    """The certificate-login form is public: an answer ``[[[…`` too deep for the JSON reader is a
    422 naming the rule, not a 500."""
    login = await client.get("/login")
    token = csrf_token(login.text)
    nested = await client.post("/login/certificate", data={"_csrf_token": token, "response": "[" * 50_000})
    assert nested.status_code == 422
    assert 'data-rule="malformed"' in nested.text
