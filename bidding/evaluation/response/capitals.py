"""Amounts of money in Chinese capital numerals (大写金额), both ways, exactly (``Decimal``).

12号令 Art. 19 and 87号令 Art. 59 make the amount in words prevail over the figures, so the words
must be read exactly. The grammar read here is the one bills and bid forms use:

* an optional ``人民币`` prefix;
* digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 inside a group of four, group units 万 and 亿
  (亿 may follow a part holding 万: 壹万亿 is 10¹²), so up to 14 integer digits as the money columns;
* ``元`` (or ``圆``) after the integer part (``零元`` or no integer part for amounts below one yuan);
* then ``整`` / ``正``, or ``X角``, ``X角Y分``, ``零Y分``/``Y分``, optionally followed by ``整``.

Refused (``CapitalsError`` naming the position): any other character, a unit without a digit
before it other than a leading 拾 (拾元 = 10), units out of order within a group (壹佰贰仟), a bare
digit after a unit other than 拾 with no 零 between (壹仟伍: colloquially 1,500, formally nothing),
two digits in a row, 角/分 with no digit, a missing 元 when an integer part is present.

Why not ``cn2an`` (checked with 0.5.24, 2026-12-06): it refuses ``…元…整`` and ``…元零伍分`` in every
mode ("输入的数据不在转化范围内：元"), returns floats (49974.4) rather than exact amounts, and in its
normal and smart modes reads the ambiguous 壹仟伍元 as 1,500. Money under Art. 19 needs exact fen and
a refusal of the ambiguous, so this small parser is the one the format and the assistance use.

``to_capitals`` writes the canonical form (zeros as 零 once per gap, ``整`` when there are no
fen), which ``parse_capitals`` reads back to the same amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_DIGIT_VALUE = {ch: i for i, ch in enumerate(DIGITS)}
_SMALL_UNITS = {"拾": 1, "佰": 2, "仟": 3}
_CENT = Decimal("0.01")
MAX_INTEGER_DIGITS = 14


class CapitalsError(ValueError):
    """The text is not an amount in capitals; ``position`` is the index of the first bad character."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position


def _group(text: str, offset: int) -> int:  # noqa: C901 - one state machine, read top to bottom
    """A group below 万 (0–9999): digit–unit pairs in descending order, 零 marking gaps."""
    value = 0
    last_power = 4  # the next unit must be below this
    pending: int | None = None  # a digit waiting for its unit
    zero_seen = False
    for i, ch in enumerate(text):
        if ch in _DIGIT_VALUE:
            if pending is not None:
                raise CapitalsError("two digits in a row", offset + i)
            if ch == "零":
                zero_seen = True
                continue
            pending = _DIGIT_VALUE[ch]
        elif ch in _SMALL_UNITS:
            power = _SMALL_UNITS[ch]
            if power >= last_power:
                raise CapitalsError("units out of order", offset + i)
            if pending is None:
                if not (ch == "拾" and i == 0):
                    raise CapitalsError("a unit without a digit", offset + i)
                pending = 1
            value += pending * 10**power
            pending, last_power, zero_seen = None, power, False
        else:
            raise CapitalsError(f"unexpected character {ch!r}", offset + i)
    if pending is not None:
        if last_power not in (1, 4) and not zero_seen:
            raise CapitalsError("a digit without its unit", offset + len(text) - 1)
        value += pending
    return value


def _below_yi(text: str, offset: int) -> int:
    """An integer below 10⁸: an optional group with 万, then a group."""
    if "万" in text:
        at = text.index("万")
        if at == 0:
            raise CapitalsError("万 without a digit", offset)
        if "万" in text[at + 1 :]:
            raise CapitalsError("万 twice", offset + at + 1 + text[at + 1 :].index("万"))
        return _group(text[:at], offset) * 10_000 + _group(text[at + 1 :], offset + at + 1)
    return _group(text, offset)


def _integer(text: str, offset: int) -> int:
    if "亿" in text:
        at = text.rindex("亿")
        if at == 0:
            raise CapitalsError("亿 without a digit", offset)
        high = text[:at]
        if "亿" in high:
            raise CapitalsError("亿 twice", offset + high.index("亿"))
        return _below_yi(high, offset) * 10**8 + _below_yi(text[at + 1 :], offset + at + 1)
    return _below_yi(text, offset)


