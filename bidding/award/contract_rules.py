"""The contract's checks against the award, pure: the parties, the price, the lots, the order and
time of the signatures, the performance security, and where the signing deadline stands.

- **Parties** (招标投标法 Art. 46; 政府采购法 Art. 46): the tenderee (甲方) and the awarded
  organisation (乙方), by 统一社会信用代码, compared normalised (trimmed, upper case).
- **Price**: the contract's price equals the awarded price exactly, as ``Decimal`` (实施条例 Art.
  57: 价款 consistent with the tender and the bid); a float is refused, never rounded.
- **Lots**: the same lots as the award, no more, no fewer.
- **Signatures**: the winner signs first, then the tenderee (issue 16 item 5), each once, and not
  before the award notice was issued (the contract follows the notice, 招标投标法 Art. 46).
- **Deadline** (`contract_deadline`): signed within ``contract_signing`` days of the notice (30,
  `bidding.award.rules`), reminders ``contract_reminders.days_before`` days before, the supervisor
  warned ``warning_days_after`` days after; the service's sweep acts at ``next_check``.
- **Performance security** (履约担保): at most ``performance_security_max_ratio`` of the price
  (实施条例 Art. 58; 政府采购法实施条例 Art. 48).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from bidding.award.errors import Violation, refuse
from bidding.award.rules import AwardRules, PeriodKey, Sector
from trading.kernel.calendar import WorkingCalendar


def _uscc(value: str) -> str:
    return value.strip().upper()


@dataclass(frozen=True, slots=True)
class AwardTerms:
    """What the award fixed, which the contract must repeat."""

    tenderee_uscc: str
    winner_uscc: str
    price: Decimal
    lots: frozenset[str]
    notice_issued_at: datetime | None
    """When the award notice (中标通知书) was issued; None before."""


@dataclass(frozen=True, slots=True)
class ContractDraft:
    tenderee_uscc: str
    """甲方."""
    supplier_uscc: str
    """乙方: the awarded organisation."""
    price: Decimal
    lots: frozenset[str]


@dataclass(frozen=True, slots=True)
class Signature:
    """One party's signature on the contract: whose certificate (its USCC) and when."""

    uscc: str
    at: datetime


def check_draft(terms: AwardTerms, draft: ContractDraft) -> list[Violation]:
    """Every way ``draft`` differs from the award (empty: it matches)."""
    found: list[Violation] = []
    if _uscc(draft.tenderee_uscc) != _uscc(terms.tenderee_uscc):
        found.append(
            Violation(
                "tenderee_uscc", rule="contract_tenderee", message=f"party A is {terms.tenderee_uscc}, the tenderee"
            )
        )
    if _uscc(draft.supplier_uscc) != _uscc(terms.winner_uscc):
        found.append(
            Violation(
                "supplier_uscc",
                rule="contract_winner",
                message=f"party B is {terms.winner_uscc}, the awarded organisation",
            )
        )
    if not isinstance(draft.price, Decimal) or not draft.price.is_finite():
        found.append(
            Violation("price", rule="contract_price", message=f"the price is an exact decimal, not {draft.price!r}")
        )
    elif draft.price != terms.price:
        found.append(
            Violation(
                "price",
                rule="contract_price",
                message=f"the price {draft.price} differs from the awarded {terms.price}",
            )
        )
    if draft.lots != terms.lots:
        missing, extra = sorted(terms.lots - draft.lots), sorted(draft.lots - terms.lots)
        found.append(
            Violation(
                "lots",
                rule="contract_lots",
                message=f"the contract's lots differ from the award's (missing: {', '.join(missing) or '-'}; "
                f"not awarded: {', '.join(extra) or '-'})",
            )
        )
    return found


def check_signature(
    terms: AwardTerms, draft: ContractDraft, signed: Sequence[Signature], signer_uscc: str, at: datetime
) -> list[Violation]:
    """Every rule a new signature by ``signer_uscc`` at ``at`` breaks, given the signatures already
    on the contract (``signed``, in order). The draft is checked too: nobody signs a contract that
    does not repeat the award.
    """
    found = check_draft(terms, draft)
    who = _uscc(signer_uscc)
    tenderee, winner = _uscc(terms.tenderee_uscc), _uscc(terms.winner_uscc)
    if terms.notice_issued_at is None or at < terms.notice_issued_at:
        found.append(
            Violation("at", rule="contract_after_notice", message="the contract is signed after the award notice")
        )
    if who not in {tenderee, winner}:
        found.append(
            Violation(
                "signer",
                rule="contract_signer",
                message=f"{signer_uscc} is neither the tenderee nor the awarded organisation",
            )
        )
    elif any(_uscc(s.uscc) == who for s in signed):
        found.append(Violation("signer", rule="contract_signs_once", message=f"{signer_uscc} has already signed"))
    elif who == tenderee and not any(_uscc(s.uscc) == winner for s in signed):
        found.append(Violation("signer", rule="winner_signs_first", message="the awarded organisation signs first"))
    if signed and at < signed[-1].at:
        found.append(Violation("at", rule="signature_order", message="a signature follows the one before it"))
    return found


