"""Apply rules to text: each hit is a finding with its offsets into the text as given.

First cut (the skeleton's): patterns per clause, a negation matching the same clause cancels the hit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from procurement.negative_list.model import Finding, Rule

# A clause ends at a full stop, semicolon, question/exclamation mark or a line break (full or half width).
_CLAUSE_END = re.compile(r"[。；;！!？?\n]")


def clauses(text: str) -> Iterator[tuple[int, int]]:
    """The (start, end) of every non-empty clause of ``text``."""
    start = 0
    for match in _CLAUSE_END.finditer(text):
        if text[start : match.end()].strip():
            yield start, match.end()
        start = match.end()
    if text[start:].strip():
        yield start, len(text)


def check_text(text: str, rules: Sequence[Rule]) -> list[Finding]:
    """Every text rule's hits in ``text``, in order of position."""
    findings: list[Finding] = []
    for start, end in clauses(text):
        clause = text[start:end]
        for rule in rules:
            if not rule.patterns or any(re.search(n, clause) for n in rule.negations):
                continue
            for pattern in rule.patterns:
                hit = re.search(pattern, clause)
                if hit:
                    findings.append(
                        Finding(
                            rule=rule.id,
                            rule_version=rule.version,
                            severity=rule.severity,
                            start=start + hit.start(),
                            end=start + hit.end(),
                            basis=rule.basis,
                            suggestion=rule.suggestion,
                        )
                    )
                    break
    findings.sort(key=lambda f: (f.start, f.rule))
    return findings
