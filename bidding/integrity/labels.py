"""Integrity pages' words: statuses, severities, scopes, field labels and the refusals' sentences."""

from __future__ import annotations

from bidding.integrity.screening import Trigger
from bidding.integrity.screens.prices import WINNER_RULES
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
TRIGGER_LABELS: dict[str, str] = {
    Trigger.OPENING.value: N_("At the opening"),
    Trigger.EVALUATION.value: N_("When the experts' scores are in"),
    Trigger.MARKET.value: N_("In the market batch"),
    Trigger.AWARD.value: N_("When the award names the winner"),
}
_SCOPE_TRIGGERS = {"evaluation": Trigger.EVALUATION, "market": Trigger.MARKET}


def runs_at(rule_id: str, scope: str) -> str:
    """When the platform screens a rule (`screening.Trigger`): the rules that read the winner at
    the award, the lot rules at the opening, the others with their scope's moment.
    """
    if rule_id in WINNER_RULES:
        return Trigger.AWARD.value
    return _SCOPE_TRIGGERS.get(scope, Trigger.OPENING).value


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
