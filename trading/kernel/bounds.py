"""Input bounds: the rules every value from outside obeys before a service sees it.

One layer for the API and the pages, so a bad value is refused the same way everywhere, as a 422
naming the field and the rule (never a 500 from the database or a template, never half-written):

* **text** has no control characters (NUL, other C0 and C1 codes, DEL) and no lone surrogates;
  tab, line feed and carriage return are allowed except in :data:`ShortText` (single-line) fields;
* **times** carry their time zone and fall within :data:`EARLIEST_YEAR`–:data:`LATEST_YEAR`;
* **decimals** are finite and fit their column (``Annotated[Decimal, Digits(n)]``: ``n`` digits before the point,
  at most :data:`DECIMAL_SCALE` significant digits after it);
* **integers** fit a 32-bit column unless annotated otherwise (:data:`BigInt`).

Request bodies get these rules by subclassing :class:`Input` (msgspec structs) or calling
:func:`check_object` in a dataclass's ``__post_init__``; nested structs are checked by the outer
one, which names the field by its path on the wire (``lots[0].estimate``). Form parsers call the
single-value checks (:func:`check_datetime`, :func:`check_decimal`, :func:`check_text`). The
request-level limits (size, encoding, JSON depth, query and path text) live in
:mod:`trading.kernel.api.bounds`.
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

import msgspec

from trading.kernel.errors import ValidationFailed
from trading.kernel.web.i18n import N_

EARLIEST_YEAR = 2000
"""No time before this year is a plausible input (deadlines, validity, periods)."""
LATEST_YEAR = 2100
"""Nor after this one: 9999-12-31 overflowed every display in UTC+08:00 (issue 11)."""

DECIMAL_SCALE = 2
"""Digits after the point of every decimal column (money, scores: NUMERIC(p, 2)). More are refused
rather than rounded: 99999999999999.999 rounds to 15 digits before the point (a database error),
and 1E-999999999 cannot even be sent to PostgreSQL."""

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# The rule names a client sees in ``errors[].rule``.
RULE_CONTROL = "no-control-characters"
RULE_SINGLE_LINE = "single-line"
RULE_TIMEZONE = "timezone-required"
RULE_YEAR_RANGE = "year-range"
RULE_FINITE = "finite-number"
RULE_DIGITS = "max-digits"
RULE_INT_RANGE = "integer-range"
RULE_MAX_LENGTH = "max-length"

MESSAGES: dict[str, str] = {
    RULE_CONTROL: N_("Control characters (such as NUL) are not allowed in this field."),
    RULE_SINGLE_LINE: N_("Line breaks and tabs are not allowed in this field."),
    RULE_TIMEZONE: N_("Give the time with its time zone (UTC offset)."),
    RULE_YEAR_RANGE: N_("Give a time between the years 2000 and 2100."),
    RULE_FINITE: N_("Give a finite number."),
    RULE_DIGITS: N_("This number has more digits than the field holds."),
    RULE_INT_RANGE: N_("This number is out of range."),
    RULE_MAX_LENGTH: N_("This text is longer than the field holds."),
}

# C0 controls other than tab, LF and CR; DEL and the C1 block; lone UTF-16 surrogates (a JSON
# "\ud800" decodes to one, and PostgreSQL cannot store it).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n\r]")


class InputRefused(ValidationFailed):
    """A value broke one of the input bounds: 422, ``field`` and ``rule`` set."""

    code = "input_refused"
    title = "Input refused"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(MESSAGES[rule], field=field, rule=rule)


# --- markers carried in Annotated[...] -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SingleLine:
    """Text without tab, line feed or carriage return (names, titles, codes, usernames)."""


@dataclass(frozen=True, slots=True)
class Digits:
    """A decimal column's precision: ``integer`` digits before the point, ``scale`` after it."""

    integer: int
    scale: int = DECIMAL_SCALE


@dataclass(frozen=True, slots=True)
class MaxLength:
    """Text stored in a ``String(characters)`` column: longer is a 422, not a truncation error."""

    characters: int


@dataclass(frozen=True, slots=True)
class IntRange:
    low: int
    high: int


ShortText = Annotated[str, SingleLine()]
"""Single-line text."""
Text = str
"""Multi-line text: every ``str`` already refuses control characters other than tab, LF, CR."""
BigInt = Annotated[int, IntRange(-INT64_MAX - 1, INT64_MAX)]
"""An integer stored in a 64-bit column (sizes in bytes)."""


# --- single values ---------------------------------------------------------------------------------


def check_text(field: str, value: str, *, single_line: bool = False, max_length: int | None = None) -> str:
    if _CONTROL.search(value):
        raise InputRefused(field, RULE_CONTROL)
    if single_line and _LINE_BREAKS.search(value):
        raise InputRefused(field, RULE_SINGLE_LINE)
    if max_length is not None and len(value) > max_length:
        raise InputRefused(field, RULE_MAX_LENGTH)
    return value


