"""Imports every package's models so ``Base.metadata`` is complete (Alembic, mapper configuration)."""

from __future__ import annotations

from trading.kernel.db.base import Base

metadata = Base.metadata
