"""The pure core walked the way the award service will walk it: an engineering tender from the
signed report (Monday 28 September 2026) over 国庆 to a signed contract — the publicity's dates, an
objection answered in time, the first candidate giving up, the second awarded, notices, the contract
signed in order before its deadline, the archive's retention. Each step asks the rules for its
instant, the machine for the move, succession and contract_rules for the parties.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from bidding.award import contract_rules, succession
from bidding.award.errors import AwardRefused
from bidding.award.rules import (
    PeriodKey,
    Sector,
    objection_deadline,
    require_objection_in_time,
    retained_until,
    shipped_rules,
)
from bidding.award.states import AwardEvent, AwardState, Position, Step, replay, transition
from trading.kernel.calendar import CHINA, WorkingCalendar, shipped_schedules

CALENDAR = WorkingCalendar(shipped_schedules())
RULES = shipped_rules()
ENG = Sector.ENGINEERING
TENDEREE = "91320100MA1XXXXX0A"


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CHINA)


def test_engineering_story_across_national_day() -> None:  # noqa: PLR0915 - one story, told in order
    history: list[Step] = []
    position = Position()

    def step(event: AwardEvent) -> None:
        nonlocal position
        position = transition(position, event, ENG, RULES)
        history.append(Step(event))

    report_signed = at(9, 28, 15)
    # The publicity is due within 3 days of the report: the 3rd day is 1 October, so by 8 October.
    assert RULES.due(PeriodKey.PUBLICITY_PUBLISH, ENG, report_signed, CALENDAR) == datetime(2026, 10, 9, tzinfo=CHINA)
    published = at(9, 29)
    step(AwardEvent.OPEN_PUBLICITY)
    closes = objection_deadline(ENG, published, CALENDAR, RULES)
    assert closes == datetime(2026, 10, 9, tzinfo=CHINA)

    # A bidder objects on 30 September; the tenderee answers by 8 October (3rd day in 国庆, moved).
    require_objection_in_time(ENG, published, at(9, 30), CALENDAR, RULES)
    step(AwardEvent.FILE_OBJECTION)
    assert position.shown is AwardState.OBJECTION_PENDING
    answer_due = RULES.due(PeriodKey.OBJECTION_ANSWER, ENG, at(9, 30), CALENDAR)
    assert answer_due == datetime(2026, 10, 9, tzinfo=CHINA)
    answered = at(10, 8)
    assert answered < answer_due
    step(AwardEvent.ANSWER_OBJECTION)
    assert position.shown is AwardState.PUBLICITY_OPEN

    # An objection after the close is refused by time, and by the machine once the sweep closed it.
    with pytest.raises(AwardRefused) as late:
        require_objection_in_time(ENG, published, closes, CALENDAR, RULES)
    assert late.value.rule == "objection_period"
    step(AwardEvent.CLOSE_PUBLICITY)  # the sweep, at `closes`
    with pytest.raises(AwardRefused) as closed:
        transition(position, AwardEvent.FILE_OBJECTION, ENG, RULES)
    assert closed.value.rule == "objection_period"

    # The award: the first candidate, then it gives up and the second one succeeds.
    first = succession.Candidate("bid-1", "91110108MA00XXXX1B", "甲建设有限公司", Decimal("1234567.89"), 1)
    second = succession.Candidate("bid-2", "91440300MA5XXXXX2C", "乙工程有限公司", Decimal("1250000.00"), 2)
    order = succession.decide_order([second, first], succession.PublishedRule())
    with pytest.raises(AwardRefused) as outsider:
        succession.check_award(order, [], "bid-9")
    assert outsider.value.rule == "not_a_candidate"
    assert succession.check_award(order, [], "bid-1") == first
    step(AwardEvent.CONFIRM_AWARD)
    step(AwardEvent.ISSUE_NOTICES)
    dropped = [succession.drop(order, [], "bid-1", succession.DropReason.GAVE_UP, "书面放弃中标")]
    chosen = succession.current(order, dropped)
    assert isinstance(chosen, succession.Chosen)
    assert chosen.winner == second
    assert succession.check_award(order, dropped, "bid-2") == second
    step(AwardEvent.REASSIGN_AWARD)
    notice = at(10, 12)
    step(AwardEvent.ISSUE_NOTICES)

    # The contract: the second candidate's price, signed by it first, then the tenderee.
    terms = contract_rules.AwardTerms(TENDEREE, second.uscc, Decimal("1250000.00"), frozenset({"1"}), notice)
    draft = contract_rules.ContractDraft(TENDEREE, second.uscc, Decimal("1250000.00"), frozenset({"1"}))
    refused = contract_rules.check_signature(terms, draft, [], first.uscc, at(10, 13))
    assert [v.rule for v in refused] == ["contract_signer"]  # the candidate that gave up
    signed = [contract_rules.Signature(second.uscc, at(10, 13))]
    contract_rules.require_signature(terms, draft, signed[:0], second.uscc, at(10, 13))
    contract_rules.require_signature(terms, draft, signed, TENDEREE, at(10, 14))
    signed.append(contract_rules.Signature(TENDEREE, at(10, 14)))
    assert contract_rules.check_signed(terms, draft, signed) == []
    deadline = contract_rules.contract_deadline(
        notice, at(10, 14), at(10, 14), sector=ENG, calendar=CALENDAR, rules=RULES
    )
    assert deadline.due == datetime(2026, 11, 12, tzinfo=CHINA)
    assert deadline.state is contract_rules.DeadlineState.SIGNED_ON_TIME
    step(AwardEvent.SIGN_CONTRACT)
    step(AwardEvent.CLOSE)

    assert position == Position(AwardState.CLOSED)
    assert replay(history, ENG, RULES) == position
    assert retained_until(at(10, 15), ENG, RULES) == datetime(2041, 10, 16, tzinfo=CHINA)
