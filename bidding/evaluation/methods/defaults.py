"""The evaluation defaults (``defaults.toml``): loaded and validated once, at import.

Every threshold of the methods, the settings validator, the aggregation and the Art. 64 checks
comes from this one versioned file (domain-rules preamble: "thresholds are defaults … versioned by
legal edition"); ``DEFAULTS.version`` is recorded with every result. A file that is missing a
value, has the wrong type, a binary float where a decimal is meant, or an inconsistent range stops
the import with ``DefaultsInvalid`` naming the key: the platform never evaluates on a guess.

Decimals are written as TOML strings (``"0.30"``) and read as ``Decimal``; integers as integers;
the experts' share as a fraction string (``"2/3"``). Pure: reads one file that ships with the code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

DEFAULTS_PATH: Final = Path(__file__).with_name("defaults.toml")
PRESET_NAMES: Final = ("F1", "F2", "F3", "F4")


class DefaultsInvalid(ValueError):
    """The defaults file breaks its own schema; ``key`` names the value (dotted path)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key


@dataclass(frozen=True, slots=True)
class CoefficientRange:
    """The allowed values of a random coefficient (浮动系数, K): ``low``…``high`` on a ``step`` grid.

    The coefficient itself is drawn elsewhere (the opening hall's public draw); a method declares
    which coefficient it needs by this range, and refuses a value outside it.
    """

    name: str
    low: Decimal
    high: Decimal
    step: Decimal

    def contains(self, value: Decimal) -> bool:
        """``value`` lies within ``[low, high]`` and on the grid ``low + i·step``."""
        return self.low <= value <= self.high and (value - self.low) % self.step == 0

    def values(self) -> tuple[Decimal, ...]:
        """Every allowed value, ascending (what a public draw chooses from)."""
        count = int((self.high - self.low) / self.step)
        return tuple(self.low + self.step * i for i in range(count + 1))


@dataclass(frozen=True, slots=True)
class PresetConstants:
    """One engineering base-price preset's constants (domain-rules §4.5)."""

    name: str
    full: Decimal
    """The price score at P = B (the preset's full marks)."""
    k_below: Decimal
    """Points deducted per 1 % below the base price."""
    k_above: Decimal
    """Points deducted per 1 % above the base price."""
    coefficient: CoefficientRange | None = None
    drop_extremes_from: int = 0
    """F2: from this many prices on, the highest and the lowest are dropped."""
    trim_above: int = 0
    """F4: above this many prices, one highest and one lowest are dropped."""
    deviation_max: Decimal = Decimal(0)
    """F4: prices deviating more than this share from the trimmed mean are dropped."""


@dataclass(frozen=True, slots=True)
class Defaults:
    version: str
    score_places: int
    money_places: int
    gp_price_weight_min_goods: Decimal
    gp_price_weight_min_services: Decimal
    candidates_min: int
    candidates_max: int
    candidates_default: int
    valid_bids_min: int
    separation_min: int
    separation_max: int
    separation_default: int
    committee_size_min: int
    committee_size_max: int
    gp_large_size_min: int
    gp_large_budget_yuan: Decimal
    experts_share_min: Fraction
    trim_min_members: int
    outlier_z: Decimal
    mad_scale: Decimal
    floor_share: Decimal
    presets: Mapping[str, PresetConstants]

    @property
    def score_quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.score_places)

    @property
    def money_quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.money_places)


