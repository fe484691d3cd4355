"""What the catalogue's tests share: a valid next version of a shipped text rule.

The rule is whichever shipped rule has patterns and examples (the checker's catalogue grows in
parallel), and the change is to its suggested fix only, so the test does not depend on how the
checker reads sentences.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from procurement.negative_list.catalogue import default_rules
from procurement.negative_list.model import Rule
from procurement.rule_catalogue.service import RuleDraft

RULE: Rule = next(r for r in default_rules() if r.patterns and r.positive_examples and r.negative_examples)
NEW_SUGGESTION = RULE.suggestion + "（修订：可要求中标后作出服务承诺。）"
FOUND_BY_NOTHING = "本项目采购人将按合同约定支付货款。"


def draft(**changes: Any) -> RuleDraft:
    """The shipped rule with a new suggested fix, as its next version (edited from the shipped one)."""
    base = RuleDraft(
        rule_id=RULE.id,
        name=RULE.name,
        basis=RULE.basis,
        severity=RULE.severity,
        suggestion=NEW_SUGGESTION,
        reason="修改建议表述更具体",
        base_version=RULE.version,
        patterns=RULE.patterns,
        negations=RULE.negations,
        positive_examples=RULE.positive_examples,
        negative_examples=RULE.negative_examples,
    )
    return replace(base, **changes)


def form(token: str, **changes: str) -> dict[str, str]:
    """The edit form of the same change."""
    d = draft()
    return {
        "_csrf_token": token,
        "name": d.name,
        "basis": d.basis,
        "severity": d.severity.value,
        "suggestion": d.suggestion,
        "patterns": "\n".join(d.patterns),
        "negations": "\n".join(d.negations),
        "positive_examples": "\n".join(d.positive_examples),
        "negative_examples": "\n".join(d.negative_examples),
        "in_force": "yes",
        "reason": d.reason,
        "base_version": str(d.base_version),
        **changes,
    }
