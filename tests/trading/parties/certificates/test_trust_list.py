"""The trust list in the platform: load, reload, rollback, forgery, expiry, peers; the public
download (verified with ``openssl cms -verify``); the admin API and page."""

from __future__ import annotations

import base64
import subprocess
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.devlist import dev_trust_list, peer_trust_list
from certs.devpki.pki import DevPki
from certs.errors import Reason, Refused
from certs.trustlist.model import Usage
from certs.trustlist.sign import publish
from certs.tsa.client import LocalTsa
from tests.trading.parties.certificates.helpers import load_dev_lists, load_list
from tests.trading.parties.factories import api_token, bearer, create_account, csrf_token, ledger_entries
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry
from trading.parties.certificates.trust import registry_at, registry_in_force
from trading.parties.models import TrustListMark, TrustListVersion

DevCa = tuple[Path, dict[str, Any]]


def _own(dev_ca: DevCa) -> tuple[bytes, bytes]:
    out, manifest = dev_ca
    document, signature = manifest["trustLists"]["own"]
    return (out / document).read_bytes(), (out / signature).read_bytes()


async def _refusals(session_maker: async_sessionmaker[AsyncSession], reason: str) -> list[LedgerEntry]:
    async with session_maker() as session:
        rows = await session.scalars(select(LedgerEntry).where(LedgerEntry.action == "parties.trust_list_refused"))
        return [row for row in rows if row.summary["reason"] == reason]


async def test_a_signed_list_loads_once_and_is_recorded(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_ca: DevCa
) -> None:
    first = await load_list(session_maker, settings, *_own(dev_ca))
    assert first.refusal is None
    assert first.created
    assert first.version is not None
    assert first.version.sequence == 1
    again = await load_list(session_maker, settings, *_own(dev_ca))
    assert again.refusal is None
    assert not again.created  # the same bytes: nothing new
    async with session_maker() as session:
        versions = (await session.scalars(select(TrustListVersion))).all()
        mark = await session.get(TrustListMark, first.version.series)
    assert [v.sequence for v in versions] == [1]
    assert versions[0].document == _own(dev_ca)[0]  # the exact bytes, kept for ever
    assert mark is not None
    assert mark.sequence == 1
    entries = await ledger_entries(session_maker, action="parties.trust_list_loaded", subject_id=first.version.id)
    assert len(entries) == 1
    assert entries[0].summary["sequence"] == 1


async def test_a_rollback_is_refused_naming_the_reason(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki, dev_tsa: LocalTsa
) -> None:
    newer = await publish(dev_trust_list(dev_pki, sequence=2), dev_pki.operator.signing(), tsa=dev_tsa)
    older = await publish(dev_trust_list(dev_pki, sequence=1), dev_pki.operator.signing(), tsa=dev_tsa)
    assert (await load_list(session_maker, settings, newer.document, newer.signature)).refusal is None
    refused = await load_list(session_maker, settings, older.document, older.signature)
    assert refused.refusal is not None
    assert refused.refusal.reason == "trust-list-rolled-back"
    assert "sequence 1 after 2" in refused.refusal.text
    assert await _refusals(session_maker, "trust-list-rolled-back")
    # the same sequence number with other content is refused too
    other = await publish(
        dev_trust_list(dev_pki, sequence=2, next_update=dev_pki.now + timedelta(days=20)),
        dev_pki.operator.signing(),
        tsa=dev_tsa,
    )
    reused = await load_list(session_maker, settings, other.document, other.signature)
    assert reused.refusal is not None
    assert reused.refusal.reason == "trust-list-sequence-reused"


