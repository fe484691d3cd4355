"""Enterprise size classes for the SME policies (政府采购促进中小企业发展), from the industry and the
figures the supplier declares, by the thresholds of 工信部联企业〔2011〕300号.

The threshold table is data (``data/sme_thresholds.json``, with its source and units): an
industry's ``ceiling`` figures (…以下或…以下的为中小微型企业 — below any of them: an SME), its
``medium`` and ``small`` figures (…及以上，且…及以上: every one reached). Pure: no database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "sme_thresholds.json"


class SizeClass(StrEnum):
    LARGE = "large"  # 大型
    MEDIUM = "medium"  # 中型
    SMALL = "small"  # 小型
    MICRO = "micro"  # 微型


@dataclass(frozen=True)
class Industry:
    code: str
    name: str
    ceiling: Mapping[str, Decimal]
    medium: Mapping[str, Decimal]
    small: Mapping[str, Decimal]

    @property
    def measures(self) -> frozenset[str]:
        """The figures this industry's thresholds read (employees, revenue, assets)."""
        return frozenset({*self.ceiling, *self.medium, *self.small})


@cache
def industries() -> Mapping[str, Industry]:
    """The industries of the threshold table by code, in the table's order."""
    loaded = json.loads(DATA.read_text(encoding="utf-8"))

    def figures(raw: Mapping[str, int]) -> dict[str, Decimal]:
        return {key: Decimal(value) for key, value in raw.items()}

    return {
        item["code"]: Industry(
            item["code"], item["name"], figures(item["ceiling"]), figures(item["medium"]), figures(item["small"])
        )
        for item in loaded["industries"]
    }


def industry_of(value: str) -> Industry | None:
    """An industry by its code or its Chinese name (as a spreadsheet writes it)."""
    table = industries()
    if value in table:
        return table[value]
    return next((industry for industry in table.values() if industry.name == value), None)


def _reaches(figures: Mapping[str, Decimal], thresholds: Mapping[str, Decimal]) -> bool:
    return all(figures[key] >= floor for key, floor in thresholds.items())


def classify(industry: Industry, figures: Mapping[str, Decimal | None]) -> SizeClass:
    """The size class of an enterprise of ``industry`` with ``figures`` (employees, revenue in
    万元, assets in 万元). A figure the industry reads must be given (``missing_measures``).
    """
    known = {key: value for key, value in figures.items() if value is not None}
    missing = industry.measures - known.keys()
    if missing:
        raise ValueError(f"{industry.name} needs {', '.join(sorted(missing))}")
    if _reaches(known, industry.ceiling):
        return SizeClass.LARGE
    if _reaches(known, industry.medium):
        return SizeClass.MEDIUM
    if _reaches(known, industry.small):
        return SizeClass.SMALL
    return SizeClass.MICRO


def missing_measures(industry: Industry, figures: Mapping[str, Decimal | None]) -> list[str]:
    """The figures ``industry`` needs that ``figures`` lacks."""
    return sorted(key for key in industry.measures if figures.get(key) is None)
