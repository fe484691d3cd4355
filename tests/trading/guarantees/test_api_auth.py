"""The guarantor API's authentication on a real server stack and PostgreSQL: a test-only Litestar app with
one signed, idempotent endpoint, the request's unit of work and the ``/api/v1`` problem+json handlers.
Each refusal is checked by its problem ``type`` and the header it names.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.pki import DevPki, build_dev_pki
from trading.guarantees import api_auth, api_store, httpsig
from trading.guarantees.api_auth import GuarantorKey
from trading.kernel import clock
from trading.kernel.api.errors import api_exception_handlers
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.server.cli import alembic_config
from trading.server.database import provide_db_session

BASE = "http://testserver.local"
PATH = "/api/v1/test-guarantor/applications/A-1/answer"


@pytest.fixture(scope="module")
def pki() -> DevPki:
    return build_dev_pki()


@pytest.fixture
def keys(pki: DevPki) -> Iterator[None]:
    """The guarantees core's lookup stands in: the dev guarantor is onboarded, the revoked one is not usable."""
    known = {
        httpsig.key_id(pki.guarantor.certificate): GuarantorKey("guarantor-1", pki.guarantor.certificate),
        httpsig.key_id(pki.revoked.certificate): GuarantorKey(
            "guarantor-2", pki.revoked.certificate, refusal="the certificate is revoked"
        ),
    }

    async def lookup(session: AsyncSession, key_id: str, now: datetime, /) -> GuarantorKey | None:
        del session, now
        return known.get(key_id)

    previous = api_auth.use_guarantor_keys(lookup)
    yield
    api_auth.use_guarantor_keys(previous)


@pytest.fixture
def runs() -> list[str]:
    """The bodies the test endpoint's work ran for (the idempotency helper must run it once per key)."""
    return []


def _app(session_maker: async_sessionmaker[AsyncSession], runs: list[str]) -> Litestar:
    """One signed, idempotent POST and one signed GET, on the request unit of work and ``/api/v1``'s errors."""

    @post(PATH)
    async def answer(
        request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], data: JSONBody[dict[str, Any]]
    ) -> Response[Any]:
        caller = await api_auth.authenticate(request, db_session)

        async def run() -> dict[str, Any]:
            runs.append(caller.body.decode())
            return {"guarantor": caller.guarantor_id, "decision": data["decision"], "run": len(runs)}

        return await api_auth.idempotent(db_session, caller, run)

    @get("/api/v1/test-guarantor/ping")
    async def ping(request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> dict[str, str]:
        caller = await api_auth.authenticate(request, db_session)
        return {"guarantor": caller.guarantor_id}

    return Litestar(
        route_handlers=[answer, ping],
        dependencies={"db_session": Provide(provide_db_session)},
        state=State({"session_maker": session_maker}),
        exception_handlers=api_exception_handlers(),
    )


@pytest.fixture
async def client(
    session_maker: async_sessionmaker[AsyncSession], keys: None, runs: list[str]
) -> AsyncIterator[httpx.AsyncClient]:
    del keys
    transport = httpx.ASGITransport(app=_app(session_maker, runs))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client


async def _now(session_maker: async_sessionmaker[AsyncSession]) -> datetime:
    async with session_maker() as session:
        return await clock.now(session)


def _ec(key: object) -> ec.EllipticCurvePrivateKey:
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _sign(
    pki: DevPki,
    now: datetime,
    body: bytes,
    *,
    idempotency_key: str = "answer-A-1",
    identity: str = "guarantor",
    certificate_of: str | None = None,
) -> dict[str, str]:
    signer = getattr(pki, identity)
    return httpsig.sign_request(
        method="POST",
        # The client signs the public URL; the server sees another scheme and host behind the proxy.
        url=f"https://ggzy.example.cn{PATH}",
        headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key},
        body=body,
        key=_ec(signer.key),
        certificate=getattr(pki, certificate_of or identity).certificate,
        now=now,
    )


