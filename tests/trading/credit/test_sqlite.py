"""The embedded default: imports, re-imports and the eligibility question work on SQLite too."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command

from tests.trading.credit.samples import csv_bytes, row
from tests.trading.parties.factories import new_uscc
from trading.credit.importing import ZONE, import_records
from trading.credit.service import may_take_part
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.parties.models import OrganisationKind
from trading.parties.schemas import OrganisationCreate
from trading.parties.service import PartiesService
from trading.server.cli import alembic_config

pytestmark = pytest.mark.sqlite


async def test_credit_on_sqlite(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ggzy.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    embedded = Settings(db={"url": url}, var_dir=settings.var_dir)  # type: ignore[arg-type]
    engine = create_engine(url)
    try:
        maker = create_session_maker(engine)
        async with transaction(maker, lock=True) as session:
            org = await PartiesService(session, embedded).create_organisation(
                OrganisationCreate(uscc=new_uscc(), name="嵌入式测试企业", kind=OrganisationKind.ENTERPRISE),
                actor=Actor.system(),
            )
        data = csv_bytes([row(org.uscc)])
        for expected in (1, 0):  # the second import of the same decision creates nothing
            async with transaction(maker, lock=True) as session:
                result = await import_records(session, data, "csv", actor=Actor.system(), label="sqlite")
            assert result.created == expected
        async with maker() as session:
            during = await may_take_part(session, org.id, "bidding", datetime(2027, 1, 1, tzinfo=ZONE))
            after = await may_take_part(session, org.id, "bidding", datetime(2028, 3, 1, tzinfo=ZONE))
        assert [b.reason for b in during.blocking] == ["串通投标"]
        assert after.allowed
    finally:
        await engine.dispose()
