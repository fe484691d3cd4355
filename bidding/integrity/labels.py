"""Integrity pages' words: statuses, severities, scopes, field labels and the refusals' sentences."""

from __future__ import annotations

from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_

SEVERITY_LABELS: dict[str, str] = {
    "red": N_("Red: act on it"),
    "amber": N_("Amber: look at it"),
    "info": N_("Information"),
}
STATUS_LABELS: dict[str, str] = {
    "open": N_("Open"),
    "reviewing": N_("Under review"),
    "dismissed": N_("Dismissed"),
    "confirmed": N_("Confirmed"),
}
SCOPE_LABELS: dict[str, str] = {
    "lot-prices": N_("Bid prices of a lot"),
    "lot-evidence": N_("Signals captured with the bids"),
    "lot-documents": N_("Bid documents"),
    "evaluation": N_("Expert scoring"),
    "market": N_("Market behaviour"),
}
FIELD_LABELS: dict[str, str] = {
    "status": N_("Status"),
    "reason": N_("Reason"),
    "name": N_("Rule name"),
    "basis": N_("Basis"),
    "severity": N_("Severity"),
    "thresholds": N_("Thresholds (one name = value a line)"),
    "description": N_("Description"),
    "base_version": N_("Version edited"),
    "form": N_("Rule"),
}
REFUSAL_MESSAGES: dict[str, str] = {
    "integrity_alert_transition": N_("The alert cannot take this step from its present status."),
    "integrity_rule_changed_meanwhile": N_("Someone saved a newer version of the rule meanwhile: reload it."),
    "integrity_rule_unchanged": N_("The new version would say exactly what the current one says."),
    "threshold_number": N_("A threshold is a finite number."),
    "threshold_unknown": N_("The rule has no such threshold."),
    "text_too_long": N_("The text is too long."),
}
LABELS = Labels(fields=FIELD_LABELS, rules=REFUSAL_MESSAGES)
