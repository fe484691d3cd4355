"""The roles of DESIGN.md. A user holds a role through a membership in an organisation."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    BIDDER = "bidder"  # 投标人 / 供应商
    TENDEREE = "tenderee"  # 招标人 / 采购人 (tenderee or purchaser)
    AGENCY = "agency"  # 招标代理机构
    EXPERT = "expert"  # 评标专家
    INTERMEDIARY = "intermediary"  # 中介服务机构
    GUARANTOR = "guarantor"  # 担保机构
    SUPERVISOR = "supervisor"  # 行政监督部门
    ADMIN = "admin"  # 交易中心管理员
