"""The catalogue's tables, prefixed ``procurement_rule``.

``procurement_rule_versions`` holds every version of every rule, written once and never changed:
findings elsewhere name a rule by ``(rule_id, version)`` and must stay explainable. A retirement is
a version too (``in_force`` false). ``procurement_rule_heads`` is one row per rule naming its
current version: the row an edit locks, so two editors cannot both write the same next version.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from procurement.negative_list.model import Severity
from trading.kernel.db.base import Base, UUIDPrimaryKey
from trading.kernel.db.types import JSONData


class RuleVersion(UUIDPrimaryKey, Base):
    """One version of one negative-list rule, with who wrote it, when and why."""

    __tablename__ = "procurement_rule_versions"
    __table_args__ = (sa.UniqueConstraint("rule_id", "version"),)

    rule_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    version: Mapped[int]
    in_force: Mapped[bool]
    """False for a retirement: the rule is kept, the checker no longer applies it."""
    name: Mapped[str] = mapped_column(sa.String(200))
    basis: Mapped[str] = mapped_column(sa.String(500))
    severity: Mapped[Severity] = mapped_column(
        sa.Enum(
            Severity,
            native_enum=False,
            create_constraint=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    suggestion: Mapped[str] = mapped_column(sa.Text)
    patterns: Mapped[list[str]] = mapped_column(JSONData)
    negations: Mapped[list[str]] = mapped_column(JSONData)
    structured: Mapped[str | None] = mapped_column(sa.String(64))
    positive_examples: Mapped[list[str]] = mapped_column(JSONData)
    negative_examples: Mapped[list[str]] = mapped_column(JSONData)
    item: Mapped[int | None]
    """The prohibited item's number in reference §8, when the checker's edition gives it."""
    thresholds: Mapped[list[list[str]]] = mapped_column(JSONData)
    """A structured check's named limits ``[[name, decimal], …]``, versioned with the rule."""
    author_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    """Who wrote it; empty for the shipped edition (the platform stored it)."""
    author_name: Mapped[str] = mapped_column(sa.String(200))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]

    def content(self) -> dict[str, Any]:
        """What a version says (the diff compares these, the ledger digests them)."""
        return {
            "in_force": self.in_force,
            "name": self.name,
            "basis": self.basis,
            "severity": self.severity.value,
            "suggestion": self.suggestion,
            "patterns": list(self.patterns),
            "negations": list(self.negations),
            "structured": self.structured,
            "positive_examples": list(self.positive_examples),
            "negative_examples": list(self.negative_examples),
            "item": self.item,
            "thresholds": [list(pair) for pair in self.thresholds],
        }


class RuleHead(Base):
    """A rule's current version (in force or retired)."""

    __tablename__ = "procurement_rule_heads"

    rule_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    version: Mapped[int]
    updated_at: Mapped[datetime]
