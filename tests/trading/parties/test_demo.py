"""Demo data: every role can log in at once, and seeding twice creates nothing new."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from cryptography.hazmat.primitives.serialization import pkcs12
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from certs.auth.challenge import sign_challenge
from certs.providers.pyca import PycaSigner
from intermediary_market.credit import UNRATED
from intermediary_market.service import MarketService
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.ratelimit import MemoryRateLimiter
from trading.kernel.settings import Settings
from trading.parties.authentication import AuthenticationService
from trading.parties.certificates.login import CertificateService
from trading.parties.identifiers import validate_uscc
from trading.parties.mandates import MandateService
from trading.parties.models import ChallengePurpose, Organisation, SessionKind, User
from trading.parties.sessions import resolve_actor
from trading.server import demo_market, demo_pki
from trading.server.cli import alembic_config
from trading.server.demo import DEMO_PASSWORD, ORGANISATIONS, USERS, seed_demo_data
from trading.server.wiring import grants


def test_demo_organisations_have_valid_huaian_codes() -> None:
    for organisation in ORGANISATIONS:
        assert validate_uscc(organisation.uscc) == organisation.uscc
        assert organisation.uscc[2:6] == "3208"  # 淮安
    assert {user.username for user in USERS} == {
        "admin",
        "bidder1",
        "bidder2",
        "tenderee",
        "agency",
        "expert",
        "expert2",  # the demo evaluation's members (trading.server.demo_evaluation)
        "expert3",
        "expert4",
        "intermediary",
        "intermediary2",
        "intermediary3",
        "guarantor",
        "supervisor",
    }


async def _check_every_demo_user_logs_in_with_their_role(settings: Settings) -> None:
    engine = create_engine(settings.db.url)
    try:
        maker = create_session_maker(engine)
        async with maker() as session:
            users = len(USERS) + len(demo_pki.USERS)
            assert await session.scalar(select(func.count()).select_from(User)) == users
            organisations = len(ORGANISATIONS) + len(demo_pki.ORGANISATIONS)
            assert await session.scalar(select(func.count()).select_from(Organisation)) == organisations
            service = AuthenticationService(session, settings)
            for user in USERS:
                result = await service.login(
                    username=user.username,
                    password=DEMO_PASSWORD,
                    totp=None,
                    kind=SessionKind.API,
                    actor=Actor.anonymous("127.0.0.1"),
                    limiter=MemoryRateLimiter(),
                )
                assert result.token is not None, (user.username, result.error)
                actor = await resolve_actor(session, result.token, SessionKind.API, client_ip=None, grants=grants())
                assert actor is not None
                assert actor.roles == {user.role}
            await _check_demo_certificates_log_in(session, settings)
            await _check_demo_market(session)
            await _check_demo_mandate(session)
            await session.rollback()
    finally:
        await engine.dispose()


async def _check_demo_mandate(session: AsyncSession) -> None:
    """The demo agency holds one mandate, in force, from the demo tenderee (seeded once)."""
    usccs = {item.key: item.uscc for item in ORGANISATIONS}
    agency = await session.scalar(select(Organisation).where(Organisation.uscc == usccs["agency"]))
    assert agency is not None
    [line] = await MandateService(session).held(agency.id)
    assert (line.organisation.uscc, line.in_force, line.mandate.valid_until) == (usccs["school"], True, None)


async def _check_demo_market(session: AsyncSession) -> None:
    """The marketplace is not empty: the item list, and three intermediaries qualified for the same
    item, as a state-funded draw needs; none graded before anyone rated them (暂无评级)."""
    market = MarketService(session)
    assert {item.code for item in await market.items()} == {item.code for item in demo_market.SERVICE_ITEMS}
    directory = await market.directory(limit=100)
    for code in ("GCZJ", "CHFW"):
        assert len([line for line in directory if code in {q.item_code for q in line.qualifications}]) >= 3, code
    assert {line.credit_grade for line in directory} == {UNRATED}


async def _check_demo_certificates_log_in(session: AsyncSession, settings: Settings) -> None:
    """The development PKI written on first start works out of the box: each demo certificate
    (Jiangsu CA, Anhui CA through the peer list, a personal one) logs its account in."""
    out = settings.certs.dev_ca_dir
    assert out is not None
    service = CertificateService(session, settings)
    for user in demo_pki.USERS:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            (out / "p12" / f"{user.leaf}.p12").read_bytes(), b"dev"
        )
        assert key is not None
        assert certificate is not None
        challenge = await service.issue_challenge(ChallengePurpose.LOGIN, actor=Actor.anonymous("127.0.0.1"))
        signed = sign_challenge(challenge, PycaSigner(key), certificate, chain[:1])  # type: ignore[arg-type]
        result = await service.login(signed.to_dict(), kind=SessionKind.API, actor=Actor.anonymous("127.0.0.1"))
        assert result.user is not None, (user.username, result.refusal)
        assert result.user.username == user.username


async def test_seeding_is_idempotent_and_every_role_can_log_in(
    pg_databases: None, fresh_db: str, tmp_path: Path
) -> None:
    settings = Settings(db={"url": fresh_db}, var_dir=tmp_path)  # type: ignore[arg-type]
    first = await asyncio.to_thread(seed_demo_data, settings)
    assert f"created {len(ORGANISATIONS)} organisations and {len(USERS)} users" in first
    assert "bidder1" in first
    assert DEMO_PASSWORD in first
    assert "intermediary marketplace: 5 service items, 9 qualifications" in first
    second = await asyncio.to_thread(seed_demo_data, settings)
    assert "nothing created" in second
    assert "intermediary marketplace" not in second
    await _check_every_demo_user_logs_in_with_their_role(settings)


@pytest.mark.sqlite
async def test_demo_seeds_the_embedded_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    settings = Settings(db={"url": url}, var_dir=tmp_path)  # type: ignore[arg-type]
    await asyncio.to_thread(seed_demo_data, settings)
    assert "nothing created" in await asyncio.to_thread(seed_demo_data, settings)
    await _check_every_demo_user_logs_in_with_their_role(settings)
