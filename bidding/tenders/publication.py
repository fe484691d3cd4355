"""Publication and its rule checks: the legal periods (calendar and working days), bid security,
evaluation method, bid settings and key holders, all reported at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509

from bidding import coefficients
from bidding.errors import TenderStateConflict
from bidding.models import (
    DocumentKind,
    EvaluationMethod,
    Lot,
    Tender,
    TenderStatus,
)
from bidding.rules import TenderRules, UnknownTenderType, rules_for
from bidding.tenders import security
from bidding.tenders.base import CRITERIA_TOTAL, RuleErrors, TenderBase
from certs.errors import Refused
from certs.pathval.validate import check_usage
from certs.trustlist.model import Usage
from trading.kernel import calendar as working_calendar
from trading.kernel import calendar_versions, clock
from trading.kernel.auth.identity import Actor
from trading.ledger.service import disclose_chain


class TenderPublication(TenderBase):
    """Publish a draft once every rule of its rule set holds."""

    async def publication_errors(self, tender: Tender, now: datetime) -> tuple[RuleErrors, TenderRules | None]:
        """Every rule of the tender's rule set the draft breaks if published at ``now``."""
        errors = RuleErrors()
        try:
            rules = rules_for(tender.tender_type, self.settings)
        except UnknownTenderType:
            errors.add("tenderType", "known", f"unknown tender type {tender.tender_type!r}")
            return errors, None
        if tender.category not in rules.categories:
            errors.add("category", "category_matches_type", f"{tender.tender_type} does not apply to {tender.category}")
        documents = await self.repo.documents(tender.id, published_only=False)
        if not any(document.kind is DocumentKind.TENDER_DOCUMENT for document in documents):
            errors.add("documents", "signed_tender_document", "a signed tender document is required")
        lots = await self.repo.lots(tender.id)
        if not lots:
            errors.add("lots", "min_one", "a tender has at least one lot")
        self._check_security(tender, lots, rules, errors)
        self._check_evaluation(tender, rules, errors)
        self._check_periods(tender, rules, now, errors)
        await self._check_working_days(tender, rules, now, errors)
        self._check_bid_settings(tender, rules, errors)
        return errors, rules

    @staticmethod
    def _check_security(tender: Tender, lots: Sequence[Lot], rules: TenderRules, errors: RuleErrors) -> None:
        """The estimate, and each lot's bid security (`bidding.tenders.security`, checked at drafting
        too: the rule set or a lot may have changed since): 实施条例 Art. 26 / GP 实施条例 Art. 33
        per lot, because a bid is for a lot and its security is bounded by that lot's estimate.
        """
        if tender.estimate <= 0:
            errors.add("estimate", "positive", "the estimate must be positive")
        security.check_lots(rules, [security.lot_terms(tender, lot) for lot in lots], errors)

    @staticmethod
    def _check_evaluation(tender: Tender, rules: TenderRules, errors: RuleErrors) -> None:
        # The random coefficients the opening hall draws (浮动系数, `bidding.coefficients`).
        for problem in coefficients.problems(tender.evaluation_criteria):
            errors.add(problem.field, problem.rule, problem.message)
        if tender.evaluation_method not in rules.evaluation_methods:
            errors.add("evaluationMethod", "method_allowed", f"{tender.evaluation_method} is not allowed here")
        if tender.evaluation_method is EvaluationMethod.COMPREHENSIVE:
            criteria = tender.evaluation_criteria.get("criteria", [])
            weights = [criterion.get("weight") for criterion in criteria]
            valid = all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in weights)
            if (
                not criteria
                or not valid
                or sum(weights) != CRITERIA_TOTAL
                or not all(str(criterion.get("name", "")).strip() for criterion in criteria)
            ):
                errors.add(
                    "evaluationCriteria",
                    "weights_sum_100",
                    "the comprehensive method needs named criteria with positive weights summing to 100",
                )

    @staticmethod
    def _check_periods(tender: Tender, rules: TenderRules, now: datetime, errors: RuleErrors) -> None:
        deadline, start, until = tender.deadline, tender.documents_from, tender.documents_until
        if deadline is None:
            errors.add("deadline", "required", "the bid deadline is required")
        if start is None:
            errors.add("documentsFrom", "required", "the start of document availability is required")
        if until is None:
            errors.add("documentsUntil", "required", "the end of document availability is required")
        if deadline is None or start is None or until is None:
            return
        # Documents go out at publication at the earliest: periods count from then.
        effective_start = max(start, now)
        if deadline - effective_start < timedelta(days=rules.publication_to_deadline_days_min):
            errors.add(
                "deadline",
                "publication_to_deadline_days",
                f"at least {rules.publication_to_deadline_days_min} days from the documents' issue to the deadline",
            )
        if until < start:
            errors.add("documentsUntil", "after_documents_from", "document availability ends after it starts")
        elif until - effective_start < timedelta(days=rules.document_days_min):
            errors.add(
                "documentsUntil",
                "document_days",
                f"documents are available for at least {rules.document_days_min} days",
            )
        if until > deadline:
            errors.add("documentsUntil", "before_deadline", "document availability ends by the deadline")

    async def _check_working_days(self, tender: Tender, rules: TenderRules, now: datetime, errors: RuleErrors) -> None:
        """87号令 Art. 18: documents until the end of the N-th working day after their issue, on the
        national calendar (holidays and 调休 working days).
        """
        count = rules.document_working_days_min
        start, until = tender.documents_from, tender.documents_until
        if not count or start is None or until is None or until < start:
            return
        calendar = await calendar_versions.load_calendar(self.session)
        try:
            earliest_end = calendar.end_of_working_days(max(start, now), count)
        except working_calendar.CalendarYearMissing as exc:
            errors.add("documentsUntil", "calendar_year_loaded", str(exc))
            return
        if until < earliest_end:
            errors.add(
                "documentsUntil",
                "document_working_days",
                f"documents are available until the end of the {count}th working day after their issue "
                f"({(earliest_end - timedelta(seconds=1)).astimezone(working_calendar.CHINA):%Y-%m-%d} 24:00 "
                "Asia/Shanghai)",
            )

    @staticmethod
    def _check_bid_settings(tender: Tender, rules: TenderRules, errors: RuleErrors) -> None:
        if tender.decryption_window_minutes < rules.decryption_window_minutes_min:
            errors.add(
                "decryptionWindowMinutes",
                "decryption_window_min",
                f"the decryption window is at least {rules.decryption_window_minutes_min} minutes",
            )
        if not 0 < tender.max_package_bytes <= rules.max_package_bytes:
            errors.add(
                "maxPackageBytes", "max_package_bytes", f"a bid package limit between 1 and {rules.max_package_bytes}"
            )
        if tender.bid_validity_days < 1:
            errors.add("bidValidityDays", "positive", "the bid validity is at least one day")
        holders = tender.key_holders.get("holders", [])
        threshold = tender.key_holders.get("threshold")
        if holders and (not isinstance(threshold, int) or not 1 <= threshold <= len(holders)):
            errors.add("keyThreshold", "threshold_range", f"the threshold k must satisfy 1 ≤ k ≤ {len(holders)}")
        for index, holder in enumerate(holders):
            try:
                check_usage(x509.load_pem_x509_certificate(holder["certificate"].encode()), Usage.BID_ENCRYPTION)
            except (ValueError, Refused):
                errors.add("keyHolders", "not_encryption_capable", f"key holder {index + 1} cannot receive a key share")

    async def publish(self, actor: Actor, tender: Tender) -> Tender:
        """Check every rule at once (one 422 naming each field and rule), then publish the tender
        and its documents, keeping the rule set applied; the deadline sweep looks at it then.
        """
        tender = await self._locked(tender)
        self._assert_owner(actor, tender)
        if tender.status is not TenderStatus.DRAFT:
            raise TenderStateConflict("only a draft can be published", field="status", rule="draft_only")
        now = await clock.now(self.session)
        errors, rules = await self.publication_errors(tender, now)
        errors.raise_if_any()
        assert rules is not None  # noqa: S101 - errors raised otherwise
        tender.rules = rules.to_dict()
        tender.status = TenderStatus.PUBLISHED
        tender.published_at = now
        tender.next_check = tender.deadline
        tender.updated_at = now
        await self.repo.publish_documents(tender.id, now)
        await self.session.flush()
        documents = await self.repo.documents(tender.id, published_only=True)
        await disclose_chain(self.session, tender.project_code, now)
        await self._record(
            actor,
            "tender_published",
            tender,
            summary={
                "project_code": tender.project_code,
                "deadline": tender.deadline,
                "tender_type": tender.tender_type,
                "legal_edition": rules.legal_edition,
                "documents": [document.sha256 for document in documents],
            },
            data={"rules": tender.rules, "estimate": tender.estimate, "key_holders": tender.key_holders},
        )
        return tender