def require_signature(
    terms: AwardTerms, draft: ContractDraft, signed: Sequence[Signature], signer_uscc: str, at: datetime
) -> None:
    """`check_signature`, raising `AwardRefused` (every violation listed) when it finds any."""
    refuse(check_signature(terms, draft, signed, signer_uscc, at))


def check_signed(terms: AwardTerms, draft: ContractDraft, signatures: Sequence[Signature]) -> list[Violation]:
    """A contract as stored: the winner's signature, then the tenderee's, each checked in turn."""
    found: list[Violation] = []
    for index, signature in enumerate(signatures):
        found += [
            v
            for v in check_signature(terms, draft, signatures[:index], signature.uscc, signature.at)
            if index == 0 or v.rule not in {"contract_tenderee", "contract_winner", "contract_price", "contract_lots"}
        ]
    if len(signatures) < 2:  # noqa: PLR2004 - the two parties
        found.append(
            Violation("signatures", rule="contract_both_parties", message="the winner and the tenderee both sign")
        )
    return found


def check_performance_security(amount: Decimal, price: Decimal, sector: Sector, rules: AwardRules) -> list[Violation]:
    """The performance security required is positive and at most the ratio of the contract's price."""
    ratio = rules.performance_security_max_ratio[sector]
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        return [Violation("performance_security", rule="performance_security_ratio", message="a positive exact amount")]
    if amount > price * ratio:
        return [
            Violation(
                "performance_security",
                rule="performance_security_ratio",
                message=f"{amount} is more than {ratio} of the contract's price {price}",
            )
        ]
    return []


class DeadlineState(StrEnum):
    ON_TIME = "on_time"
    REMINDER_DUE = "reminder_due"
    OVERDUE = "overdue"
    SIGNED_ON_TIME = "signed_on_time"
    SIGNED_LATE = "signed_late"


@dataclass(frozen=True, slots=True)
class ContractDeadline:
    state: DeadlineState
    due: datetime
    """The signing deadline (exclusive: signed before it is in time)."""
    reminders: tuple[tuple[int, datetime], ...]
    """Each reminder: days before the deadline and when it falls, earliest first."""
    reminder: int | None
    """The latest reminder come due (days before), which the sweep sends if it has not yet."""
    warn_supervisor: bool
    next_check: datetime | None
    """When the deadline's state changes next (None: it will not)."""


def contract_deadline(
    notice_issued_at: datetime,
    now: datetime,
    signed_at: datetime | None,
    *,
    sector: Sector,
    calendar: WorkingCalendar,
    rules: AwardRules,
    due: datetime | None = None,
) -> ContractDeadline:
    """Where the signing deadline stands at ``now`` (module docstring). ``due``: the deadline as
    computed once and stored (the calendar is then not consulted again).
    """
    due = due if due is not None else rules.due(PeriodKey.CONTRACT_SIGNING, sector, notice_issued_at, calendar)
    reminders = tuple((days, due - timedelta(days=days)) for days in rules.reminder_days_before)
    warn_at = due + timedelta(days=rules.warning_days_after)
    if signed_at is not None:
        state = DeadlineState.SIGNED_ON_TIME if signed_at < due else DeadlineState.SIGNED_LATE
        return ContractDeadline(state, due, reminders, None, warn_supervisor=False, next_check=None)
    come = [days for days, at in reminders if now >= at]
    latest = min(come) if come else None
    if now >= due:
        return ContractDeadline(
            DeadlineState.OVERDUE,
            due,
            reminders,
            latest,
            warn_supervisor=now >= warn_at,
            next_check=None if now >= warn_at else warn_at,
        )
    upcoming = [at for _, at in reminders if at > now]
    return ContractDeadline(
        DeadlineState.REMINDER_DUE if come else DeadlineState.ON_TIME,
        due,
        reminders,
        latest,
        warn_supervisor=False,
        next_check=min(upcoming) if upcoming else due,
    )
