"""``make run``'s demo data: the demo bank is a guarantor signing with the dev PKI's guarantor certificate."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command

from trading.guarantees import service
from trading.guarantees.models import GuaranteeKind
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.server.cli import alembic_config
from trading.server.demo import ORGANISATIONS, seed_demo_data
from trading.server.demo_guarantees import seed_demo_guarantor
from trading.server.demo_pki import ensure_dev_ca

pytestmark = pytest.mark.sqlite


async def test_demo_guarantor_is_onboarded_once(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    settings = Settings(db={"url": url}, var_dir=tmp_path)  # type: ignore[arg-type]
    await asyncio.to_thread(seed_demo_data, settings)
    manifest = await asyncio.to_thread(ensure_dev_ca, settings)
    bank = next(item for item in ORGANISATIONS if item.key == "bank")
    engine = create_engine(url)
    try:
        maker = create_session_maker(engine)
        async with maker() as session:
            listed = await service.guarantors_for(session, Actor.system())
            assert [g.uscc for g in listed] == [bank.uscc]
            assert listed[0].issuing_cert_sha256 == manifest["leaves"]["guarantor"]["sha256"].replace(":", "").lower()
            products = await service.products_of(session, listed[0].id)
            assert [p.kind for p in products] == [GuaranteeKind.BID]
        async with transaction(maker, lock=True) as session:
            assert await seed_demo_guarantor(session, settings, manifest, bank_uscc=bank.uscc) == []  # nothing twice
    finally:
        await engine.dispose()
