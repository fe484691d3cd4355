"""Bidding's label table: what its fields, statuses and kinds are called and what its rules mean
(``N_()`` text, translated when shown). `BIDDING` feeds the kernel's one error translator
(`trading.kernel.web.forms.field_errors`); `TEMPLATE_LABELS` goes into every bidding page.
"""

from __future__ import annotations

from typing import Final

from bidding.models import (
    BidStatus,
    DocumentKind,
    EvaluationMethod,
    TenderCategory,
    TenderStatus,
    VersionKind,
)
from bidding.opening_stage import Stage
from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_
from trading.kernel.web.templating import DISPLAY_TZ

CATEGORY_LABELS: dict[TenderCategory, str] = {
    TenderCategory.ENGINEERING: N_("Engineering"),
    TenderCategory.GOODS: N_("Goods"),
    TenderCategory.SERVICES: N_("Services"),
}
STATUS_LABELS: dict[TenderStatus, str] = {
    TenderStatus.DRAFT: N_("Draft"),
    TenderStatus.PUBLISHED: N_("Open for bids"),
    TenderStatus.CLOSED: N_("Bidding closed"),
    TenderStatus.OPENING: N_("Opening"),
    TenderStatus.FAILED: N_("Failed (re-tender)"),
    TenderStatus.CANCELLED: N_("Cancelled"),
}
OPENING_STAGE_LABELS: dict[Stage, str] = {
    # Shown after 开标中 while the hall runs; a closed hall replaces 开标中 altogether.
    Stage.SIGN_IN: N_("Sign-in"),
    Stage.DECRYPTION: N_("Decryption"),
    Stage.PRICE_READING: N_("Price reading"),
    Stage.COEFFICIENT_DRAW: N_("Coefficient draw"),
    Stage.CONFIRMATION: N_("Confirmation and objections"),
    Stage.CLOSED: N_("Opening closed"),
}
METHOD_LABELS: dict[EvaluationMethod, str] = {
    EvaluationMethod.COMPREHENSIVE: N_("Comprehensive evaluation"),
    EvaluationMethod.LOWEST_EVALUATED_PRICE: N_("Lowest evaluated price"),
    EvaluationMethod.REASONABLE_LOW_PRICE: N_("Reasonable low price"),
}
DOCUMENT_LABELS: dict[DocumentKind, str] = {
    DocumentKind.TENDER_DOCUMENT: N_("Tender document"),
    DocumentKind.CLARIFICATION: N_("Clarification"),
    DocumentKind.AMENDMENT: N_("Amendment"),
}
BID_STATUS_LABELS: dict[BidStatus, str] = {
    BidStatus.SUBMITTED: N_("Submitted"),
    BidStatus.WITHDRAWN: N_("Withdrawn"),
    BidStatus.REVOKED: N_("Revoked after the deadline"),
}
VERSION_LABELS: dict[VersionKind, str] = {
    VersionKind.SUBMISSION: N_("Submission"),
    VersionKind.WITHDRAWAL: N_("Withdrawal"),
    VersionKind.REVOCATION: N_("Revocation"),
}
TENDER_TYPE_LABELS: dict[str, str] = {
    "engineering-mandatory": N_("Engineering (tendering required by law)"),
    "engineering": N_("Engineering (other)"),
    "goods": N_("Government procurement: goods"),
    "services": N_("Government procurement: services"),
}
SECURITY_FORM_LABELS: dict[str, str] = {"cash": N_("Cash"), "guarantee": N_("Guarantee")}
FIELD_LABELS: dict[str, str] = {
    "projectCode": N_("Project code"),
    "title": N_("Title"),
    "category": N_("Category"),
    "tenderType": N_("Tender type"),
    "tendereeOrganisationId": N_("Tenderee"),
    "estimate": N_("Estimate (yuan)"),
    "lots": N_("Lots"),
    "evaluationMethod": N_("Evaluation method"),
    "evaluationCriteria": N_("Evaluation criteria"),
    "coefficients": N_("Random coefficients"),
    "bidSecurityAmount": N_("Bid security (yuan)"),
    "bidSecurityForms": N_("Bid security forms"),
    "bidSecurityRequired": N_("Every lot requires bid security"),
    "documentsFrom": N_("Documents available from"),
    "documentsUntil": N_("Documents available until"),
    "deadline": N_("Bid deadline"),
    "decryptionWindowMinutes": N_("Decryption window (minutes)"),
    "bidValidityDays": N_("Bid validity (days)"),
    "maxPackageBytes": N_("Maximum package size (bytes)"),
    "keyHolders": N_("Key holders"),
    "keyThreshold": N_("Key threshold"),
    "documents": N_("Documents"),
    "file": N_("File"),
    "signature": N_("Signature (.p7s)"),
    "answers": N_("Answers"),
    "reason": N_("Reason"),
    "text": N_("Question"),
    "status": N_("Status"),
    "code": N_("Tender"),
}
RULE_TEXT: dict[str, str] = {
    # What a rule means, in words the page can translate (services word their messages in English
    # with values filled in; those are shown only when no translation of the rule exists).
    "required": N_("This field is required."),
    "format": N_("The value has the wrong format."),
    "positive": N_("The value must be positive."),
    "known": N_("Choose an option from the list."),
    "unique": N_("Another tender already uses this value."),
    "project_code": N_("1–64 letters, digits, '.', '_' or '-', starting with a letter or digit."),
    "min_one": N_("A tender has at least one lot."),
    "unique_codes": N_("Lot codes must be unique within the tender."),
    "lot_code": N_("A lot code has 1–40 letters, digits, '.', '_' or '-'."),
    "lot_name": N_("Every lot needs a name."),
    "lot_estimate": N_("A lot's estimate cannot be negative."),
    "signed_tender_document": N_("Upload a signed tender document before publishing."),
    "security_amount_over_cap": N_("The bid security is more than 2 percent of the lot's estimate (budget)."),
    "allowed_forms": N_("Bid security is given as cash or a guarantee."),
    "security_amount_required": N_("A lot that requires bid security needs a positive amount."),
    "security_forms_required": N_("A lot that requires bid security must accept at least one form."),
    "gp_security_must_accept_non_cash": N_("Government procurement must accept guarantees, not cash only."),
    "weights_sum_100": N_("The comprehensive method needs named criteria whose weights sum to 100."),
    "coefficients_list": N_("Random coefficients are a list of name, low, high and step."),
    "coefficient_name": N_("Each random coefficient needs a name of 1 to 40 characters."),
    "coefficient_unique": N_("Two random coefficients have the same name."),
    "coefficient_decimal": N_("A random coefficient's low, high and step are decimal numbers."),
    "coefficient_range": N_("A random coefficient's low value is above its high value."),
    "coefficient_step": N_("A random coefficient's step must be positive and divide high minus low."),
    "coefficient_values": N_("A random coefficient may have at most 10001 values."),
    "method_allowed": N_("This evaluation method is not allowed for this tender type."),
    "category_matches_type": N_("The category does not match the tender type."),
    "publication_to_deadline_days": N_("The deadline is too close to the publication of the documents."),
    "document_days": N_("The documents are not available for long enough."),
    "after_documents_from": N_("Document availability must end after it starts."),
    "before_deadline": N_("This must be before the bid deadline."),
    "decryption_window_min": N_("The decryption window is too short."),
    "max_package_bytes": N_("The package is larger than this tender accepts."),
    "later_deadline": N_("The deadline can only move later."),
    "clarification_days_before_deadline": N_("A clarification this late moves the deadline further."),
    "signer-not-tenderee": N_("The document is not signed by the tenderee or its agency."),
    "draft_only": N_("Only a draft can be changed this way."),
    "published_only": N_("The tender is not open."),
    "tender_document_downloaded": N_("Download the tender document before asking a question."),
    "length": N_("The text is empty or too long."),
    "tender-open": N_("The tender is not open for bids."),
    "before-deadline": N_("The bid deadline has passed."),
    "max-package-bytes": N_("The package is larger than this tender accepts."),
    "matches-server-offset": N_("The upload resumed at another offset."),
    "declared-size": N_("More bytes were sent than announced."),
    "incomplete": N_("The upload is incomplete."),
    "matches-upload": N_("The package was sealed for another tender, lot or bidder."),
    "security_form_not_accepted": N_("This lot does not accept the form of bid security the bid names."),
    "binding-mismatch": N_("The package was sealed for another tender, lot, bidder or deadline: seal it again."),
    "digest-mismatch": N_("The package does not match its signed manifest."),
    "not-sealed": N_("The package is not sealed: unencrypted bids are refused."),
    "key-holders": N_("The package is not sealed for this tender's key holders."),
    "signer-not-bidder": N_("The package is not signed by your organisation."),
    "submitted": N_("There is no submitted bid to withdraw."),
    "receiving": N_("This upload is finished; start a new one."),
    "one-writer": N_("The upload is being written by another request."),
    "same-request": N_("This request key was already used for another package or lot."),
    "exists": N_("Not found."),
    "mandated": N_(
        "Your agency holds no mandate in force from this tenderee: the tenderee grants it on its agency mandates page."
    ),
    "tenderee_active": N_("The tenderee's organisation is suspended: its mandate lets no new tender be created."),
    "agency_active": N_("Your agency's organisation is suspended: it cannot create tenders for clients."),
    "bidder": N_("Only a bidder's user submits bids."),
    # trading.credit refusals: the message after the text names each record, its reason and period.
    "credit-blacklisted": N_("Your organisation is on a blacklist in force that bars it from bidding."),
    "credit-serious-violation": N_("Your organisation is listed for a serious violation that bars it from bidding."),
    "credit-penalty-bar": N_("An administrative penalty in force bars your organisation from bidding."),
    # the tender's electronic archive (bidding.award.archive)
    "archive-after-deadline": N_("A tender is archived only after its bid deadline."),
    "archive-unchanged": N_("Nothing was recorded for this tender since its latest archive."),
    # revocation after the deadline (撤销, bidding.intake.revocation)
    "after-deadline": N_("Before the bid deadline a bid is withdrawn, not revoked: use the withdrawal."),
    "within-validity": N_("The bid validity period has ended: the bid binds your organisation no longer."),
    "tender-active": N_("The tender is cancelled or failed: its bids bind nobody."),
    "before-contract": N_("The contract is signed: a bid is revoked only before the contract."),
    "revocable": N_("There is no submitted bid to revoke: it is withdrawn or revoked already."),
}
BAD_LOTS: Final = N_(
    "One lot per line: code | name | estimate, optionally | bid security for that lot"
    " | the forms it accepts (cash, guarantee)."
)
BAD_CRITERIA: Final = N_("One criterion per line: name | weight.")
BAD_COEFFICIENTS: Final = N_("One random coefficient per line: name | low | high | step.")
BIDDING: Final = Labels(
    fields=FIELD_LABELS,
    rules=RULE_TEXT,
    # A malformed lot or criterion line says how to write one, which says more than "format".
    messages=frozenset({BAD_LOTS, BAD_CRITERIA, BAD_COEFFICIENTS}),
)
TEMPLATE_LABELS: Final = {
    "categories": CATEGORY_LABELS,
    "statuses": STATUS_LABELS,
    "opening_stage_labels": OPENING_STAGE_LABELS,
    "methods": METHOD_LABELS,
    "document_kinds": DOCUMENT_LABELS,
    "bid_statuses": BID_STATUS_LABELS,
    "version_kinds": VERSION_LABELS,
    "tender_type_labels": TENDER_TYPE_LABELS,
    "security_forms": SECURITY_FORM_LABELS,
    "labels": FIELD_LABELS,
    "display_tz": DISPLAY_TZ,
}
