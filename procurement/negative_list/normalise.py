"""Text normalisation for the checker that keeps offsets into the original text.

Two steps, both pure:

1. **Folding**, one character to one character (so offsets do not move): full-width digits, letters
   and ASCII punctuation (U+FF01–FF5E) to their ASCII forms, the ideographic space to a space. So
   rules are written with ``,`` ``;`` ``:`` ``(`` ``)`` ``%`` and ASCII digits, whatever the
   document used. ``。`` ``、`` and the Chinese quotes stay as they are.
2. **Chinese numbers** read with cn2an where they are quantities: a run of Chinese numerals followed
   by a unit (年, 个, 万, 元, 人, 家, 项 …) becomes digits ("三年以上" → "3年以上", "五百万元" →
   "5000000元"), and "百分之二十" becomes "20%". Words such as 一般, 统一, 唯一 are left alone (no
   unit follows). These replacements change the length, so the result carries a map back.

``Normalised.original_span(start, end)`` turns a span of the normalised text into the span of the
original text it came from; a span inside a replaced number maps to the whole number.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import cn2an

_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_DIGITS = "零〇一二两三四五六七八九十百千万亿"
# A run of Chinese numerals starting with a digit word (so 万元, 百强 are not runs), with an optional
# decimal part; it is a quantity when a unit follows or 百分之 precedes (checked per run: a regular
# expression starting with a character class lets the engine skip to candidates quickly).
_RUN = re.compile(rf"[零〇一二两三四五六七八九十][{_DIGITS}]*(?:点[{_DIGITS}]+)?")
_UNIT = re.compile(r"年|个|万|元|家|项|名|人|次|份|台|套|天|日|周|月|倍|小时|分钟|米|公里|平方|吨|%")
_PERCENT = "百分之"


@dataclass(frozen=True, slots=True)
class Normalised:
    """The normalised text and the replacements that changed its length.

    ``replaced`` holds (normalised start, normalised end, original start, original end) for every
    replaced number, in order.
    """

    text: str
    original: str
    replaced: tuple[tuple[int, int, int, int], ...] = ()
    starts: tuple[int, ...] = ()  # the normalised start of every replacement, for bisection

    def _to_original(self, offset: int, *, is_end: bool) -> int:
        if not self.replaced:
            return offset
        index = bisect_right(self.starts, offset if not is_end else offset - 1) - 1
        if index < 0:
            return offset
        n_start, n_end, o_start, o_end = self.replaced[index]
        if (n_start <= offset < n_end) if not is_end else (n_start < offset <= n_end):
            return o_end if is_end else o_start
        return o_end + (offset - n_end)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that ``text[start:end]`` was made from."""
        return self._to_original(start, is_end=False), self._to_original(end, is_end=True)


def fold(text: str) -> str:
    """Full-width forms to ASCII, one character for one (offsets unchanged)."""
    return text.translate(_FOLD)


@lru_cache(maxsize=4096)
def _read_number(words: str) -> str | None:
    try:
        value = cn2an.cn2an(words, "smart")
    except (ValueError, KeyError, IndexError):
        return None
    return format(value, "g") if isinstance(value, float) else str(value)


def normalise(text: str) -> Normalised:
    """Fold ``text`` and read its Chinese quantities, keeping the way back to the original offsets."""
    folded = fold(text)
    pieces: list[str] = []
    replaced: list[tuple[int, int, int, int]] = []
    last = 0
    length = 0  # length of the normalised text built so far
    for match in _RUN.finditer(folded):
        start, end = match.span()
        percent = folded.startswith(_PERCENT, start - len(_PERCENT)) if start >= len(_PERCENT) else False
        if not percent and not _UNIT.match(folded, end):
            continue
        digits = _read_number(match.group())
        if digits is None:
            continue
        if percent:
            start -= len(_PERCENT)
            digits += "%"
        pieces.append(folded[last:start])
        length += start - last
        replaced.append((length, length + len(digits), start, end))
        pieces.append(digits)
        length += len(digits)
        last = end
    if not replaced:
        return Normalised(folded, text)
    pieces.append(folded[last:])
    return Normalised("".join(pieces), text, tuple(replaced), tuple(r[0] for r in replaced))
