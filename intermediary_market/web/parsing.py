"""What the marketplace's form parsers share beyond the kernel's ``FieldParser``: the marketplace's
number bounds, yes/no choices, and the route paths pages redirect to.

Form times are UTC+08:00 (``FieldParser.time``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from litestar import Request

from intermediary_market.models import MONEY_INTEGER_DIGITS
from trading.kernel.bounds import INT32_MAX
from trading.kernel.web.forms import FieldParser

T = TypeVar("T")


class Verdict(StrEnum):
    """A decision field's two buttons (uphold or not, overturn or not)."""

    YES = "1"
    NO = "0"


class MarketFields(FieldParser):
    """The kernel's parser with the marketplace's bounds: amounts fit the money columns, whole
    numbers the 32-bit integer columns (a larger one would overflow them: a 500, not a refusal).
    """

    def money(self, name: str, value: str, *, required: bool = True) -> Decimal | None:
        return self.decimal(name, value, digits=MONEY_INTEGER_DIGITS, required=required)

    def whole(self, name: str, value: str) -> int | None:
        return self.integer(name, value, required=True, low=-INT32_MAX - 1, high=INT32_MAX)

    def verdict(self, name: str, value: str) -> bool:
        return self.choice(name, value, Verdict) is Verdict.YES


def known(value: T | None) -> T:
    """A required value once ``FieldParser.done()`` has returned: it parsed, so it is there."""
    assert value is not None  # noqa: S101 - done() raises for every missing or malformed field
    return value


def path(request: Request[Any, Any, Any], name: str, **parameters: Any) -> str:
    """The path of the route ``name`` (a redirect target that stays on the same host)."""
    return request.app.route_reverse(name, **parameters)
