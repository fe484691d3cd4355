"""The catalogue pages' words: field labels, severities, categories and the refusals' sentences."""

from __future__ import annotations

from procurement.negative_list.model import Severity
from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_

SEVERITY_LABELS: dict[str, str] = {
    Severity.BLOCKING.value: N_("Blocking: stops publication"),
    Severity.WARNING.value: N_("Warning"),
}
CATEGORY_LABELS: dict[str, str] = {
    "INFO": N_("Equal treatment and information"),
    "QUAL": N_("Qualification conditions"),
    "TECH": N_("Technical and commercial requirements"),
    "SPEC": N_("Technical and commercial requirements"),
    "BRAND": N_("Brands and specifications"),
    "TERM": N_("Commercial terms"),
    "COMM": N_("Commercial terms"),
    "S": N_("Structured checks"),
    "SCORE": N_("Scoring"),
    "PRICE": N_("Price"),
    "PROC": N_("Process"),
    "CONDUCT": N_("Conduct"),
    "OTHER": N_("Other"),
}
FIELD_LABELS: dict[str, str] = {
    "rule_id": N_("Rule id"),
    "name": N_("Rule name"),
    "basis": N_("Legal basis of the rule"),
    "severity": N_("Severity"),
    "suggestion": N_("Suggested fix"),
    "patterns": N_("Patterns (one regular expression a line)"),
    "negations": N_("Allowed forms (one regular expression a line)"),
    "positive_examples": N_("Sentences the rule must find (one a line)"),
    "negative_examples": N_("Sentences the rule must leave alone (one a line)"),
    "structured": N_("Structured check"),
    "in_force": N_("In force"),
    "reason": N_("Reason for the change"),
    "base_version": N_("Version edited"),
    "text": N_("Text to check"),
    "version": N_("Version"),
    "form": N_("Rule"),
}
REFUSAL_MESSAGES: dict[str, str] = {
    "rule_id_format": N_("A rule id reads NL-<category>-<name>, in capital letters, digits and hyphens."),
    "rule_id_taken": N_("A rule with this id exists already: edit it instead."),
    "rule_exists": N_("There is no such rule in the catalogue."),
    "rule_version_exists": N_("The rule has no such version."),
    "too_long": N_("The text is too long."),
    "too_many_lines": N_("Too many lines: at most 50."),
    "regex_invalid": N_("This line is not a valid regular expression."),
    "regex_matches_empty": N_("This line matches empty text, so it would hit every sentence."),
    "pattern_required": N_("A text rule needs at least one pattern."),
    "example_required": N_("Give at least one example sentence of this kind."),
    "example_missed": N_("The rule as edited does not find this sentence."),
    "example_hit": N_("The rule as edited finds this sentence, which it must leave alone."),
    "rule_changed_meanwhile": N_(
        "Someone saved a newer version while you were editing: reload the rule and make your change again."
    ),
    "rule_unchanged": N_("The new version would say exactly what the current one says."),
}
LABELS = Labels(fields=FIELD_LABELS, rules=REFUSAL_MESSAGES)
