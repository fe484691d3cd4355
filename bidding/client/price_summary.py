"""The price summary (开标一览表): what is read out at the opening, sealed apart from the package."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Final

from bidding.client.problems import BidBuildError
from certs.canonical import canonical_json

_CENTS: Final = Decimal("0.01")


def _money(value: Decimal | str | int) -> str:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise BidBuildError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise BidBuildError(f"an amount must be a finite, non-negative number: {value!r}")
    return str(amount.quantize(_CENTS, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class PriceSummary:
    """What is read out at the opening (唱标), sealed apart from the package so it opens first.

    ``salt`` is fresh per build: the plaintext digest in the public manifest then reveals nothing
    about the price, even to someone guessing likely amounts.
    """

    tender: str
    lot: str
    bidder: str
    total_price: Decimal
    duration_days: int
    items: Sequence[tuple[str, Decimal | str]] = ()
    currency: str = "CNY"
    salt: str = field(default_factory=lambda: secrets.token_hex(16))

    def to_dict(self) -> dict[str, Any]:
        return {
            "tender": self.tender,
            "lot": self.lot,
            "bidder": self.bidder,
            "currency": self.currency,
            "totalPrice": _money(self.total_price),
            "durationDays": int(self.duration_days),
            "items": [{"name": name, "price": _money(price)} for name, price in self.items],
            "salt": self.salt,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceSummary:
        return cls(
            tender=str(data["tender"]),
            lot=str(data["lot"]),
            bidder=str(data["bidder"]),
            currency=str(data.get("currency", "CNY")),
            total_price=Decimal(str(data["totalPrice"])),
            duration_days=int(data["durationDays"]),
            items=[(str(i["name"]), Decimal(str(i["price"]))) for i in data.get("items", [])],
            salt=str(data["salt"]),
        )
