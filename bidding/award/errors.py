"""The award stage's refusal: one error class, the field and the rule named (the rule's words are in
`trading.kernel.web.refusals`), so a page or the API says why without a code.
"""

from __future__ import annotations

from dataclasses import dataclass

from trading.kernel.errors import ValidationFailed


class AwardRefused(ValidationFailed):
    """A step of the award stage breaks a rule; ``field`` and ``rule`` name it, and
    ``extra["errors"]`` lists every broken rule when a check found several.
    """

    code = "award_refused"
    title = "The award stage refused this"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: the field at fault, the rule's code, a message with the values."""

    field: str
    rule: str
    message: str


def refuse(violations: list[Violation]) -> None:
    """Raise the first violation as `AwardRefused`, every one listed in ``extra``; nothing when empty."""
    if not violations:
        return
    first = violations[0]
    raise AwardRefused(
        first.message,
        field=first.field,
        rule=first.rule,
        extra={"errors": [{"field": v.field, "rule": v.rule, "message": v.message} for v in violations]}
        if len(violations) > 1
        else None,
    )
