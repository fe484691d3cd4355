"""Credit records shared by every domain, and the history of each record's changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel.db.base import Base, UUIDPrimaryKey
from trading.kernel.db.types import JSONData


class CreditKind(StrEnum):
    SERIOUS_VIOLATION = "serious_violation"  # 严重失信主体名单
    BLACKLIST = "blacklist"  # 黑名单 (e.g. 失信中介服务机构名单, 政府采购严重违法失信行为记录名单)
    ADMINISTRATIVE_PENALTY = "administrative_penalty"  # 行政处罚
    PERFORMANCE_EVALUATION = "performance_evaluation"  # 履约评价
    COMMENDATION = "commendation"  # 表彰 / 诚信红名单


BLOCKING_KINDS = frozenset({CreditKind.SERIOUS_VIOLATION, CreditKind.BLACKLIST, CreditKind.ADMINISTRATIVE_PENALTY})
"""Kinds that can bar an activity — and only through a scope naming it. Evaluations and
commendations inform; they never bar anything, whatever their scope says."""


class Activity(StrEnum):
    """What a record's scope may bar or concern; ``ALL`` covers every activity."""

    BIDDING = "bidding"  # 招标投标
    GOVERNMENT_PROCUREMENT = "government_procurement"  # 政府采购
    INTERMEDIARY_SERVICES = "intermediary_services"  # 中介服务
    ALL = "all"


class CreditStatus(StrEnum):
    EFFECTIVE = "effective"
    WITHDRAWN = "withdrawn"  # revoked, overturned or repaired (信用修复): never counts, even for the past
    EXPIRED = "expired"  # ran out at ``valid_until``; still counts for moments within its period


def _enum(enum: type[StrEnum]) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


class CreditRecord(UUIDPrimaryKey, Base):
    """One credit record of one organisation, as its source published it.

    Keyed by the organisation's 统一社会信用代码: an import carries records of organisations not
    (yet) on the platform, and ``organisation_id`` is filled when the code is known here.
    ``source_ref`` is unique, so a source publishing the same record again updates it.
    """

    __tablename__ = "credit_records"

    uscc: Mapped[str] = mapped_column(sa.String(18), index=True)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    organisation_name: Mapped[str] = mapped_column(sa.String(200))
    """The name as the source gave it (行政相对人名称)."""
    kind: Mapped[CreditKind] = mapped_column(_enum(CreditKind))
    category: Mapped[str | None] = mapped_column(sa.String(200))
    """The source's own classification (处罚类别 / 失信类型), as given."""
    scope: Mapped[list[str]] = mapped_column(JSONData)
    """The ``Activity`` values the record bars or concerns; empty: informational only."""
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    """Exclusive end; ``None``: until withdrawn."""
    issuing_body: Mapped[str] = mapped_column(sa.String(200))
    decision_no: Mapped[str] = mapped_column(sa.String(200))
    legal_basis: Mapped[str | None] = mapped_column(sa.String(1000))
    reason: Mapped[str] = mapped_column(sa.String(2000))
    source: Mapped[str] = mapped_column(sa.String(100))
    """Who published it: a domain (``intermediary_market``) or an import batch (``import:…``)."""
    source_ref: Mapped[str] = mapped_column(sa.String(300), unique=True)
    evidence_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    evidence_url: Mapped[str | None] = mapped_column(sa.String(1000))
    status: Mapped[CreditStatus] = mapped_column(_enum(CreditStatus))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    """``valid_until`` while effective: the sweep marks the record expired then."""


class CreditRecordChange(UUIDPrimaryKey, Base):
    """One change of a record (published, updated, withdrawn, expired), newest last."""

    __tablename__ = "credit_record_changes"

    record_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("credit_records.id"), index=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(sa.String(32))
    source: Mapped[str] = mapped_column(sa.String(100))
    actor_user_id: Mapped[uuid.UUID | None]
    changes: Mapped[dict[str, Any]]
    """Field → ``[before, after]`` (strings), for the fields this change moved."""
