"""Names vulture cannot see being used (``make lint`` runs vulture with this file; see pyproject).

Each entry is a use: a bare name or ``_.attribute``. Add a name only when a framework, a format or
the database reads it; code that nothing calls is deleted instead.
"""

# --- read by a framework -------------------------------------------------------------------------
# SQLAlchemy: dialect and TypeDecorator hooks.
_.isolation_level  # trading/kernel/db/engine.py
impl  # trading/kernel/db/types.py
cache_ok
_.process_bind_param
_.process_result_value
# pyHanko: the signer's async hooks and the trust anchor's authority.
_.async_sign_raw  # certs/sign/pades.py
_.async_request_tsa_response
_._authority  # certs/pathval/validate.py
# Litestar: the OpenAPI plugin hook and the TSA operation's documented body.
_.receive_route  # trading/server/openapi.py
_.request_body  # trading/parties/certificates/api.py
# fontTools' subsetter options.
_.font_number  # trading/kernel/pdf/fonts.py, tests/certs/conftest.py
_.layout_features
_.name_IDs
_.name_languages
_.notdef_outline
_.recalc_bounds
# The standard library's, uvicorn's and pytest-xdist's hooks in tests.
_._split_scope  # tests/conftest.py (the xdist scheduler)
_.do_GET
_.handle_starttag  # tests/bidding/test_seal_form_inert.py (html.parser)
_.handle_endtag
_.log_message
_.should_exit
# Context-manager protocol arguments.
exc_type  # trading/kernel/live.py
tb
exc_info  # bidding/client/transport.py
# Read by name: Settings.secret(getattr), a quoted cast, the model registry's side-effect import.
pii_hash_key  # trading/kernel/settings.py
signing_key
Table  # trading/ledger/repository.py
trading  # trading/server/model_registry.py
probes  # a fixture requested for its effect (tests/trading/server/test_route_guards.py)

# --- data: serialised fields, enum members and columns written for the record -------------------
expiresAt  # bidding/api.py
receiptNo  # bidding/intake.py
toSign  # trading/parties/certificates/web.py: the binding challenge JSON field bind.js reads
GuaranteeForm  # bidding/client/sdk.py (the SDK's public type)
line_name  # tests/trading/kernel/test_input_bounds.py
credit_score  # intermediary_market/schemas.py
owner_name
intermediary_name
days_overdue
from_  # trading/ledger/schemas.py
token_type  # trading/parties/schemas.py
schemaVersion  # trading/parties/certificates/api.py (the trust list document)
listType
schemeOperator
sequenceNumber
issueDate
nextUpdate
distributionPoints
validationPolicy
pointersToOtherLists
entities
SEAL_MAKER  # certs/trustlist/model.py (a service type a list may name)
service_type  # certs/trustlist/registry.py
PERSON  # trading/parties/models.py
uploaded_by  # columns: who and when, kept for the record (bidding, opening, market, parties, ledger)
asked_by
filed_by
answered_by
_.answered_by
submitted_by
last_refusal
_.last_refusal
released_by
released_at
confirmed_by
recorded_by
_.recorded_by
decided_by
_.decided_by
unsealed_at
withheld_at
password_changed_at
_.password_changed_at
operator_certificate_sha256
timestamped_at
message_imprint
_.message_imprint

# --- read by serialisation (msgspec/dataclass fields), templates, the database or a library hook --
_.previous_sha256  # bidding/opening/schemas.py: API fields
_.prices_opened
_.packages_opened
_.decryption_window_open
_.deemed_accepted
_.unread  # trading/notifications/schemas.py
_.party_kind  # trading/parties: column and API field
_.sent_at  # trading/notifications: column
_.loaded_by  # trading/server/workdays: shown by the template
_.handle_DATA  # aiosmtpd handler hook (tests)
_.fallback  # trading/notifications/messages.py: read by the notice template
_.organisation_uscc  # trading/parties/api_mandates.py: API field

# --- certs/agent/server.py: what http.server reads of a request handler and its server ---------
_.server_version
_.sys_version
_.protocol_version
_.close_connection
_.do_OPTIONS
_.do_POST
_.do_PUT
_.do_DELETE
_.do_PATCH
_.daemon_threads
# bidding.evaluation.response: fields of the published formats, read by whoever reads the documents
_.issuer
_.statement
_.version
# The expert pool (bidding/evaluation/pool): columns kept as the record and shown by templates, the
# draw and attendance outcomes later stages write, API fields, openpyxl's cell format.
_.list_version  # bidding/evaluation/pool/models.py
_.retired_at
_.status_reason
_.added_at
_.changed_by
_.evaluation_id
_.rated_by
_.draw_id
_.finished_at
DRAWN
DECLINED
TIMED_OUT
RESERVE
ATTENDED
ABSENT
REPLACED
_.window_ratings  # bidding/evaluation/pool/schemas.py: API fields
_.window_average
_.below_threshold
_.signing_certificates
_.number_format  # trading/kernel/tabular.py: openpyxl
# The evaluation stage (bidding/evaluation): columns written for the record (who and when), fields
# templates read, the award stage's result fields, and the session hooks' protocol.
operator_id  # bidding/evaluation/models.py: CommitteeDraw
voted_at  # ChairVote, ObjectiveVote
_.voted_at
actor_id  # SessionEvent
resolved_by  # Finding
_.resolved_by
revision_storage_key  # ReportSignature: each signed revision, kept
revision_sha256
drawn_by  # bidding/opening/models.py: CoefficientDraw
_.drawn_by
_.my_findings  # bidding/evaluation/scoring/service.py: read by _findings.html
_.my_vote  # bidding/evaluation/session/views.py: read by member.html
_.by_criterion  # bidding/evaluation/results.py: the award stage's result (issue 16 reads it)
_.recommended
__call__  # bidding/evaluation/session/hooks.py: the finaliser protocol
_.free_places  # bidding/evaluation/session/views.py: called by host.html
register_published_pdf  # bidding/award/archive/builder.py: the award stage registers notices, contract (issue 16)
declared_by  # bidding/evaluation/models.py: Drafter, who declared it (the record of the declaration)
_.declared_by

