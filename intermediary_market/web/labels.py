"""The marketplace pages' label tables: enum and field labels, and the refusal messages.

A refusal is shown next to its field in the page's language: :data:`REFUSAL_MESSAGES` maps each
service rule to a translatable sentence (the service's English text is the fallback for a rule
not listed; in Chinese, a rule's words from `trading.kernel.web.refusals`); the rule's code is an
attribute (``data-rule``), never text.
"""

from __future__ import annotations

from intermediary_market.models import AnnouncementStatus, BlacklistStatus, QualificationStatus
from intermediary_market.selection import FundingType, SelectionMethod
from trading.kernel.bounds import MESSAGES as BOUND_MESSAGES
from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_, gettext
from trading.kernel.web.templating import DISPLAY_TZ

METHOD_LABELS: dict[SelectionMethod, str] = {
    SelectionMethod.DIRECT: N_("Direct selection"),
    SelectionMethod.RANDOM: N_("Random selection (lottery)"),
    SelectionMethod.LOWEST_PRICE: N_("Lowest price"),
    SelectionMethod.REFERENCE_PRICE: N_("Reference price"),
    SelectionMethod.MERIT: N_("Merit (panel review)"),
}
FUNDING_LABELS: dict[FundingType, str] = {
    FundingType.STATE: N_("State-funded"),
    FundingType.SOCIAL: N_("Socially funded"),
}
STATUS_LABELS: dict[AnnouncementStatus, str] = {
    AnnouncementStatus.OPEN: N_("Open for registration"),
    AnnouncementStatus.SELECTED: N_("Selected"),
    AnnouncementStatus.FAILED: N_("Failed"),
}
QUALIFICATION_STATUS_LABELS: dict[QualificationStatus, str] = {
    QualificationStatus.ACTIVE: N_("Valid"),
    QualificationStatus.SUSPENDED: N_("Suspended (expired)"),
    QualificationStatus.REVOKED: N_("Revoked"),
}
BLACKLIST_STATUS_LABELS: dict[BlacklistStatus, str] = {
    BlacklistStatus.NOTICED: N_("Noticed: response period"),
    BlacklistStatus.EFFECTIVE: N_("Listed"),
    BlacklistStatus.WITHDRAWN: N_("Withdrawn"),
    BlacklistStatus.EXPIRED: N_("Expired"),
}
CLOCK_LABELS: dict[str, str] = {
    "running": N_("Running"),
    "warning": N_("Due soon"),
    "overdue": N_("Overdue"),
    "completed": N_("Completed"),
    "completed_late": N_("Completed late"),
}
COMPONENT_LABELS: dict[str, str] = {
    "regulator": N_("Regulator's evaluation (of 70)"),
    "public_credit": N_("Public credit (of 10)"),
    "social": N_("Social evaluation (of 20)"),
    "complaint_deduction": N_("Deduction for upheld complaints"),
    "overdue_deduction": N_("Deduction for overdue deliveries"),
}
FIELD_LABELS: dict[str, str] = {
    "project_name": N_("Project"),
    "item_code": N_("Service item"),
    "method": N_("Selection method"),
    "funding": N_("Funding"),
    "budget": N_("Budget (yuan)"),
    "price_min": N_("Minimum price (yuan)"),
    "price_max": N_("Maximum price (yuan)"),
    "max_level": N_("Lowest accepted qualification level"),
    "time_limit_days": N_("Time limit (days)"),
    "registration_opens": N_("Registration opens"),
    "registration_closes": N_("Registration closes"),
    "direct_organisation_id": N_("Intermediary chosen directly"),
    "price": N_("Price (yuan)"),
    "scores": N_("Panel scores"),
    "contract_no": N_("Contract number"),
    "file": N_("Deliverable file"),
    "sha256": N_("Deliverable file"),
    "quality": N_("Quality"),
    "timeliness": N_("Timeliness"),
    "attitude": N_("Attitude"),
    "fees": N_("Fees"),
    "organisation_id": N_("Intermediary"),
    "announcement_id": N_("Announcement"),
    "reason": N_("Reason"),
    "response_days": N_("Response period (days)"),
    "response": N_("Response"),
    "appeal": N_("Appeal"),
    "months": N_("Listing period (months)"),
    "status": N_("Status"),
    "response_due": N_("Response due"),
    "text": N_("Complaint"),
    "year": N_("Year"),
    "regulator_score": N_("Regulator's evaluation (0–70)"),
    "regulator_source": N_("Source of the evaluation"),
    "public_credit_score": N_("Public-credit result (0–10)"),
    "public_credit_source": N_("Source of the public-credit result"),
    "uphold": N_("Decision"),
    "overturn": N_("Decision"),
    "code": N_("Item code"),
    "name": N_("Item name"),
    "legal_basis": N_("Legal basis"),
    "approval": N_("Approval served"),
    "required_qualification": N_("Required qualification"),
    "fee_basis": N_("Fee basis"),
    "standard_days": N_("Standard time limit (days)"),
    "level": N_("Qualification level (1 = highest)"),
    "certificate_no": N_("Certificate number"),
    "valid_until": N_("Valid until"),
}
REFUSAL_MESSAGES: dict[str, str] = {
    # registration
    "organisation": N_("Your account belongs to no organisation."),
    "registration_window_closed": N_("The registration window is not open."),
    "no_qualification": N_("Your organisation holds no qualification for this service item."),
    "qualification_suspended": N_("Your qualification for this item has expired and is suspended until renewed."),
    "qualification_level": N_("The announcement requires a higher qualification level."),
    "blacklisted": N_("Your organisation is on the blacklist and may not register."),
    "credit-serious-violation": N_("Your organisation is listed for a serious violation and may not register."),
    "credit-penalty-bar": N_("An administrative penalty in force bars your organisation from registering."),
    "duplicate_registration": N_("Your organisation has already registered for this selection."),
    "price_outside_limits": N_("The price lies outside the announced limits."),
    # announcements and the draw
    "required": N_("This field is required."),
    "item_exists": N_("There is no such service item."),
    "in_future": N_("The time must lie in the future."),
    "window_order": N_("The registration window must open before it closes."),
    "positive": N_("The amount must be positive."),
    "price_limits": N_("Price competition needs limits with 0 ≤ minimum ≤ maximum ≤ budget."),
    "direct_allowed": N_("Direct selection is allowed for socially funded projects only."),
    "min": N_("The value is below the minimum."),
    "merit_only": N_("Panel scores belong to an open merit selection."),
    "score_range": N_("The score lies outside its range."),
    "registered": N_("That intermediary has not registered."),
    "already_decided": N_("This has already been decided."),
    "registration_still_open": N_("Registration is still open."),
    "reveal_window_open": N_("Registrants may still reveal their contributions to the draw."),
    "reveal_window": N_("Contributions are revealed after the close, within the reveal window."),
    "contribution_mismatch": N_("This is not the secret whose SHA-256 you registered."),
    "no_contribution": N_("Your organisation committed no contribution to this draw."),
    "contribution_commitment": N_("Enter the SHA-256 of your secret: 64 hexadecimal characters."),
    "time_limit_positive": N_("The time limit is at least one day."),
    "time_limit_within_standard": N_("The time limit may not exceed the service item's standard time limit."),
    # ratings
    "rating_window": N_("Ratings are accepted within 180 days of the result of a decided selection."),
    "rating_range": N_("Each score lies between 0 and 100."),
    "duplicate_rating": N_("This service has already been rated."),
    "rating_needs_completion": N_(
        "Rate after the contract is filed, the results are uploaded and the completion is confirmed."
    ),
    # delivery
    "not_selected": N_("Only a decided selection has a contract."),
    "duplicate_filing": N_("The contract has already been filed."),
    "filing_window": N_("Contracts are filed within 180 days of the result."),
    "contract_filed": N_("No contract has been filed yet."),
    "sha256": N_("The deliverable could not be identified."),
    "completed": N_("The service has already been completed."),
    "deliverable_missing": N_("No deliverable has been uploaded yet."),
    # blacklisting
    "response_period_over": N_("The response period is over."),
    "response_period_running": N_("The response period is still running and there is no response yet."),
    "appeal_effective_only": N_("Only an effective listing can be appealed."),
    "duplicate_appeal": N_("This decision has already been appealed."),
    "appeal_window": N_("Appeals are accepted within 15 days of the decision."),
    "appeal_pending": N_("There is no pending appeal."),
    # complaints and credit inputs
    "complaint_not_owner": N_("Only the announcement's owner may complain about its intermediary."),
    "year_range": N_("The year must be a past or the current year."),
    "intermediary_exists": N_("There is no such intermediary."),
    # the centre's item list and qualifications
    "legal_basis_required": N_("The item needs its legal basis: the provision that requires the service."),
    "max": N_("The value is above the maximum."),
    "exists": N_("There is no such record."),
    "already_revoked": N_("The qualification is already revoked."),
}
COMPUTATION_LABELS: dict[str, str] = {
    "draw_seed": N_("Draw seed"),
    "purpose": N_("Purpose of the draw"),
    "winner": N_("Selected intermediary"),
    "bids": N_("Bids received"),
    "registrant": N_("Registrant"),
    "price": N_("Price (yuan)"),
    "lowest": N_("Lowest bid (yuan)"),
    "highest": N_("Highest"),
    "tie_break": N_("Tie broken by draw"),
    "candidates": N_("Candidates"),
    "dropped": N_("Dropped bids"),
    "mean": N_("Mean of the remaining bids (yuan)"),
    "coefficient_percent": N_("Drawn coefficient (%)"),
    "reference_price": N_("Reference price (yuan)"),
    "distances": N_("Distance from the reference price (yuan)"),
    "means": N_("Mean panel score"),
    "single_bid": N_("Single bid"),
    "funding": N_("Funding"),
    "closed_list": N_("Registrant list frozen at the close"),
    "closed_list_sha256": N_("Registrant list (SHA-256)"),
    "contributions": N_("Revealed contributions"),
    "unrevealed": N_("Contributions not revealed"),
    "failure": N_("Failure"),
    "failure_rule": N_("Rule"),
    "organisation_id": N_("Organisation"),
    "contribution_sha256": N_("Contribution commitment (SHA-256)"),
}
"""What each part of a published selection computation is called (`selection.py`, `draw.py`)."""
DRAW_PURPOSES: dict[str, str] = {
    "lottery": N_("Random selection among the registrants"),
    "tie": N_("Between equal results"),
    "drop_lowest": N_("Which equal lowest bid is dropped"),
    "drop_highest": N_("Which equal highest bid is dropped"),
    "coefficient": N_("The reference price's coefficient"),
}
"""The purposes the seeded draw is run for (the ``purpose`` line of its digest)."""

