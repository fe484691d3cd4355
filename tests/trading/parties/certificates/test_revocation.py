"""Revocation data in the platform: CRLs fetched over HTTP (a server on 127.0.0.1 started here),
verified and cached in the database, refreshed by the ``parties.refresh_revocation`` job before
they expire; without fresh data a certificate is refused."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs.devpki.devlist import dev_trust_list
from certs.devpki.pki import DevPki
from certs.trustlist.model import fingerprint
from certs.trustlist.sign import publish
from certs.tsa.client import LocalTsa
from tests.trading.parties.certificates.helpers import account, certificate_login, load_list
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.parties.certificates.revocation import CachedRevocation
from trading.parties.jobs import refresh_revocation
from trading.parties.models import RevocationCacheEntry, RevocationKind
from trading.parties.repository import RevocationCacheRepository

pytestmark = pytest.mark.usefixtures("dev_lists")


class CrlServer:
    """A CRL distribution point on 127.0.0.1: ``routes`` maps a path to a function making the body."""

    def __init__(self) -> None:
        self.routes: dict[str, Callable[[], bytes]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                make = server.routes.get(self.path)
                if make is None:
                    self.send_error(404)
                    return
                body = make()
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                del args

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def crl_server() -> Iterator[CrlServer]:
    server = CrlServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture
def fetching(settings: Settings) -> Settings:
    settings.certs.fetch_revocation = True
    return settings


async def _cached(session_maker: async_sessionmaker[AsyncSession], url: str) -> RevocationCacheEntry | None:
    async with session_maker() as session:
        return await session.scalar(select(RevocationCacheEntry).where(RevocationCacheEntry.key == url))


async def test_the_job_refreshes_a_crl_before_it_expires(
    session_maker: async_sessionmaker[AsyncSession], fetching: Settings, dev_pki: DevPki, crl_server: CrlServer
) -> None:
    ca = dev_pki.jiangsu_ca
    crl_server.routes["/ca.crl"] = lambda: ca.crl(dev_pki.now - timedelta(minutes=30)).public_bytes(Encoding.DER)
    url = crl_server.url("/ca.crl")
    async with session_maker() as session:
        now = await clock.now(session)
        # cached an hour before its nextUpdate: inside the refresh margin
        old = ca.crl(dev_pki.now - timedelta(days=6), now + timedelta(hours=1))
        await RevocationCacheRepository(session).upsert(
            CachedRevocation(
                url,
                RevocationKind.CRL,
                url,
                old.public_bytes(Encoding.DER),
                fingerprint(ca.certificate),
                old.last_update_utc,
                old.next_update_utc,
            ).values(now)
        )
        await session.commit()
    result = await refresh_revocation(session_maker, fetching)
    assert result["refreshed"] == [url]
    assert result["failed"] == []
    assert crl_server.requests == ["/ca.crl"]
    row = await _cached(session_maker, url)
    assert row is not None
    assert row.next_update is not None
    assert row.next_update > now + timedelta(days=6)
    # idempotent: everything is fresh now, nothing is fetched
    again = await refresh_revocation(session_maker, fetching)
    assert again["refreshed"] == []
    assert crl_server.requests == ["/ca.crl"]


async def test_the_job_keeps_the_old_crl_when_the_server_fails(
    session_maker: async_sessionmaker[AsyncSession], fetching: Settings, dev_pki: DevPki, crl_server: CrlServer
) -> None:
    ca = dev_pki.jiangsu_ca
    url = crl_server.url("/gone.crl")
    async with session_maker() as session:
        now = await clock.now(session)
        old = ca.crl(dev_pki.now - timedelta(days=6), now + timedelta(hours=1))
        entry = CachedRevocation(
            url,
            RevocationKind.CRL,
            url,
            old.public_bytes(Encoding.DER),
            fingerprint(ca.certificate),
            old.last_update_utc,
            old.next_update_utc,
        )
        await RevocationCacheRepository(session).upsert(entry.values(now))
        await session.commit()
    result = await refresh_revocation(session_maker, fetching)
    assert result["failed"] == [url]
    row = await _cached(session_maker, url)
    assert row is not None
    assert row.der == entry.der


async def test_a_login_fetches_the_crl_over_http_and_caches_it(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    fetching: Settings,
    *,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    crl_server: CrlServer,
) -> None:
    ca = dev_pki.jiangsu_ca
    crl_server.routes["/jiangsu.crl"] = lambda: ca.crl(dev_pki.now - timedelta(minutes=30)).public_bytes(Encoding.DER)
    url = crl_server.url("/jiangsu.crl")
    # a list naming the Jiangsu CA's CRL at our local distribution point (the revocation override)
    trust_list = dev_trust_list(dev_pki, sequence=2)
    jiangsu = trust_list.providers[0]
    signing = replace(jiangsu.services[0], crl_urls=(url,))
    jiangsu = replace(jiangsu, services=(signing, *jiangsu.services[1:]))
    published = await publish(
        replace(trust_list, providers=(jiangsu, *trust_list.providers[1:])), dev_pki.operator.signing(), tsa=dev_tsa
    )
    assert (await load_list(session_maker, fetching, published.document, published.signature)).refusal is None
    async with session_maker() as session:
        await session.execute(delete(RevocationCacheEntry))
        await session.commit()
    await account(session_maker, fetching, uscc=dev_pki.org_uscc)
    first = await certificate_login(client, dev_pki.org_sign)
    assert first.status_code == 201, first.text
    assert crl_server.requests == ["/jiangsu.crl"]
    assert await _cached(session_maker, url) is not None
    second = await certificate_login(client, dev_pki.org_sign)
    assert second.status_code == 201
    assert crl_server.requests == ["/jiangsu.crl"]  # served from the database cache
    # a revoked certificate is caught by the same fetched CRL
    revoked = await certificate_login(client, dev_pki.revoked)
    assert revoked.json()["reason"] == "revoked"


def test_the_job_is_a_named_task_on_the_beat_schedule() -> None:
    from trading.server.celery_app import celery

    assert "parties.refresh_revocation" in celery.tasks
    assert celery.conf.beat_schedule["parties.refresh_revocation"]["task"] == "parties.refresh_revocation"
    assert "parties.purge_login_challenges" in celery.tasks
