"""The catalogue's shapes on the API (msgspec Structs). Rules live in the service."""

from __future__ import annotations

from datetime import datetime

import msgspec

from procurement.negative_list.model import Severity
from procurement.rule_catalogue.models import RuleVersion
from procurement.rule_catalogue.service import category_of
from trading.kernel.bounds import Input, ShortText


class RuleRead(msgspec.Struct, rename="camel"):
    """One version of a rule (the current one, or any version of its history)."""

    id: str
    version: int
    in_force: bool
    category: str
    name: str
    basis: str
    severity: Severity
    suggestion: str
    patterns: list[str]
    negations: list[str]
    structured: str | None
    positive_examples: list[str]
    negative_examples: list[str]
    item: int | None
    thresholds: list[list[str]]
    author: str
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, row: RuleVersion) -> RuleRead:
        return cls(
            id=row.rule_id,
            version=row.version,
            in_force=row.in_force,
            category=category_of(row.rule_id),
            name=row.name,
            basis=row.basis,
            severity=row.severity,
            suggestion=row.suggestion,
            patterns=list(row.patterns),
            negations=list(row.negations),
            structured=row.structured,
            positive_examples=list(row.positive_examples),
            negative_examples=list(row.negative_examples),
            item=row.item,
            thresholds=[list(pair) for pair in row.thresholds],
            author=row.author_name,
            reason=row.reason,
            created_at=row.created_at,
        )


class RuleVersionCreate(Input, rename="camel"):
    """A rule's next version: ``baseVersion`` is the version the edit started from (0 for a new
    rule); the structured check, if any, is kept from the current version.
    """

    name: ShortText
    basis: ShortText
    severity: Severity
    suggestion: str
    reason: str
    base_version: int
    in_force: bool = True
    patterns: list[str] = msgspec.field(default_factory=list)
    negations: list[str] = msgspec.field(default_factory=list)
    positive_examples: list[str] = msgspec.field(default_factory=list)
    negative_examples: list[str] = msgspec.field(default_factory=list)
