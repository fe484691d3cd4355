"""0055_integrity_price_columns on both backends: rows read out before it get ``total_price`` as
`read_out_total` reads their summary (SQL where SQL reads it exactly, Python for the rest).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from bidding.opening.models import read_out_total
from trading.server.cli import alembic_config

SUMMARIES: list[Any] = [
    {"currency": "CNY", "totalPrice": "1234.50"},
    {"totalPrice": "0"},
    {"totalPrice": "-5"},
    {"totalPrice": "abc"},
    {"totalPrice": "NaN"},
    {"totalPrice": True},
    {"totalPrice": None},
    {"totalPrice": 1234567.5},
    {"totalPrice": 12},
    {"totalPrice": "1_000.5"},
    {"totalPrice": " 2500.75 "},
    {"totalPrice": "1e3"},
    {"currency": "CNY"},
    None,
]


async def _rows(url: str, *, write: bool) -> list[tuple[Any, Any]]:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            if write:
                if connection.dialect.name == "postgresql":
                    await connection.execute(sa.text("SET session_replication_role = replica"))
                else:
                    await connection.execute(sa.text("PRAGMA foreign_keys = OFF"))
                for summary in SUMMARIES:
                    await connection.execute(
                        sa.text(
                            "INSERT INTO bidding_opening_bids (id, session_id, bid_id, version_id, lot_id,"
                            " organisation_id, bidder_uscc, bidder_name, price_status, price_summary,"
                            " package_status, outcome, failed_attempts, updated_at) VALUES (:id, :s, :s, :s, :s,"
                            " :s, 'x', 'x', 'OPENED', :summary, 'OPENED', 'DECRYPTED', 0, CURRENT_TIMESTAMP)"
                        ),
                        {
                            "id": _id(connection.dialect.name),
                            "s": _id(connection.dialect.name),
                            "summary": None if summary is None else json.dumps(summary),
                        },
                    )
                return []
            rows = await connection.execute(sa.text("SELECT price_summary, total_price FROM bidding_opening_bids"))
            return [(json.loads(s) if isinstance(s, str) else s, t) for s, t in rows.all()]
    finally:
        await engine.dispose()


def _id(dialect: str) -> Any:
    return uuid.uuid4() if dialect == "postgresql" else uuid.uuid4().hex


def _roundtrip(url: str) -> None:
    config = alembic_config(url)
    command.upgrade(config, "0054_integrity_party_signals")
    asyncio.run(_rows(url, write=True))
    command.upgrade(config, "0055_integrity_price_columns")
    rows = asyncio.run(_rows(url, write=False))
    assert len(rows) == len(SUMMARIES)
    assert sorted((json.dumps(s), t) for s, t in rows) == sorted((json.dumps(s), read_out_total(s)) for s in SUMMARIES)
    assert {t for _, t in rows} == {None, 1234.5, 1234567.5, 12.0, 1000.5, 2500.75, 1000.0}


async def test_postgresql(empty_pg_db: str) -> None:
    await asyncio.to_thread(_roundtrip, empty_pg_db)


@pytest.mark.sqlite
def test_sqlite(tmp_path: Path) -> None:
    _roundtrip(f"sqlite+aiosqlite:///{tmp_path / 'prices.sqlite3'}")
