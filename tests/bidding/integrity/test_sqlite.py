"""The embedded default: integrity's tables on SQLite (migrated by Alembic), the same service."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command

from bidding.integrity import service
from bidding.integrity.screens.model import Scope
from tests.bidding.integrity.support import PRICE_RULE, device_finding, price_finding, seed
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.server.cli import alembic_config


@pytest.mark.sqlite
async def test_integrity_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'integrity.sqlite3'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    engine = create_engine(url)
    try:
        maker = create_session_maker(engine)
        async with transaction(maker, lock=True) as session:
            await seed(session)
            first = await service.record_findings(
                session,
                tender_id=None,
                ocid="OCDS-1",
                lot=None,
                scope=Scope.LOT_PRICES,
                findings=[price_finding(), device_finding()],
            )
        async with transaction(maker, lock=True) as session:
            again = await service.record_findings(
                session,
                tender_id=None,
                ocid="OCDS-1",
                lot=None,
                scope=Scope.LOT_PRICES,
                findings=[price_finding(), device_finding()],
            )
            assert [a.id for a in again] == [a.id for a in first]
            await service.review_alert(session, first[0].id, to_status="reviewing", reason="", actor=Actor.system())
            await service.review_alert(
                session, first[0].id, to_status="confirmed", reason="报价等差", actor=Actor.system()
            )
            edit = service.RuleEdit(
                rule_id=PRICE_RULE.id,
                base_version=1,
                reason="收紧",
                thresholds={"cv_max": "0.01", "min_bids": "3"},
                severity="amber",
                name=PRICE_RULE.name,
                basis=PRICE_RULE.basis,
                description=PRICE_RULE.description,
            )
            await service.new_rule_version(session, edit, actor=Actor.system())
            await service.record_lot_screening(
                session,
                tender_id=None,
                ocid="OCDS-1",
                lot=None,
                scope=Scope.LOT_PRICES,
                score=3.0,
                flagged=True,
                values={"cv": 0.005},
            )
        async with transaction(maker) as session:
            rows, total = await service.list_alerts(session, service.AlertFilter(status="confirmed"))
            assert (total, rows[0].rule_version, rows[0].evidence["numbers"]["cv"]) == (1, 1, 0.005)
            assert (await service.current_rules(session))[PRICE_RULE.id].version == 2
            assert await service.market_scores(session, "lot-prices") == [3.0]
    finally:
        await engine.dispose()
