"""Amounts as people read them: thousands separators on every page, and in legal tables (唱标,
notices) also the amount in Chinese capitals (大写金额), the form a bank or a court reads.

Templates use the filters ``|amount`` (``1234567.8`` → ``1,234,567.80``), ``|amount_in_words``
(→ ``壹佰贰拾叁万肆仟伍佰陆拾柒元捌角``) and ``|currency`` (``CNY`` → ``元`` in Chinese). None of
them raises: a value that is not an amount is shown as it was given, an empty one as ``—`` (or
nothing, in words), because a page must render whatever an old record holds.

The capitals come from ``cn2an`` (its ``rmb`` mode: 元角分, 整 after whole yuan, 零 for skipped
places), after rounding half up to the fen: amounts here carry two decimals, and cn2an cuts off
a third rather than rounding it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import cn2an

from trading.kernel.web import i18n
from trading.kernel.web.i18n import N_

EMPTY = "—"
FEN = Decimal("0.01")
MAX_WORDS_DIGITS = 16
"""cn2an words amounts below 10¹⁶ yuan (千万亿); the platform's largest amounts are far below."""
CURRENCY_NAMES = {"CNY": N_("CNY"), "RMB": N_("CNY")}
"""Currency codes as the reader says them: 元 in Chinese, CNY in English."""


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def amount(value: object, places: int = 2) -> str:
    """``value`` with thousands separators and ``places`` decimals; ``—`` when empty."""
    number = _decimal(value)
    if number is None:
        return EMPTY if value is None or value == "" else str(value)
    try:
        rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than a Decimal context holds: shown unrounded
        rounded = number
    return f"{rounded:,.{places}f}"


def amount_in_words(value: object) -> str:
    """The amount in yuan in Chinese capitals (大写), ``""`` when ``value`` is not an amount."""
    number = _decimal(value)
    if number is None:
        return ""
    if number.adjusted() >= MAX_WORDS_DIGITS:
        return ""
    fen = number.quantize(FEN, rounding=ROUND_HALF_UP)
    words = str(cn2an.an2cn(f"{abs(fen):f}", "rmb"))
    return f"负{words}" if fen < 0 else words


def currency(code: object) -> str:
    """A currency code as the reader says it (``CNY`` → ``元``); other codes as they are."""
    text = "" if code is None else str(code).strip()
    name = CURRENCY_NAMES.get(text.upper())
    return i18n.gettext(name) if name is not None else text