# The award stage (bidding/award/models.py): its whole schema landed first; the columns and tables
# the later parts (objections, complaints, notices, contract, the award) write, kept for the record.
_.suspended_at
_.order_record
_.chosen_bid_id
_.awarded_at
_.opened_by
_.AwardObjection
_.answer_signature
_.answer_signer_sha256
_.acceptance_due
_.accepted_at
_.acceptance_note
_.acceptance_signature
_.decision_due
_.decision_text
_.decision_signature
_.AWARD
_.AwardNotice
_.recipient_organisation_id
_.read_by
_.Contract
_.deadline_state
_.reminders_sent
_.winner_signed_at
_.winner_signer_sha256
_.tenderee_signed_at
_.tenderee_signer_sha256
_.performance_security
_.confirm_statement  # bidding/award/web.py: read by award/publicity_manage.html
_.may_object  # bidding/award/web.py: read by award/objections.html
_.complainant  # bidding/award/complaints.py Queued: read by award/complaints_queue.html
_.may_complain  # bidding/award/web_complaints.py: read by award/complaints.html
_.set_by  # bidding/award/rule_models.py: who published the 定标 rule (kept with the row)
_.needs_order  # bidding/award/web_decisions.py: read by award/decisions_manage.html
_.may_draft  # bidding/award/web_contract.py: read by award/contract.html
_.may_sign  # bidding/award/web_contract.py: read by award/contract.html
_.may_record_security  # bidding/award/web_contract.py: read by award/contract.html
_.may_draft  # bidding/award/web_notices.py: read by award/notices_manage.html
_.signed_by  # bidding/award/models.py NoticeDraft: who signed the notice (kept with the row)
_.validate_created_and_expires  # trading/guarantees/httpsig.py: http-message-signatures' verifier calls it

# trading.guarantees: columns the later flows and pages read (who released, when paid, when attached).
_.requested_by
_.paid_at
_.attached_at
_.DECRYPTION_FAILURE  # trading/guarantees/models.py: claim triggers the claims flow files (§6.1)
_.TENDER_ENDED  # trading/guarantees/models.py: release reason the bidding events send
_.issuing_cert_der  # trading/guarantees/models.py: the verifier's pinned certificate
_.onboarded_by
_.onboarded_at
_.applied_by
_.json_key  # trading/guarantees/models.py: the stored canonical JSON and its CAdES, read by the pages
_.cades_key
_.delivered_at  # trading.guarantees.callbacks: when the guarantor acknowledged the push (read by operators)

# procurement.requirements: the API's camelCase members (msgspec serialises them), the focused
# review level (set from a stored string), the time of the last check (read by the pages' export),
# and the publication gate the project part calls (issue 18 point 5).
_.requiredWhenSurvey
_.ruleVersion
_.surveyRequired
_.focusedReview
_.templateVersion
_.reviewLevel
_.FOCUSED
_.checked_at
_.ensure_publishable
_.EXCERPT  # procurement/libraries/catalogue.py: the shipped excerpt, read by migration 0043 (edition 1)
_.EXCERPT_TITLE
_.registered_at  # procurement/libraries/models.py: when a supplier entered the library (stored, exported later)
_.item_count  # procurement.libraries: an edition's size, shown on the catalogue pages
_.valid_now  # procurement.libraries.schemas.QualificationRead: read by API clients
# procurement.projects: API fields, a column kept for queries by month start, the requirement gate the
# server wires (procurement.requirements, built in parallel), and plan totals the page reads.
_.tender_url
_.expected_start
_.use_requirement_gate
_.intentions_budget
_.projects_budget
_.last_modified_by  # python-docx core_properties, written by tests/bidding/integrity/test_signals.py (issue 19)
_.median_others  # bidding.evaluation.scoring.api.OutlierPrompt: a JSON field of the outlier prompt
_.reviewer_id  # integrity_reviews: who reviewed, kept for the record (bidding/integrity/models.py)
_.account_no  # bidding.evaluation.response.bid.PayerAccount: read through msgspec.to_builtins (issue 19)
_._total_with_summary  # bidding.opening.models.OpeningBid: called by SQLAlchemy (@validates)
