"""The embedded default: the guarantee tables and the core path (apply → issue → attach → claim → answer) on SQLite."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command

from tests.trading.guarantees.factories import SYSTEM, issued
from trading.guarantees import lifecycle, service
from trading.guarantees.errors import GuaranteeAlreadyUsed
from trading.guarantees.models import ClaimTrigger, GuaranteeStatus
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.server.cli import alembic_config

pytestmark = pytest.mark.sqlite


async def test_guarantees_on_sqlite(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    embedded = Settings(db={"url": url}, var_dir=settings.var_dir)  # type: ignore[arg-type]
    engine = create_engine(url)
    try:
        maker = create_session_maker(engine)
        async with transaction(maker, lock=True) as session:
            guarantee, _, _, tenderee = await issued(session, embedded, tmp_path / "store")
            await service.attach_to_bid(session, SYSTEM, guarantee.id, uuid.uuid4())
        async with transaction(maker, lock=True) as session:
            with pytest.raises(GuaranteeAlreadyUsed):
                await service.attach_to_bid(session, SYSTEM, guarantee.id, uuid.uuid4())
            claim = await lifecycle.file_claim(
                session,
                SYSTEM,
                guarantee.id,
                trigger=ClaimTrigger.DECRYPTION_FAILURE,
                claimant_organisation_id=tenderee.id,
                amount=Decimal("80000.00"),
                statement="投标文件解密失败，视为撤销投标文件",
            )
            await lifecycle.answer_claim(session, SYSTEM, claim.id, pay=True, answer="已赔付")
        async with maker() as session:
            found = await service.verify_code(session, guarantee.verification_code)
        assert found is not None
        assert found.status == GuaranteeStatus.PAID_OUT
        assert found.amount == Decimal("80000.00")
    finally:
        await engine.dispose()
