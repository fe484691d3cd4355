"""The committee pages' words: field labels, rule sentences, statuses and avoidance reasons."""

from __future__ import annotations

from bidding.evaluation.draw.avoidance import Avoidance
from bidding.evaluation.methods.common import MethodCode
from bidding.evaluation.models import DraftingRoleKind, MemberKind, MemberStatus, SessionState
from trading.kernel.web.forms import Labels
from trading.kernel.web.i18n import N_

METHOD_LABELS = {
    MethodCode.GP_COMPREHENSIVE.value: N_("Comprehensive scoring (government procurement)"),
    MethodCode.GP_LOWEST_PRICE.value: N_("Lowest evaluated price (government procurement)"),
    MethodCode.ENG_COMPREHENSIVE.value: N_("Comprehensive evaluation (engineering)"),
    MethodCode.ENG_LOWEST_PRICE.value: N_("Reviewed lowest bid price (engineering)"),
    MethodCode.SEPARATION.value: N_("Evaluation separated from award (engineering)"),
}
MEMBER_STATUS_LABELS = {
    MemberStatus.NOTIFIED.value: N_("Asked to confirm"),
    MemberStatus.CONFIRMED.value: N_("Confirmed attendance"),
    MemberStatus.DECLINED.value: N_("Declined the draw"),
    MemberStatus.TIMED_OUT.value: N_("No answer in time"),
    MemberStatus.REPLACED.value: N_("Replaced"),
    MemberStatus.SIGNED_IN.value: N_("Signed in"),
}
MEMBER_KIND_LABELS = {
    MemberKind.EXPERT.value: N_("Drawn expert"),
    MemberKind.REPRESENTATIVE.value: N_("Tenderee's representative"),
}
STATE_LABELS = {
    SessionState.PREPARING.value: N_("Preparing the session"),
    SessionState.SIGNED_IN.value: N_("All members signed in"),
    SessionState.QUALIFICATION.value: N_("Reviewing qualifications"),
    SessionState.DETAILED.value: N_("Detailed review under way"),
    SessionState.SCORING.value: N_("Scoring under way"),
    SessionState.REPORT_SIGNING.value: N_("Signing the evaluation report"),
    SessionState.COMPLETED.value: N_("Evaluation completed"),
}
AVOIDANCE_LABELS = {
    Avoidance.EMPLOYER_TENDEREE.value: N_("Works for the tenderee"),
    Avoidance.EMPLOYER_AGENCY.value: N_("Works for the agency"),
    Avoidance.EMPLOYER_BIDDER.value: N_("Works for a bidder"),
    Avoidance.EMPLOYER_OTHER_PARTY.value: N_("Works for another party of the tender"),
    Avoidance.CONFLICT_TENDEREE.value: N_("Declared a conflict with the tenderee"),
    Avoidance.CONFLICT_AGENCY.value: N_("Declared a conflict with the agency"),
    Avoidance.CONFLICT_BIDDER.value: N_("Declared a conflict with a bidder"),
    Avoidance.CONFLICT_OTHER_PARTY.value: N_("Declared a conflict with another party"),
    Avoidance.DRAFTING_ROLE.value: N_("Helped prepare this tender"),
    Avoidance.SUSPENDED.value: N_("Suspended"),
    Avoidance.REMOVED.value: N_("Removed"),
    Avoidance.UNAVAILABLE.value: N_("Declared unavailable on the evaluation day"),
    Avoidance.FREQUENCY.value: N_("Drawn too often for this tenderee"),
    Avoidance.ALREADY_DRAWN.value: N_("Drawn already for this evaluation"),
}
FIELD_LABELS = {
    "method": N_("Evaluation method"),
    "criteria": N_("Criteria and weights"),
    "price_base": N_("Base price method"),
    "candidates": N_("Number of ranked candidates"),
    "size": N_("Committee size"),
    "committee.size": N_("Committee size"),
    "representatives": N_("Tenderee's representatives"),
    "committee.representatives": N_("Tenderee's representatives"),
    "reserves": N_("Reserves per group"),
    "committee.reserves": N_("Reserves per group"),
    "specialties": N_("Experts per specialty"),
    "committee.specialties": N_("Experts per specialty"),
    "main_venue": N_("Main evaluation venue"),
    "sub_venues": N_("Sub evaluation venues"),
    "scheduled_at": N_("Evaluation starts"),
    "username": N_("Representative's account"),
    "reason": N_("Reason"),
    "tender": N_("Tender"),
    "evaluation": N_("Evaluation"),
    "draw": N_("Committee draw"),
    "draw_at": N_("Committee draw"),
    "member": N_("Committee membership"),
    "drafters": N_("Drafters of this tender"),
    "expert": N_("Expert (ID number or name)"),
    "role": N_("Drafting role"),
    "note": N_("Note"),
}
RULE_MESSAGES = {
    "required": N_("This field is required."),
    "committee_size_min": N_("A committee has at least 5 members."),
    "committee_size_odd": N_("A committee has an odd number of members."),
    "committee_size_max": N_("The committee is larger than allowed."),
    "committee_size_gp_large": N_(
        "This procurement needs a committee of at least 7 (budget of 10 million yuan or more, complex or high-impact)."
    ),
    "committee_experts_two_thirds": N_("Experts must be at least two thirds of the committee."),
    "representatives_range": N_("The number of representatives does not fit the committee."),
    "specialties_sum": N_("The experts per specialty add up to the number of experts."),
    "specialty_count_positive": N_("Each specialty needs at least one expert."),
    "reserves_range": N_("The number of reserves is out of range."),
    "sector_of_tender": N_("The settings are for another kind of tender."),
    "venue_known": N_("Choose an active venue of the catalogue."),
    "venue_twice": N_("The main venue cannot also be a sub venue."),
    "scheduled_future": N_("The evaluation starts in the future."),
    "after_bid_deadline": N_("The evaluation starts after the bid deadline."),
    "tender_published": N_("An evaluation is set up once the tender is published."),
    "evaluation_exists": N_("The tender's evaluation exists already."),
    "draw_prepared": N_("The committee draw has been prepared: the setup is fixed."),
    "host": N_("Only the organisation running the tender may do this."),
    "representatives_full": N_("All the representatives the spec names are appointed."),
    "tenderee_person": N_("Name an account of the tenderee that belongs to a person."),
    "representative_twice": N_("This representative is appointed already."),
    "draw_operator": N_("Only the centre's draw operator runs committee draws."),
    "draw_exists": N_("This evaluation's committee draw is prepared already."),
    "draw_not_prepared": N_("Prepare the draw first (commit to the seed)."),
    "draw_run_once": N_("The committee has been drawn already."),
    "draw_not_run": N_("The committee has not been drawn yet."),
    "session_preparing": N_("The session has started."),
    "after_deadline": N_("The committee is drawn after the bid deadline."),
    "before_evaluation": N_("The committee is drawn before the evaluation starts."),
    "draw_working_days_before": N_(
        "The draw is too early: it may be at most the set working days before the evaluation."
    ),
    "own_membership": N_("This is not your membership."),
    "answered_once": N_("This draw has been answered already."),
    "answer_in_time": N_("The time to answer has run out."),
    "max_length": N_("This is too long."),
    "confidential_until_results": N_(
        "The committee's names and scores stay confidential until the results are published; this attempt is recorded."
    ),
    "seed_committed": N_("The draw's seed is committed: the drafters can no longer change."),
    "pool_expert": N_("No expert of the pool matches."),
    "expert_ambiguous": N_("Several experts of the pool bear this name: give the ID number."),
    "drafting_role_kind": N_("Choose a drafting role of the list."),
    "drafter_twice": N_("This expert is declared twice."),
    "max_items": N_("There are too many entries."),
    "supplement_pending": N_("A supplementary draw is prepared already: run it first."),
    "no_open_places": N_("No place of the committee is open."),
    "not_completed": N_("The evaluation is completed."),
    "committee_places_open": N_("Places of the committee are open: a supplementary draw fills them first."),
    "drafters.format": N_("Write one drafter per line: ID number or name | role | note."),
    "criteria.format": N_("Write one criterion per line: code | kind | weight | lowest | highest."),
    "specialties.format": N_("Write one specialty per line: code | number of experts."),
}
LABELS = Labels(fields=FIELD_LABELS, rules=RULE_MESSAGES)
DRAFTING_ROLE_LABELS = {
    DraftingRoleKind.DOCUMENTS.value: N_("Drafted the tender documents"),
    DraftingRoleKind.REQUIREMENT.value: N_("Drafted the requirements"),
    DraftingRoleKind.BILL_OF_QUANTITIES.value: N_("Drafted the bill of quantities"),
    DraftingRoleKind.CONSULTATION.value: N_("Advised on the tender's preparation"),
}
