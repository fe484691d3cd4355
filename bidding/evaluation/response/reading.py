"""Strict reading of the versioned JSON documents (requirement sets, bid responses): msgspec decodes
into the version's Structs, and every refusal is a `FormatError` naming the JSON path (``$.bill[3].
unitPrice``) and the rule, whether msgspec found it (types, required and unknown fields, patterns,
lengths) or the version's own checks did (money scale, order of dates, unique codes …).

Pure: msgspec and the standard library only, so the bidder's client can read and check a response
before sealing it with the same code the platform uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

MONEY_INTEGER_DIGITS = 14
"""As the bid columns (NUMERIC(16, 2)): 14 digits before the point, 2 after."""
MONEY_PLACES = 2
QUANTITY_PLACES = 4
"""GB 50500 gives quantities 3 decimals (t) or 2 (m, m², m³) or none (个); one more is tolerated."""

_AT = re.compile(r" - at `(\$[^`]*)`$")
_FIELD = re.compile(r"field `([^`]+)`")


@dataclass(frozen=True)
class Problem:
    path: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.path, "rule": self.rule, "message": self.message}


class FormatError(ValueError):
    """A document refused: ``problems`` (at least one) each name a JSON path and a rule; ``path``
    and ``rule`` are the first one's, for a caller that shows one reason.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        self.path, self.rule = first.path, first.rule
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{first.path}: {first.message} [{first.rule}]{more}")


_RULES = (
    ("Object missing required field", "required"),
    ("Object contains unknown field", "unknown-field"),
    ("matching regex", "pattern"),
    ("of length <=", "max-length"),
    ("of length >=", "min-length"),
    ("Invalid enum value", "enum"),
)


def _rule_of(message: str) -> str:
    rule = next((rule for text, rule in _RULES if text in message), None)
    if rule is not None:
        return rule
    if re.search(r"`[a-z]+` [<>]=? ", message):
        return "range"
    return "type" if message.startswith(("Expected", "Invalid decimal")) else "format"


def problem_of(exc: msgspec.ValidationError | msgspec.DecodeError) -> Problem:
    """The path and rule of one msgspec refusal (it stops at the first)."""
    message = str(exc)
    if not isinstance(exc, msgspec.ValidationError):  # a ValidationError is a DecodeError too
        return Problem("$", "json", f"not JSON: {message}")
    match = _AT.search(message)
    path = match[1] if match else "$"
    text = message[: match.start()] if match else message
    rule = _rule_of(text)
    named = _FIELD.search(text)
    if rule in {"required", "unknown-field"} and named:
        path = f"{path}.{named[1]}"
    return Problem(path, rule, text)


def decode(data: bytes | str, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(data, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise FormatError([problem_of(exc)]) from None


def _quantized(value: Decimal, places: int) -> Decimal:
    """``value`` rounded to ``places`` (precision enough for any number of up to 14 integer digits)."""
    with localcontext(prec=MONEY_INTEGER_DIGITS + places + 40):
        return value.quantize(Decimal(1).scaleb(-places))


class Checks:
    """The version's own rules, collected with their paths (all of them, not just the first)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, rule: str, message: str) -> None:
        self.problems.append(Problem(path, rule, message))

    def decimal(self, path: str, value: Decimal, *, places: int, positive: bool = False) -> None:
        """Finite, ≥ 0 (> 0 when ``positive``), at most ``places`` decimals and 14 integer digits."""
        if not value.is_finite():
            self.fail(path, "finite", "must be a finite number")
            return
        if value < 0 or (positive and value == 0):
            self.fail(path, "positive" if positive else "non-negative", "must be > 0" if positive else "must be ≥ 0")
        if value.adjusted() >= MONEY_INTEGER_DIGITS:
            self.fail(path, "digits", f"at most {MONEY_INTEGER_DIGITS} digits before the point")
            return
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -places and value != _quantized(value, places):
            self.fail(path, "decimal-places", f"at most {places} decimal places")

    def unique(self, path: str, codes: Iterable[str], field: str) -> None:
        seen: set[str] = set()
        for index, code in enumerate(codes):
            if code in seen:
                self.fail(f"{path}[{index}].{field}", "unique", f"{code!r} appears twice")
            seen.add(code)

    def raise_if_any(self) -> None:
        if self.problems:
            raise FormatError(self.problems)


class _Head(msgspec.Struct):
    format: str


def read_versioned(data: bytes | str, readers: dict[str, Callable[[bytes | str], T]], family: str) -> T:
    """Read ``data`` with the reader of its ``format`` (every version keeps its reader)."""
    head = decode(data, _Head)
    reader = readers.get(head.format)
    if reader is None:
        known = ", ".join(sorted(readers))
        raise FormatError([Problem("$.format", "format-version", f"not a known {family} format (known: {known})")])
    return reader(data)


def to_builtins(document: Any) -> Any:
    """The document as JSON-ready builtins (decimals as strings, as the schema writes them)."""
    return msgspec.to_builtins(document)