async def _refused(response: httpx.Response, status: int, reason: str, field: str, *, kind: str | None = None) -> None:
    """A problem+json refusal: ``type`` names the reason (or the error ``kind`` a rule belongs to), ``errors[0]``
    the header at fault and the rule."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == f"urn:ggzy:error:{kind or reason}"
    assert problem["errors"][0]["field"] == field
    assert problem["errors"][0]["rule"] == reason


async def test_a_signed_request_is_answered_once_per_idempotency_key(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], pki: DevPki, runs: list[str]
) -> None:
    now = await _now(session_maker)
    body = b'{"decision":"approve"}'
    first = await client.post(PATH, content=body, headers=_sign(pki, now, body))
    assert first.status_code == 201, first.text
    assert first.json() == {"guarantor": "guarantor-1", "decision": "approve", "run": 1}
    # The client retries (its connection dropped): a new signature, the same key and body.
    again = await client.post(PATH, content=body, headers=_sign(pki, now, body))
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers[api_auth.REPLAYED_HEADER] == "true"
    assert runs == [body.decode()]
    # The same key for something else: refused, naming the header.
    other = b'{"decision":"refuse"}'
    reused = await client.post(PATH, content=other, headers=_sign(pki, now, other))
    await _refused(reused, 422, "idempotency_key_reused", "Idempotency-Key")
    fresh = await client.post(PATH, content=other, headers=_sign(pki, now, other, idempotency_key="answer-A-1-b"))
    assert fresh.json()["run"] == 2


async def test_a_replayed_request_is_refused(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], pki: DevPki
) -> None:
    now = await _now(session_maker)
    body = b'{"decision":"approve"}'
    headers = _sign(pki, now, body)
    assert (await client.post(PATH, content=body, headers=headers)).status_code == 201
    await _refused(await client.post(PATH, content=body, headers=headers), 401, "request_replayed", "Signature-Input")
    async with session_maker() as session:
        stored = (await session.execute(sa.select(api_store.ApiNonce))).scalars().all()
    assert [(row.key_id, row.expires_at) for row in stored] == [
        (httpsig.key_id(pki.guarantor.certificate), now.replace(microsecond=0) + httpsig.CLOCK_WINDOW)
    ]


async def test_each_bad_request_is_refused_with_its_reason(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], pki: DevPki, runs: list[str]
) -> None:
    now = await _now(session_maker)
    body = b'{"decision":"approve"}'
    good = _sign(pki, now, body)
    unsigned = {k: v for k, v in good.items() if not k.startswith("Signature")}
    await _refused(await client.post(PATH, content=body, headers=unsigned), 401, "request_unsigned", "Signature")
    tampered = b'{"decision":"refuse"}'
    await _refused(
        await client.post(PATH, content=tampered, headers=good), 401, "request_digest_mismatch", "Content-Digest"
    )
    wrong_key = _sign(pki, now, body, identity="org_sign", certificate_of="guarantor")
    await _refused(
        await client.post(PATH, content=body, headers=wrong_key), 401, "request_signature_invalid", "Signature"
    )
    unknown = _sign(pki, now, body, identity="org_sign")
    await _refused(
        await client.post(PATH, content=body, headers=unknown), 401, "request_key_unknown", "Signature-Input"
    )
    stale = _sign(pki, now - timedelta(seconds=301), body)
    await _refused(await client.post(PATH, content=body, headers=stale), 401, "request_expired", "Signature-Input")
    no_key = {k: v for k, v in good.items() if k != "Idempotency-Key"}
    await _refused(
        await client.post(PATH, content=body, headers=no_key), 400, "idempotency_key_missing", "Idempotency-Key"
    )
    too_long = good | {"Idempotency-Key": "k" * 256}
    await _refused(
        await client.post(PATH, content=body, headers=too_long),
        400,
        "idempotency_key_format",
        "Idempotency-Key",
        kind="idempotency_key_missing",
    )
    assert runs == []


async def test_a_revoked_certificate_is_refused(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], pki: DevPki
) -> None:
    now = await _now(session_maker)
    body = b'{"decision":"approve"}'
    revoked = httpsig.sign_request(
        method="POST",
        url=f"{BASE}{PATH}",
        headers={"Content-Type": "application/json", "Idempotency-Key": "r-1"},
        body=body,
        key=pki.revoked.key,  # type: ignore[arg-type]
        certificate=pki.revoked.certificate,
        now=now,
    )
    response = await client.post(PATH, content=body, headers=revoked)
    await _refused(response, 401, "request_certificate_invalid", "Signature-Input")
    assert "revoked" in response.json()["detail"]


async def test_a_signed_get_needs_no_idempotency_key(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], pki: DevPki
) -> None:
    now = await _now(session_maker)
    headers = httpsig.sign_request(
        method="GET",
        url=f"{BASE}/api/v1/test-guarantor/ping",
        headers={},
        body=b"",
        key=_ec(pki.guarantor.key),
        certificate=pki.guarantor.certificate,
        now=now,
    )
    response = await client.get("/api/v1/test-guarantor/ping", headers=headers)
    assert response.json() == {"guarantor": "guarantor-1"}
    await _refused(await client.get("/api/v1/test-guarantor/ping"), 401, "request_unsigned", "Signature")


async def test_the_purge_forgets_closed_windows_and_old_responses(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    """`purge_expired` in the caller's session; the beat job (`api_store.purge_api_records`) wraps it."""
    async with session_maker() as session:
        now = await clock.now(session)
        assert await api_store.record_nonce(session, "k" * 64, "old", now - timedelta(seconds=1))
        assert await api_store.record_nonce(session, "k" * 64, "open", now + timedelta(seconds=60))
        assert not await api_store.record_nonce(session, "k" * 64, "open", now + timedelta(seconds=60))
        for key, created in (("old", now - timedelta(hours=25)), ("recent", now - timedelta(hours=1))):
            await api_store.claim_idempotency(
                session,
                key_id="k" * 64,
                idempotency_key=key,
                method="POST",
                path="/x",
                request_sha256="0" * 64,
                now=created,
            )
        assert await api_store.purge_expired(session, now) == 2
        nonces = (await session.execute(sa.select(api_store.ApiNonce.nonce))).scalars().all()
        kept = (await session.execute(sa.select(api_store.ApiIdempotency.idempotency_key))).scalars().all()
    assert (nonces, kept) == (["open"], ["recent"])


