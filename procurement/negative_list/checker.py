"""Apply rules to text: each hit is a finding with its offsets into the text as given.

The text is normalised first (``normalise``: full-width folded, Chinese quantities read) and every
finding's offsets are mapped back to the original text, so ``text[f.start:f.end]`` is what the
purchaser wrote. A clause ends at ``。`` ``;`` ``!`` ``?`` or a line break; a rule finds at most one
hit per clause. Each pattern scans the whole text once (the regular-expression engine does the
work, not a loop over clauses), and a hit is then placed in its clause.

A hit is cancelled (the allowed forms that look like a hit):

- by one of the rule's ``negations`` matching anywhere in the same clause;
- by a negation word earlier in the same comma-separated segment (``NEGATION_BEFORE``: 不得要求…,
  不要求, 无需, 不限制, 不以…, 不将…, 不设…): "不要求提供制造商授权书" is not a requirement;
- by a disclaimer later in the same clause (``NEGATION_AFTER``: 不作为…, 不作要求, 仅供参考):
  "ISO9001认证不作为资格条件".

A plain 不得 does not cancel: "供应商不得为外商独资企业" *is* the restriction.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache

from procurement.negative_list.model import Finding, Rule
from procurement.negative_list.normalise import fold, normalise

# Shorthands a rule's patterns and negations may use (expanded before compiling).
MACROS: dict[str, str] = {
    # a "must" word; 应 not inside 供应商/响应/相应/对应/适应, 需 not in 需求 (every branch starts with a
    # literal character, so the engine skips to candidates quickly)
    "{M}": (
        r"(?:必须|须|应当|应(?<![供响相对适反效]应)(?!商|答)|需要|需(?<![无不]需)(?!求)|务必|只能|仅限|限定为|限为|要求)"
    ),
    "{C}": r"[^。;!?\n]",  # one character inside the clause
    "{S}": r"[^。;!?,\n]",  # one character inside the comma-separated segment
    "{SCORE}": r"(?:得|加|计|记|给)\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?分",
    "{REGION}": (
        r"(?:本市|本省|本区|本县|本地|本地区|省内|市内|区内|县内|当地|项目所在地|辖区内?"
        r"|[\u4e00-\u9fffA-Za-z]{1,5}(?:省|市(?!场))(?:范围)?内?|省级|市级|县级|区级)"
    ),
}

NEGATION_BEFORE = re.compile(
    r"(?:不得|不应|不能|禁止|严禁)(?:要求|以|将|设置?|设定|限制|限定|指定|作为|去掉|去除|把)"
    r"|不要求|不需要?|无需|无须|不必|不限制?|不以|不将|不作为|不设置?|不设定|不强制|不再要求|免于|可不"
)
NEGATION_AFTER = re.compile(
    r"不作为|不列为|不作(?:强制)?要求|不做(?:强制)?要求|非必须|非强制|非必要|可不提供|不是必须|仅供参考"
)

# A clause ends at a full stop, semicolon, question/exclamation mark or a line break (after folding).
_CLAUSE_END = re.compile(r"[。;!?\n]")
_SEGMENT_END = ","


def expand(pattern: str) -> str:
    """``pattern`` with the shorthands of ``MACROS`` written out."""
    for name, value in MACROS.items():
        pattern = pattern.replace(name, value)
    return pattern


@lru_cache(maxsize=4096)
def compiled(pattern: str) -> re.Pattern[str]:
    """The compiled form of a rule's pattern (shorthands expanded); re.error if it is not valid."""
    return re.compile(expand(pattern))


def clauses(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every non-empty clause of ``text`` (offsets into ``text`` as given)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _CLAUSE_END.finditer(fold(text)):  # folding keeps offsets: one character for one
        if text[start : match.end()].strip():
            spans.append((start, match.end()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _negated(rule: Rule, text: str, clause: tuple[int, int], hit: re.Match[str]) -> bool:
    start, end = clause
    if any(compiled(negation).search(text, start, end) for negation in rule.negations):
        return True
    segment_start = max(start, text.rfind(_SEGMENT_END, start, hit.start()) + 1)
    # a negation starting before the hit, possibly running into it ("不要求…" where the hit is "要求…")
    if any(cue.start() < hit.start() for cue in NEGATION_BEFORE.finditer(text, segment_start, hit.end())):
        return True
    return NEGATION_AFTER.search(text, hit.end(), end) is not None


def check_text(text: str, rules: Sequence[Rule]) -> list[Finding]:
    """Every text rule's hits in ``text``, in order of position (offsets into ``text`` as given)."""
    norm = normalise(text)
    body = norm.text
    ends = [match.end() for match in _CLAUSE_END.finditer(body)]
    if not ends or ends[-1] != len(body):
        ends.append(len(body))
    findings: list[Finding] = []
    for rule in rules:
        if not rule.patterns:
            continue
        found: set[int] = set()
        for pattern in rule.patterns:
            regex = compiled(pattern)
            for match in regex.finditer(body):
                index = bisect_right(ends, match.start())
                if index in found:
                    continue
                clause = (ends[index - 1] if index else 0, ends[index])
                hit: re.Match[str] | None = match
                if match.end() > clause[1]:  # a pattern without the clause shorthands ran past it
                    hit = regex.search(body, *clause)
                if hit is None or _negated(rule, body, clause, hit):
                    continue
                found.add(index)
                start, end = norm.original_span(hit.start(), hit.end())
                findings.append(
                    Finding(
                        rule=rule.id,
                        rule_version=rule.version,
                        severity=rule.severity,
                        start=start,
                        end=end,
                        basis=rule.basis,
                        suggestion=rule.suggestion,
                    )
                )
    findings.sort(key=lambda f: (f.start, f.rule))
    return findings
