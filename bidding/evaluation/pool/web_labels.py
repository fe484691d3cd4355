"""The expert pool's words on its pages: field labels, rule sentences, statuses and relations."""

from __future__ import annotations

from bidding.evaluation.pool.models import ExpertStatus, RelationType, StatusChangeRule
from trading.kernel.bounds import MESSAGES as BOUND_MESSAGES
from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_, gettext

STATUS_LABELS = {
    ExpertStatus.ACTIVE.value: N_("Active"),
    ExpertStatus.SUSPENDED.value: N_("Suspended"),
    ExpertStatus.REMOVED.value: N_("Removed"),
}
RELATION_LABELS = {
    RelationType.EMPLOYMENT.value: N_("Employment or service within the period"),
    RelationType.DIRECTOR.value: N_("Director or supervisor"),
    RelationType.SHAREHOLDER.value: N_("Shareholder, controller or investor"),
    RelationType.RELATIVE.value: N_("A close relative works there or leads it"),
    RelationType.ADVISER.value: N_("Adviser or consultant to it"),
    RelationType.DISPUTE.value: N_("Lawsuit or arbitration with it"),
    RelationType.OTHER.value: N_("Another relation that may affect a fair evaluation"),
}
CHANGE_RULE_LABELS = {
    StatusChangeRule.MANUAL.value: N_("Centre decision"),
    StatusChangeRule.RATING_AVERAGE.value: N_("Average rating below the threshold"),
    StatusChangeRule.SUSPENSION_ENDED.value: N_("Suspension ran out"),
}
FIELD_LABELS = {
    "name": N_("Name"),
    "id_number": N_("Citizen ID number"),
    "specialties": N_("Specialties"),
    "region_code": N_("Region code"),
    "employer_uscc": N_("Employer's credit code"),
    "employer_name": N_("Employer"),
    "title": N_("Professional title"),
    "fee_standard": N_("Fee standard"),
    "until": N_("Suspended until"),
    "reason": N_("Reason"),
    "status": N_("Status"),
    "organisation_uscc": N_("Organisation's credit code"),
    "organisation_name": N_("Organisation"),
    "relation": N_("Relation"),
    "period_from": N_("From"),
    "period_until": N_("Until"),
    "note": N_("Note"),
    "first_day": N_("First day"),
    "last_day": N_("Last day"),
    "entry_id": N_("Declaration"),
    "tender_code": N_("Tender"),
    "expert_name": N_("Expert's name"),
    "id_suffix": N_("Last four characters of the ID number"),
    "score": N_("Score"),
    "comment": N_("Comment"),
    "specialty": N_("Specialty"),
    "region": N_("Region code"),
    "file": N_("File"),
}
RULE_MESSAGES = {
    "required": N_("This field is required."),
    "max_length": N_("This is too long."),
    "specialty_known": N_("A code is not on the specialty list."),
    "duplicate": N_("This is named twice or declared already."),
    "max_count": N_("At most ten specialties."),
    "format": N_("The format is not right."),
    "region_code.format": N_("A region code has 6 digits (GB/T 2260)."),
    "region.format": N_("A region code has 6 digits (GB/T 2260)."),
    "region": N_("The code does not start with a province code (GB/T 2260)."),
    "length": N_("A unified social credit code has exactly 18 characters."),
    "id_number.length": N_("A citizen ID number has 18 characters."),
    "charset": N_("The code contains a character that is never used in it."),
    "check_char": N_("The last character does not match the others: check the code for a typing mistake."),
    "check_digit": N_("The last character of the ID number does not match the others: check it for a typing mistake."),
    "birth_date": N_("Characters 7 to 14 of the ID number are not a real birth date."),
    "name_matches": N_("The name is not the one the platform holds."),
    "fee_standard_required": N_("An expert shared from another library keeps that library's fee standard: name it."),
    "status": N_("The expert's status does not allow this."),
    "future": N_("The day must be in the future."),
    "period_from.future": N_("Declare a relation once it has begun."),
    "max": N_("A suspension lasts at most ten years."),
    "organisation_required": N_("Name the organisation or give its credit code."),
    "relation": N_("Choose the relation from the list."),
    "period": N_("The period ends before it begins."),
    "past": N_("These days have passed already."),
    "span": N_("One declaration covers at most a year."),
    "year_range": N_("The year is out of range."),
    "withdrawn": N_("The declaration is already withdrawn."),
    "range": N_("The score is a whole number from 0 to 100."),
    "after_evaluation": N_("The tender has had no evaluation yet."),
    "expert_identified": N_("No expert of the pool has this name and these last four characters of the ID number."),
    "expert_ambiguous": N_("Several experts match: ask the centre."),
    "already_rated": N_("This expert is rated for this tender already."),
    "known": N_("Choose an option from the list."),
    "file.format": N_("The file's name ends in .csv or .xlsx."),
    "file.required": N_("Choose a CSV or Excel file to import."),
}
BAD_DAY = N_("Enter a date such as 2027-12-31.")
LABELS = Labels(
    fields=FIELD_LABELS,
    rules=RULE_MESSAGES,
    messages=frozenset({BAD_DAY}),
    quiet_rules=frozenset({"format", "known"}),
)

IMPORT_RULES = {
    "file.encoding": N_("The file is neither UTF-8 nor GB18030 text: save it as CSV (UTF-8) or as an Excel workbook."),
    "file.format": N_("The file is not a CSV table or an Excel workbook (.xlsx)."),
    "file.empty": N_("The file holds no rows below the header."),
    "file.max_rows": N_("The file has more rows than one import takes (5,000)."),
    "file.columns": N_(
        "The header names an unknown column or one column twice, or a row has more cells than the header."
    ),
    "file.required": N_("Choose a CSV or Excel file to import."),
    "required": N_("This cell is required."),
    "max_length": N_("The text in this cell is too long."),
    "duplicate": N_("The same person is on an earlier row of the file."),
}


def import_problem(field: object, rule: object, message: object) -> str:
    """A refused row's problem in the reader's language: the import's wording, else the pool's,
    else the input bounds', else the message as the service wrote it.
    """
    for key in (f"{field}.{rule}", str(rule)):
        for table in (IMPORT_RULES, RULE_MESSAGES, BOUND_MESSAGES):
            if key in table:
                return gettext(table[key])
    return gettext(str(message or ""))
