"""A requirement's content against its template: cleaning a part's form, completeness, the text
fields the checker reads, and the derived obligations (22号 Art. 11). Pure: no database.

Content is a JSON object ``{"overview": {...}, "survey": {...}, "plan": {...}, "packages": [{...}],
"risk": {...}}`` of strings in a canonical form (money ``"12345.00"``, booleans ``"yes"``/``"no"``).
A field's path is ``overview.budget`` or ``packages[0].technical``; findings and errors carry it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from procurement.requirements.schema import Category, FieldSpec, Kind, PartSpec, TemplateSpec

SURVEY_GOODS_SERVICES = Decimal(10_000_000)  # Art. 11: goods and services ≥ 10 million yuan
SURVEY_WORKS = Decimal(30_000_000)  # Art. 11: works ≥ 30 million yuan
MAX_MONEY = Decimal("1e13")
MAX_PACKAGES = 20
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

Problem = dict[str, str]


def path_of(part: PartSpec, key: str, index: int | None = None) -> str:
    if part.repeated:
        return f"packages[{index or 0}].{key}"
    return f"{part.key}.{key}"


def _clean(spec: FieldSpec, raw: str, path: str, problems: list[Problem]) -> str:  # noqa: C901, PLR0911, PLR0912 - one branch per kind
    value = raw.replace("\r\n", "\n").strip()
    if not value:
        return ""

    def refuse(rule: str, message: str) -> str:
        problems.append({"field": path, "rule": rule, "message": message})
        return ""

    if _CONTROL.search(value):
        return refuse("no-control-characters", f"{spec.label}：含有控制字符")
    if len(value) > spec.max_length:
        return refuse("max_length", f"{spec.label}：不得超过 {spec.max_length} 个字符")
    if spec.kind is Kind.TEXT and "\n" in value:
        return refuse("single_line", f"{spec.label}：只能填写一行")
    if spec.kind in {Kind.MONEY, Kind.PERCENT, Kind.INTEGER}:
        try:
            number = Decimal(value.replace(",", "").replace("，", ""))
        except InvalidOperation:
            return refuse("number", f"{spec.label}：请填写数字")
        if not number.is_finite() or number < 0:
            return refuse("number", f"{spec.label}：请填写不小于 0 的数字")
        if spec.kind is Kind.MONEY:
            if number >= MAX_MONEY:
                return refuse("range", f"{spec.label}：金额过大")
            return str(number.quantize(Decimal("0.01")))
        if spec.kind is Kind.PERCENT:
            if number > 100:  # noqa: PLR2004 - percent
                return refuse("range", f"{spec.label}：应在 0 到 100 之间")
            return str(number.normalize() if number == number.to_integral() else number)
        if number != number.to_integral() or number > 9999:  # noqa: PLR2004 - a year or a count
            return refuse("integer", f"{spec.label}：请填写整数")
        return str(int(number))
    if spec.kind is Kind.DATE:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            return refuse("date", f"{spec.label}：日期格式为 YYYY-MM-DD")
    if spec.kind in {Kind.BOOL, Kind.CHOICE}:
        if value not in {choice for choice, _ in spec.choices}:
            return refuse("known", f"{spec.label}：请从列表中选择")
        return value
    if spec.kind is Kind.SCORING:
        for line_no, line in enumerate(value.splitlines(), start=1):
            if line.strip() and _scoring_line(line) is None:
                return refuse("scoring_line", f"{spec.label}：第 {line_no} 行应为“名称 | 分值 | 类型 | 评分标准”")
    return value


def clean_part(part: PartSpec, raw: Any, index: int | None = None) -> dict[str, str]:
    """The part's fields from a form (a mapping of field key → text), canonical; raises
    ``ValueError``-free: every bad field is collected and returned through ``PartRefused``.
    """
    problems: list[Problem] = []
    cleaned = {}
    for spec in part.fields:
        value = raw.get(spec.key, "")
        cleaned[spec.key] = _clean(
            spec, value if isinstance(value, str) else "", path_of(part, spec.key, index), problems
        )
    if problems:
        raise PartRefused(problems)
    return cleaned


class PartRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0]["message"])
        self.problems = problems


@dataclass(frozen=True, slots=True)
class ScoringLine:
    name: str
    points: Decimal
    kind: str
    text: str


_KINDS = {"价格": "price", "技术": "technical", "商务": "commercial", "服务": "service", "履约": "commercial"}


def _scoring_line(line: str) -> ScoringLine | None:
    cells = [cell.strip() for cell in re.split(r"[|｜]", line)]
    if len(cells) < 3:  # noqa: PLR2004 - name, points, kind at least
        return None
    try:
        points = Decimal(cells[1])
    except InvalidOperation:
        return None
    kind = next((code for word, code in _KINDS.items() if word in cells[2]), None)
    if kind is None or not points.is_finite() or points < 0:
        return None
    return ScoringLine(cells[0], points, kind, "|".join(cells[3:]))


def scoring_lines(value: str) -> list[ScoringLine]:
    return [line for line in (_scoring_line(raw) for raw in value.splitlines() if raw.strip()) if line is not None]


def empty_content() -> dict[str, Any]:
    return {"overview": {}, "survey": {}, "plan": {}, "packages": [{}], "risk": {}}


def part_values(content: dict[str, Any], part: PartSpec, index: int | None = None) -> dict[str, str]:
    if part.repeated:
        packages = content.get("packages") or []
        return dict(packages[index or 0]) if 0 <= (index or 0) < len(packages) else {}
    return dict(content.get(part.key) or {})


def with_part(
    content: dict[str, Any], part: PartSpec, values: dict[str, str], index: int | None = None
) -> dict[str, Any]:
    updated = {**content, "packages": [dict(p) for p in content.get("packages") or []]}
    if part.repeated:
        updated["packages"][index or 0] = values
    else:
        updated[part.key] = values
    return updated


# --- derived obligations -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Obligations:
    survey_required: bool
    reasons: tuple[str, ...]  # why, in Chinese
    exempt: bool  # surveyed within the past year (Art. 11 exemption)
    focused_review: bool  # 重点审查 for projects that need a survey

    @property
    def review_level(self) -> str:
        return "focused" if self.focused_review else "general"


def money(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def obligations(category: Category | str, content: dict[str, Any]) -> Obligations:
    """Art. 11: survey required for goods/services ≥ 10 M yuan, works ≥ 30 M, custom IT development,
    imports, public-interest projects; focused review (重点审查) whenever the survey is required.
    """
    overview, plan = content.get("overview") or {}, content.get("plan") or {}
    reasons = []
    budget = money(overview.get("budget"))
    threshold = SURVEY_WORKS if Category(category) is Category.WORKS else SURVEY_GOODS_SERVICES
    if budget is not None and budget >= threshold:
        reasons.append(f"预算金额达到 {threshold / 10000:.0f} 万元")
    if plan.get("custom_it") == "yes":
        reasons.append("含定制开发的信息系统")
    if plan.get("imports") == "yes":
        reasons.append("采购进口产品")
    if plan.get("public_interest") == "yes":
        reasons.append("涉及公共利益、社会关注度较高")
    obliged = bool(reasons)
    exempt = obliged and plan.get("surveyed_recently") == "yes"
    # The review follows the obligation, not the exemption: a project that needs a survey gets the
    # focused review even if last year's survey covers it.
    return Obligations(obliged and not exempt, tuple(reasons), exempt, obliged)


# --- completeness and text -------------------------------------------------------------------------


def missing_fields(template: TemplateSpec, content: dict[str, Any], duties: Obligations) -> list[Problem]:
    """Every required field left empty (the survey's fields count when the survey is required)."""
    problems: list[Problem] = []
    packages = content.get("packages") or []
    if not packages:
        problems.append({"field": "packages", "rule": "required", "message": "至少需要一个采购包"})
    for part in template.parts:
        indexes: list[int | None] = list(range(len(packages))) if part.repeated else [None]
        for index in indexes:
            values = part_values(content, part, index)
            for spec in part.fields:
                needed = spec.required or (spec.required_when_survey and duties.survey_required)
                if needed and not values.get(spec.key):
                    problems.append(
                        {"field": path_of(part, spec.key, index), "rule": "required", "message": f"{spec.label}：必填"}
                    )
    return problems


def text_fields(template: TemplateSpec, content: dict[str, Any]) -> list[tuple[str, str]]:
    """(path, text) of every filled text field, in template order: what the checker reads."""
    found: list[tuple[str, str]] = []
    packages = content.get("packages") or []
    for part in template.parts:
        indexes: list[int | None] = list(range(len(packages))) if part.repeated else [None]
        for index in indexes:
            values = part_values(content, part, index)
            found.extend(
                (path_of(part, spec.key, index), values[spec.key])
                for spec in part.fields
                if spec.checked and values.get(spec.key)
            )
    return found


def label_of(template: TemplateSpec, path: str) -> str:
    """The Chinese label of a field path (with the package's number)."""
    match = re.fullmatch(r"packages\[(\d+)\]\.(\w+)", path)
    if match:
        part, key, prefix = template.part("package"), match[2], f"采购包 {int(match[1]) + 1}："
    else:
        head, _, key = path.partition(".")
        part, prefix = template.part(head), ""
    spec = part.field(key) if part else None
    return prefix + (spec.label if spec else path)