class _Reader:
    """Typed reads from the parsed TOML, each failure naming its dotted key."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    def _raw(self, key: str) -> Any:
        if key not in self.data:
            raise DefaultsInvalid(self.prefix + key, "missing")
        return self.data[key]

    def section(self, key: str) -> _Reader:
        value = self._raw(key)
        if not isinstance(value, dict):
            raise DefaultsInvalid(self.prefix + key, "must be a table")
        return _Reader(value, f"{self.prefix}{key}.")

    def text(self, key: str) -> str:
        value = self._raw(key)
        if not isinstance(value, str) or not value.strip():
            raise DefaultsInvalid(self.prefix + key, "must be a non-empty string")
        return value

    def integer(self, key: str, low: int = 0) -> int:
        value = self._raw(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise DefaultsInvalid(self.prefix + key, f"must be an integer >= {low}")
        return value

    def decimal(self, key: str, *, positive: bool = False) -> Decimal:
        value = self._raw(key)
        if not isinstance(value, str):
            raise DefaultsInvalid(self.prefix + key, "must be a decimal written as a string (no binary float)")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise DefaultsInvalid(self.prefix + key, f"{value!r} is not a decimal") from None
        if not number.is_finite() or (positive and number <= 0):
            raise DefaultsInvalid(
                self.prefix + key, "must be a finite" + (" positive" if positive else "") + " decimal"
            )
        return number

    def fraction(self, key: str) -> Fraction:
        value = self.text(key)
        try:
            share = Fraction(value)
        except (ValueError, ZeroDivisionError):
            raise DefaultsInvalid(self.prefix + key, f"{value!r} is not a fraction such as '2/3'") from None
        if not 0 < share <= 1:
            raise DefaultsInvalid(self.prefix + key, "must lie in (0, 1]")
        return share


def _coefficient(reader: _Reader, name: str) -> CoefficientRange:
    low, high = reader.decimal("coefficient_low"), reader.decimal("coefficient_high")
    step = reader.decimal("coefficient_step", positive=True)
    if low > high:
        raise DefaultsInvalid(reader.prefix + "coefficient_low", "is above coefficient_high")
    if (high - low) % step != 0:
        raise DefaultsInvalid(reader.prefix + "coefficient_step", "does not divide high - low")
    return CoefficientRange(name, low, high, step)


def _preset(reader: _Reader, name: str) -> PresetConstants:
    full = reader.decimal("full", positive=True)
    k_below, k_above = reader.decimal("k_below", positive=True), reader.decimal("k_above", positive=True)
    if name == "F1":
        return PresetConstants(name, full, k_below, k_above, coefficient=_coefficient(reader, "float"))
    if name == "F2":
        return PresetConstants(name, full, k_below, k_above, drop_extremes_from=reader.integer("drop_extremes_from", 3))
    if name == "F4":
        return PresetConstants(
            name,
            full,
            k_below,
            k_above,
            coefficient=_coefficient(reader, "K"),
            trim_above=reader.integer("trim_above", 2),
            deviation_max=reader.decimal("deviation_max", positive=True),
        )
    return PresetConstants(name, full, k_below, k_above)


def _bounded(reader: _Reader, low_key: str, high_key: str, default_key: str, floor: int) -> tuple[int, int, int]:
    low, high, default = reader.integer(low_key, floor), reader.integer(high_key, floor), reader.integer(default_key)
    if not low <= default <= high:
        raise DefaultsInvalid(reader.prefix + default_key, f"must lie in [{low_key}, {high_key}]")
    return low, high, default


def load_defaults(text: str) -> Defaults:
    """Parse and validate a defaults file's text; ``DefaultsInvalid`` names the first bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefaultsInvalid("(file)", f"not TOML: {exc}") from None
    top = _Reader(data)
    rounding, gp, candidates = top.section("rounding"), top.section("gp"), top.section("candidates")
    separation, committee, art64 = top.section("separation"), top.section("committee"), top.section("art64")
    presets = top.section("presets")
    cand_min, cand_max, cand_default = _bounded(candidates, "min", "max", "default", 1)
    sep_min, sep_max, sep_default = _bounded(separation, "min", "max", "default", 1)
    size_min, size_max = committee.integer("size_min", 1), committee.integer("size_max", 1)
    if size_min > size_max:
        raise DefaultsInvalid("committee.size_min", "is above committee.size_max")
    weights = {
        "goods": gp.decimal("price_weight_min_goods", positive=True),
        "services": gp.decimal("price_weight_min_services", positive=True),
    }
    for key, weight in weights.items():
        if weight > 1:
            raise DefaultsInvalid(f"gp.price_weight_min_{key}", "must be at most 1")
    return Defaults(
        version=top.text("version"),
        score_places=rounding.integer("score_places"),
        money_places=rounding.integer("money_places"),
        gp_price_weight_min_goods=weights["goods"],
        gp_price_weight_min_services=weights["services"],
        candidates_min=cand_min,
        candidates_max=cand_max,
        candidates_default=cand_default,
        valid_bids_min=candidates.integer("valid_bids_min", 1),
        separation_min=sep_min,
        separation_max=sep_max,
        separation_default=sep_default,
        committee_size_min=size_min,
        committee_size_max=size_max,
        gp_large_size_min=committee.integer("gp_large_size_min", size_min),
        gp_large_budget_yuan=committee.decimal("gp_large_budget_yuan", positive=True),
        experts_share_min=committee.fraction("experts_share_min"),
        trim_min_members=top.section("aggregation").integer("trim_min_members", 3),
        outlier_z=art64.decimal("outlier_z", positive=True),
        mad_scale=art64.decimal("mad_scale", positive=True),
        floor_share=art64.decimal("floor_share", positive=True),
        presets={name: _preset(presets.section(name), name) for name in PRESET_NAMES},
    )


DEFAULTS: Final = load_defaults(DEFAULTS_PATH.read_text(encoding="utf-8"))
"""The defaults every function uses unless it is handed another ``Defaults``."""
