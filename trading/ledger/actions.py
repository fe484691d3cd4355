"""What each ledger action is called on pages: one label per action code (``N_()`` text, shown
translated), so the ledger never shows a raw code such as ``parties.login_succeeded``.

Every code passed to :func:`trading.ledger.service.append_entry` has an entry here;
``tests/trading/test_vocabulary.py`` reads the code base for every action it appends (through the
wrappers that build codes such as ``f"parties.{action}"``) and fails on one without a label or
without its Chinese translation. The table is plain strings, so no domain is imported.

The ledger page filters by label: :func:`codes_matching` turns what a reader types (a label in
their language, part of one, or a code) into the action codes it names, and :func:`chain_matching`
does the same for a chain (平台, 项目 <code>, …).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from trading.kernel.web import i18n, refusals
from trading.kernel.web.i18n import N_

ACTION_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "parties.user_created": N_("Account created"),
        "parties.organisation_registered": N_("Organisation registered"),
        "parties.login_succeeded": N_("Sign-in succeeded"),
        "parties.login_failed": N_("Sign-in failed"),
        "parties.logged_out": N_("Signed out"),
        "parties.password_changed": N_("Password changed"),
        "parties.totp_enrolment_started": N_("Two-factor sign-in set-up started"),
        "parties.totp_enabled": N_("Two-factor sign-in enabled"),
        "parties.membership_granted": N_("Role granted"),
        "parties.membership_revoked": N_("Role revoked"),
        "parties.membership_expired": N_("Role expired"),
        "parties.certificate_bound": N_("Certificate bound"),
        "parties.certificate_unbound": N_("Certificate unbound"),
        "parties.certificate_bind_refused": N_("Certificate binding refused"),
        "parties.certificate_login_refused": N_("Certificate sign-in refused"),
        "parties.qr_login_verified": N_("QR-code sign-in verified"),
        "parties.qr_login_refused": N_("QR-code sign-in refused"),
        "parties.trust_list_loaded": N_("Trust list loaded"),
        "parties.trust_list_refused": N_("Trust list refused"),
        "bidding.tender_drafted": N_("Tender drafted"),
        "bidding.tender_updated": N_("Tender updated"),
        "bidding.tender_published": N_("Tender published"),
        "bidding.tender_cancelled": N_("Tender cancelled"),
        "bidding.tender_clarified": N_("Tender clarified"),
        "bidding.tender_closed": N_("Bidding closed"),
        "bidding.tender_failed": N_("Tender failed"),
        "bidding.deadline_extended": N_("Deadline extended"),
        "bidding.document_added": N_("Document added"),
        "bidding.document_downloaded": N_("Tender document downloaded"),
        "bidding.downloads_list_refused": N_("Download list refused"),
        "bidding.question_asked": N_("Question asked"),
        "bidding.document_objection_filed": N_("Objection to the documents filed"),
        "bidding.document_objection_answered": N_("Objection to the documents answered"),
        "bidding.document_objection_overdue": N_("Objection to the documents overdue"),
        "bidding.bid_submitted": N_("Bid submitted"),
        "bidding.bid_replaced": N_("Bid replaced"),
        "bidding.bid_withdrawn": N_("Bid withdrawn"),
        "bidding.bid_revoked": N_("Bid revoked after the deadline"),
        "bidding.bid_refused": N_("Bid refused"),
        "bidding.bids_list_refused": N_("Bid list refused"),
        "bidding.upload_abandoned": N_("Upload abandoned"),
        "bidding.opening_started": N_("Opening started"),
        "bidding.opening_stage_changed": N_("Opening stage changed"),
        "bidding.opening_signed_in": N_("Signed in to the opening"),
        "bidding.opening_paused": N_("Opening paused"),
        "bidding.opening_resumed": N_("Opening resumed"),
        "bidding.opening_part_decrypted": N_("Bid part decrypted"),
        "bidding.opening_share_released": N_("Key share released"),
        "bidding.opening_opened_by_escrow": N_("Bid opened by the key holders"),
        "bidding.opening_bid_outcome": N_("Decryption outcome recorded"),
        "bidding.opening_objection_filed": N_("Objection at the opening filed"),
        "bidding.opening_objection_answered": N_("Objection at the opening answered"),
        "bidding.opening_confirmed": N_("Opening record confirmed"),
        "bidding.opening_incident_recorded": N_("Opening incident recorded"),
        "bidding.opening_close_deferred": N_("Closing of the opening deferred"),
        "bidding.opening_record_host_signed": N_("Opening record signed by the host"),
        "bidding.opening_record_published": N_("Opening record published"),
        "bidding.tender_archived": N_("Tender archive written"),
        "bidding.opening_sign_in_refused": N_("Opening sign-in refused"),
        "bidding.opening_decryption_refused": N_("Decryption refused"),
        "bidding.opening_backup_refused": N_("Backup decryption refused"),
        "bidding.opening_share_refused": N_("Key share refused"),
        "bidding.opening_envelopes_refused": N_("Envelope list refused"),
        "bidding.opening_host_refused": N_("Host action refused"),
        "bidding.opening_objection_refused": N_("Objection at the opening refused"),
        "bidding.opening_confirmation_refused": N_("Confirmation refused"),
        "bidding.opening_record_refused": N_("Opening record action refused"),
        "bidding.opening_coefficients_committed": N_("Coefficient seeds committed"),
        "bidding.opening_coefficient_drawn": N_("Coefficient drawn in public"),
        "credit.record_published": N_("Credit record published"),
        "credit.record_updated": N_("Credit record updated"),
        "credit.record_effective": N_("Credit record in force again"),
        "credit.record_withdrawn": N_("Credit record withdrawn"),
        "credit.record_expired": N_("Credit record expired"),
        "credit.records_imported": N_("Credit records imported"),
        "notifications.email_address_changed": N_("E-mail address changed"),
        "notifications.legal_notice_published": N_("Legal notice sent"),
        "notifications.legal_notice_read": N_("Legal notice read"),
        "kernel.calendar_loaded": N_("Working-day calendar loaded"),
        "intermediary_market.item_published": N_("Service item published"),
        "intermediary_market.qualification_recorded": N_("Qualification recorded"),
        "intermediary_market.qualification_renewed": N_("Qualification renewed"),
        "intermediary_market.qualification_reinstated": N_("Qualification reinstated"),
        "intermediary_market.qualification_suspended": N_("Qualification suspended"),
        "intermediary_market.qualification_revoked": N_("Qualification revoked"),
        "intermediary_market.qualification_expiry_notice": N_("Qualification expiry notice sent"),
        "intermediary_market.announcement_published": N_("Selection announcement published"),
        "intermediary_market.registered": N_("Registered for a selection"),
        "intermediary_market.registration_closed": N_("Registration closed"),
        "intermediary_market.contribution_revealed": N_("Draw contribution revealed"),
        "intermediary_market.panel_scored": N_("Panel scores entered"),
        "intermediary_market.selection_decided": N_("Selection decided"),
        "intermediary_market.contract_filed": N_("Contract filed"),
        "intermediary_market.deliverable_uploaded": N_("Deliverable uploaded"),
        "intermediary_market.delivery_warning": N_("Delivery due soon"),
        "intermediary_market.delivery_overdue": N_("Delivery overdue"),
        "intermediary_market.completion_confirmed": N_("Completion confirmed"),
        "intermediary_market.rated": N_("Service rated"),
        "intermediary_market.complaint_filed": N_("Complaint filed"),
        "intermediary_market.complaint_answered": N_("Complaint answered"),
        "intermediary_market.complaint_decided": N_("Complaint decided"),
        "intermediary_market.blacklist_noticed": N_("Listing on the blacklist notified"),
        "intermediary_market.blacklist_responded": N_("Reply to the blacklist notice"),
        "intermediary_market.blacklist_decided": N_("Blacklist decision"),
        "intermediary_market.blacklist_appealed": N_("Blacklist decision appealed"),
        "intermediary_market.blacklist_appeal_decided": N_("Blacklist appeal decided"),
        "intermediary_market.blacklist_expired": N_("Blacklisting expired"),
        "intermediary_market.credit_input_recorded": N_("Credit input recorded"),
        "intermediary_market.credit_input_replaced": N_("Credit input replaced"),
        "intermediary_market.credit_recomputed": N_("Credit grade recomputed"),
        "parties.mandate_granted": N_("Agency mandate granted"),
        "parties.mandate_revoked": N_("Agency mandate revoked"),
        "intermediary_market.items_imported": N_("Service items imported"),
        "intermediary_market.qualifications_imported": N_("Qualifications imported"),
        "evaluation.clarification_asked": N_("Clarification requested"),
        "evaluation.clarification_answered": N_("Clarification answered (signed)"),
        "evaluation.clarification_overdue": N_("Clarification not answered in time"),
        "evaluation.document_read": N_("Bid document read in the evaluation"),
        "evaluation.finding_acknowledged": N_("Assistance finding acknowledged"),
        "evaluation.finding_raised": N_("Evaluation findings raised"),
        "evaluation.finding_resolved": N_("Art. 64 finding resolved"),
        "evaluation.objective_voted": N_("Objective criterion voted"),
        "evaluation.result_computed": N_("Evaluation result computed"),
        "evaluation.requirements_uploaded": N_("Tender requirement set uploaded"),
        "evaluation.review_decided": N_("Review decision recorded"),
        "evaluation.review_submitted": N_("Review sheet submitted"),
        "evaluation.score_recorded": N_("Score recorded"),
        "evaluation.score_submitted": N_("Scoring sheet submitted"),
        "evaluation.committee_drawn": N_("Evaluation committee drawn"),
        "evaluation.access_refused": N_("Access to the committee refused"),
        "evaluation.state_entered": N_("Evaluation entered a new state"),
        "evaluation.created": N_("Evaluation set up"),
        "evaluation.draw_committed": N_("Committee draw prepared (seed committed)"),
        "evaluation.member_confirmed": N_("Drawn expert confirmed"),
        "evaluation.member_declined": N_("Drawn expert declined"),
        "evaluation.member_timed_out": N_("Drawn expert did not answer in time"),
        "evaluation.representative_appointed": N_("Tenderee's representative appointed"),
        "evaluation.reserve_seated": N_("Reserve expert called"),
        "evaluation.reserves_exhausted": N_("No reserve left to replace an expert"),
        "evaluation.drafters_declared": N_("Drafters of the tender declared"),
        "evaluation.supplementary_draw_committed": N_("Supplementary committee draw prepared (seed committed)"),
        "evaluation.committee_supplemented": N_("Open committee places filled by a supplementary draw"),
        "evaluation.setup_changed": N_("Evaluation setup changed"),
        "evaluation.conflict_declared": N_("Conflict of interest declared"),
        "evaluation.expert_rated": N_("Expert rated"),
        "evaluation.expert_registered": N_("Expert registered"),
        "evaluation.expert_removed": N_("Expert removed from the pool"),
        "evaluation.expert_restored": N_("Expert restored to the pool"),
        "evaluation.expert_senior": N_("Expert marked senior"),
        "evaluation.expert_senior_ended": N_("Expert's senior status ended"),
        "evaluation.expert_suspended": N_("Expert suspended"),
        "evaluation.expert_updated": N_("Expert's record updated"),
        "evaluation.experts_imported": N_("Experts imported"),
        "evaluation.profile_updated": N_("Expert profile updated"),
        "evaluation.specialties_loaded": N_("Specialty list loaded"),
        "evaluation.suspension_proposed": N_("Suspension proposed"),
        "evaluation.unavailability_declared": N_("Unavailability declared"),
        "evaluation.unavailability_withdrawn": N_("Unavailability withdrawn"),
        "evaluation.report_rendered": N_("Evaluation report rendered"),
        "evaluation.report_signed": N_("Evaluation report signed"),
        "evaluation.report_refused": N_("Signing the evaluation report refused"),
        "evaluation.report_signatures_voided": N_("Report signatures voided by a dissent"),
        "evaluation.results_published": N_("Evaluation result published"),
        "award.started": N_("Award procedure started"),
        "award.publicity_opened": N_("Candidates' publicity published"),
        "award.publicity_closed": N_("Candidates' publicity closed"),
        "award.publicity_late": N_("Candidates' publicity not published in time"),
        "award.publicity_due_counted": N_("Publicity deadline counted once the calendar year was loaded"),
        "award.confirmed": N_("Winner confirmed"),
        "award.reassigned": N_("Winner passed over, next candidate awarded"),
        "award.failed": N_("Tender failed (no winner)"),
        "award.objection_filed": N_("Objection to the result filed"),
        "award.objection_answered": N_("Objection to the result answered"),
        "award.objection_late": N_("Objection to the result not answered in time"),
        "award.closed": N_("Award closed, the tender archived"),
        "award.announcement_published": N_("Result announcement published"),
        "award.announcement_late": N_("Result announcement not published in time"),
        "award.complaint_filed": N_("Complaint to the supervisor filed"),
        "award.complaint_accepted": N_("Complaint accepted by the supervisor"),
        "award.complaint_rejected": N_("Complaint not accepted by the supervisor"),
        "award.complaint_decided": N_("Complaint decided by the supervisor"),
        "award.complaint_overdue": N_("Complaint not accepted or decided in time"),
        "award.suspended": N_("Tender suspended by the supervisor"),
        "award.resumed": N_("Supervisor's suspension lifted"),
        "award.rule_published": N_("Award rule published"),
        "award.order_decided": N_("Order of the candidates fixed by the award rule"),
        "award.re_tendered": N_("Re-tender decided"),
        "award.notice_signed": N_("Award notice signed by the tenderee"),
        "award.notice_issued": N_("Award or result notice issued"),
        "award.notices_issued": N_("Award notices issued"),
        "award.notice_read": N_("Award or result notice read by its recipient"),
        "evaluation.chair_elected": N_("Committee chair elected"),
        "evaluation.chair_voted": N_("Vote for the committee chair"),
        "evaluation.extension_requested": N_("More time asked for"),
        "evaluation.incident_recorded": N_("Session incident recorded"),
        "evaluation.member_replaced": N_("Committee member replaced by a reserve"),
        "evaluation.seat_added": N_("Venue seat added"),
        "evaluation.seat_assigned": N_("Seat assigned to a member"),
        "evaluation.seat_deactivated": N_("Venue seat taken out of use"),
        "evaluation.session_paused": N_("Evaluation session paused"),
        "evaluation.session_resumed": N_("Evaluation session resumed"),
        "evaluation.signed_in_at_seat": N_("Member signed in at the seat"),
        "evaluation.demo_seat_marked": N_("Demo data: member marked at the seat without a certificate"),
        "evaluation.time_extended": N_("Session time extended"),
        "evaluation.time_exceeded": N_("Session state's time limit exceeded"),
        "evaluation.venue_created": N_("Evaluation venue added"),
        "evaluation.venue_updated": N_("Evaluation venue changed"),
        "award.contract_drafted": N_("Contract drafted"),
        "award.contract_winner_signed": N_("Contract signed by the winner"),
        "award.contract_signed": N_("Contract signed by both parties and published"),
        "award.performance_security_recorded": N_("Performance security recorded"),
        "award.bid_securities_released": N_("Bid securities to be released"),
        "award.contract_overdue": N_("Contract not signed in time"),
        "guarantees.guarantor_onboarded": N_("Guarantor onboarded"),
        "guarantees.guarantor_suspended": N_("Guarantor suspended"),
        "guarantees.guarantor_reinstated": N_("Guarantor reinstated"),
        "guarantees.product_added": N_("Guarantee product added"),
        "guarantees.applied": N_("Guarantee applied for"),
        "guarantees.application_paid": N_("Guarantee fee paid"),
        "guarantees.application_refused": N_("Guarantee application refused"),
        "guarantees.application_withdrawn": N_("Guarantee application withdrawn"),
        "guarantees.issued": N_("Guarantee issued"),
        "guarantees.verified": N_("Guarantee verified"),
        "guarantees.attached_to_bid": N_("Guarantee attached to a bid"),
        "guarantees.detached_from_bid": N_("Guarantee detached from a bid"),
        "guarantees.claim_filed": N_("Claim on a guarantee filed"),
        "guarantees.claim_paid": N_("Claim on a guarantee paid"),
        "guarantees.claim_rejected": N_("Claim on a guarantee rejected"),
        "guarantees.release_requested": N_("Guarantee released"),
        "guarantees.release_acknowledged": N_("Guarantee release acknowledged by the guarantor"),
        "guarantees.expired": N_("Guarantee expired"),
        "guarantees.cash_bond_refund_recorded": N_("Cash bond refund due"),
        "guarantees.cash_bond_refunded": N_("Cash bond refunded"),
        "procurement.rules_seeded": N_("Shipped negative-list rules stored"),
        "procurement.rule_created": N_("Negative-list rule added"),
        "procurement.rule_version_created": N_("Negative-list rule changed (new version)"),
        "procurement.rule_retired": N_("Negative-list rule retired"),
        "procurement.rule_reinstated": N_("Negative-list rule reinstated"),
        "procurement.requirement_created": N_("Procurement requirement created"),
        "procurement.requirement_saved": N_("Procurement requirement saved"),
        "procurement.requirement_submitted": N_("Procurement requirement submitted for review"),
        "procurement.requirement_approved": N_("Procurement requirement approved in the internal review"),
        "procurement.requirement_returned": N_("Procurement requirement returned in the internal review"),
        "procurement.justification_filed": N_("Justification of a blocking finding filed"),
        "procurement.justification_approved": N_("Justification of a blocking finding approved"),
        "procurement.justification_rejected": N_("Justification of a blocking finding rejected"),
        "procurement.purchasers_imported": N_("Purchasers imported into the library"),
        "procurement.suppliers_imported": N_("Suppliers imported into the library"),
        "procurement.supplier_registered": N_("Supplier registered in the library"),
        "procurement.qualification_added": N_("Supplier qualification added"),
        "procurement.catalogue_loaded": N_("Item catalogue edition loaded"),
        "procurement.intention_published": N_("Procurement intention published"),
        "integrity.rules_seeded": N_("Shipped integrity rules stored"),
        "integrity.rule_version_created": N_("Integrity rule changed (new version)"),
        "integrity.alerts_raised": N_("Integrity alerts raised"),
        "integrity.alert_taken_up": N_("Integrity alert taken up for review"),
        "integrity.alert_dismissed": N_("Integrity alert dismissed"),
        "integrity.alert_confirmed": N_("Integrity alert confirmed"),
        "integrity.simulation_loaded": N_("Simulated market loaded for testing the integrity screens"),
        "procurement.plan_created": N_("Procurement plan created"),
        "procurement.project_created": N_("Procurement project created"),
        "procurement.project_intention_linked": N_("Intention linked to a procurement project"),
        "procurement.project_proceeding": N_("Single-source procurement proceeding after its publicity"),
        "procurement.project_tendered": N_("Procurement project became a tender"),
        "procurement.intention_missing": N_("Procurement project about to start without an intention"),
    }
)
GROUP_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "parties": N_("Accounts and organisations"),
        "bidding": N_("Tenders, bids and openings"),
        "credit": N_("Credit records"),
        "notifications": N_("Notices"),
        "kernel": N_("Platform"),
        "intermediary_market": N_("Intermediary marketplace"),
        "evaluation": N_("Evaluation experts"),
        "award": N_("Award procedure"),
        "guarantees": N_("Electronic guarantees"),
        "procurement": N_("Government procurement"),
        "integrity": N_("Integrity alerts"),
    }
)
SUBJECT_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "bidding.bid": N_("Bid"),
        "bidding.document_objection": N_("Objection to the documents"),
        "bidding.opening": N_("Opening session"),
        "bidding.opening_bid": N_("Bid at the opening"),
        "bidding.opening_objection": N_("Objection at the opening"),
        "bidding.tender": N_("Tender"),
        "bidding.upload": N_("Upload"),
        "evaluation.session": N_("Evaluation session"),
        "evaluation.venue": N_("Evaluation venue"),
        "certificate": N_("Certificate"),
        "credential": N_("Electronic credential"),
        "credit": N_("Credit"),
        "credit_import": N_("Credit import"),
        "credit_input": N_("Credit input"),
        "credit_record": N_("Credit record"),
        "delivery": N_("Service delivery"),
        "notifications.notice": N_("Notice"),
        "parties.user": N_("User"),
        "calendar_year": N_("Calendar year"),
        "announcement": N_("Selection announcement"),
        "appeal": N_("Appeal"),
        "blacklisting": N_("Blacklisting"),
        "complaint": N_("Complaint"),
        "contribution": N_("Draw contribution"),
        "qualification": N_("Qualification"),
        "service_item": N_("Service item"),
        "registration": N_("Registration"),
        "organisation": N_("Organisation"),
        "user": N_("User"),
        "membership": N_("Role"),
        "trust_list": N_("Trust list"),
        "session": N_("Session"),
        "items_import": N_("Service item import"),
        "qualifications_import": N_("Qualification import"),
        "agency_mandate": N_("Agency mandate"),
        "certificate_binding": N_("Certificate binding"),
        "expert": N_("Evaluation expert"),
        "evaluation.evaluation": N_("Evaluation"),
        "award.award": N_("Award procedure"),
        "award.notice": N_("Award or result notice"),
        "evaluation.draw": N_("Committee draw"),
        "evaluation.member": N_("Committee member"),
        "expert_import": N_("Expert import"),
        "specialty_list": N_("Specialty list"),
        "evaluation.clarification": N_("Clarification request"),
        "evaluation_scoring": N_("Evaluation scoring"),
        "guarantees.guarantor": N_("Guarantor"),
        "guarantees.product": N_("Guarantee product"),
        "guarantees.application": N_("Guarantee application"),
        "guarantees.guarantee": N_("Electronic guarantee"),
        "guarantees.cash_bond_refund": N_("Cash bond refund"),
        "procurement.rule": N_("Negative-list rule"),
        "procurement.requirement": N_("Procurement requirement"),
        "procurement.purchasers_import": N_("Purchaser import"),
        "procurement.suppliers_import": N_("Supplier import"),
        "procurement.supplier": N_("Supplier"),
        "procurement.catalogue_edition": N_("Item catalogue edition"),
        "procurement.intention": N_("Procurement intention"),
        "procurement.plan": N_("Procurement plan"),
        "procurement.project": N_("Procurement project"),
        "integrity.alert": N_("Integrity alert"),
        "integrity.rule": N_("Integrity rule"),
        "integrity.simulation": N_("Simulated market"),
    }
)
"""What kind of record an entry changed (``subject_type``)."""
SUMMARY_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "abandoned_uploads": N_("Abandoned uploads"),
        "announcement_id": N_("Announcement"),
        "answer_due": N_("Answer due"),
        "answered": N_("Answered"),
        "bidder": N_("Bidder"),
        "by": N_("By"),
        "certificate_sha256": N_("Certificate (SHA-256)"),
        "code": N_("Code"),
        "created": N_("Created"),
        "credential": N_("Credential"),
        "deadline": N_("Deadline"),
        "deadline_after": N_("New deadline"),
        "deadline_before": N_("Previous deadline"),
        "document_id": N_("Document"),
        "documents": N_("Documents"),
        "email": N_("E-mail"),
        "emails": N_("E-mails"),
        "field": N_("Field"),
        "fields": N_("Fields"),
        "holder": N_("Key holder"),
        "holders": N_("Key holders"),
        "holidays": N_("Holidays"),
        "issuer": N_("Issuer"),
        "k": N_("Threshold"),
        "kind": N_("Kind"),
        "legal_edition": N_("Legal edition"),
        "lot": N_("Lot"),
        "lots": N_("Lots"),
        "method": N_("Method"),
        "minBidders": N_("Minimum bidders"),
        "n": N_("Shares"),
        "name": N_("Name"),
        "notice": N_("Notice"),
        "objection": N_("Objection"),
        "organisation_id": N_("Organisation"),
        "outcome": N_("Outcome"),
        "part": N_("Part"),
        "pausedSeconds": N_("Paused (seconds)"),
        "pdfSha256": N_("PDF (SHA-256)"),
        "peer": N_("Peer platform"),
        "previousSha256": N_("Previous version (SHA-256)"),
        "priceTableSha256": N_("Price table (SHA-256)"),
        "project_code": N_("Project code"),
        "purpose": N_("Purpose"),
        "question_id": N_("Question"),
        "read_at": N_("Read at"),
        "reason": N_("Reason"),
        "receipt": N_("Receipt"),
        "recipient": N_("Recipient"),
        "recomputed": N_("Recomputed"),
        "released": N_("Released"),
        "remainingSeconds": N_("Remaining (seconds)"),
        "revoked_sessions": N_("Sessions ended"),
        "role": N_("Role"),
        "roles": N_("Roles"),
        "rows": N_("Rows"),
        "rule": N_("Rule"),
        "second_factor": N_("Second factor"),
        "sha256": N_("SHA-256"),
        "signatures": N_("Signatures"),
        "signer": N_("Signer"),
        "signer_sha256": N_("Signer certificate (SHA-256)"),
        "source": N_("Source"),
        "stage": N_("Stage"),
        "statementSha256": N_("Statement (SHA-256)"),
        "status": N_("Status"),
        "status_before": N_("Previous status"),
        "template": N_("Template"),
        "tender_type": N_("Tender type"),
        "unanswered": N_("Unanswered"),
        "unchanged": N_("Unchanged"),
        "updated": N_("Updated"),
        "uscc": N_("Unified social credit code"),
        "user_id": N_("User"),
        "username": N_("Username"),
        "version": N_("Version"),
        "via": N_("Via"),
        "workdays": N_("Working days"),
        "year": N_("Year"),
        "item_code": N_("Service item"),
        "level": N_("Level"),
        "seed_sha256": N_("Seed commitment (SHA-256)"),
        "closed_list_sha256": N_("Registrant list (SHA-256)"),
        "months": N_("Months"),
        "tenderee_organisation_id": N_("Tenderee"),
        "agency_organisation_id": N_("Agency"),
        "agency_uscc": N_("Agency's credit code"),
        "ca": N_("Certification authority"),
        "next_update": N_("Next update"),
        "operator": N_("Operator"),
        "party_kind": N_("Party"),
        "person_linked": N_("Linked to a person"),
        "proof": N_("Proof of possession"),
        "sequence": N_("Sequence number"),
        "valid_until": N_("Valid until"),
        "title": N_("Title"),
        "state": N_("State"),
        "findings": N_("Findings"),
    }
)
"""The names of the keys an entry's summary shows."""
SUMMARY_VALUES: Final[Mapping[tuple[str, str], str]] = MappingProxyType(
    {
        ("kind", "web"): N_("Web page"),
        ("kind", "api"): N_("API client"),
        ("kind", "enterprise"): N_("Enterprise"),
        ("kind", "purchaser_unit"): N_("Purchasing unit (government body or public institution)"),
        ("kind", "agency"): N_("Tendering or procurement agency"),
        ("kind", "intermediary"): N_("Intermediary service provider"),
        ("kind", "bank"): N_("Bank"),
        ("kind", "insurer"): N_("Insurance company"),
        ("kind", "guarantee_company"): N_("Guarantee company"),
        ("kind", "supervisory_department"): N_("Supervisory department"),
        ("kind", "trading_centre"): N_("Public resource trading centre"),
        ("method", "password"): N_("Password"),
        ("method", "certificate"): N_("Certificate"),
        ("method", "qr-credential"): N_("QR code with an electronic credential"),
        ("stage", "sign-in"): N_("Sign-in"),
        ("stage", "decryption"): N_("Decryption"),
        ("stage", "price-reading"): N_("Price reading"),
        ("stage", "confirmation"): N_("Confirmation and objections"),
        ("stage", "closed"): N_("Closed"),
        ("outcome", "pending"): N_("Pending"),
        ("outcome", "decrypted"): N_("Decrypted"),
        ("outcome", "escrow-pending"): N_("Waiting for the key holders"),
        ("outcome", "escrow"): N_("Opened by the key holders"),
        ("outcome", "revoked"): N_("Revoked (bidder's fault)"),
        ("outcome", "withdrawn"): N_("Withdrawn (platform-side cause)"),
        ("party_kind", "organisation"): N_("Organisation"),
        ("party_kind", "person"): N_("Person"),
        ("proof", "signed-challenge"): N_("Signed challenge"),
        ("proof", "issued-by-platform"): N_("Issued by the platform"),
        ("tender_type", "engineering-mandatory"): N_("Engineering (tendering required by law)"),
        ("tender_type", "engineering"): N_("Engineering (other)"),
        ("tender_type", "goods"): N_("Government procurement: goods"),
        ("tender_type", "services"): N_("Government procurement: services"),
        ("kind", "tender-document"): N_("Tender document"),
        ("kind", "clarification"): N_("Clarification"),
        ("kind", "amendment"): N_("Amendment"),
    }
)
"""Summary values that are codes of a known vocabulary, in words (other values are data)."""
UNLABELLED = N_("Other action")
YES, NO = N_("Yes"), N_("No")
PLATFORM_CHAIN = N_("Platform")
PROJECT_CHAIN = N_("Project %(code)s")
SEALED_CHAIN = N_("Project %(code)s (sealed until its deadline)")