def _fraction(text: str, offset: int) -> Decimal:
    """``''``, ``整``, ``X角``, ``X角Y分``, ``零Y分``, ``Y分`` (each optionally followed by 整)."""
    if text.endswith(("整", "正")):
        text = text[:-1]
        if "分" in text:
            raise CapitalsError("整 after 分", offset + len(text))
    jiao = fen = 0
    rest, at = text, offset
    if "角" in rest:
        k = rest.index("角")
        if k != 1 or rest[0] not in _DIGIT_VALUE:
            raise CapitalsError("角 needs exactly one digit before it", at)
        jiao = _DIGIT_VALUE[rest[0]]
        rest, at = rest[2:], at + 2
    elif rest.startswith("零"):
        rest, at = rest[1:], at + 1
    if rest:
        if len(rest) != 2 or rest[1] != "分" or rest[0] not in _DIGIT_VALUE:  # noqa: PLR2004 - one digit and 分
            raise CapitalsError("分 needs exactly one digit before it and ends the amount", at)
        fen = _DIGIT_VALUE[rest[0]]
    return Decimal(jiao * 10 + fen) / 100


def parse_capitals(text: str) -> Decimal:
    """The amount written in ``text``, exact to the fen; `CapitalsError` when it is not one."""
    raw = text.strip()
    offset = len(text) - len(text.lstrip())
    if raw.startswith("人民币"):
        raw, offset = raw[3:], offset + 3
    if not raw:
        raise CapitalsError("no amount", offset)
    yuan_at = next((i for i, ch in enumerate(raw) if ch in "元圆"), -1)
    if yuan_at < 0:
        if raw in {"整", "正"} or not any(ch in raw for ch in "角分"):
            raise CapitalsError("元 missing", offset + len(raw) - 1)
        return _fraction(raw, offset)
    integer_text, fraction_text = raw[:yuan_at], raw[yuan_at + 1 :]
    if not integer_text:
        raise CapitalsError("元 without an amount", offset)
    integer = 0 if integer_text == "零" else _integer(integer_text, offset)
    if integer >= 10**MAX_INTEGER_DIGITS:
        raise CapitalsError(f"more than {MAX_INTEGER_DIGITS} integer digits", offset)
    return Decimal(integer) + _fraction(fraction_text, offset + yuan_at + 1)


def _group_words(value: int) -> str:
    """0 < value < 10000, written with 零 once per gap and no trailing zeros."""
    out: list[str] = []
    zero = False
    for power, unit in ((3, "仟"), (2, "佰"), (1, "拾"), (0, "")):
        digit = value // 10**power % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[digit] + unit)
    return "".join(out)


def _below_yi_words(value: int) -> str:
    """0 < value < 10⁸: the 万 group, then the units group with 零 for a gap between them."""
    high, low = divmod(value, 10_000)
    text = _group_words(high) + "万" if high else ""
    if low:
        text += ("零" if high and low < 1000 else "") + _group_words(low)  # noqa: PLR2004 - a leading gap
    return text


def _integer_words(value: int) -> str:
    """0 < value < 10¹⁴: the part above 亿 (itself possibly with 万), then the part below."""
    high, low = divmod(value, 10**8)
    text = _below_yi_words(high) + "亿" if high else ""
    if low:
        text += ("零" if high and low < 10**7 else "") + _below_yi_words(low)
    return text


def to_capitals(amount: Decimal) -> str:
    """``amount`` (≥ 0, rounded half up to the fen) in canonical capitals, e.g. 伍万零叁佰叁拾肆元肆角."""
    if amount < 0 or not amount.is_finite():
        raise ValueError("only finite amounts ≥ 0 are written in capitals")
    cents = int(amount.quantize(_CENT, rounding=ROUND_HALF_UP) * 100)
    integer, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if integer >= 10**MAX_INTEGER_DIGITS:
        raise ValueError(f"more than {MAX_INTEGER_DIGITS} integer digits")
    head = (_integer_words(integer) + "元") if integer else ("" if jiao or fen else "零元")
    if not jiao and not fen:
        return head + "整"
    if jiao and not fen:
        return f"{head}{DIGITS[jiao]}角整"
    middle = f"{DIGITS[jiao]}角" if jiao else ("零" if integer else "")
    return f"{head}{middle}{DIGITS[fen]}分"
