"""evaluation (drawperf part): indexes the committee draw's candidate query needed (none if the body is empty)

Revision ID: 0025_eval_drawperf
Revises: 0024_eval_hall
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0025_eval_drawperf"
down_revision: str | Sequence[str] | None = "0024_eval_hall"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
