"""Tables of procurement intentions, plans and projects (``procurement_*``; migration 0046)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trading.kernel.db.base import Base, UUIDPrimaryKey

MONEY = sa.Numeric(16, 2)


class ItemCategory(StrEnum):
    """政府采购品目 first level: A goods, B works, C services."""

    GOODS = "goods"  # 货物 (A)
    WORKS = "works"  # 工程 (B)
    SERVICES = "services"  # 服务 (C)


class ProcurementMethod(StrEnum):
    """政府采购法 Art. 26 (and 财库〔2014〕214号 for 竞争性磋商)."""

    PUBLIC_TENDER = "public-tender"  # 公开招标
    INVITATION = "invitation"  # 邀请招标
    NEGOTIATION = "competitive-negotiation"  # 竞争性谈判
    CONSULTATION = "competitive-consultation"  # 竞争性磋商
    INQUIRY = "inquiry"  # 询价
    SINGLE_SOURCE = "single-source"  # 单一来源


class ProjectStatus(StrEnum):
    DRAFT = "draft"  # 草稿: conditions not yet all met
    PUBLICITY = "publicity"  # 单一来源公示中
    READY = "ready"  # conditions met, may proceed
    TENDERED = "tendered"  # a tender exists on the bidding engine
    PROCEEDING = "proceeding"  # single source: negotiation with the named supplier (outside the engine)


def _enum(enum: type[StrEnum]) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


class ProcurementPlan(UUIDPrimaryKey, Base):
    """采购计划: one purchaser's plan for one budget year, grouping its intentions and projects."""

    __tablename__ = "procurement_plans"
    __table_args__ = (sa.UniqueConstraint("organisation_id", "budget_year"),)

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    budget_year: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime]


class ProcurementIntention(UUIDPrimaryKey, Base):
    """采购意向: published (public) at least 30 days before the procurement starts, or with an exemption."""

    __tablename__ = "procurement_intentions"

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("procurement_plans.id"), index=True)
    project_name: Mapped[str] = mapped_column(sa.String(300))
    budget: Mapped[Decimal] = mapped_column(MONEY)
    item_code: Mapped[str] = mapped_column(sa.String(32))
    """政府采购品目 code (A…, B…, C…)."""
    category: Mapped[ItemCategory] = mapped_column(_enum(ItemCategory))
    summary: Mapped[str] = mapped_column(sa.String(4000))
    """采购需求概况."""
    expected_month: Mapped[str] = mapped_column(sa.String(7))
    """预计采购时间, ``YYYY-MM``."""
    expected_start: Mapped[datetime]
    """The first moment of the expected month (Beijing time): the procurement's expected start."""
    exemption: Mapped[str | None] = mapped_column(sa.String(32))
    exemption_text: Mapped[str | None] = mapped_column(sa.String(2000))
    published_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[uuid.UUID]


class ProcurementProject(UUIDPrimaryKey, Base):
    """采购项目: the method, its conditions, and the tender it became."""

    __tablename__ = "procurement_projects"

    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    plan_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("procurement_plans.id"), index=True)
    intention_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("procurement_intentions.id"), index=True)
    requirement_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("procurement_requirements.id"), index=True)
    """The requirement (采购需求, `procurement.requirements`) it implements: approved before it becomes a tender."""
    code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    """The project code, the tender's project code once tendered."""
    name: Mapped[str] = mapped_column(sa.String(300))
    category: Mapped[ItemCategory] = mapped_column(_enum(ItemCategory))
    item_code: Mapped[str] = mapped_column(sa.String(32))
    budget: Mapped[Decimal] = mapped_column(MONEY)
    method: Mapped[ProcurementMethod] = mapped_column(_enum(ProcurementMethod))
    method_reason: Mapped[str | None] = mapped_column(sa.String(64))
    """The statutory ground chosen for a non-public method (`procurement.projects.rules.REASONS`)."""
    justification: Mapped[str | None] = mapped_column(sa.String(4000))
    approval_ref: Mapped[str | None] = mapped_column(sa.String(200))
    """财政部门批准文号: a non-public method above the public-tender threshold."""
    supplier_name: Mapped[str | None] = mapped_column(sa.String(200))
    """单一来源: the proposed supplier."""
    publicity_from: Mapped[datetime | None]
    publicity_until: Mapped[datetime | None]
    notice_at: Mapped[datetime]
    """The planned start of procurement (the notice's publication)."""
    exemption: Mapped[str | None] = mapped_column(sa.String(32))
    exemption_text: Mapped[str | None] = mapped_column(sa.String(2000))
    evaluation_method: Mapped[str] = mapped_column(sa.String(32))
    criteria: Mapped[dict[str, Any]]
    """``{"criteria": [{"name", "weight"}], "priceWeight": n}``."""
    sme_deduction_percent: Mapped[int]
    """小微企业价格扣除 (财库〔2020〕46号, 10–20 %); 0: reserved for SMEs or none."""
    bid_security_amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[ProjectStatus] = mapped_column(_enum(ProjectStatus))
    tender_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("bidding_tenders.id"))
    warned_at: Mapped[datetime | None]
    """When the sweep warned that the project starts without a 30-day-old intention (once)."""
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
