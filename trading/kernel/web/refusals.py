"""The platform's words for its refusals: one sentence per rule code and one title per error code
(``N_()`` text, shown translated), so no page shows a raw code such as ``(required)`` or an
English message in the Chinese locale.

Each domain words its own rules in its label table (:class:`trading.kernel.web.forms.Labels`);
this table words every other rule the code base can name: the input bounds, the ledger, the
certificate refusal reasons (:class:`certs.errors.Reason`, which ``certs`` words only in English
because it has no locale) and whatever a domain refuses with outside its forms. Lookups go
through :func:`rule_sentence` (a domain's table first, then every registered table, then this
one) and :func:`error_title`.

``tests/trading/test_vocabulary.py`` walks every ``DomainError`` subclass, every rule code the
code base names and every ``Reason``, and fails on one without words here or in a domain table,
or without a zh_CN translation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from trading.kernel import bounds
from trading.kernel.web import i18n
from trading.kernel.web.i18n import N_

RULE_TEXT: Final[Mapping[str, str]] = MappingProxyType(
    {
        "active": N_("The account or role is not active."),
        "activity": N_("The credit record's activity is not one the platform knows."),
        "already-opened": N_("This bid has already been opened."),
        "answer_length": N_("The answer is empty or too long."),
        "answer_once": N_("This objection has already been answered."),
        "backup-mismatch": N_("The backup copy does not match the bid that was submitted."),
        "calendar_year_loaded": N_("The working-day calendar for that year has not been loaded yet."),
        "cancellable": N_("This can no longer be cancelled."),
        "canonical_json": N_("The data cannot be recorded in canonical form."),
        "certificate_unreadable": N_("The certificate cannot be read."),
        "charset": N_("The value contains characters that are not allowed."),
        "choice": N_("Choose an option from the list."),
        "columns": N_("The file's columns are not the ones expected."),
        "compression": N_("The bid container uses a compression the platform does not accept."),
        "container": N_("The file is not a valid bid container (a ZIP made by the bid tool)."),
        "content-mismatch": N_("The decrypted content does not match what was sealed."),
        "cursor": N_("The page link is out of date; start again from the first page."),
        "datetime": N_("Enter a date and time."),
        "declared-digest": N_("The file does not match the digest declared for it."),
        "direct_not_registered": N_("The intermediary chosen directly has not registered for this selection."),
        "document_working_days": N_("The documents are not available for enough working days."),
        "empty": N_("The file is empty."),
        "encoding": N_("The file is not UTF-8 text."),
        "entries": N_("The bid container is missing a part or holds an unexpected one."),
        "filename": N_("The file name is not allowed."),
        "future": N_("The date cannot be in the future."),
        "host-signs-once": N_("The host has already signed the opening record."),
        "incremental-update-only": N_("The signed record may only be extended, not changed."),
        "json_object": N_("The value must be a JSON object."),
        "kind": N_("Choose a kind from the list."),
        "malformed": N_("The data is malformed."),
        "max-depth": N_("The data is nested too deeply."),
        "max-size": N_("The file or request is larger than allowed."),
        "max_rows": N_("The file has more rows than allowed."),
        "max_size": N_("The data is larger than allowed."),
        "merit_scores_missing": N_("Every registrant needs the panel's scores."),
        "no-backup-remedy": N_("This tender allows no backup copy for decryption."),
        "no_control": N_("The text must not contain control characters."),
        "no_registrants": N_("No intermediary registered for this selection."),
        "not-a-key-holder": N_("Your account is not one of this tender's key holders."),
        "not-opened": N_("The opening has not started yet."),
        "not-platform-signed": N_("The record has not been signed by the platform yet."),
        "not_encryption_capable": N_("This certificate cannot be used for encryption."),
        "not_negative": N_("The value cannot be negative."),
        "not_nil": N_("The identifier is not valid."),
        "objection_days_before_deadline": N_(
            "Objections to the documents must be filed early enough before the deadline."
        ),
        "owner": N_("Only the record's owner may do this."),
        "participants-only": N_("Only the tender's bidders, host and supervisors may do this."),
        "parts": N_("The bid's parts are not the ones expected."),
        "pdf": N_("The file is not a valid PDF."),
        "pem": N_("The key or certificate is not valid PEM text."),
        "period": N_("The period is not valid: its end is before its start."),
        "platform-signed-first": N_("The platform signs the record first."),
        "price-summary-first": N_("Decrypt the price summary before the rest of the bid."),
        "published": N_("The record has already been published."),
        "question_exists": N_("This question has already been asked."),
        "reference_price_min_bids": N_("The reference-price method needs at least three bids."),
        "released-once": N_("Your key share has already been released."),
        "sealed-until-deadline": N_("This stays sealed until the bid deadline."),
        "sealed_until_deadline": N_("This stays sealed until the bid deadline."),
        "signature-covers-file": N_("The signature does not cover this file."),
        "signer-not-host": N_("The signature is not made with the host's certificate."),
        "signer-not-objector": N_("The signature is not made with the objector's certificate."),
        "size": N_("The file's size is not the one declared."),
        "sort_key": N_("The sort order is not valid."),
        "state_funded_min_registrants": N_("A state-funded selection needs at least three registrants."),
        "tenderee_or_agency": N_("Only the tenderee or its agency may do this."),
        "threshold_range": N_("The key threshold must be between 1 and the number of key holders."),
        "timezone": N_("The time needs a time zone."),
        "truncated": N_("The file is incomplete (cut off)."),
        "two-signatures": N_("The record needs both signatures."),
        "type": N_("The type is not one the platform accepts."),
        "user": N_("This needs a signed-in user."),
        "utf-8": N_("The text is not valid UTF-8."),
        "wrong-key": N_("This key does not open the bid."),
        "zone": N_("The time needs a time zone."),
        "expired": N_("The certificate has expired."),
        "not-yet-valid": N_("The certificate is not yet valid."),
        "revoked": N_("The certificate has been revoked."),
        "revocation-unknown": N_("No fresh revocation status is available, so the certificate is not accepted."),
        "unknown-issuer": N_("The certificate was issued by an unknown CA."),
        "ca-not-recognised": N_("The issuing CA is not recognised by the trust list."),
        "ca-not-recognised-for-usage": N_("The issuing CA is recognised, but not for this usage."),
        "ca-not-recognised-for-region": N_("The issuing CA is recognised, but not for this region."),
        "ca-not-recognised-for-industry": N_("The issuing CA is recognised, but not for this industry."),
        "ca-withdrawn": N_("The issuing CA has been withdrawn from the trust list."),
        "bad-signature": N_("The signature does not verify."),
        "wrong-key-usage": N_("The certificate may not be used for this purpose."),
        "invalid-path": N_("The certificate chain is not valid."),
        "unsupported-algorithm": N_("The algorithm is not supported."),
        "algorithm-not-accepted": N_("The algorithm is not accepted by the validation policy."),
        "identity-unmapped": N_("No organisation or person can be read from the certificate."),
        "challenge-unknown": N_("The login challenge is unknown."),
        "challenge-expired": N_("The login challenge has expired."),
        "challenge-reused": N_("The login challenge has already been used."),
        "challenge-wrong-origin": N_("The login challenge was issued for another site."),
        "credential-invalid": N_("The electronic credential is not valid."),
        "credential-expired": N_("The electronic credential has expired."),
        "tampered-ciphertext": N_("The sealed bid has been altered or the key is wrong."),
        "binding-mismatch": N_("The sealed bid belongs to another tender, lot or bidder."),
        "not-a-recipient": N_("This key cannot open the sealed bid."),
        "not-enough-shares": N_("Not enough key shares to open the sealed bid."),
        "bad-share": N_("A key share is not one of the shares sealed with the bid."),
        "commitment-mismatch": N_("The bid does not match its commitment."),
        "digest-mismatch": N_("The signed data has been altered."),
        "timestamp-invalid": N_("The timestamp is not valid."),
        "timestamp-missing": N_("The timestamp is missing."),
        "trust-list-forged": N_("The trust list is not signed by a pinned operator."),
        "trust-list-expired": N_("The trust list has passed its next-update time."),
        "trust-list-rolled-back": N_("The trust list is older than one already loaded."),
        "trust-list-sequence-reused": N_("The trust list reuses a sequence number with different content."),
        "trust-list-invalid": N_("The trust list document is not valid."),
        "peer-list-not-recognised": N_("The peer trust list is not recognised."),
        "trust-list-missing": N_("No trust list has been loaded, so no certificate is recognised."),
        "party-not-registered": N_("The organisation or person the certificate names has no account here."),
        "party-ambiguous": N_(
            "Several accounts belong to the certificate's organisation; bind the certificate to one of them first."
        ),
        "party-mismatch": N_("The certificate names another organisation or person than this account."),
        "already-bound": N_("The certificate is already bound to an account."),
        "format": N_("The value has the wrong format."),
        "required": N_("This field is required."),
        "shape": N_("The form was sent in a shape this page does not produce: reload the page and send it again."),
        "tenderee": N_("Only a tenderee's user may do this."),
        "adjustment_unknown": N_("The adjustment is not one the tender documents define."),
        "coefficient_unexpected": N_("This base-price method takes no coefficient."),
        "coefficient_unknown": N_("This base-price method takes no such coefficient."),
        "decided_missing": N_("A jointly decided value is missing for a bid."),
        "decided_objective_only": N_("Only objective criteria are decided jointly or by the system."),
        "given_base_f3_only": N_("This base-price method computes its own base price."),
        "gp_no_price_adjustment": N_("The lowest evaluated price method takes no price adjustment."),
        "method_mismatch": N_("The settings are for another evaluation method."),
        "price_base_preset": N_("Choose a base-price method or a price criterion."),
        "price_criterion_count": N_("The evaluation needs exactly one price criterion."),
        "price_positive": N_("A price must be positive."),
        "score_missing": N_("An expert has not scored every bid."),
        "scores_none": N_("No expert has scored yet."),
        "valid_bids_none": N_("A base price needs at least one valid price."),
        "canonical_order": N_("The candidate list must be in canonical order, each expert once."),
        "candidate_format": N_("Each candidate is an expert id and specialty codes, printable text without spaces."),
        "declined_twice": N_("This expert has already declined."),
        "group_count": N_("A draw has between one and the allowed number of groups."),
        "group_key": N_("A group's key has no spaces, commas or colons."),
        "group_key_unique": N_("Each group is named once."),
        "group_size": N_("The group's number of members is outside the allowed range."),
        "not_drawn": N_("This expert was not drawn."),
        "not_seated": N_("This expert holds no seat."),
        "reserves": N_("The number of reserves is outside the allowed range."),
        "reserves_exhausted": N_("The group has no reserve expert left."),
        "seed_commitment": N_("The seed does not match the commitment published before the draw."),
        "shortfall": N_("Not enough eligible experts remain after avoidance."),
        "specialties": N_("Specialty codes have no spaces or commas."),
        "in_pool": N_("Your account is not an expert of the pool."),
        "load": N_("The specialty list could not be loaded."),
        "own_tender": N_("You may rate experts only of an evaluation your organisation ran."),
        # The award stage (bidding.award): its pure core's refusals.
        "award_after_publicity": N_("The winner is confirmed only after the candidates' publicity has closed."),
        "award_draw_seed": N_("The award draw needs the seed committed before it."),
        "award_finished": N_("The award procedure has already ended."),
        "archive_after_close": N_("The tender's archive is published when the tender closes."),
        "award_first": N_("A winner must have been confirmed first."),
        "award_rule": N_("The tender's published award rule does not fit this evaluation result."),
        "award_sector": N_("This step does not apply to this kind of tender."),
        "award_state": N_("The award procedure is not at a stage that allows this."),
        "award_suspended": N_("The supervisor has suspended the tender."),
        "announcement_after_award": N_(
            "The result is announced in government procurement, after the winner is confirmed."
        ),
        "announcement_once": N_("The result announcement is already published."),
        "announcement_signer": N_(
            "The result announcement is signed with the certificate of the purchaser or agency publishing it."
        ),
        "award_voter": N_("Only the award committee's members may vote."),
        "award_voters": N_("The published award rule names no voters."),
        "candidate_dropped": N_("This candidate has given up or been disqualified and cannot be awarded."),
        "candidate_price": N_("A candidate has no price to compare."),
        "candidate_rank": N_("Every ranked candidate needs a rank."),
        "candidates_exhausted": N_("No candidate is left to award."),
        "candidates_unique": N_("Each candidate may appear only once."),
        "close_after_contract": N_("The tender is closed only after the contract has been signed."),
        "complaint_pending": N_("An accepted complaint has not been decided yet."),
        "complaint_state": N_("The complaint is not at a stage that allows this."),
        "contract_after_notice": N_("The contract is signed only after the award notice has been issued."),
        "contract_both_parties": N_("Both the winner and the tenderee must sign the contract."),
        "contract_lots": N_("The contract's lots differ from the awarded lots."),
        "contract_price": N_("The contract price must equal the awarded price exactly."),
        "contract_signer": N_("Only the tenderee and the awarded organisation may sign the contract."),
        "contract_signs_once": N_("This party has already signed the contract."),
        "contract_tenderee": N_("Party A of the contract must be the tenderee."),
        "contract_winner": N_("Party B of the contract must be the awarded organisation."),
        "drop_reason": N_("Choose a reason the law allows for passing over a candidate."),
        "dropped_once": N_("This candidate's withdrawal or disqualification is already recorded."),
        "first_remaining_candidate": N_("The award goes to the first remaining candidate in order."),
        "candidate_revoked": N_("This candidate revoked its bid after the deadline: it cannot be awarded."),
        "no_accepted_complaint": N_("No accepted complaint is waiting for a decision."),
        "no_pending_objection": N_("No objection is waiting for an answer."),
        "not_a_candidate": N_("Only a candidate recommended by the evaluation committee can be awarded."),
        "not_suspended": N_("The tender is not suspended."),
        "notices_after_award": N_("Notices are issued only after the winner has been confirmed."),
        "notices_after_announcement": N_("Publish the result announcement before the notices."),
        "objection_pending": N_("An objection is unanswered; the award is suspended until it is answered."),
        "objection_period": N_("Objections to the result can be filed only within the objection period."),
        "performance_security_ratio": N_(
            "The performance security must be positive and at most the allowed share of the contract price."
        ),
        "publicity_after_report": N_("The candidates' publicity is published once, after the evaluation report."),
        "publicity_open": N_("The candidates' publicity is not open."),
        "award_signer": N_("The award decision is signed with the certificate of the tenderee or agency making it."),
        "publicity_signer": N_("The publicity is signed with the certificate of the tenderee or agency publishing it."),
        "objection_by_bidder": N_("Only a bidder of this tender may object to its result."),
        "objection_length": N_("The grounds of an objection are empty or too long."),
        "objection_signer": N_("The objection is signed with the certificate of the bidder filing it."),
        "answer_signer": N_("The answer is signed with the certificate of the tenderee or agency giving it."),
        "signature_order": N_("A signature cannot be dated before the one it follows."),
        "suspended_once": N_("The tender is already suspended."),
        "tie_unresolved": N_("Candidates are tied and nothing the published rule allows breaks the tie."),
        "vote_for_candidate": N_("Votes may go only to recommended candidates."),
        "vote_tied": N_("The vote is tied at the top; the committee votes again."),
        "votes_complete": N_("Every member of the award committee must vote."),
        "winner_signs_first": N_("The awarded organisation signs the contract first, then the tenderee."),
        # Complaints to the supervisor (bidding.award.complaints).
        "complaint_by_bidder": N_("Only a bidder of this tender may complain about its result."),
        "complaint_after_objection": N_("A complaint follows your own objection to this result."),
        "complaint_after_answer": N_(
            "A complaint can be filed once the objection is answered or its answer is overdue."
        ),
        "complaint_period": N_("The time for a complaint after this objection has passed."),
        "complaint_length": N_("The complaint is empty or too long."),
        "complaint_once": N_("This objection already has a complaint being handled."),
        "complaint_signer": N_("The complaint is signed with the certificate of the bidder filing it."),
        "complaint_supervisor": N_("Only the supervisory department handles complaints."),
        "complaint_act_signer": N_("The act is signed with the certificate of the supervisory department making it."),
        "note_length": N_("The reasons are empty or too long."),
        "decision_length": N_("The decision's reasons are empty or too long."),
        "pdf-signing-unknown": N_("No signature was prepared for you here: sign again."),
        "pdf-signing-reused": N_("This prepared signature was already used: sign again."),
        "pdf-signing-expired": N_("The prepared signature expired: sign again."),
        "pdf-signature-cms": N_("The signature made in the page is missing or not readable."),
        "award_rule_before_deadline": N_(
            "The award rule is published before the bid deadline and not changed after it."
        ),
        "award_rule_kind": N_("Choose an award rule: lowest price, committee vote or a draw."),
        "award_tie_break": N_("Choose a tie break the award rule allows."),
        "award_seed_commitment": N_("A draw publishes the SHA-256 of its seed (64 hexadecimal digits) with the rule."),
        "award_order_fixed": N_("The order of the candidates is already fixed."),
        "award_decision": N_("Choose an award decision: confirm, pass over, failed tender or re-tender."),
        "contract_drafted_once": N_("The contract has already been drafted."),
        "contract_not_drafted": N_("The contract has not been drafted yet."),
        "contract_party": N_("Only the tenderee (or its agency) and the awarded organisation act on the contract."),
        "contract_uploader": N_("Each party uploads the contract signed with its own organisation's certificate."),
        "performance_security_required": N_(
            "The tender requires a performance security: the winner records it before the tenderee signs."
        ),
        "performance_security_amount": N_("The performance security is at least the amount the tender requires."),
        "supervisors_only": N_("Only the supervisory departments and the centre's administrators see this."),
        "performance_security_form": N_(
            "The performance security is a bank guarantee, a guarantee insurance, a guarantor's letter or cash."
        ),
        "notice_recipient": N_("The winner has no organisation on the platform to receive the notice."),
        "notice_signer": N_("A notice is signed with a certificate bound to a user of the issuing tenderee or agency."),
        "draft_void": N_("The notice draft names a winner passed over since; draft the notices again."),
        "notice_signed_once": N_("This notice is signed already."),
        # Electronic guarantees (trading.guarantees.verify.GuaranteeReason).
        "guarantee_signature_invalid": N_(
            "The guarantee's signature does not verify: it was altered or not signed by its issuer."
        ),
        "guarantee_issuer_not_recognised": N_(
            "The guarantee is not signed by an issuer recognised for electronic guarantees."
        ),
        "guarantee_issuer_revoked": N_("The certificate of the guarantee's issuer has been revoked."),
        "guarantee_beneficiary_mismatch": N_("The guarantee's beneficiary is not this tender's tenderee."),
        "guarantee_project_mismatch": N_("The guarantee is for another project."),
        "guarantee_lot_mismatch": N_("The guarantee is for another lot."),
        "guarantee_applicant_mismatch": N_("The guarantee's applicant is not the bidder."),
        "guarantee_amount_insufficient": N_("The guaranteed amount is less than the bid security the tender requires."),
        "guarantee_currency_mismatch": N_("The guarantee is in another currency than the tender requires."),
        "guarantee_validity_short": N_("The guarantee's validity does not cover the bid validity period."),
        "guarantee_kind_mismatch": N_("The guarantee is not of the kind required here."),
        "guarantee_malformed": N_("The guarantee document is malformed, or its PDF does not match it."),
        "request_unsigned": N_("The request carries no signature (Signature-Input and Signature headers)."),
        "request_signature_invalid": N_("The request's signature does not verify."),
        "request_key_unknown": N_("The request is signed with a key the platform does not know."),
        "request_expired": N_("The request's signature was made too long ago or is dated in the future."),
        "request_digest_mismatch": N_("The request body does not match its signed digest."),
        "request_component_missing": N_("The request's signature does not cover a required part."),
        "request_replayed": N_("The request was already received once: a replay is refused."),
        "request_certificate_invalid": N_(
            "The signing certificate may no longer be used (revoked, expired or not recognised)."
        ),
        "idempotency_key_missing": N_("The request needs an Idempotency-Key header."),
        "idempotency_key_format": N_("The Idempotency-Key header must be one value of printable ASCII characters."),
        "idempotency_key_reused": N_("This Idempotency-Key was already used for a different request."),
        "verification_code": N_(
            "The guarantee does not print the verification code the platform gave for this application."
        ),
        "guarantor_kind": N_("A guarantor is a bank, an insurer or a guarantee company."),
        "already_onboarded": N_("This organisation is already an onboarded guarantor."),
        "guarantor_certificate": N_("This is not a certificate (PEM or DER)."),
        "certificate_in_use": N_("Another guarantor already uses this certificate."),
        "callback_url_scheme": N_("The address starts with https:// or http://."),
        "fee_rate": N_("The fee rate is a percentage above 0 and at most 100, with at most 4 decimals."),
        "amount_decimals": N_("Too many decimals: amounts have at most 2."),
        "amount_positive": N_("The amount must be greater than 0."),
        "amount_too_large": N_("The amount is too large."),
        "guarantee_currency": N_("Guarantees on this platform are in Chinese yuan (CNY)."),
        "validity_order": N_("The validity must end after it starts."),
        "uscc_length": N_("The unified social credit code has 18 characters."),
        "product_kind": N_("This product is not the kind of guarantee the security needs."),
        "product_active": N_("The guarantor no longer offers this product."),
        "guarantor_active": N_("The guarantor is suspended."),
        "application_status": N_("The application is not in a state that allows this."),
        "guarantee_status": N_("The guarantee is not in a state that allows this."),
        "signer_not_guarantor": N_("The guarantee is not signed with the guarantor's issuing certificate."),
        "guarantee_no_taken": N_("A guarantee with this number is already on the platform."),
        "guarantee_already_used": N_("The guarantee already secures another bid."),
        "bid_has_guarantee": N_("The bid is already secured by another guarantee."),
        "claimant_beneficiary": N_("Only the beneficiary named on the guarantee may claim."),
        "claim_amount": N_("A claim is at most the guarantee's amount."),
        "claim_after_validity": N_("The guarantee's validity has ended."),
        "claim_status": N_("The claim has already been answered."),
        "release_status": N_("The guarantee has not been released."),
        "not_yet_expired": N_("The guarantee is still valid."),
        "refund_status": N_("The bond is already refunded."),
        "after_cause": N_("The refund cannot be dated before its cause."),
        # The guarantee inside the tender (bidding.guarantees_flow, bidding.award.securities).
        "guarantee_unknown": N_("No guarantee with this number is on the platform."),
        "trigger_not_recorded": N_("The tender's records do not show this claim trigger for the bid."),
        "no_guarantee": N_("The bid is not secured by a guarantee on this platform."),
        # The procurement libraries (procurement.libraries).
        "item_code": N_("The item code is not in the catalogue."),
        "size_figures": N_("This industry's size thresholds need this figure."),
        "parent": N_("The parent is neither in the library nor in the file."),
        "industry": N_("Choose an industry of the size thresholds."),
        "number": N_("Enter a non-negative number."),
        "registered": N_("Register the organisation in the supplier library first."),
        "signals": N_("The bid's device fingerprint is malformed; seal the bid again with the bid tool."),
        # Integrity alerts (bidding.integrity).
        "integrity_rule_exists": N_("There is no such integrity rule."),
        "integrity_rule_changed_meanwhile": N_("Someone saved a newer version of the rule meanwhile: reload it."),
        "integrity_rule_unchanged": N_("The new version would say exactly what the current one says."),
        "integrity_alert_exists": N_("There is no such alert."),
        "integrity_alert_transition": N_("The alert cannot take this step from its present status."),
        "threshold_number": N_("A threshold is a finite number."),
        "threshold_unknown": N_("The rule has no such threshold."),
        "evidence_json": N_("The evidence cannot be stored as JSON."),
        "text_too_long": N_("The text is too long."),
    }
)
ERROR_TITLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "bad_request": N_("Bad request"),
        "already_registered": N_("Already registered"),
        "bid_refused": N_("The bid was refused"),
        "body_too_large": N_("The request is too large"),
        "certificate_already_bound": N_("The certificate is already bound"),
        "certificate_binding_not_found": N_("No such certificate binding"),
        "certificate_not_accepted": N_("The certificate is not accepted"),
        "certificate_refused": N_("The certificate was refused"),
        "complaint_refused": N_("The complaint was refused"),
        "conflict": N_("Conflict"),
        "credit_import_refused": N_("The credit import was refused"),
        "credit_ineligible": N_("Not eligible because of a credit record"),
        "credit_input_refused": N_("The credit input was refused"),
        "credit_record_refused": N_("The credit record was refused"),
        "deadline_passed": N_("The deadline has passed"),
        "input_refused": N_("The input was refused"),
        "ledger_chain_damaged": N_("The ledger chain is damaged"),
        "ledger_checkpoint_file_invalid": N_("The checkpoint file is not valid"),
        "ledger_cursor_invalid": N_("The page link is out of date"),
        "ledger_data_not_canonical": N_("The data cannot be recorded"),
        "ledger_encoding_mismatch": N_("The ledger encoding does not match"),
        "ledger_field_invalid": N_("A ledger field is not valid"),
        "ledger_signing_key_unusable": N_("The ledger signing key cannot be used"),
        "login_failed": N_("Sign-in failed"),
        "malformed_request": N_("The request is malformed"),
        "membership_not_active": N_("The role is not active"),
        "membership_not_found": N_("No such role"),
        "not_authenticated": N_("Authentication required"),
        "not_found": N_("Not found"),
        "opening_host_only": N_("Only the opening's host may do this"),
        "opening_not_a_bidder": N_("Your organisation has no bid at this opening"),
        "opening_refused": N_("The opening refused this"),
        "opening_state": N_("The opening is not at the right stage"),
        "organisation_not_found": N_("No such organisation"),
        "package_too_large": N_("The bid package is too large"),
        "permission_denied": N_("Permission denied"),
        "rating_refused": N_("The rating was refused"),
        "registration_refused": N_("The registration was refused"),
        "sealed_until_deadline": N_("Sealed until the bid deadline"),
        "selection_failed": N_("The selection failed"),
        "signing_key_unavailable": N_("The platform's signing key is unavailable"),
        "tender_rule_violated": N_("A tendering rule is not met"),
        "tender_state": N_("The tender is not at the right stage"),
        "timestamp_service_unavailable": N_("The timestamp service is unavailable"),
        "too_many_login_attempts": N_("Too many sign-in attempts"),
        "too_many_requests": N_("Too many requests"),
        "totp_invalid": N_("The one-time code is wrong"),
        "totp_required": N_("A one-time code is required"),
        "trust_list_not_loaded": N_("No trust list has been loaded"),
        "trust_list_refused": N_("The trust list was refused"),
        "upload_offset_mismatch": N_("The upload is out of step; resume it"),
        "user_not_found": N_("No such user"),
        "validation_failed": N_("Validation failed"),
        "mandate_not_found": N_("No such agency mandate"),
        "mandate_refused": N_("The agency mandate was refused"),
        "market_import_refused": N_("The import was refused"),
        "evaluation_refused": N_("The evaluation refused this"),
        "bill_import_refused": N_("The bill of quantities import was refused"),
        "expert_import_refused": N_("The expert import was refused"),
        "expert_not_found": N_("No such expert"),
        "expert_refused": N_("The expert record was refused"),
        "rating_not_allowed": N_("This rating is not allowed"),
        "scoring_refused": N_("The scoring sheet refused this"),
        "requirement_set_refused": N_("The requirement set was refused"),
        "scoring_forbidden": N_("Not a member of this evaluation"),
        "scoring_state": N_("The evaluation is not in the stage for this"),
        "scoring_not_found": N_("Not found in this evaluation"),
        "award_refused": N_("The award stage refused this"),
        "guarantor_request_refused": N_("The guarantor's request was refused"),
        "idempotency_key_missing": N_("An Idempotency-Key header is required"),
        "idempotency_key_reused": N_("The Idempotency-Key was used for a different request"),
        "guarantee_refused": N_("The guarantee request was refused"),
        "guarantee_state": N_("The guarantee is not in the right state"),
        "guarantee_already_used": N_("The guarantee is already used by another bid"),
        "requirement_refused": N_("The procurement requirement was refused"),
        "requirement_blocked": N_("Blocking findings stop the requirement"),
        "requirement_state": N_("The requirement's state does not allow this"),
        "requirement_not_found": N_("Requirement not found"),
        "requirement_four_eyes": N_("The author cannot review their own requirement"),
        "procurement_library_import_refused": N_("The library import was refused"),
        "procurement_supplier_refused": N_("The supplier is barred by a credit record"),
    }
)
"""``DomainError.code`` → its title in words people read (the class's ``title`` is for the API)."""
REFUSED = N_("The request was refused.")

_DOMAIN_RULES: list[Mapping[str, str]] = []
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ENGLISH_PHRASE = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")


def register_rules(rules: Mapping[str, str]) -> None:
    """Make a domain's rule sentences available wherever its refusals are shown (error pages,
    other domains' forms). Called by every :class:`~trading.kernel.web.forms.Labels` table.
    """
    if rules and all(rules is not known for known in _DOMAIN_RULES):
        _DOMAIN_RULES.append(rules)


def rule_words(rule: str | None, field: str | None = None) -> str | None:
    """The untranslated sentence for ``rule`` (``"field.rule"`` first), from any table; ``None``
    when no table words it.
    """
    if not rule:
        return None
    for key in (f"{field}.{rule}", rule) if field else (rule,):
        for table in (*_DOMAIN_RULES, bounds.MESSAGES, RULE_TEXT):
            if key in table:
                return table[key]
    return None


def rule_sentence(rule: str | None, field: str | None = None) -> str | None:
    """:func:`rule_words`, translated."""
    words = rule_words(rule, field)
    return i18n.gettext(words) if words is not None else None


def rule_or_code(rule: object) -> str:
    """The ``|rule_sentence`` filter: a stored rule code (a failed selection's, an exclusion's) as
    its sentence; a code no table words as it is (the vocabulary test keeps that from happening).
    """
    text = str(rule or "")
    return rule_sentence(text) or text


def error_title(code: str, fallback: str | None = None) -> str:
    """The translated title of the error ``code``; ``fallback`` (or a generic sentence) when the
    code has none.
    """
    words = ERROR_TITLES.get(code)
    if words is not None:
        return i18n.gettext(words)
    return i18n.gettext(fallback) if fallback else i18n.gettext(REFUSED)


def translated(message: str) -> str | None:
    """``message`` in the reader's language when the catalogue has it (or the reader reads
    English, the language services write in); ``None`` when it would show English to a reader
    of another language.
    """
    text = i18n.gettext(message)
    if text != message or i18n.get_locale() == "en" or _in_chinese(message):
        return text
    return None


def readable(text: object) -> str:
    """``text`` (a sentence a service stored) in the reader's language, or ``""`` when it has only
    English and the reader reads Chinese: the ``|readable`` filter, for notes beside a label that
    already says the essential.
    """
    return (translated(str(text)) or "") if text else ""


def _in_chinese(message: str) -> bool:
    """A message a service already wrote in Chinese (names and codes may be in Latin letters, an
    English phrase may not).
    """
    return bool(_CJK.search(message)) and not _ENGLISH_PHRASE.search(message)


def explain(message: str, rule: str | None, field: str | None = None, code: str | None = None) -> str:
    """A refusal in the reader's language: the message if the catalogue translates it, else the
    rule's sentence, else the error's title; in English the message itself (it has the values).
    """
    return translated(message) or rule_sentence(rule, field) or error_title(code or "", None)
