"""How the pages word the assistance's findings stored as `Finding` rows: the sentence of
`bidding.evaluation.assistance.labels.FINDING_TEXT` for the row's rule with its stored params, in
the reader's language; and the requirement set's own refusals and field names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from bidding.evaluation.assistance.labels import FINDING_TEXT
from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_, gettext

ASK_EXPLANATION: Final = frozenset({"abnormally-low-price"})
"""Findings whose prompt is a clarification request to the bidder (the clarification page)."""


def advisory_text(rule: str, params: Mapping[str, Any] | None) -> str:
    """The finding's sentence in the current locale; its rule code when no sentence fits."""
    text = FINDING_TEXT.get(rule)
    if text is None:
        return rule
    try:
        return gettext(text) % dict(params or {})
    except (KeyError, TypeError, ValueError):
        return rule


REQUIREMENTS = Labels(
    fields={
        "tender": N_("Tender"),
        "requirements": N_("Requirement set"),
        "file": N_("File"),
    },
    rules={
        "tender_draft": N_("The requirement set is fixed once the tender is published."),
        "tender_match": N_("The requirement set names another tender."),
        "lot_exists": N_("The tender has no such lot."),
        "deadline_match": N_("The requirement set's deadline is not the tender's deadline."),
        "requirements_first": N_("Upload the requirement set before importing its bill of quantities."),
        "file_required": N_("Choose a file."),
        "criterion_published": N_("A criterion of the published requirement set is not evaluated."),
        "criterion_kind": N_("The criterion is objective in one and subjective in the other."),
        "criterion_range": N_("The criterion's range differs from the published requirement set."),
        "criterion_unpublished": N_("The criterion is not in the published requirement set."),
    },
)
