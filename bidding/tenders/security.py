"""Bid security per lot (投标保证金 / 投标保函, issue 17 point 2): the terms a tender states for each
lot, the rules they obey at drafting and again at publication, and the public service the
guarantees part reads them through (`required_security`).

A lot's terms are its own values, falling back to the tender's: ``Lot.bid_security_amount``
(None: ``Tender.bid_security_amount``) and ``Lot.bid_security_forms`` (None:
``Tender.bid_security_forms``); ``Lot.bid_security_required`` says whether a bid must give any.
The form ``guarantee`` is a guarantee (保函, the electronic guarantee of `trading.guarantees`) and
``cash`` a transfer from the bidder's basic account: the values the signed bid manifest's
``guarantee.form`` already carries (`bidding.client.format`), so the manifest and the tender speak
one vocabulary.

The security must be valid from the bid deadline until the end of the bid validity period, which
runs from the deadline (实施条例 Art. 25: 投标有效期从提交投标文件的截止之日起算) for
``Tender.bid_validity_days`` days. It is computed, not stored: an extension moves the deadline and so
the required validity with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.models import Lot, Tender, TenderStatus
from bidding.rules import BID_SECURITY_FORMS, TenderRules
from bidding.tenders.base import RuleErrors
from trading.parties.models import Organisation

CURRENCY: Final = "CNY"
"""Tender estimates and securities are in yuan (the platform's one currency)."""
CENT: Final = Decimal("0.01")


@dataclass(frozen=True)
class LotSecurity:
    """One lot's effective terms and where each came from (so a refusal names the field to change:
    the lot's own line, or the tender's default it inherits).
    """

    code: str
    estimate: Decimal
    required: bool
    amount: Decimal
    forms: frozenset[str]
    own_amount: bool
    own_forms: bool

    @property
    def amount_field(self) -> str:
        return "lots" if self.own_amount else "bidSecurityAmount"

    @property
    def forms_field(self) -> str:
        return "lots" if self.own_forms else "bidSecurityForms"


def lot_security(
    code: str,
    estimate: Decimal,
    *,
    required: bool,
    amount: Decimal | None,
    forms: Iterable[str] | None,
    tender_amount: Decimal,
    tender_forms: Iterable[str],
) -> LotSecurity:
    """The effective terms of a lot given its own values (None: the tender's)."""
    return LotSecurity(
        code=code,
        estimate=estimate,
        required=required,
        amount=tender_amount if amount is None else amount,
        forms=frozenset(tender_forms if forms is None else forms),
        own_amount=amount is not None,
        own_forms=forms is not None,
    )


def lot_terms(tender: Tender, lot: Lot) -> LotSecurity:
    """A stored lot's effective terms."""
    own_forms = None if lot.bid_security_forms is None else lot.bid_security_forms.get("forms", [])
    return lot_security(
        lot.code,
        lot.estimate,
        required=lot.bid_security_required,
        amount=lot.bid_security_amount,
        forms=own_forms,
        tender_amount=tender.bid_security_amount,
        tender_forms=tender.bid_security_forms.get("forms", []),
    )


def security_cap(rules: TenderRules, estimate: Decimal) -> Decimal:
    """实施条例 Art. 26 / GP 实施条例 Art. 33: at most ``bid_security_max_ratio`` (2 %) of the estimate
    (budget) of what the bid is for, to the cent (rounded as publication always has).
    """
    return (rules.bid_security_max_ratio * estimate).quantize(CENT)


def check_lots(rules: TenderRules, lots: Sequence[LotSecurity], errors: RuleErrors) -> None:
    """Every security rule each lot breaks, named by lot (checked at drafting and at publication)."""
    for lot in lots:
        unknown = lot.forms - BID_SECURITY_FORMS
        if unknown:
            errors.add(
                lot.forms_field,
                "allowed_forms",
                f"lot {lot.code}: unknown security forms {', '.join(sorted(unknown))}; "
                f"forms are {', '.join(sorted(BID_SECURITY_FORMS))}",
            )
        if lot.amount < 0:
            errors.add(lot.amount_field, "not_negative", f"lot {lot.code}: bid security cannot be negative")
            continue
        cap = security_cap(rules, lot.estimate)
        if lot.amount > cap:
            errors.add(
                lot.amount_field,
                "security_amount_over_cap",
                f"lot {lot.code}: bid security {lot.amount} exceeds {rules.bid_security_max_ratio:%} "
                f"of the lot's estimate ({cap})",
            )
        if not lot.required:
            continue
        if lot.amount <= 0:
            errors.add(
                lot.amount_field, "security_amount_required", f"lot {lot.code} requires bid security: name its amount"
            )
        if not lot.forms:
            errors.add(
                lot.forms_field,
                "security_forms_required",
                f"lot {lot.code} requires bid security: name the forms it accepts",
            )
        elif rules.non_cash_security_required and not (lot.forms - {"cash"}):
            errors.add(
                lot.forms_field,
                "gp_security_must_accept_non_cash",
                f"lot {lot.code}: government procurement must accept a guarantee, not cash only (GP 实施条例 Art. 33)",
            )


def validity_end(tender: Tender) -> datetime | None:
    """The end of the bid validity period, which the security must cover (None before a deadline is set)."""
    if tender.deadline is None:
        return None
    try:
        return tender.deadline + timedelta(days=tender.bid_validity_days)
    except OverflowError:  # a deadline at the end of the calendar: no date to require
        return None


@dataclass(frozen=True)
class SecurityTerms:
    """What a bid on one lot must give as bid security: the data set a guarantee is checked
    against (domain-rules §6.4: beneficiary, project, lot, amount, currency, validity).
    """

    project_code: str
    lot_code: str
    lot_name: str
    amount: Decimal
    currency: str
    forms: frozenset[str]
    valid_from: datetime
    """The bid deadline: the security must be in force from then …"""
    valid_until: datetime
    """… until the end of the bid validity period (deadline + ``bid_validity_days``)."""
    beneficiary_name: str
    beneficiary_uscc: str


async def required_security(session: AsyncSession, tender_code: str, lot_code: str) -> SecurityTerms | None:
    """The bid security a bid on ``lot_code`` of the published tender ``tender_code`` must give;
    None when there is no such published tender or lot (a draft is private), when the lot requires
    none, or before the tender has a deadline. Reads only; the caller owns the transaction.
    """
    row = (
        await session.execute(
            sa.select(Tender, Lot, Organisation)
            .join(Lot, Lot.tender_id == Tender.id)
            .join(Organisation, Organisation.id == Tender.tenderee_organisation_id)
            .where(Tender.project_code == tender_code, Lot.code == lot_code, Tender.status != TenderStatus.DRAFT)
        )
    ).one_or_none()
    if row is None:
        return None
    tender, lot, tenderee = row
    terms = lot_terms(tender, lot)
    until = validity_end(tender)
    if not terms.required or tender.deadline is None or until is None:
        return None
    return SecurityTerms(
        project_code=tender.project_code,
        lot_code=lot.code,
        lot_name=lot.name,
        amount=terms.amount,
        currency=CURRENCY,
        forms=terms.forms,
        valid_from=tender.deadline,
        valid_until=until,
        beneficiary_name=tenderee.name,
        beneficiary_uscc=tenderee.uscc,
    )
