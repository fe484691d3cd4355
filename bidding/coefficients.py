"""Random coefficients (浮动系数, K) a tender's evaluation needs, drawn in public in the opening hall.

Core, not the opening's: the tender says which coefficients it needs (publication checks them) and
the opening draws them; the opening depends on core, never the reverse, and neither imports the
evaluation (`bidding.evaluation.methods.settings.required_coefficients` states what each method
needs; the host copies those ranges into the tender, and the evaluation reads the drawn values back
through `bidding.opening.coefficients.drawn_values`).

**The tender's key.** ``Tender.evaluation_criteria`` carries, beside ``criteria``::

    {"coefficients": [{"name": "K", "low": "0.95", "high": "1.00", "step": "0.01"}]}

``name`` 1–40 characters, unique in the tender; ``low``/``high``/``step`` decimal strings with
``low <= high``, ``step > 0`` dividing ``high - low``, at most `MAX_VALUES` values. Absent or empty:
the opening has no coefficient stage.

**The draw** (`derive`): the grid is ``v_i = low + step·i`` for ``i = 0 … n-1`` (ascending, each
``str(Decimal)``); with the revealed ``seed`` (whose SHA-256 was published when the opening
started, before any price was known)::

    purpose = "ggzy-coefficient-v1" SP tender code SP name
    i = int(SHA-256(seed LF purpose LF v_0 LF … v_{n-1}), big-endian) mod n

(`trading.kernel.draws.draw_index` over the grid in that order) and the value is ``v_i``: always on
the grid, so a value outside the range is impossible. ``bidding.client.coefficients`` restates it
with the standard library only, for bidders and outside verifiers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from trading.kernel import draws

DOMAIN: Final = "ggzy-coefficient-v1"
MAX_VALUES: Final = 10_001
NAME_MAX: Final = 40
FIELD: Final = "evaluationCriteria"


@dataclass(frozen=True, slots=True)
class CoefficientSpec:
    """One coefficient the tender needs: its allowed values ``low … high`` on a ``step`` grid."""

    name: str
    low: Decimal
    high: Decimal
    step: Decimal

    def values(self) -> tuple[Decimal, ...]:
        count = int((self.high - self.low) / self.step) + 1
        return tuple(self.low + self.step * i for i in range(count))

    def contains(self, value: Decimal) -> bool:
        return self.low <= value <= self.high and (value - self.low) % self.step == 0

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "low": str(self.low), "high": str(self.high), "step": str(self.step)}


@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    rule: str
    message: str


def _decimal(value: object) -> Decimal | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def problems(criteria: Mapping[str, Any] | None) -> list[Problem]:
    """Every broken rule of the tender's ``coefficients`` key (empty when none or all good)."""
    raw = (criteria or {}).get("coefficients")
    if raw is None:
        return []
    if not isinstance(raw, list):
        return [Problem(FIELD, "coefficients_list", "coefficients are a list of {name, low, high, step}")]
    found: list[Problem] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"coefficient {index + 1}"
        if not isinstance(item, Mapping):
            found.append(Problem(FIELD, "coefficients_list", f"{where}: an object {{name, low, high, step}}"))
            continue
        name = str(item.get("name") or "").strip()
        if not name or len(name) > NAME_MAX:
            found.append(Problem(FIELD, "coefficient_name", f"{where}: a name of 1–{NAME_MAX} characters"))
        elif name in seen:
            found.append(Problem(FIELD, "coefficient_unique", f"{where}: the name {name} is used twice"))
        seen.add(name)
        found.extend(_grid_problems(item, where))
    return found


def _grid_problems(item: Mapping[str, Any], where: str) -> list[Problem]:
    low, high, step = (_decimal(item.get(key)) for key in ("low", "high", "step"))
    if low is None or high is None or step is None:
        return [Problem(FIELD, "coefficient_decimal", f"{where}: low, high and step are decimal numbers")]
    if low > high:
        return [Problem(FIELD, "coefficient_range", f"{where}: low {low} is above high {high}")]
    if step <= 0 or (high - low) % step != 0:
        return [Problem(FIELD, "coefficient_step", f"{where}: the step {step} must divide {high} - {low}")]
    if (high - low) / step + 1 > MAX_VALUES:
        return [Problem(FIELD, "coefficient_values", f"{where}: at most {MAX_VALUES} values")]
    return []


def specs(criteria: Mapping[str, Any] | None) -> tuple[CoefficientSpec, ...]:
    """The coefficients a (published, hence checked) tender needs, in the tender's order."""
    if problems(criteria):
        msg = "the tender's coefficients are invalid: " + "; ".join(p.message for p in problems(criteria))
        raise ValueError(msg)
    raw = (criteria or {}).get("coefficients") or []
    return tuple(
        CoefficientSpec(
            str(item["name"]).strip(),
            Decimal(str(item["low"]).strip()),
            Decimal(str(item["high"]).strip()),
            Decimal(str(item["step"]).strip()),
        )
        for item in raw
    )


def needs_draw(criteria: Mapping[str, Any] | None) -> bool:
    """Whether the opening has the coefficient stage (抽取系数)."""
    return bool((criteria or {}).get("coefficients"))


def purpose(tender_code: str, name: str) -> str:
    return f"{DOMAIN} {tender_code} {name}"


def derive(seed: str, tender_code: str, spec: CoefficientSpec) -> Decimal:
    """The drawn value for ``spec`` from the revealed ``seed`` (the module's docstring states it)."""
    grid = spec.values()
    return grid[draws.draw_index(seed, purpose(tender_code, spec.name), [str(v) for v in grid])]


def verify(seed: str, commitment: str, tender_code: str, spec: CoefficientSpec, value: Decimal) -> bool:
    """The seed is the one committed to, and ``value`` is what it draws."""
    return draws.reveal_matches(seed, commitment) and derive(seed, tender_code, spec) == value


def as_json(found: Sequence[CoefficientSpec]) -> list[dict[str, str]]:
    return [spec.as_json() for spec in found]
