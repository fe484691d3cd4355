"""Arithmetic of a priced bill, corrected in the law's order (12号令 Art. 19; 87号令 Art. 59).

1. **Words over figures.** The total in Chinese capitals prevails over the total in figures
   (``words-figures-mismatch``, corrected = the amount in words).
2. **Unit price over line total**, per line: the expected line total is quantity × unit price
   rounded half up to the fen. When it differs from the stated line total, the unit price prevails
   (``line-total-mismatch``, corrected = the expected line total) — unless the unit price has an
   **obvious decimal-point error**, and then the line total prevails and the unit price is
   corrected (``unit-price-decimal-error``, corrected = the unit price with its point moved).
3. **The sum.** When the total (after step 1) differs from the sum of the stated line totals, the
   bidder's own addition is wrong (``total-sum-mismatch``); the lines prevail over the total
   (87号令 Art. 59(4)), so the corrected price is the sum of the corrected line totals.
4. **The corrected price** (``corrected-price``, info) when it differs from the figures: it binds
   the bidder only once confirmed (87号令 Art. 59; 12号令 Art. 19 by clarification).

**"Obvious decimal-point error", precisely.** The stated line total ``t`` is not 0, and there is
exactly one shift ``k`` in {−4, −3, −2, −1, 1, 2, 3, 4} such that the unit price with its point
moved ``k`` places, ``p·10ᵏ``, still has at most 2 decimal places and quantity × ``p·10ᵏ``
rounded half up to the fen equals ``t`` exactly. Then the digits of the unit price are right and
only the point is misplaced: 40 m³ at 1,235.00 with a line total of 4,940.00 (40 × 123.50); the
line total stands and the unit price is corrected to 123.50. Anything else is not obvious and the
unit price prevails.

Against the bill of quantities the tender published (when given): a line not priced
(``bill-line-missing``), a priced line not in the bill (``bill-line-unknown``), a quantity changed
(``bill-quantity-changed``): bidders price the bill, they do not change it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from bidding.evaluation.assistance.findings import Finding, Severity, money
from bidding.evaluation.response.bid import Response
from bidding.evaluation.response.capitals import MAX_INTEGER_DIGITS, parse_capitals, to_capitals
from bidding.evaluation.response.requirements import BillItem

CENT = Decimal("0.01")
SHIFTS = (-4, -3, -2, -1, 1, 2, 3, 4)
ART_19 = "12号令 Art. 19"
BASIS_WORDS = f"{ART_19}; 87号令 Art. 59(2)"
BASIS_DECIMAL = f"{ART_19}; 87号令 Art. 59(3)"
BASIS_LINES = f"{ART_19}; 87号令 Art. 59(4)"
BASIS_CONFIRM = f"{ART_19}; 87号令 Art. 59"
BASIS_BILL = "GB 50500 工程量清单"


@dataclass(frozen=True)
class BillCheck:
    findings: list[Finding]
    corrected_price: Decimal
    """The price after the corrections (the evaluated price, pending the bidder's confirmation)."""


def decimal_shift(quantity: Decimal, unit_price: Decimal, line_total: Decimal) -> int | None:
    """The one shift of the unit price's point that explains the line total, or None (see above)."""
    if not line_total:
        return None
    found = None
    for shift in SHIFTS:
        price = unit_price.scaleb(shift)
        if price != price.quantize(CENT):
            continue
        if (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP) == line_total:
            if found is not None:
                return None
            found = shift
    return found


PRECISION = 64
"""Digits of the arithmetic: a quantity (14 + 4 digits) times a unit price (14 + 2) moved by 4 places,
summed over many lines, is exact far below this (the default context's 28 is not enough)."""


def check_bill(response: Response, bill: Sequence[BillItem] = ()) -> BillCheck:
    """Findings for ``response``'s priced bill and totals, and its corrected price."""
    with localcontext(prec=PRECISION):
        return _check_bill(response, bill)


def _check_bill(response: Response, bill: Sequence[BillItem]) -> BillCheck:
    bid = response.bidder
    findings: list[Finding] = []
    stated_sum = corrected_sum = Decimal(0)
    for i, line in enumerate(response.bill):
        quantity, price, total = line.quantity, line.unit_price, line.line_total
        stated_sum += total
        expected = (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP)
        if expected == total:
            corrected_sum += total
            continue
        shift = decimal_shift(quantity, price, total)
        params = {
            "line": line.code,
            "quantity": str(quantity),
            "unit_price": money(price),
            "line_total": money(total),
            "expected": money(expected),
        }
        if shift is not None:
            corrected = price.scaleb(shift).quantize(CENT)
            findings.append(
                Finding(
                    "unit-price-decimal-error",
                    Severity.WARNING,
                    bid,
                    f"$.bill[{i}].unitPrice",
                    {**params, "corrected": money(corrected)},
                    line=line.code,
                    corrected=corrected,
                    basis=BASIS_DECIMAL,
                )
            )
            corrected_sum += total
        else:
            findings.append(
                Finding(
                    "line-total-mismatch",
                    Severity.WARNING,
                    bid,
                    f"$.bill[{i}].lineTotal",
                    {**params, "corrected": money(expected)},
                    line=line.code,
                    corrected=expected,
                    basis=BASIS_LINES,
                )
            )
            corrected_sum += expected

    words = parse_capitals(response.total_in_words)
    if words != response.total:
        findings.append(
            Finding(
                "words-figures-mismatch",
                Severity.WARNING,
                bid,
                "$.totalInWords",
                {"words": response.total_in_words, "words_amount": money(words), "figures": money(response.total)},
                corrected=words,
                basis=BASIS_WORDS,
            )
        )
    price = words
    if response.bill:
        if stated_sum != words:
            findings.append(
                Finding(
                    "total-sum-mismatch",
                    Severity.WARNING,
                    bid,
                    "$.total",
                    {"total": money(words), "sum": money(stated_sum), "corrected": money(corrected_sum)},
                    corrected=corrected_sum,
                    basis=BASIS_LINES,
                )
            )
        price = corrected_sum
    if price != response.total:
        findings.append(
            Finding(
                "corrected-price",
                Severity.INFO,
                bid,
                "$.total",
                {"figures": money(response.total), "corrected": money(price), "corrected_words": _words(price)},
                corrected=price,
                basis=BASIS_CONFIRM,
            )
        )
    if bill:
        findings.extend(_against_bill(response, bill))
    return BillCheck(findings, price)


def _words(amount: Decimal) -> str:
    """The amount in capitals, or a dash beyond what capitals write (14 integer digits)."""
    return to_capitals(amount) if amount < Decimal(10) ** MAX_INTEGER_DIGITS else "-"


def _against_bill(response: Response, bill: Sequence[BillItem]) -> list[Finding]:
    bid = response.bidder
    findings: list[Finding] = []
    priced = {line.code: (i, line) for i, line in enumerate(response.bill)}
    for item in bill:
        entry = priced.pop(item.code, None)
        if entry is None:
            findings.append(
                Finding(
                    "bill-line-missing",
                    Severity.WARNING,
                    bid,
                    "$.bill",
                    {"line": item.code, "description": item.description},
                    line=item.code,
                    basis=BASIS_BILL,
                )
            )
        elif entry[1].quantity != item.quantity:
            findings.append(
                Finding(
                    "bill-quantity-changed",
                    Severity.WARNING,
                    bid,
                    f"$.bill[{entry[0]}].quantity",
                    {"line": item.code, "quantity": str(entry[1].quantity), "required": str(item.quantity)},
                    line=item.code,
                    basis=BASIS_BILL,
                )
            )
    findings.extend(
        Finding(
            "bill-line-unknown", Severity.WARNING, bid, f"$.bill[{i}].code", {"line": code}, line=code, basis=BASIS_BILL
        )
        for code, (i, _) in priced.items()
    )
    return findings
