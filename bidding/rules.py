"""Rule sets per tender type: the legal minimum periods and limits a tender is checked against.

Every number here is a default (domain-rules §1.2: thresholds are configurable and versioned by
legal edition). ``GGZY_BIDDING_RULES`` overrides single values per tender type; a tender keeps the
rule set it was published under (``Tender.rules``), so a later change of law or configuration never
changes a running tender. Pure: no database, no I/O.

Periods are counted in calendar days, except where a text counts working days (工作日, 87号令
Art. 18: documents available for at least 5 working days): those count on the national working-day
calendar (`trading.kernel.calendar`, holidays and 调休 included) and end at the end of the N-th
working day after the day the period starts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from bidding.models import EvaluationMethod, TenderCategory
from trading.kernel.settings import Settings

MIB: Final = 1024 * 1024

BID_SECURITY_FORMS: Final = frozenset({"cash", "guarantee"})
"""What bid security may be given as: cash (from the basic account) or a guarantee (保函)."""


@dataclass(frozen=True)
class TenderRules:
    """The limits one tender type is checked against at publication and during its life."""

    tender_type: str
    legal_edition: str
    """Which texts (and editions) the defaults come from; stored with every published tender."""
    categories: frozenset[TenderCategory]
    """Tender categories this rule set applies to."""
    document_days_min: int
    """Tender documents are available for at least this many (calendar) days."""
    publication_to_deadline_days_min: int
    """From the documents' first availability to the bid deadline, at least this many days."""
    clarification_days_before_deadline: int
    """A clarification later than this many days before the deadline moves the deadline."""
    bid_security_max_ratio: Decimal
    """Bid security at most this share of the estimate (budget)."""
    min_bidders: int
    """Fewer bids than this: no opening (流标), re-tender."""
    max_package_bytes: int
    """Default (and largest allowed) size of one sealed bid container."""
    decryption_window_minutes_default: int
    decryption_window_minutes_min: int
    evaluation_methods: frozenset[EvaluationMethod]
    non_cash_security_required: bool = False
    """Government procurement must accept non-cash security (GP 实施条例 Art. 33)."""
    document_working_days_min: int = 0
    """Tender documents are available until the end of at least this many working days after their
    issue (0: no working-day rule; 87号令 Art. 18 for government procurement)."""
    document_objection_days_before_deadline: int = 10
    """Objections to the tender documents are filed at least this many days before the deadline
    (实施条例 Art. 22; prequalification documents: 2 days, not modelled: no prequalification here)."""
    document_objection_answer_days: int = 3
    """The tenderee answers an objection to the documents within this many days (实施条例 Art. 22)."""
    opening_sign_in_minutes: int = 15
    """How long the opening's sign-in (签到) runs before decryption starts (platform default)."""
    # --- the opening hall (issue 21 items 3, 7, 8) ---
    opening_objection_minutes: int = 15
    """From 唱标 (the price table's publication) objections are open at least this long; the host
    cannot close the opening sooner (实施条例 Art. 44: raised and answered on the spot).
    """
    opening_confirmation_minutes: int = 30
    """The confirmation stage (确认开标结果) runs at least this long; the host cannot cut it short
    (87号令 Art. 42: absence at its end counts as acceptance, so it must be a real window).
    """
    opening_sign_in_required: bool = True
    """Only a bidder that signed in (签到, signed with its certificate) may decrypt (domain-rules §2.1)."""
    decryption_backup_allowed: bool = True
    """The decryption-failure remedy plan offers the backup channel by default: a backup sealed file
    generated with the original, uploaded within the decryption window (domain-rules §1.4).
    """

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready snapshot (stored in ``Tender.rules``); `from_dict` reads it back."""
        return {
            "tender_type": self.tender_type,
            "legal_edition": self.legal_edition,
            "categories": sorted(category.value for category in self.categories),
            "document_days_min": self.document_days_min,
            "publication_to_deadline_days_min": self.publication_to_deadline_days_min,
            "clarification_days_before_deadline": self.clarification_days_before_deadline,
            "bid_security_max_ratio": str(self.bid_security_max_ratio),
            "min_bidders": self.min_bidders,
            "max_package_bytes": self.max_package_bytes,
            "decryption_window_minutes_default": self.decryption_window_minutes_default,
            "decryption_window_minutes_min": self.decryption_window_minutes_min,
            "evaluation_methods": sorted(method.value for method in self.evaluation_methods),
            "non_cash_security_required": self.non_cash_security_required,
            "document_working_days_min": self.document_working_days_min,
            "document_objection_days_before_deadline": self.document_objection_days_before_deadline,
            "document_objection_answer_days": self.document_objection_answer_days,
            "opening_sign_in_minutes": self.opening_sign_in_minutes,
            "opening_objection_minutes": self.opening_objection_minutes,
            "opening_confirmation_minutes": self.opening_confirmation_minutes,
            "opening_sign_in_required": self.opening_sign_in_required,
            "decryption_backup_allowed": self.decryption_backup_allowed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TenderRules:
        return _apply(cls, data)


_ENGINEERING_METHODS: Final = frozenset(
    {EvaluationMethod.COMPREHENSIVE, EvaluationMethod.LOWEST_EVALUATED_PRICE, EvaluationMethod.REASONABLE_LOW_PRICE}
)
# 87号令 Art. 53: 最低评标价法 and 综合评分法 only; 合理低价法 is an engineering practice.
_PROCUREMENT_METHODS: Final = frozenset({EvaluationMethod.COMPREHENSIVE, EvaluationMethod.LOWEST_EVALUATED_PRICE})

_ENGINEERING_EDITION: Final = "招标投标法(2017修正) 第24条; 招标投标法实施条例(2019修订) 第16、21、26、44条"
_PROCUREMENT_EDITION: Final = (
    "政府采购法(2014修正) 第35条; 政府采购法实施条例 第33条; 财政部令第87号 第18、23、27、41、53条"
)

DEFAULT_RULES: Final[Mapping[str, TenderRules]] = {
    # 依法必须招标的工程建设项目: ≥ 5 days of documents (实施条例 16), ≥ 20 days from the documents'
    # issue to the deadline (招标投标法 24), clarifications ≥ 15 days before the deadline or the
    # deadline moves (实施条例 21), bid security ≤ 2 % of the estimate (实施条例 26), < 3 bids: no
    # opening (实施条例 44).
    "engineering-mandatory": TenderRules(
        tender_type="engineering-mandatory",
        legal_edition=_ENGINEERING_EDITION,
        categories=frozenset({TenderCategory.ENGINEERING}),
        document_days_min=5,
        publication_to_deadline_days_min=20,
        clarification_days_before_deadline=15,
        bid_security_max_ratio=Decimal("0.02"),
        min_bidders=3,
        max_package_bytes=512 * MIB,
        decryption_window_minutes_default=60,
        decryption_window_minutes_min=30,
        evaluation_methods=_ENGINEERING_METHODS,
    ),
    # Engineering tenders not required by law: the 20-day minimum of 招标投标法 24 does not bind
    # them, the rest of the 实施条例 does. 10 days is this platform's default, not a statutory one.
    "engineering": TenderRules(
        tender_type="engineering",
        legal_edition=_ENGINEERING_EDITION,
        categories=frozenset({TenderCategory.ENGINEERING}),
        document_days_min=5,
        publication_to_deadline_days_min=10,
        clarification_days_before_deadline=15,
        bid_security_max_ratio=Decimal("0.02"),
        min_bidders=3,
        max_package_bytes=512 * MIB,
        decryption_window_minutes_default=60,
        decryption_window_minutes_min=30,
        evaluation_methods=_ENGINEERING_METHODS,
    ),
    # Government procurement, 公开招标 of goods and of services: documents ≥ 5 working days
    # (87号令 18, on the working-day calendar), ≥ 20 days from the documents' issue to the deadline (政府采购法
    # 35), clarifications ≥ 15 days before the deadline or it moves (87号令 27), bid security ≤ 2 %
    # of the budget with non-cash forms accepted (GP 实施条例 33, 87号令 23), < 3 bidders: no
    # opening (87号令 41).
    "goods": TenderRules(
        tender_type="goods",
        legal_edition=_PROCUREMENT_EDITION,
        categories=frozenset({TenderCategory.GOODS}),
        document_days_min=5,
        document_working_days_min=5,
        publication_to_deadline_days_min=20,
        clarification_days_before_deadline=15,
        bid_security_max_ratio=Decimal("0.02"),
        min_bidders=3,
        max_package_bytes=256 * MIB,
        decryption_window_minutes_default=60,
        decryption_window_minutes_min=30,
        evaluation_methods=_PROCUREMENT_METHODS,
        non_cash_security_required=True,
    ),
    "services": TenderRules(
        tender_type="services",
        legal_edition=_PROCUREMENT_EDITION,
        categories=frozenset({TenderCategory.SERVICES}),
        document_days_min=5,
        document_working_days_min=5,
        publication_to_deadline_days_min=20,
        clarification_days_before_deadline=15,
        bid_security_max_ratio=Decimal("0.02"),
        min_bidders=3,
        max_package_bytes=256 * MIB,
        decryption_window_minutes_default=60,
        decryption_window_minutes_min=30,
        evaluation_methods=_PROCUREMENT_METHODS,
        non_cash_security_required=True,
    ),
}


GOVERNMENT_PROCUREMENT_TYPES: Final = frozenset({"goods", "services"})
"""The rule sets of government procurement (政府采购法, 87号令): a bidder's credit is asked about
government procurement too on tenders of these types (`bidding.intake.base.credit_activities`)."""


class UnknownTenderType(LookupError):
    """No rule set carries this tender type."""


_BOOLEAN_RULES: Final = frozenset(
    {"non_cash_security_required", "opening_sign_in_required", "decryption_backup_allowed"}
)


def _convert(name: str, value: Any) -> Any:  # noqa: C901 - one branch per field shape
    if name in {"tender_type", "legal_edition"}:
        if not isinstance(value, str) or not value:
            raise ValueError(f"{name} must be a non-empty string")
        return value
    if name == "bid_security_max_ratio":
        try:
            ratio = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValueError(f"{name} must be a decimal number") from exc
        if not Decimal(0) <= ratio <= Decimal(1):
            raise ValueError(f"{name} must lie between 0 and 1")
        return ratio
    if name == "categories":
        return frozenset(TenderCategory(item) for item in value)
    if name == "evaluation_methods":
        return frozenset(EvaluationMethod(item) for item in value)
    if name in _BOOLEAN_RULES:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer")
    return value


_FIELDS: Final = frozenset(field.name for field in dataclasses.fields(TenderRules))


def _apply(base: TenderRules | type[TenderRules], values: Mapping[str, Any]) -> TenderRules:
    unknown = set(values) - _FIELDS
    if unknown:
        raise ValueError(f"unknown tender rule(s): {', '.join(sorted(unknown))}")
    converted = {name: _convert(name, value) for name, value in values.items()}
    if isinstance(base, TenderRules):
        return dataclasses.replace(base, **converted)
    return base(**converted)


def rules_for(tender_type: str, settings: Settings) -> TenderRules:
    """The rule set for ``tender_type`` with ``settings.bidding.rules[tender_type]`` applied.

    Raises `UnknownTenderType` for a type with no rule set, `ValueError` for an override naming an
    unknown rule or carrying a value of the wrong shape (configuration errors: fail at start-up
    through `check_overrides`).
    """
    base = DEFAULT_RULES.get(tender_type)
    if base is None:
        raise UnknownTenderType(tender_type)
    overrides = settings.bidding.rules.get(tender_type, {})
    rules = _apply(base, overrides) if overrides else base
    if rules.decryption_window_minutes_default < rules.decryption_window_minutes_min:
        raise ValueError(f"{tender_type}: the default decryption window is shorter than its minimum")
    for name in ("opening_sign_in_minutes", "opening_confirmation_minutes"):
        if getattr(rules, name) < 1:
            raise ValueError(f"{tender_type}: {name} must be at least 1 minute")
    return rules


def check_overrides(settings: Settings) -> None:
    """Fail fast (``ValueError`` naming ``GGZY_BIDDING_RULES`` and the tender type) on overrides
    for unknown tender types or rules or with values of the wrong shape. Called when the
    application is built (`trading.server.wiring.check_settings`), so a bad key stops the start
    rather than answering 500 on the next draft.
    """
    for tender_type in settings.bidding.rules:
        try:
            rules_for(tender_type, settings)
        except UnknownTenderType as exc:
            raise ValueError(f"GGZY_BIDDING_RULES names an unknown tender type: {tender_type}") from exc
        except ValueError as exc:
            raise ValueError(f"GGZY_BIDDING_RULES[{tender_type!r}]: {exc}") from exc


def tender_types() -> list[str]:
    return sorted(DEFAULT_RULES)