CONTEXT_LABELS = {
    "methods": METHOD_LABELS,
    "fundings": FUNDING_LABELS,
    "statuses": STATUS_LABELS,
    "qualification_statuses": QUALIFICATION_STATUS_LABELS,
    "blacklist_statuses": BLACKLIST_STATUS_LABELS,
    "clock_labels": CLOCK_LABELS,
    "component_labels": COMPONENT_LABELS,
    "labels": FIELD_LABELS,
    "computation_labels": COMPUTATION_LABELS,
    "draw_purposes": DRAW_PURPOSES,
    "display_tz": DISPLAY_TZ,
}

LABELS = Labels(fields=FIELD_LABELS, rules=REFUSAL_MESSAGES)
"""The market's label table for ``field_errors``/``submit``: a malformed number, time or choice is
shown by its sentence alone, every other refusal by its rule's sentence."""


IMPORT_RULES: dict[str, str] = {
    # What a refused row or file of a CSV import means (trading.kernel.tabular and
    # intermediary_market.importing); the service's own rules are worded in REFUSAL_MESSAGES.
    "file.encoding": N_("The file is neither UTF-8 nor GB18030 text: save it as CSV (UTF-8)."),
    "file.format": N_("The file is not a CSV table."),
    "file.empty": N_("The file holds no rows below the header."),
    "file.max_rows": N_("The file has more rows than one import takes (5,000)."),
    "file.columns": N_(
        "The header names an unknown column or one column twice, or a row has more cells than the header."
    ),
    "file.required": N_("Choose a CSV file to import."),
    "required": N_("This cell is required."),
    "max_length": N_("The text in this cell is too long."),
    "format": N_("Enter a whole number."),
    "range": N_("The number lies outside the allowed range."),
    "date": N_("Enter a date such as 2027-12-31."),
    "duplicate": N_("The same record is on an earlier row of the file."),
    "organisation_exists": N_("No organisation on the platform has this credit code."),
    "name_matches": N_("The name is not the one the platform holds for this credit code."),
    "length": N_("A unified social credit code has exactly 18 characters."),
    "charset": N_(
        "The code contains a character that is never used: only digits and capital letters except I, O, Z, S and V."
    ),
    "region": N_("Characters 3 to 8 must be the 6-digit code of the region of registration."),
    "check_char": N_("The last character does not match the others: check the code for a typing mistake."),
}


def import_problem(field: object, rule: object, message: object) -> str:
    """A refused row's (or file's) problem in the reader's language: the import's wording of the
    rule, else the service's, else the input bounds', else the English message.
    """
    for key in (f"{field}.{rule}", str(rule)):
        for table in (IMPORT_RULES, REFUSAL_MESSAGES, BOUND_MESSAGES):
            if key in table:
                return gettext(table[key])
    return gettext(str(message or ""))
