"""Bidding errors: the kernel's domain errors with bidding's names. Each names a field and a rule."""

from __future__ import annotations

from trading.kernel.errors import Conflict, DomainError, PermissionDenied, ValidationFailed


class TenderRuleViolated(ValidationFailed):
    """Publishing (or changing) a tender would break one of its rule set's limits."""

    code = "tender_rule_violated"
    title = "Tender rule violated"


class TenderStateConflict(Conflict):
    """The tender is not in a state that allows this (a draft cannot take bids, a closed one cannot change)."""

    code = "tender_state"
    title = "Tender state does not allow this"


class BidRefused(ValidationFailed):
    """A bid package (or its upload) is refused; nothing of it is kept."""

    code = "bid_refused"
    title = "Bid refused"


class DeadlinePassed(Conflict):
    """The bid deadline has passed by the database clock."""

    code = "deadline_passed"
    title = "The bid deadline has passed"


class PackageTooLarge(DomainError):
    status_code = 413
    code = "package_too_large"
    title = "Bid package too large"


class UploadOffsetMismatch(Conflict):
    """A chunk was sent for another offset than the server holds; resume from ``offset``."""

    code = "upload_offset_mismatch"
    title = "Upload offset mismatch"


class SealedUntilDeadline(PermissionDenied):
    """Who bid or downloaded is secret until the deadline (Order 20 Art. 21, 27); the attempt is audited."""

    code = "sealed_until_deadline"
    title = "Sealed until the bid deadline"


class OpeningRefused(ValidationFailed):
    """A step of the opening (decryption, a share, an objection, a confirmation) is refused; the
    refusal is recorded in the ledger before it is answered.
    """

    code = "opening_refused"
    title = "Opening step refused"


class OpeningStateConflict(Conflict):
    """The opening's stage (or its clock) does not allow this now."""

    code = "opening_state"
    title = "The opening's stage does not allow this"


class NotTheHost(PermissionDenied):
    """Only the host (the tender's agency, else the tenderee) runs the opening; the attempt is audited."""

    code = "opening_host_only"
    title = "Only the opening's host may do this"


class NotABidder(PermissionDenied):
    """The caller's organisation has no bid at this opening: it has no seat in the hall (audited)."""

    code = "opening_not_a_bidder"
    title = "Only the opening's bidders may do this"