async def test_a_forged_list_is_refused(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    dev_ca: DevCa,
) -> None:
    # signed by someone who is not the pinned operator
    forged = await publish(dev_trust_list(dev_pki, sequence=9), dev_pki.org_sign.signing(), tsa=dev_tsa)
    refused = await load_list(session_maker, settings, forged.document, forged.signature)
    assert refused.refusal is not None
    assert refused.refusal.reason == "trust-list-forged"
    assert "not a pinned operator" in refused.refusal.text
    # the genuine signature over edited bytes
    document, signature = _own(dev_ca)
    edited = document.replace(b'"sequenceNumber":1', b'"sequenceNumber":7')
    refused = await load_list(session_maker, settings, edited, signature)
    assert refused.refusal is not None
    assert refused.refusal.reason == "trust-list-forged"
    assert len(await _refusals(session_maker, "trust-list-forged")) == 2
    async with session_maker() as session:
        assert (await session.scalars(select(TrustListVersion))).all() == []


async def test_an_expired_list_is_refused(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki, dev_tsa: LocalTsa
) -> None:
    stale = dev_trust_list(
        dev_pki,
        sequence=3,
        issued=dev_pki.now - timedelta(days=40),
        next_update=dev_pki.now - timedelta(days=10),
    )
    published = await publish(stale, dev_pki.operator.signing(), tsa=dev_tsa)
    refused = await load_list(session_maker, settings, published.document, published.signature)
    assert refused.refusal is not None
    assert refused.refusal.reason == "trust-list-expired"


async def test_a_list_timestamped_by_an_unrecognised_tsa_is_refused(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki, dev_tsa: LocalTsa
) -> None:
    # our list, but without the platform TSA among its services: its own timestamp is then unvouched for
    trust_list = dev_trust_list(dev_pki, sequence=4)
    platform = trust_list.providers[1]
    without_tsa = replace(platform, services=platform.services[1:])
    trust_list = replace(trust_list, providers=(trust_list.providers[0], without_tsa, *trust_list.providers[2:]))
    published = await publish(trust_list, dev_pki.operator.signing(), tsa=dev_tsa)
    refused = await load_list(session_maker, settings, published.document, published.signature)
    assert refused.refusal is not None
    assert refused.refusal.reason == "timestamp-invalid"


async def test_peer_lists_load_only_through_a_pinned_pointer(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    dev_ca: DevCa,
) -> None:
    peer = await publish(peer_trust_list(dev_pki), dev_pki.peer_operator.signing(), tsa=dev_tsa)
    before = await load_list(session_maker, settings, peer.document, peer.signature, peer=True)
    assert before.refusal is not None
    assert before.refusal.reason == "trust-list-missing"  # no list of ours to point to it yet
    assert (await load_list(session_maker, settings, *_own(dev_ca))).refusal is None
    loaded = await load_list(session_maker, settings, peer.document, peer.signature, peer=True)
    assert loaded.refusal is None
    assert loaded.version is not None
    assert loaded.version.peer_name == "安徽省公共资源交易平台(开发)"
    # a "peer" list signed by an operator no pointer of ours pins
    rogue = await publish(peer_trust_list(dev_pki, sequence=2), dev_pki.org_sign.signing(), tsa=dev_tsa)
    refused = await load_list(session_maker, settings, rogue.document, rogue.signature, peer=True)
    assert refused.refusal is not None
    assert refused.refusal.reason == "peer-list-not-recognised"


