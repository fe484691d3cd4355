"""The report's words on its pages: field labels, rule sentences, answer states."""

from __future__ import annotations

from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_

FIELD_LABELS = {
    "pdf": N_("Signed report"),
    "dissent": N_("Dissent in writing"),
    "report": N_("Evaluation report"),
    "state": N_("State of the evaluation"),
    "evaluation": N_("Evaluation"),
}
RULE_MESSAGES = {
    "pdf.required": N_("Choose the signed report (a PDF file) to upload."),
    "one-new-signature": N_("The signed document must carry exactly one new signature: yours."),
    "signer-not-member": N_("The signature is not by a certificate bound to a member of this evaluation committee."),
    "signer-is-uploader": N_("The signature is another member's: each member uploads their own signature."),
    "report-ready": N_("The report is being prepared; sign it once it is ready."),
    "report-signing": N_("The report is signed only while the evaluation is at report signing."),
    "answers-once": N_("You have already signed or refused the report."),
    "committee-member": N_("Only a current member of this evaluation committee may do this."),
    "dissent-length": N_("The dissent is at most 8,000 characters."),
    "results-published": N_("The result is public once every member has answered the report."),
}
LABELS = Labels(fields=FIELD_LABELS, rules=RULE_MESSAGES)

ANSWER_LABELS = {
    "pending": N_("Not yet signed"),
    "signed": N_("Signed the report"),
    "dissent": N_("Refused to sign, with dissent in writing"),
    "agreed": N_("Refused to sign without reasons: counted as agreement"),
}
