"""The account a guarantee fee was paid from (issue 19 §1): recorded when the application is
marked paid, shown masked, compared across a lot's bidders by the integrity screens (the same
account paying two bidders' bid securities is a 视为串通 case, 实施条例 Art. 40 (6)).

The rules are those of `bidding.client.parties.account_problems` (a lower layer cannot import
bidding): 8–32 digits once spaces and hyphens are dropped (corporate accounts follow no common
checksum, so none is checked) and the bank's name, at most 100 characters on one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from trading.guarantees.errors import GuaranteeRefused

BANK_LIMIT: Final = 100
_ACCOUNT: Final = re.compile(r"^\d{8,32}$")
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_SHOWN: Final = 4


@dataclass(frozen=True, slots=True)
class PayerAccount:
    """A payer's bank account: ``number`` as digits only, ``bank`` trimmed."""

    number: str
    bank: str


def account_problems(number: str, bank: str) -> list[tuple[str, str, str]]:
    """(field, rule, message) for each rule broken: ``payer_account_no`` ``account-number-format``,
    ``payer_bank`` ``bank-name``.
    """
    found = []
    if not _ACCOUNT.match(re.sub(r"[\s-]", "", number or "")):
        found.append(("payer_account_no", "account-number-format", "an account number of 8 to 32 digits"))
    name = (bank or "").strip()
    if not name or len(name) > BANK_LIMIT or _CONTROL.search(name):
        found.append(("payer_bank", "bank-name", f"the bank's name, at most {BANK_LIMIT} characters"))
    return found


def payer_account(number: str, bank: str) -> PayerAccount:
    """The account, checked: `GuaranteeRefused` naming the first field that breaks a rule."""
    found = account_problems(number, bank)
    if found:
        field, rule, message = found[0]
        raise GuaranteeRefused(message, field=field, rule=rule)
    return PayerAccount(re.sub(r"[\s-]", "", number), bank.strip())


def mask_account(number: str | None) -> str:
    """``****1234``: the last four digits only ("" without an account)."""
    if not number:
        return ""
    return "****" + (number[-_SHOWN:] if len(number) > _SHOWN else "")