async def test_the_list_in_force_is_public_and_verifies_with_openssl(
    client: httpx.AsyncClient,
    *,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_ca: DevCa,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    missing = await client.get("/api/v1/certs/trust-list")
    assert missing.status_code == 404
    assert missing.json()["type"] == "urn:ggzy:error:trust_list_not_loaded"
    await load_dev_lists(session_maker, settings, *dev_ca)
    document = await client.get("/api/v1/certs/trust-list")
    assert document.status_code == 200
    assert document.content == _own(dev_ca)[0]
    assert document.headers["x-trust-list-sequence"] == "1"
    signature = await client.get("/api/v1/certs/trust-list/signature")
    assert signature.headers["content-type"].startswith("application/pkcs7-signature")
    (tmp_path / "tl.json").write_bytes(document.content)
    (tmp_path / "tl.p7s").write_bytes(signature.content)
    (tmp_path / "root.pem").write_bytes(dev_pki.operator.root.public_bytes(serialization.Encoding.PEM))
    result = subprocess.run(
        [
            "openssl", "cms", "-verify", "-binary", "-inform", "DER",
            "-in", tmp_path / "tl.p7s", "-content", tmp_path / "tl.json",
            "-CAfile", tmp_path / "root.pem", "-purpose", "any", "-out", "/dev/null",
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


async def test_admins_load_lists_through_the_api_and_see_the_page(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_ca: DevCa,
) -> None:
    document, signature = _own(dev_ca)
    body = {"document": base64.b64encode(document).decode(), "signature": base64.b64encode(signature).decode()}
    bidder = await create_account(session_maker, settings, Role.BIDDER)
    bidder_token = await api_token(client, bidder)
    assert (await client.post("/api/v1/certs/trust-lists", json=body, headers=bearer(bidder_token))).status_code == 403
    admin = await create_account(session_maker, settings, Role.ADMIN)
    token = await api_token(client, admin)
    loaded = await client.post("/api/v1/certs/trust-lists", json=body, headers=bearer(token))
    assert loaded.status_code == 201, loaded.text
    assert loaded.json()["sequence"] == 1
    assert (await client.post("/api/v1/certs/trust-lists", json=body, headers=bearer(token))).status_code == 200
    forged = {**body, "document": base64.b64encode(document.replace(b"granted", b"grantee", 1)).decode()}
    refused = await client.post("/api/v1/certs/trust-lists", json=forged, headers=bearer(token))
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["reason"] == "trust-list-forged"
    versions = await client.get("/api/v1/certs/trust-lists", headers=bearer(token))
    assert [v["sequence"] for v in versions.json()] == [1]

    page = await client.get("/trust-list")
    assert page.status_code == 303  # not logged in on the web
    login = await client.get("/login")
    await client.post(
        "/login", data={"_csrf_token": csrf_token(login.text), "username": admin.username, "password": admin.password}
    )
    page = await client.get("/trust-list")
    assert page.status_code == 200
    assert "江苏CA 机构及个人证书 开发CA" in page.text
    assert 'data-status="granted"' in page.text
    assert "安徽省公共资源交易平台(开发)" in page.text


@pytest.mark.parametrize("path", ["/api/v1/certs/trust-list", "/api/v1/certs/trust-list/signature"])
async def test_download_needs_no_login(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code not in {401, 403}


async def test_every_version_is_kept_to_answer_for_its_own_time(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    dev_ca: DevCa,
) -> None:
    assert (await load_list(session_maker, settings, *_own(dev_ca))).refusal is None
    async with session_maker() as session:
        now = await clock.now(session)
    withdrawn_at = now - timedelta(seconds=1)
    second = dev_trust_list(dev_pki, sequence=2, issued=withdrawn_at, jiangsu_withdrawn_at=withdrawn_at)
    published = await publish(second, dev_pki.operator.signing(), tsa=dev_tsa)
    assert (await load_list(session_maker, settings, published.document, published.signature)).refusal is None
    jiangsu = dev_pki.jiangsu_ca.certificate
    earlier = dev_pki.now - timedelta(minutes=30)
    async with session_maker() as session:
        in_force = await registry_in_force(session, settings, now)
        assert in_force.own.sequence == 2
        with pytest.raises(Refused) as refused:
            in_force.recognise(jiangsu, at=now, usage=Usage.LOGIN)
        assert refused.value.reason is Reason.CA_WITHDRAWN
        # a bid signed half an hour ago: the list then in force was sequence 1, the CA recognised
        then = await registry_at(session, settings, earlier)
        assert then.own.sequence == 1
        assert then.recognise(jiangsu, at=earlier, usage=Usage.LOGIN).list_sequence == 1
        # the newer list's history says the same about that time
        assert in_force.recognise(jiangsu, at=earlier, usage=Usage.LOGIN).list_sequence == 2
