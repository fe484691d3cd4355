"""What the award's pages call its states, events, a complaint's states and the supervisor's acts
(`N_` text, shown translated with ``_()`` in the templates), shared by the publicity and complaint pages.
"""

from __future__ import annotations

from typing import Final

from trading.kernel.web.i18n import N_

COMPLAINT_STATES: Final = {
    "filed": N_("Awaiting acceptance"),
    "accepted": N_("Accepted, to decide"),
    "rejected": N_("Not accepted"),
    "upheld": N_("Upheld"),
    "dismissed": N_("Dismissed"),
    "withdrawn": N_("Withdrawn"),
}
ACTS: Final = {
    "accept": N_("Accept the complaint"),
    "reject": N_("Do not accept the complaint"),
    "suspend": N_("Suspend the tender"),
    "resume": N_("Lift the suspension"),
    "dismiss": N_("Dismiss: the award continues"),
    "uphold_reevaluate": N_("Uphold: back to evaluation, the award void"),
    "uphold_re_tender": N_("Uphold: tender again, the award void"),
}
AWARD_STATES: Final = {
    "report_signed": N_("Evaluation report signed"),
    "publicity_open": N_("Candidates' publicity open"),
    "publicity_closed": N_("Candidates' publicity closed"),
    "awarded": N_("Winner confirmed"),
    "notices_issued": N_("Notices issued"),
    "contract_signed": N_("Contract signed"),
    "closed": N_("Closed"),
    "failed": N_("Tender failed (no winner)"),
    "re_tender": N_("To be tendered again"),
    "voided": N_("Void: back to evaluation"),
    "objection_pending": N_("Objection awaiting an answer"),
    "complaint_accepted": N_("Complaint accepted"),
    "suspended": N_("Suspended by the supervisor"),
}
EVENTS: Final = {
    "open_publicity": N_("Candidates' publicity published"),
    "close_publicity": N_("Candidates' publicity closed"),
    "confirm_award": N_("Winner confirmed"),
    "reassign_award": N_("Winner passed over, next candidate awarded"),
    "issue_notices": N_("Notices issued"),
    "sign_contract": N_("Contract signed"),
    "close": N_("Closed"),
    "fail": N_("Tender failed (no winner)"),
    "re_tender": N_("To be tendered again"),
    "file_objection": N_("Objection to the result filed"),
    "answer_objection": N_("Objection to the result answered"),
    "accept_complaint": N_("Complaint accepted by the supervisor"),
    "decide_complaint_continue": N_("Complaint dismissed, the award continues"),
    "uphold_complaint_reevaluate": N_("Complaint upheld: back to evaluation"),
    "uphold_complaint_re_tender": N_("Complaint upheld: to be tendered again"),
    "suspend": N_("Tender suspended by the supervisor"),
    "resume": N_("Supervisor's suspension lifted"),
}
"""What pages call the award's states, events, acts and a complaint's states (`N_`, shown translated)."""
LABELS: Final = {"complaint_states": COMPLAINT_STATES, "acts": ACTS, "award_states": AWARD_STATES, "events": EVENTS}
