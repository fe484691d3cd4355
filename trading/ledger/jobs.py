"""Ledger jobs: sign a checkpoint (beat, CLI) and verify the ledger (CLI). Both are idempotent."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from certs import keys
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings, get_settings
from trading.ledger import service
from trading.ledger.errors import CheckpointFileInvalid, SigningKeyUnusable
from trading.ledger.verification_report import VerificationReport

log = structlog.get_logger(__name__)


async def checkpoint_chains(
    session_maker: async_sessionmaker[AsyncSession],
    *,
    private_key: keys.PrivateKey | None = None,
    milestone: str | None = None,
    project_code: str | None = None,
) -> dict[str, Any]:
    """Sign every chain head that moved since the last checkpoint, in one unit of work.

    Running it twice, late, or on two workers at once writes at most one checkpoint per change:
    writers are serialised and a run that finds no moved head writes nothing. ``milestone`` and
    ``project_code`` name why it ran (beat: neither; ``service.request_checkpoint``: both).
    """
    key = private_key or service.platform_private_key(get_settings())
    async with transaction(session_maker, lock=True) as session:
        checkpoint = await service.create_checkpoint(session, private_key=key)
    if checkpoint is None:
        return {"checkpoint": None, "chains": 0}
    chains = len(checkpoint.heads) + len(checkpoint.sealed_heads or {})
    log.info(
        "ledger.checkpoint_signed",
        checkpoint=checkpoint.number,
        chains=chains,
        milestone=milestone,
        project_code=project_code,
        timestamped=checkpoint.timestamp_token is not None,
    )
    return {"checkpoint": checkpoint.number, "chains": chains}


async def verify_chains(
    session_maker: async_sessionmaker[AsyncSession],
    *,
    public_keys: Iterable[keys.PublicKey],
    against: Sequence[Mapping[str, Any]] = (),
) -> VerificationReport:
    """Recompute the whole ledger in one read-only snapshot (and hold it against ``against``)."""
    async with session_maker() as session:
        try:
            return await service.verify_ledger(session, public_keys=public_keys, against=against)
        finally:
            await session.rollback()


async def verify_with_settings(
    settings: Settings | None = None,
    *,
    extra_public_key_pems: Iterable[bytes] = (),
    against: Sequence[Mapping[str, Any]] = (),
) -> VerificationReport:
    """``ggzy ledger verify``: against the configured database and the platform key.

    Extra PEM public keys (``--public-key``) are trusted instead: an outside auditor can pass the
    published platform key instead of holding the private one. ``against`` holds the auditor's
    own copies of published checkpoints (``--against CHECKPOINT.json``, see `load_checkpoint_copies`).
    """
    settings = settings or get_settings()
    public_keys = [keys.load_public_key(pem) for pem in extra_public_key_pems]
    if not public_keys and against:
        # The outsider's own copy names the key that signed it: what they kept is what they trust
        # (the platform's key, if this installation has one, is trusted as well).
        public_keys = _copy_keys(against)
        with contextlib.suppress(SigningKeyUnusable):
            public_keys += service.platform_public_keys(settings)
    if not public_keys:
        public_keys = service.platform_public_keys(settings)
    engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
    try:
        return await verify_chains(create_session_maker(engine), public_keys=public_keys, against=against)
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


def _copy_keys(copies: Sequence[Mapping[str, Any]]) -> list[keys.PublicKey]:
    found: list[keys.PublicKey] = []
    for copy in copies:
        pem = copy.get("public_key_pem")
        if not isinstance(pem, str):
            raise CheckpointFileInvalid(
                "a checkpoint copy has no public_key_pem", field="public_key_pem", rule="required"
            )
        try:
            found.append(keys.load_public_key(pem.encode()))
        except (ValueError, keys.UnusableKey) as exc:
            msg = f"a checkpoint copy's public key cannot be read: {exc}"
            raise CheckpointFileInvalid(msg, field="public_key_pem", rule="pem") from exc
    return found


async def published_with_settings(settings: Settings | None = None) -> dict[str, Any] | None:
    """``ggzy ledger published-checkpoint``: the latest published checkpoint, as the API gives it."""
    settings = settings or get_settings()
    engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
    try:
        async with create_session_maker(engine)() as session:
            checkpoint = await service.latest_published_checkpoint(session)
            return service.published_checkpoint(checkpoint) if checkpoint is not None else None
    finally:
        await engine.dispose()


def load_checkpoint_copies(raw: bytes) -> list[dict[str, Any]]:
    """Checkpoint copies from a file an outsider kept: one published checkpoint (the JSON object
    ``GET /api/v1/ledger/checkpoints/latest`` returns), a JSON array of them, or JSON lines.
    """
    try:
        text = raw.decode()
        stripped = text.strip()
        if stripped.startswith("["):
            value: Any = json.loads(stripped)
        elif stripped.startswith("{") and "\n{" not in stripped:
            value = [json.loads(stripped)]
        else:
            value = [json.loads(line) for line in stripped.splitlines() if line.strip()]
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"not JSON: {exc}"
        raise CheckpointFileInvalid(msg, field="checkpoint", rule="json") from exc
    if not value or not all(isinstance(item, dict) for item in value):
        raise CheckpointFileInvalid("expected checkpoint objects", field="checkpoint", rule="format")
    return list(value)
