"""A purchasing unit with two purchasers (an author and a reviewer), and a filled requirement."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import PASSWORD, Account, api_token, bearer, csrf_token, new_uscc, new_username
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.parties.models import OrganisationKind
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService

API = "/api/v1/procurement/requirements"
PAGES = "/procurement/requirements"


@dataclass(frozen=True)
class Unit:
    author: Account
    reviewer: Account


async def purchasing_unit(session_maker: async_sessionmaker[AsyncSession], settings: Settings) -> Unit:
    async with session_maker() as session:
        service = PartiesService(session, settings)
        organisation = await service.create_organisation(
            OrganisationCreate(
                uscc=new_uscc(), name=f"某市卫生健康委员会 {uuid.uuid4().hex[:6]}", kind=OrganisationKind.PURCHASER_UNIT
            ),
            actor=Actor.system(),
        )
        accounts = []
        for name in ("author", "reviewer"):
            user, membership = await service.create_user(
                UserCreate(
                    username=new_username(name),
                    display_name=f"采购人{name}",
                    password=PASSWORD,
                    organisation_id=organisation.id,
                    role=Role.TENDEREE,
                ),
                actor=Actor.system(),
            )
            accounts.append(Account(user.id, organisation.id, membership.id, user.username))
        await session.commit()
    return Unit(*accounts)


async def headers(client: httpx.AsyncClient, account: Account) -> dict[str, str]:
    return bearer(await api_token(client, account))


async def log_in(client: httpx.AsyncClient, account: Account) -> None:
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text


OVERVIEW = {
    "project_name": "某医院医用设备采购项目",
    "requesting_department": "设备科",
    "year": "2027",
    "compiled_on": "2027-01-05",
    "item_code": "A021603",  # 医用超声波仪器
    "budget": "800000",
    "summary": "采购医用监护设备一批，满足临床使用需要。",
    "prior_services": "no",
}
PLAN = {
    "organisation_form": "decentralised",
    "method": "public_tender",
    "package_split": "本项目设一个采购包。",
    "sme_reserved": "yes",
    "imports": "no",
    "custom_it": "no",
}
PACKAGE = {
    "name": "医用监护设备",
    "budget": "800000",
    "max_price": "800000",
    "evaluation_method": "comprehensive",
    "price_weight": "30",
    "technical": (
        "★监护参数不少于6项。\n屏幕尺寸不小于12英寸。\n具备报警功能。\n支持中央监护系统联网。\n电池续航不少于4小时。"
    ),
    "commercial": "交货后一年内免费维护。",
    "qualifications": "具有独立承担民事责任的能力。\n投标人注册地须在本市行政区域内。",
    "scoring": "价格 | 30 | 价格 | 满足要求的最低报价为基准价\n技术 | 70 | 技术 | 每满足一项得5分",
    "delivery": "合同签订后30日内交货至采购人指定地点。",
    "payment": "验收合格后支付合同款。",
    "acceptance": "由采购人组织验收，按合同约定的技术和商务要求验收。",
}


# An item of the commodity library (edition 1) in each category: the overview's item must be one.
ITEM_OF_CATEGORY = {"goods": "A021603", "works": "B01", "services": "C1001"}

# The package's qualifications without the registered-place condition: nothing to find.
CLEAN_QUALIFICATIONS = "具有独立承担民事责任的能力。\n具有良好的商业信誉。"


async def filled_requirement(
    client: httpx.AsyncClient, auth: dict[str, str], category: str = "goods"
) -> dict[str, Any]:
    """A requirement with every required part filled; its package's qualifications carry one blocking finding."""
    created = await client.post(API, json={"category": category, "title": "某医院医用设备采购项目"}, headers=auth)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    overview = {**OVERVIEW, "item_code": ITEM_OF_CATEGORY[category]}
    for part, fields, package in (("overview", overview, None), ("plan", PLAN, None), ("package", PACKAGE, 0)):
        saved = await client.put(f"{API}/{rid}/parts/{part}", json={"fields": fields, "package": package}, headers=auth)
        assert saved.status_code == 200, saved.text
    read = await client.get(f"{API}/{rid}", headers=auth)
    body: dict[str, Any] = read.json()
    return body
