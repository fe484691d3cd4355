"""Helpers for expert-pool tests: valid ID numbers, import files (CSV and Excel), experts, tenders."""

from __future__ import annotations

import csv
import io
import itertools
import secrets
import uuid
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from openpyxl import Workbook
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.pool.service import ExpertFacts, ExpertPool
from bidding.models import EvaluationMethod, Tender, TenderCategory, TenderStatus
from tests.trading.parties.factories import new_uscc
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.parties.identifiers import resident_id_check_digit

HEADER = [
    "姓名",
    "公民身份号码",
    "评标专业代码",
    "所在地区代码",
    "工作单位统一社会信用代码",
    "工作单位名称",
    "职称",
    "所属专家库",
    "劳务费标准",
]
_SEQUENCE = itertools.count(100)


def new_id_number(region: str = "320802", born: str = "19800101") -> str:
    """A fresh, valid 公民身份号码 (GB 11643 check digit computed)."""
    first17 = f"{region}{born}{next(_SEQUENCE) % 1000:03d}"
    return first17 + resident_id_check_digit(first17)


def expert_row(**given: str) -> list[str]:
    values = {
        "name": f"专家{secrets.token_hex(3)}",
        "id_number": new_id_number(),
        "specialties": "A0101、A0501",
        "region_code": "320802",
        "employer_uscc": new_uscc(),
        "employer_name": "某某工程咨询有限公司",
        "title": "高级工程师",
        "home_library": "",
        "fee_standard": "",
        **given,
    }
    keys = ["name", "id_number", "specialties", "region_code", "employer_uscc", "employer_name", "title"]
    return [values[k] for k in keys] + [values["home_library"], values["fee_standard"]]


def csv_file(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode()


def xlsx_file(rows: Sequence[Sequence[object]], header: Sequence[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def admin_actor() -> Actor:
    return Actor(kind=ActorKind.USER, username="centre-admin", roles=frozenset({Role.ADMIN}))


def facts(**given: object) -> ExpertFacts:
    values: dict[str, object] = {
        "name": f"专家{secrets.token_hex(3)}",
        "id_number": new_id_number(),
        "specialties": ("A0101",),
        "region_code": "320802",
        "employer_uscc": new_uscc(),
        "employer_name": "某某工程咨询有限公司",
        **given,
    }
    return ExpertFacts(**values)  # type: ignore[arg-type]


async def pool_with_list(session: AsyncSession, settings: Settings) -> ExpertPool:
    pool = ExpertPool(session, settings)
    await pool.sync_specialties(actor=Actor.system())
    return pool


async def opened_tender(
    session: AsyncSession,
    *,
    tenderee_id: uuid.UUID,
    created_by: uuid.UUID,
    agency_id: uuid.UUID | None = None,
    status: TenderStatus = TenderStatus.OPENING,
) -> Tender:
    """A tender row in the given state (the rating only reads who runs it and its state)."""
    now = await clock.now(session)
    tender = Tender(
        id=uuid7(),
        project_code=f"E3208000001{uuid.uuid4().int % 10**9:09d}",
        title="测试工程施工招标",
        category=TenderCategory.ENGINEERING,
        tender_type="engineering-mandatory",
        status=status,
        tenderee_organisation_id=tenderee_id,
        agency_organisation_id=agency_id,
        created_by=created_by,
        estimate=Decimal("1000000.00"),
        bid_security_amount=Decimal("20000.00"),
        bid_security_forms={"forms": ["cash"]},
        evaluation_method=EvaluationMethod.COMPREHENSIVE,
        evaluation_criteria={"criteria": []},
        deadline=now - timedelta(days=1),
        decryption_window_minutes=60,
        bid_validity_days=90,
        max_package_bytes=1024,
        key_holders={"holders": []},
        created_at=now,
        updated_at=now,
    )
    session.add(tender)
    await session.flush()
    return tender
