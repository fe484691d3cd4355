"""Issue 16 item 5: the contract against the award — parties by USCC, the exact price, the lots, the
winner signing first and nobody before the notice, the performance security, and where the 30-day
deadline stands (across 国庆 2026). Every refusal's rule named.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bidding.award.contract_rules import (
    AwardTerms,
    ContractDraft,
    DeadlineState,
    Signature,
    check_draft,
    check_performance_security,
    check_signature,
    check_signed,
    contract_deadline,
    require_signature,
)
from bidding.award.errors import AwardRefused
from bidding.award.rules import Sector, shipped_rules
from trading.kernel.calendar import CHINA, WorkingCalendar, shipped_schedules

CALENDAR = WorkingCalendar(shipped_schedules())
RULES = shipped_rules()
TENDEREE = "91320100MA1XXXXX0A"
WINNER = "91110108MA00XXXX1B"
OTHER = "91440300MA5XXXXX2C"


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CHINA)


NOTICE = at(9, 10)
TERMS = AwardTerms(TENDEREE, WINNER, Decimal("1234567.89"), frozenset({"1", "2"}), NOTICE)
DRAFT = ContractDraft(TENDEREE, WINNER, Decimal("1234567.89"), frozenset({"1", "2"}))


@pytest.mark.parametrize(
    ("draft", "expected"),
    [
        (DRAFT, []),
        (ContractDraft(f" {TENDEREE.lower()} ", WINNER, Decimal("1234567.890"), frozenset({"1", "2"})), []),
        (ContractDraft(OTHER, WINNER, DRAFT.price, DRAFT.lots), [("tenderee_uscc", "contract_tenderee")]),
        (ContractDraft(TENDEREE, OTHER, DRAFT.price, DRAFT.lots), [("supplier_uscc", "contract_winner")]),
        (ContractDraft(WINNER, TENDEREE, DRAFT.price, DRAFT.lots),  # parties swapped
         [("tenderee_uscc", "contract_tenderee"), ("supplier_uscc", "contract_winner")]),
        (ContractDraft(TENDEREE, WINNER, Decimal("1234567.88"), DRAFT.lots), [("price", "contract_price")]),
        (ContractDraft(TENDEREE, WINNER, Decimal("1234567.891"), DRAFT.lots), [("price", "contract_price")]),
        (ContractDraft(TENDEREE, WINNER, 1234567.89, DRAFT.lots), [("price", "contract_price")]),  # type: ignore[arg-type]
        (ContractDraft(TENDEREE, WINNER, Decimal("NaN"), DRAFT.lots), [("price", "contract_price")]),
        (ContractDraft(TENDEREE, WINNER, DRAFT.price, frozenset({"1"})), [("lots", "contract_lots")]),
        (ContractDraft(TENDEREE, WINNER, DRAFT.price, frozenset({"1", "2", "3"})), [("lots", "contract_lots")]),
    ],
)  # fmt: skip
def test_the_draft_repeats_the_award(draft: ContractDraft, expected: list[tuple[str, str]]) -> None:
    assert [(v.field, v.rule) for v in check_draft(TERMS, draft)] == expected


WINNER_SIGNED = [Signature(WINNER, at(9, 12))]


@pytest.mark.parametrize(
    ("signed", "signer", "when", "expected"),
    [
        ([], WINNER, at(9, 12), []),
        (WINNER_SIGNED, TENDEREE, at(9, 14), []),
        ([], TENDEREE, at(9, 12), [("signer", "winner_signs_first")]),
        ([], OTHER, at(9, 12), [("signer", "contract_signer")]),  # the wrong organisation
        (WINNER_SIGNED, WINNER, at(9, 13), [("signer", "contract_signs_once")]),
        ([], WINNER, at(9, 10, 9), [("at", "contract_after_notice")]),  # before the notice
        (WINNER_SIGNED, TENDEREE, at(9, 11), [("at", "signature_order")]),
    ],
)
def test_signatures(signed: list[Signature], signer: str, when: datetime, expected: list[tuple[str, str]]) -> None:
    assert [(v.field, v.rule) for v in check_signature(TERMS, DRAFT, signed, signer, when)] == expected


def test_no_signature_before_a_notice_exists_and_every_violation_is_listed() -> None:
    unnoticed = AwardTerms(TENDEREE, WINNER, TERMS.price, TERMS.lots, None)
    assert [v.rule for v in check_signature(unnoticed, DRAFT, [], WINNER, at(9, 12))] == ["contract_after_notice"]
    wrong = ContractDraft(TENDEREE, WINNER, Decimal(1), DRAFT.lots)
    with pytest.raises(AwardRefused) as caught:
        require_signature(TERMS, wrong, [], OTHER, at(9, 9))
    refusal = caught.value
    assert (refusal.field, refusal.rule) == ("price", "contract_price")
    assert [e["rule"] for e in refusal.extra["errors"]] == [
        "contract_price",
        "contract_after_notice",
        "contract_signer",
    ]
    assert refusal.problem()["errors"][2]["field"] == "signer"
    require_signature(TERMS, DRAFT, [], WINNER, at(9, 12))  # in order: nothing raised


def test_a_stored_contract_is_checked_whole() -> None:
    both = [Signature(WINNER, at(9, 12)), Signature(TENDEREE, at(9, 14))]
    assert check_signed(TERMS, DRAFT, both) == []
    assert [v.rule for v in check_signed(TERMS, DRAFT, both[:1])] == ["contract_both_parties"]
    assert [v.rule for v in check_signed(TERMS, DRAFT, list(reversed(both)))] == [
        "winner_signs_first",
        "signature_order",
    ]
    priced = ContractDraft(TENDEREE, WINNER, Decimal(1), DRAFT.lots)
    assert [v.rule for v in check_signed(TERMS, priced, both)] == ["contract_price"]  # reported once


@pytest.mark.parametrize(
    ("amount", "ok"),
    [
        (Decimal("123456.789"), True),  # exactly 10 %
        (Decimal("123456.79"), False),
        (Decimal(0), False),
        (Decimal(-1), False),
    ],
)
def test_performance_security_at_most_ten_percent(amount: Decimal, *, ok: bool) -> None:
    found = check_performance_security(amount, TERMS.price, Sector.ENGINEERING, RULES)
    assert (found == []) is ok
    assert all(v.rule == "performance_security_ratio" for v in found)


# Notice Thursday 10 Sep 2026: the 30th day is Saturday 10 Oct, a 调休 working day, so the deadline
# is 24:00 that day (no Art. 203 move). Reminders 7, 3 and 1 days before.
DUE = datetime(2026, 10, 11, tzinfo=CHINA)


@pytest.mark.parametrize(
    ("now", "signed_at", "state", "reminder", "warn", "next_check"),
    [
        (at(9, 20), None, DeadlineState.ON_TIME, None, False, DUE - timedelta(days=7)),
        (datetime(2026, 10, 4, tzinfo=CHINA), None, DeadlineState.REMINDER_DUE, 7, False, DUE - timedelta(days=3)),
        (at(10, 8), None, DeadlineState.REMINDER_DUE, 3, False, DUE - timedelta(days=1)),
        (at(10, 10, 23), None, DeadlineState.REMINDER_DUE, 1, False, DUE),
        (DUE, None, DeadlineState.OVERDUE, 1, True, None),  # the supervisor is warned at once
        (at(10, 20), None, DeadlineState.OVERDUE, 1, True, None),
        (at(10, 20), at(10, 10, 23), DeadlineState.SIGNED_ON_TIME, None, False, None),
        (at(10, 20), at(10, 11, 9), DeadlineState.SIGNED_LATE, None, False, None),
    ],
)
def test_deadline_states(
    *,
    now: datetime,
    signed_at: datetime | None,
    state: DeadlineState,
    reminder: int | None,
    warn: bool,
    next_check: datetime | None,
) -> None:
    found = contract_deadline(NOTICE, now, signed_at, sector=Sector.ENGINEERING, calendar=CALENDAR, rules=RULES)
    assert found.due == DUE
    assert (found.state, found.reminder, found.warn_supervisor, found.next_check) == (state, reminder, warn, next_check)
    assert [days for days, _ in found.reminders] == [7, 3, 1]


def test_the_warning_can_wait_and_holidays_move_the_deadline() -> None:
    later = RULES.with_overrides({"version": "t", "contract_reminders": {"warning_days_after": 2}})
    found = contract_deadline(NOTICE, DUE, None, sector=Sector.GOVERNMENT_PROCUREMENT, calendar=CALENDAR, rules=later)
    assert (found.state, found.warn_supervisor, found.next_check) == (
        DeadlineState.OVERDUE,
        False,
        DUE + timedelta(days=2),
    )
    # Notice Saturday 5 Sep: the 30th day (5 Oct) is in 国庆 → the deadline is 24:00 of Thursday 8 Oct.
    moved = contract_deadline(at(9, 5), at(10, 6), None, sector=Sector.ENGINEERING, calendar=CALENDAR, rules=RULES)
    assert moved.due == datetime(2026, 10, 9, tzinfo=CHINA)
    assert moved.state is DeadlineState.REMINDER_DUE
