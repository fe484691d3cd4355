"""Ledger jobs: sign a checkpoint (beat, CLI) and verify the ledger (CLI). Both are idempotent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs import keys
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings, get_settings
from trading.ledger import service
from trading.ledger.verification import VerificationReport


async def checkpoint_chains(
    session_maker: async_sessionmaker[AsyncSession], *, private_key: keys.PrivateKey | None = None
) -> dict[str, Any]:
    """Sign every chain head that moved since the last checkpoint, in one unit of work.

    Running it twice, late, or on two workers at once writes at most one checkpoint per change:
    writers are serialised and a run that finds no moved head writes nothing.
    """
    key = private_key or service.platform_private_key(get_settings())
    async with transaction(session_maker, lock=True) as session:
        checkpoint = await service.create_checkpoint(session, private_key=key)
    if checkpoint is None:
        return {"checkpoint": None, "chains": 0}
    return {"checkpoint": checkpoint.number, "chains": len(checkpoint.heads)}


async def verify_chains(
    session_maker: async_sessionmaker[AsyncSession], *, public_keys: Iterable[keys.PublicKey]
) -> VerificationReport:
    """Recompute the whole ledger in one read-only snapshot."""
    async with session_maker() as session:
        try:
            return await service.verify_ledger(session, public_keys=public_keys)
        finally:
            await session.rollback()


async def verify_with_settings(
    settings: Settings | None = None, *, extra_public_key_pems: Iterable[bytes] = ()
) -> VerificationReport:
    """``ggzy ledger verify``: against the configured database and the platform key.

    Extra PEM public keys (``--public-key``) are trusted too: an outside auditor can pass the
    published platform key instead of holding the private one.
    """
    settings = settings or get_settings()
    public_keys = [keys.load_public_key(pem) for pem in extra_public_key_pems]
    if not public_keys:
        public_keys = service.platform_public_keys(settings)
    engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
    try:
        return await verify_chains(create_session_maker(engine), public_keys=public_keys)
    finally:
        await engine.dispose()


async def checkpoint_with_settings(settings: Settings | None = None) -> dict[str, Any]:
    """``ggzy ledger checkpoint``: one checkpoint now, on the configured database."""
    settings = settings or get_settings()
    engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
    try:
        return await checkpoint_chains(create_session_maker(engine), private_key=service.platform_private_key(settings))
    finally:
        await engine.dispose()
