"""Marketplace errors: the kernel's domain errors with the marketplace's names."""

from __future__ import annotations

from trading.kernel.errors import Conflict, ValidationFailed


class RegistrationRefused(ValidationFailed):
    """An intermediary may not register for an announcement; ``rule`` says why."""

    code = "registration_refused"
    title = "Registration refused"


class SelectionFailed(Conflict):
    """The selection cannot produce a winner under the rules (too few registrants, …)."""

    code = "selection_failed"
    title = "Selection failed"


class RatingRefused(ValidationFailed):
    code = "rating_refused"
    title = "Rating refused"


class ComplaintRefused(ValidationFailed):
    """A complaint cannot be filed, answered or decided; ``rule`` says why."""

    code = "complaint_refused"
    title = "Complaint refused"


class CreditInputRefused(ValidationFailed):
    code = "credit_input_refused"
    title = "Credit input refused"


class MarketImportRefused(ValidationFailed):
    """An import of service items or qualifications with bad rows, refused whole;
    ``extra["errors"]`` names every row, field and rule.
    """

    code = "market_import_refused"
    title = "Marketplace import refused"