def action_label(code: str) -> str:
    """The reader's-language label of ``code``; an unknown code (an entry from an older version)
    gets a generic label rather than its raw code.
    """
    label = ACTION_LABELS.get(code)
    return i18n.gettext(label) if label is not None else i18n.gettext(UNLABELLED)


def subject_label(subject_type: str) -> str:
    """The kind of record, in the reader's language (a type without a label is shown as it is)."""
    label = SUBJECT_LABELS.get(subject_type)
    return i18n.gettext(label) if label is not None else subject_type


def summary_label(key: str) -> str:
    label = SUMMARY_LABELS.get(key)
    return i18n.gettext(label) if label is not None else key


def chain_label(chain: str) -> str:
    """A chain as the reader says it: the platform's, or a project's by its 统一交易标识码."""
    kind, _, code = chain.partition(":")
    if kind == "project" and code:
        return i18n.gettext(PROJECT_CHAIN) % {"code": code}
    if kind == "sealed" and code:
        return i18n.gettext(SEALED_CHAIN) % {"code": code}
    return i18n.gettext(PLATFORM_CHAIN) if chain == "platform" else chain


def summary_value(key: str, value: object) -> str:
    """A summary value as the reader reads it: yes/no for a flag, a rule's sentence for ``rule``,
    an action's label for ``action``; other values (names, codes, digests, times) as recorded.
    """
    if value is True or value is False:
        return i18n.gettext(YES if value else NO)
    if value is None:
        return "—"
    if key == "rule" and isinstance(value, str):
        return refusals.rule_sentence(value) or value
    if key == "action" and isinstance(value, str) and value in ACTION_LABELS:
        return action_label(value)
    words = SUMMARY_VALUES.get((key, str(value)))
    return i18n.gettext(words) if words is not None else str(value)


def choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """``(group label, [(code, label), …])`` in the reader's language, for the filter's list."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code in ACTION_LABELS:
        groups.setdefault(code.split(".", 1)[0], []).append((code, action_label(code)))
    return [(i18n.gettext(GROUP_LABELS[prefix]), entries) for prefix, entries in groups.items()]


def codes_matching(text: str) -> tuple[str, ...]:
    """The action codes ``text`` names: an exact code, else every code whose label (in the current
    locale or in English) is ``text`` or contains it. Empty when nothing matches.
    """
    wanted = text.strip()
    if not wanted:
        return ()
    if wanted in ACTION_LABELS:
        return (wanted,)
    folded = wanted.casefold()
    exact = tuple(
        code for code, label in ACTION_LABELS.items() if folded in {i18n.gettext(label).casefold(), label.casefold()}
    )
    if exact:
        return exact
    return tuple(
        code
        for code, label in ACTION_LABELS.items()
        if folded in i18n.gettext(label).casefold() or folded in label.casefold()
    )


_CODE = r"(?P<code>[A-Za-z0-9][A-Za-z0-9._-]{0,63})"


def _label_pattern(template: str) -> re.Pattern[str]:
    """``template`` (a chain label with ``%(code)s``) as a pattern that captures the code."""
    head, _, tail = template.partition("%(code)s")
    return re.compile(rf"\s*{re.escape(head.strip())}\s*{_CODE}\s*{re.escape(tail.strip())}\s*", re.IGNORECASE)


def chain_matching(text: str) -> str:
    """The chain ``text`` names: a chain as recorded (``platform``, ``project:<code>``, …), the
    platform's label, a project's label (项目 <code>, its sealed chain's label too) in the reader's
    language or in English, or a bare project code (its project chain). Anything else is returned
    as typed, so it matches no chain rather than every one.
    """
    wanted = text.strip()
    if wanted == "platform" or wanted.startswith(("project:", "sealed:")):
        return wanted
    if wanted.casefold() in {i18n.gettext(PLATFORM_CHAIN).casefold(), PLATFORM_CHAIN.casefold()}:
        return "platform"
    # The sealed label first: it is the project's label with more after the code.
    for template, prefix in ((SEALED_CHAIN, "sealed:"), (PROJECT_CHAIN, "project:")):
        for worded in (i18n.gettext(template), template):
            found = _label_pattern(worded).fullmatch(wanted)
            if found is not None:
                return prefix + found["code"]
    if re.fullmatch(_CODE, wanted):
        return "project:" + wanted
    return wanted
