"""The specialty code list (评标专家专业分类) as shipped data: read and checked, no database.

``data/specialties.json`` holds the list's edition (``version``), its source, and the codes: a
letter for the first level (工程 / 货物 / 服务), two digits per further level, each code naming
its parent. The list is loaded into the database (`service.SpecialtyCatalogue.sync`) like the
marketplace's item list: a new code becomes version 1, a changed one its next version, one gone
from the file is retired; each load that changes something is kept with the file's digest and put
on the ledger.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

SHIPPED_PACKAGE: Final = "bidding.evaluation.pool.data"
SHIPPED_FILE: Final = "specialties.json"
_CODE = re.compile(r"^[A-Z](?:\d{2}){0,2}$")


class CatalogueError(ValueError):
    """The list file cannot be used; the message names the place and what is wrong."""


@dataclass(frozen=True, slots=True)
class SpecialtyEntry:
    code: str
    name: str
    name_en: str
    parent: str | None

    @property
    def level(self) -> int:
        """1 for a letter, 2 for a letter and two digits, 3 for four digits."""
        return 1 + (len(self.code) - 1) // 2


@dataclass(frozen=True, slots=True)
class SpecialtyList:
    version: str
    sha256: str
    entries: tuple[SpecialtyEntry, ...]

    def codes(self) -> frozenset[str]:
        return frozenset(entry.code for entry in self.entries)


def _text(item: dict[str, Any], key: str, where: str, max_length: int) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise CatalogueError(f"{where}.{key}: text of 1–{max_length} characters")
    return value.strip()


def parse(data: bytes) -> SpecialtyList:  # noqa: C901 - one check per rule of the layout
    """Check a list file: codes well-formed and unique, each parent listed before its children and
    one level up (so the hierarchy is a tree), names present.
    """
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogueError(f"not a UTF-8 JSON document: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("codes"), list):
        raise CatalogueError("the document is an object with a list of codes")
    version = _text(document, "version", "list", 40)
    entries: dict[str, SpecialtyEntry] = {}
    for index, item in enumerate(document["codes"]):
        where = f"codes[{index}]"
        if not isinstance(item, dict):
            raise CatalogueError(f"{where}: an object")
        code = _text(item, "code", where, 16)
        if not _CODE.match(code):
            raise CatalogueError(f"{where}.code: a capital letter and up to two pairs of digits, not {code!r}")
        if code in entries:
            raise CatalogueError(f"{where}.code: {code} is listed twice")
        parent = item.get("parent")
        if len(code) == 1:
            if parent is not None:
                raise CatalogueError(f"{where}.parent: a first-level code has no parent")
        elif parent != code[:-2] or parent not in entries:
            raise CatalogueError(f"{where}.parent: {code} belongs under {code[:-2]}, listed before it")
        entries[code] = SpecialtyEntry(
            code, _text(item, "name", where, 100), _text(item, "name_en", where, 100), parent
        )
    if not entries:
        raise CatalogueError("the list has no codes")
    return SpecialtyList(version, hashlib.sha256(data).hexdigest(), tuple(entries.values()))


def shipped_bytes() -> bytes:
    return resources.files(SHIPPED_PACKAGE).joinpath(SHIPPED_FILE).read_bytes()


def shipped() -> SpecialtyList:
    """The list that ships with this release."""
    return parse(shipped_bytes())