def check_datetime(field: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputRefused(field, RULE_TIMEZONE)
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise InputRefused(field, RULE_YEAR_RANGE)
    return value


def check_decimal(
    field: str, value: Decimal, *, integer_digits: int | None = None, scale: int = DECIMAL_SCALE
) -> Decimal:
    """Finite; with ``integer_digits`` (a column's), no more digits before the point than that and
    no significant digit beyond ``scale`` after it (trailing zeros are not significant: 1.500).
    """
    if not value.is_finite():
        raise InputRefused(field, RULE_FINITE)
    if integer_digits is None or value == 0:
        return value
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite  # noqa: S101
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if value.adjusted() >= integer_digits or exponent + trailing_zeros < -scale:
        raise InputRefused(field, RULE_DIGITS)
    return value


def check_int(field: str, value: int, *, low: int = -INT32_MAX - 1, high: int = INT32_MAX) -> int:
    if not low <= value <= high:
        raise InputRefused(field, RULE_INT_RANGE)
    return value


def check_float(field: str, value: float) -> float:
    if not math.isfinite(value):
        raise InputRefused(field, RULE_FINITE)
    return value


# --- whole objects -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rules:
    single_line: bool = False
    digits: Digits | None = None
    int_range: IntRange | None = None
    max_length: int | None = None


def _rules_of(annotation: Any) -> _Rules:
    single_line, digits, int_range, max_length = False, None, None, None
    for marker in _markers(annotation):
        if isinstance(marker, SingleLine):
            single_line = True
        elif isinstance(marker, Digits):
            digits = marker
        elif isinstance(marker, IntRange):
            int_range = marker
        elif isinstance(marker, MaxLength):
            max_length = marker.characters
    return _Rules(single_line, digits, int_range, max_length)


def _markers(annotation: Any) -> list[Any]:
    """The Annotated markers of a field, also through ``X | None`` and ``list[X]``."""
    if typing.get_origin(annotation) is Annotated:
        return [*annotation.__metadata__, *_markers(annotation.__origin__)]
    found: list[Any] = []
    for argument in typing.get_args(annotation):
        found.extend(_markers(argument))
    return found


@cache
def _fields_of(cls: type) -> tuple[tuple[str, str, _Rules], ...]:
    """(attribute, wire name, rules) of a struct or dataclass, computed once per class."""
    hints = typing.get_type_hints(cls, include_extras=True)
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
        info = msgspec.structs.fields(cls)
        return tuple((f.name, f.encode_name, _rules_of(hints.get(f.name))) for f in info)
    return tuple((f.name, f.name, _rules_of(hints.get(f.name))) for f in dataclasses.fields(cls))  # type: ignore[arg-type]


def check_object(obj: Any, prefix: str = "") -> None:
    """Check every field of a struct or dataclass (and what it nests) against the bounds."""
    for attribute, wire_name, rules in _fields_of(type(obj)):  # type: ignore[arg-type]
        _check_value(f"{prefix}{wire_name}", getattr(obj, attribute), rules)


def _check_value(path: str, value: Any, rules: _Rules) -> None:  # noqa: C901, PLR0912 - one branch per kind of value
    if value is None or value is msgspec.UNSET or isinstance(value, bool):
        return
    if isinstance(value, str):
        check_text(path, value, single_line=rules.single_line, max_length=rules.max_length)
    elif isinstance(value, datetime):
        check_datetime(path, value)
    elif isinstance(value, Decimal):
        if rules.digits is None:
            check_decimal(path, value)
        else:
            check_decimal(path, value, integer_digits=rules.digits.integer, scale=rules.digits.scale)
    elif isinstance(value, int):
        if rules.int_range is not None:
            check_int(path, value, low=rules.int_range.low, high=rules.int_range.high)
        else:
            check_int(path, value)
    elif isinstance(value, float):
        check_float(path, value)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(f"{path}[{index}]", item, rules)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str):
                check_text(f"{path}.{key}", key)
            _check_value(f"{path}.{key}", item, rules)
    elif isinstance(value, msgspec.Struct) or dataclasses.is_dataclass(value):
        check_object(value, f"{path}.")


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every request body: refuses a value outside the bounds as it is decoded.

    Raised from ``__post_init__`` as :class:`InputRefused` (not ``ValueError``), so it passes
    msgspec and Litestar unchanged and is answered as a 422 naming the field and the rule.
    Nested structs should be plain ``msgspec.Struct``: the outer body checks them with their path.
    """

    def __post_init__(self) -> None:
        check_object(self)
