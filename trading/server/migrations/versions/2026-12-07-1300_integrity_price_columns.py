"""integrity price columns: the read-out total price as a number (issue 19)

- ``bidding_opening_bids.total_price``: the price summary's ``totalPrice`` as a double (positive
  and finite, else NULL), set with the summary by the opening (`OpeningBid._total_with_summary`);
  the market batch reads it instead of the JSON. Filled here for every row read before: on
  PostgreSQL in SQL where SQL reads the total exactly as Python does (a JSON string of plain
  digits, a JSON number of a sane size), the other rows (and every row on SQLite) in Python with
  the same reading as `bidding.opening.models.read_out_total` (frozen here, as of this revision).

Revision ID: 0055_integrity_price_columns
Revises: 0054_integrity_party_signals
Create Date: 2026-12-07 13:00:00

Runs on PostgreSQL and SQLite alike (batch mode rebuilds the table on SQLite).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0055_integrity_price_columns"
down_revision: str | Sequence[str] | None = "0054_integrity_party_signals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_BIDS = sa.table(
    "bidding_opening_bids",
    sa.column("id", sa.Uuid()),
    sa.column("price_summary", _JSON),
    sa.column("total_price", sa.Double()),
)
# The totals PostgreSQL reads exactly as Python's Decimal → float does; -1: read in Python.
_TOTAL = "(price_summary -> 'totalPrice')"
_TEXT = f"({_TOTAL} #>> '{{}}')"
_SQL_TOTAL = f"""CASE jsonb_typeof({_TOTAL})
    WHEN 'string' THEN CASE WHEN length({_TEXT}) <= 250 AND {_TEXT} ~ '^[0-9]+(\\.[0-9]*)?$'
                            THEN {_TEXT}::float8 ELSE -1 END
    WHEN 'number' THEN CASE WHEN abs({_TOTAL}::numeric) < 1e300 THEN {_TOTAL}::numeric::float8 ELSE -1 END
    WHEN 'null' THEN 'NaN'::float8
    ELSE CASE WHEN {_TOTAL} IS NULL THEN 'NaN'::float8 ELSE -1 END
END"""
_CHUNK = 5000


def _total(summary: Any) -> float | None:
    total = summary.get("totalPrice") if isinstance(summary, dict) else None
    if total is None:
        return None
    try:
        amount = float(Decimal(str(total)))
    except (InvalidOperation, ValueError):
        return None
    return amount if math.isfinite(amount) and amount > 0 else None


def _fill_in_python(connection: sa.Connection, query: sa.Select[Any]) -> None:
    rows = connection.execute(query).all()
    update = (
        sa.update(_BIDS)
        .where(_BIDS.c.id == sa.bindparam("row_id"))
        .values(total_price=sa.bindparam("row_total"))
        .execution_options(synchronize_session=False)
    )
    found = [{"row_id": row_id, "row_total": total} for row_id, summary in rows if (total := _total(summary))]
    for start in range(0, len(found), _CHUNK):
        connection.execute(update, found[start : start + _CHUNK])


def upgrade() -> None:
    with op.batch_alter_table("bidding_opening_bids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("total_price", sa.Double(), nullable=True))
    connection = op.get_bind()
    with_summary = sa.select(_BIDS.c.id, _BIDS.c.price_summary).where(_BIDS.c.price_summary.is_not(None))
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text(f"""
                WITH read AS (SELECT id, {_SQL_TOTAL} AS total FROM bidding_opening_bids
                              WHERE price_summary IS NOT NULL)
                UPDATE bidding_opening_bids ob SET total_price = read.total FROM read
                WHERE read.id = ob.id AND read.total > 0 AND read.total <> 'NaN'::float8
            """)
        )
        _fill_in_python(connection, with_summary.where(sa.text(f"({_SQL_TOTAL}) = -1")))
    else:
        _fill_in_python(connection, with_summary)


def downgrade() -> None:
    with op.batch_alter_table("bidding_opening_bids", schema=None) as batch_op:
        batch_op.drop_column("total_price")