async def test_the_beat_job_purges_in_its_own_unit_of_work(session_maker: async_sessionmaker[AsyncSession]) -> None:
    async with session_maker() as session:
        now = await clock.now(session)
        await api_store.record_nonce(session, "j" * 64, "gone", now - timedelta(seconds=1))
        await session.commit()
    assert await api_store.purge_api_records(session_maker) == 1
    assert await api_store.purge_api_records(session_maker) == 0


def test_the_purge_is_a_named_task_on_the_beat_schedule() -> None:
    from trading.server.celery_app import celery

    assert "guarantees.purge_api_records" in celery.tasks
    assert celery.conf.beat_schedule["guarantees.purge_api_records"]["task"] == "guarantees.purge_api_records"


async def test_replay_and_idempotency_hold_on_sqlite(tmp_path: Path, keys: None, pki: DevPki) -> None:
    """Embedded mode (``make run``): the same store on SQLite, its schema from the same migration."""
    del keys
    url = f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    engine = create_engine(url)
    runs: list[str] = []
    try:
        maker = create_session_maker(engine)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(maker, runs)), base_url=BASE) as client:
            now = await _now(maker)
            body = b'{"decision":"approve"}'
            headers = _sign(pki, now, body)
            first = await client.post(PATH, content=body, headers=headers)
            assert first.status_code == 201, first.text
            replayed = await client.post(PATH, content=body, headers=headers)
            await _refused(replayed, 401, "request_replayed", "Signature-Input")
            again = await client.post(PATH, content=body, headers=_sign(pki, now, body))
            assert (again.content, again.headers[api_auth.REPLAYED_HEADER]) == (first.content, "true")
            other = b'{"decision":"refuse"}'
            reused = await client.post(PATH, content=other, headers=_sign(pki, now, other))
            await _refused(reused, 422, "idempotency_key_reused", "Idempotency-Key")
        assert runs == [body.decode()]
        assert await api_store.purge_api_records(maker) == 0  # the nonces' window is still open
    finally:
        await engine.dispose()
