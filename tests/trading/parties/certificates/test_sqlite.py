"""The embedded default: trust lists, the CRL cache (upsert), certificate login and the TSA's
savepoint-numbered serials work on SQLite as on PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import func, select

from certs.auth.challenge import sign_challenge
from certs.devpki.pki import DevPki
from certs.tsa.asn1 import TimeStampResp
from certs.tsa.client import make_request
from tests.trading.parties.certificates.helpers import account, load_dev_lists
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.parties.certificates import tsa
from trading.parties.certificates.login import CertificateService
from trading.parties.models import ChallengePurpose, RevocationCacheEntry, SessionKind, TimestampToken
from trading.server.cli import alembic_config

pytestmark = pytest.mark.sqlite


async def test_certificates_on_sqlite(
    tmp_path: Path, settings: Settings, dev_ca: tuple[Path, dict[str, Any]], dev_pki: DevPki
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    embedded = Settings(db={"url": url}, var_dir=settings.var_dir, certs=settings.certs.model_dump())  # type: ignore[arg-type]
    engine = create_engine(url)
    try:
        maker = create_session_maker(engine)
        await load_dev_lists(maker, embedded, *dev_ca)
        await load_dev_lists(maker, embedded, *dev_ca)  # again: the CRL upsert replaces, the lists are known
        async with maker() as session:
            cached = await session.scalar(select(func.count()).select_from(RevocationCacheEntry))
        assert cached == 4  # the four CAs listed for something revocable: Jiangsu, Anhui, platform, guarantor
        bidder = await account(maker, embedded, uscc=dev_pki.org_uscc)
        async with transaction(maker, lock=True) as session:
            service = CertificateService(session, embedded)
            challenge = await service.issue_challenge(ChallengePurpose.LOGIN, actor=Actor.anonymous("127.0.0.1"))
            signed = sign_challenge(
                challenge, dev_pki.org_sign.signing().signer, dev_pki.org_sign.certificate, dev_pki.org_sign.chain[:1]
            )
            result = await service.login(signed.to_dict(), kind=SessionKind.API, actor=Actor.anonymous("127.0.0.1"))
        assert result.user is not None, result.refusal
        assert result.user.id == bidder.user_id
        async with transaction(maker, lock=True) as session:
            granted = await tsa.timestamp(session, embedded, make_request(b"data").der, client_ip="127.0.0.1")
            rejected = await tsa.timestamp(session, embedded, b"\x30\x00", client_ip="127.0.0.1")
            again = await tsa.timestamp(session, embedded, make_request(b"more").der, client_ip="127.0.0.1")
        assert TimeStampResp.load(granted)["status"]["status"].native == "granted"
        assert TimeStampResp.load(rejected)["status"]["status"].native == "rejection"
        assert TimeStampResp.load(again)["status"]["status"].native == "granted"
        async with maker() as session:
            serials = (await session.scalars(select(TimestampToken.serial).order_by(TimestampToken.serial))).all()
        assert len(serials) == 2
        assert serials[0] < serials[1]
    finally:
        await engine.dispose()
