"""The session's and the venue catalogue's words on their pages: fields, rules, states, events."""

from __future__ import annotations

from bidding.evaluation.models import EventKind, MemberStatus, SessionState, VenueOwner, VenueRole
from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_

STATE_LABELS = {
    SessionState.PREPARING.value: N_("Preparing"),
    SessionState.SIGNED_IN.value: N_("Signed in"),
    SessionState.QUALIFICATION.value: N_("Qualification review"),
    SessionState.DETAILED.value: N_("Detailed review"),
    SessionState.SCORING.value: N_("Scoring"),
    SessionState.REPORT_SIGNING.value: N_("Report signing"),
    SessionState.COMPLETED.value: N_("Completed"),
}
EVENT_LABELS = {
    EventKind.TRANSITION.value: N_("State entered"),
    EventKind.PAUSE.value: N_("Paused"),
    EventKind.RESUME.value: N_("Resumed"),
    EventKind.INCIDENT.value: N_("Incident"),
    EventKind.EXTENSION_REQUEST.value: N_("Asked for more time"),
    EventKind.EXTENSION.value: N_("Time extended"),
    EventKind.REPLACEMENT.value: N_("Member replaced"),
    EventKind.TIME_EXCEEDED.value: N_("Time limit exceeded"),
}
MEMBER_STATUS_LABELS = {
    MemberStatus.NOTIFIED.value: N_("Notified"),
    MemberStatus.CONFIRMED.value: N_("Confirmed"),
    MemberStatus.DECLINED.value: N_("Declined"),
    MemberStatus.TIMED_OUT.value: N_("Did not answer in time"),
    MemberStatus.REPLACED.value: N_("Replaced"),
    MemberStatus.SIGNED_IN.value: N_("Signed in at the seat"),
}
OWNER_LABELS = {VenueOwner.OWN.value: N_("The centre's own"), VenueOwner.PEER.value: N_("A peer platform's")}
ROLE_LABELS = {VenueRole.MAIN.value: N_("Main venue"), VenueRole.SUB.value: N_("Sub venue")}

FIELDS = {
    "code": N_("Venue code"),
    "name": N_("Venue name"),
    "region_code": N_("Region code"),
    "owner": N_("Owner"),
    "platform": N_("Platform"),
    "address": N_("Address"),
    "certificate_pem": N_("Venue signing certificate (PEM)"),
    "label": N_("Seat label"),
    "seat": N_("Seat"),
    "member": N_("Member"),
    "candidate": N_("Candidate"),
    "note": N_("Note"),
    "reason": N_("Reason"),
    "signature": N_("Signature"),
    "state": N_("Session state"),
    "chair": N_("Chair"),
    "members": N_("Committee"),
    "report": N_("Evaluation report"),
    "actor": N_("Account"),
}
RULES = {
    "forward_only": N_("The session only moves forward."),
    "forward_one_step": N_("The session moves to the next state only; no state is skipped."),
    "not_paused": N_("The session is paused: resume it first."),
    "paused": N_("The session is not paused."),
    "chair_drives": N_("Only the committee's chair moves the session on."),
    "committee_seated": N_("The committee has no current member."),
    "all_signed_in": N_("Every current member must sign in at their seat first."),
    "chair_elected": N_("The committee has not elected its chair yet."),
    "result_finaliser": N_("The platform cannot compute the evaluation result yet."),
    "all_signed_report": N_("Every current member must sign the evaluation report first."),
    "host_only": N_("Only the organisation hosting the session does this."),
    "host_or_chair": N_("Only the host or the committee's chair does this."),
    "session_open": N_("The session is completed."),
    "session_running": N_("The session is not running."),
    "current_member": N_("This is not a current member of the committee."),
    "signed_in": N_("The member has signed in at their seat; the seat stays."),
    "evaluation_venue": N_("Choose an active seat of one of this evaluation's venues."),
    "seat_taken": N_("Another member holds this seat."),
    "committee_member": N_("You are not a member of this committee."),
    "seat_assigned": N_("The host has not given you a seat yet."),
    "own_seat": N_("This seat is not yours: sign in at your own seat."),
    "signed_in_once": N_("You have signed in already."),
    "member_certificate": N_("The certificate is not yours: use your own certificate."),
    "signed_in_first": N_("Sign in at your seat first."),
    "chair_elected_once": N_("The chair has been elected."),
    "candidate_member": N_("Vote for a current member of the committee."),
    "time_limited": N_("This state has no time limit."),
    "asked_once": N_("You have asked for more time in this round already."),
    "mid_session": N_("Members are replaced while the session runs."),
    "drawn_expert": N_("Only a drawn expert is replaced by a reserve."),
    "draw_result": N_("The committee draw has no published result."),
    "reserves_exhausted": N_("No reserve is left to replace this member."),
    "reserve_in_pool": N_("The reserve is not in the expert pool."),
    "supervisor_only": N_("Only supervisors watch the session live."),
    "session_party": N_("This session is not yours to follow."),
    "peer_platform": N_("A peer's venue names the platform that runs it."),
    "certificate_pem": N_("Paste a certificate in PEM form (-----BEGIN CERTIFICATE-----)."),
    "choice": N_("Choose one of the options."),
    "unique": N_("This is taken already."),
    "active": N_("The seat is inactive already."),
    "exists": N_("It does not exist."),
    "required": N_("This field is required."),
    "max_length": N_("This is too long."),
    "format": N_("The format is not right."),
    "region_code.format": N_("A region code has 6 digits (GB/T 2260)."),
    "region": N_("The code does not start with a province code (GB/T 2260)."),
}
LABELS = Labels(fields=FIELDS, rules=RULES)
