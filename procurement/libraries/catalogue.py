"""The government procurement item catalogue (政府采购品目分类目录) as versioned data.

Codes are hierarchical: ``A`` goods (货物), ``B`` works (工程), ``C`` services (服务), then two
digits a level (``A02`` → ``A0201`` → ``A020101`` → ``A02010101``). An edition is loaded whole from
a CSV or Excel file with the columns 品目编码 and 品目名称 (every code's parent must be in the same
file); editions are numbered 1, 2 … and never change once loaded. Lookups default to the newest
edition; whoever wrote something against an edition (a requirement) keeps its number and asks
with it. The edition shipped with the platform (``data/catalogue_excerpt.csv``) is an EXCERPT of
the catalogue (财库〔2022〕31号's structure, a few hundred codes) loaded as edition 1 by the
migration; the office loads a full or newer edition from its page.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.libraries.errors import LibraryImportRefused
from procurement.libraries.models import CatalogueEdition, CatalogueItem
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound
from trading.kernel.tabular import Column, RowError, Table
from trading.ledger.service import append_entry

EXCERPT = Path(__file__).parent / "data" / "catalogue_excerpt.csv"
EXCERPT_TITLE = "政府采购品目分类目录（摘录）"
MAX_ITEMS = 20_000
CODE = re.compile(r"^[ABC](\d{2}){0,5}$")

COLUMNS = (
    Column("code", "品目编码", ("编码", "code"), 16, required=True),
    Column("name", "品目名称", ("名称", "name"), 200, required=True),
)
TABLE = Table(COLUMNS, LibraryImportRefused)


@dataclass(frozen=True)
class ParsedItem:
    code: str
    name: str

    @property
    def parent_code(self) -> str | None:
        return None if len(self.code) == 1 else self.code[:-2]

    @property
    def level(self) -> int:
        return 1 + (len(self.code) - 1) // 2


def parse(data: bytes, *, excel: bool = False) -> list[ParsedItem]:
    """The items of a catalogue file, or `LibraryImportRefused` naming every bad row: a code that
    is not a 品目 code (``code``), a code twice (``duplicate``), a code whose parent the file lacks
    (``parent``).
    """
    raw = TABLE.read_xlsx(data, max_rows=MAX_ITEMS) if excel else TABLE.read_csv(data, max_rows=MAX_ITEMS)
    errors: list[RowError] = []
    rows = TABLE.rows(raw, errors)
    seen: dict[str, int] = {}
    items: list[tuple[int, ParsedItem]] = []
    for row in rows:
        code = row.get("code").upper()
        if code and not CODE.match(code):
            row.error("code", "item_code", f"{code!r} is not a catalogue code (A, B or C and two digits a level)")
        elif code in seen:
            row.error("code", "duplicate", f"{code} is already on line {seen[code]}")
        if row.ok:
            seen[code] = row.number
            items.append((row.number, ParsedItem(code, row.get("name"))))
    for number, item in items:
        if item.parent_code is not None and item.parent_code not in seen:
            errors.append(
                RowError(number, "品目编码", "parent", f"{item.code}'s parent {item.parent_code} is not in the file")
            )
    if errors:
        TABLE.refuse_rows(errors, len(rows))
    return [item for _, item in items]


async def latest_edition(session: AsyncSession) -> CatalogueEdition | None:
    return await session.scalar(sa.select(CatalogueEdition).order_by(CatalogueEdition.number.desc()).limit(1))


async def editions(session: AsyncSession) -> Sequence[CatalogueEdition]:
    return (await session.scalars(sa.select(CatalogueEdition).order_by(CatalogueEdition.number.desc()))).all()


async def edition(session: AsyncSession, number: int | None = None) -> CatalogueEdition:
    """The edition ``number``, or the newest; `NotFound` when there is none."""
    if number is None:
        found = await latest_edition(session)
    else:
        found = await session.scalar(sa.select(CatalogueEdition).where(CatalogueEdition.number == number))
    if found is None:
        raise NotFound("no such catalogue edition", field="edition", rule="exists")
    return found


async def load_edition(
    session: AsyncSession, data: bytes, *, title: str, actor: Actor, excel: bool = False
) -> CatalogueEdition:
    """Load a file as the next edition (refused whole if any row is bad)."""
    items = parse(data, excel=excel)
    previous = await latest_edition(session)
    number = (previous.number if previous else 0) + 1
    row = CatalogueEdition(
        id=uuid.uuid4(),
        number=number,
        title=title,
        sha256=hashlib.sha256(data).hexdigest(),
        item_count=len(items),
        loaded_at=await clock.now(session),
        loaded_by=actor.user_id,
    )
    session.add(row)
    await session.flush()
    await session.execute(
        sa.insert(CatalogueItem),
        [
            {
                "id": uuid.uuid4(),
                "edition_id": row.id,
                "code": item.code,
                "name": item.name,
                "parent_code": item.parent_code,
                "level": item.level,
            }
            for item in items
        ],
    )
    await append_entry(
        session,
        actor=actor,
        action="procurement.catalogue_loaded",
        subject_type="procurement.catalogue_edition",
        subject_id=str(row.id),
        data={"sha256": row.sha256},
        summary={"version": number, "created": len(items)},
    )
    return row


async def lookup(session: AsyncSession, code: str, *, edition_number: int | None = None) -> CatalogueItem | None:
    """The item ``code`` of the edition (default: the newest), or None."""
    found = await edition(session, edition_number)
    return await session.scalar(
        sa.select(CatalogueItem).where(CatalogueItem.edition_id == found.id, CatalogueItem.code == code.upper())
    )


async def known_codes(session: AsyncSession, codes: set[str], *, edition_number: int | None = None) -> set[str]:
    """Which of ``codes`` the edition has."""
    if not codes:
        return set()
    found = await edition(session, edition_number)
    rows = await session.scalars(
        sa.select(CatalogueItem.code).where(CatalogueItem.edition_id == found.id, CatalogueItem.code.in_(codes))
    )
    return set(rows)


async def children(
    session: AsyncSession, code: str | None, *, edition_number: int | None = None
) -> Sequence[CatalogueItem]:
    """The items directly under ``code`` (None: the three categories A, B, C)."""
    found = await edition(session, edition_number)
    parent = CatalogueItem.parent_code.is_(None) if code is None else CatalogueItem.parent_code == code.upper()
    query = sa.select(CatalogueItem).where(CatalogueItem.edition_id == found.id, parent).order_by(CatalogueItem.code)
    return (await session.scalars(query)).all()


async def search(
    session: AsyncSession, text: str, *, edition_number: int | None = None, limit: int = 50, offset: int = 0
) -> tuple[Sequence[CatalogueItem], int]:
    """Items whose code starts with ``text`` or whose name contains it, by code; and how many."""
    found = await edition(session, edition_number)
    query = sa.select(CatalogueItem).where(CatalogueItem.edition_id == found.id)
    text = text.strip()
    if text:
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(
            sa.or_(
                CatalogueItem.code.like(f"{pattern.upper()}%", escape="\\"),
                CatalogueItem.name.like(f"%{pattern}%", escape="\\"),
            )
        )
    total = await session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = (await session.scalars(query.order_by(CatalogueItem.code).limit(limit).offset(offset))).all()
    return rows, total
