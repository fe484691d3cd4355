"""Issue 16: the award stage's state machine — the paths each sector walks, the suspensions that hold
it and return exactly where it was, the voiding of earlier steps, and every refusal's rule name.
"""

from __future__ import annotations

import pytest

from bidding.award.errors import AwardRefused
from bidding.award.rules import Sector, shipped_rules
from bidding.award.states import (
    ACTIVE,
    BY_EVENT,
    TRANSITIONS,
    Actor,
    AwardEvent,
    AwardState,
    ComplaintState,
    Position,
    Step,
    allowed_events,
    complaint_transition,
    replay,
    transition,
    void_acts,
)

ENG, GP = Sector.ENGINEERING, Sector.GOVERNMENT_PROCUREMENT
E, S = AwardEvent, AwardState

ENGINEERING_PATH = [
    E.OPEN_PUBLICITY,
    E.CLOSE_PUBLICITY,
    E.CONFIRM_AWARD,
    E.ISSUE_NOTICES,
    E.SIGN_CONTRACT,
    E.CLOSE,
]
GP_PATH = [E.CONFIRM_AWARD, E.ISSUE_NOTICES, E.SIGN_CONTRACT, E.CLOSE]


def walk(events: list[AwardEvent], sector: Sector, start: Position | None = None) -> list[AwardState]:
    position = start or Position()
    shown = []
    for event in events:
        position = transition(position, event, sector)
        shown.append(position.shown)
    return shown


def refused(position: Position, event: AwardEvent | str, sector: Sector = ENG) -> tuple[str | None, str | None]:
    with pytest.raises(AwardRefused) as caught:
        transition(position, event, sector)
    return caught.value.field, caught.value.rule


@pytest.mark.parametrize(
    ("sector", "events", "shown"),
    [
        (
            ENG,
            ENGINEERING_PATH,
            [S.PUBLICITY_OPEN, S.PUBLICITY_CLOSED, S.AWARDED, S.NOTICES_ISSUED, S.CONTRACT_SIGNED, S.CLOSED],
        ),
        (GP, GP_PATH, [S.AWARDED, S.NOTICES_ISSUED, S.CONTRACT_SIGNED, S.CLOSED]),
        # The first candidate gives up after the notice: the next one is awarded, notified, signs.
        (
            ENG,
            [*ENGINEERING_PATH[:4], E.REASSIGN_AWARD, E.ISSUE_NOTICES, E.SIGN_CONTRACT],
            [S.PUBLICITY_OPEN, S.PUBLICITY_CLOSED, S.AWARDED, S.NOTICES_ISSUED, S.AWARDED, S.NOTICES_ISSUED,
             S.CONTRACT_SIGNED],
        ),
        # No candidate left: 流标, then the re-tender (each with its notice).
        (ENG, [*ENGINEERING_PATH[:3], E.FAIL, E.RE_TENDER], [S.PUBLICITY_OPEN, S.PUBLICITY_CLOSED, S.AWARDED,
                                                            S.FAILED, S.RE_TENDER]),
        (GP, [E.FAIL, E.RE_TENDER], [S.FAILED, S.RE_TENDER]),  # every bid rejected
        # The tenderee re-tenders instead of awarding the next candidate (实施条例 Art. 55).
        (ENG, [*ENGINEERING_PATH[:3], E.RE_TENDER], [S.PUBLICITY_OPEN, S.PUBLICITY_CLOSED, S.AWARDED, S.RE_TENDER]),
        # An objection during the publicity suspends; answered, the tender is where it was.
        (
            ENG,
            [E.OPEN_PUBLICITY, E.FILE_OBJECTION, E.FILE_OBJECTION, E.ANSWER_OBJECTION, E.ANSWER_OBJECTION,
             E.CLOSE_PUBLICITY],
            [S.PUBLICITY_OPEN, S.OBJECTION_PENDING, S.OBJECTION_PENDING, S.OBJECTION_PENDING, S.PUBLICITY_OPEN,
             S.PUBLICITY_CLOSED],
        ),
        # The publicity's time runs out while an objection waits: closed, still held by the objection.
        (
            ENG,
            [E.OPEN_PUBLICITY, E.FILE_OBJECTION, E.CLOSE_PUBLICITY, E.ANSWER_OBJECTION, E.CONFIRM_AWARD],
            [S.PUBLICITY_OPEN, S.OBJECTION_PENDING, S.OBJECTION_PENDING, S.PUBLICITY_CLOSED, S.AWARDED],
        ),
        # A complaint accepted, the supervisor suspends, then dismisses it and lifts the suspension.
        (
            ENG,
            [*ENGINEERING_PATH[:3], E.ACCEPT_COMPLAINT, E.SUSPEND, E.DECIDE_COMPLAINT_CONTINUE, E.RESUME,
             E.ISSUE_NOTICES],
            [S.PUBLICITY_OPEN, S.PUBLICITY_CLOSED, S.AWARDED, S.COMPLAINT_ACCEPTED, S.SUSPENDED, S.SUSPENDED,
             S.AWARDED, S.NOTICES_ISSUED],
        ),
        # Upheld: back to evaluation (voided) or a re-tender ordered.
        (
            ENG,
            [*ENGINEERING_PATH[:4], E.ACCEPT_COMPLAINT, E.SUSPEND, E.UPHOLD_COMPLAINT_REEVALUATE],
            [S.PUBLICITY_OPEN, S.PUBLICITY_CLOSED, S.AWARDED, S.NOTICES_ISSUED, S.COMPLAINT_ACCEPTED,
             S.SUSPENDED, S.VOIDED],
        ),
        (GP, [E.CONFIRM_AWARD, E.ACCEPT_COMPLAINT, E.UPHOLD_COMPLAINT_RE_TENDER], [S.AWARDED,
                                                                                   S.COMPLAINT_ACCEPTED,
                                                                                   S.RE_TENDER]),
        # GP: the result announcement is journalled without moving the progress state; a 质疑
        # after it holds nothing by default.
        (
            GP,
            [E.CONFIRM_AWARD, E.PUBLISH_ANNOUNCEMENT, E.FILE_OBJECTION, E.ISSUE_NOTICES, E.ANSWER_OBJECTION],
            [S.AWARDED, S.AWARDED, S.OBJECTION_PENDING, S.OBJECTION_PENDING, S.NOTICES_ISSUED],
        ),
        (GP, [E.CONFIRM_AWARD, E.ISSUE_NOTICES, E.PUBLISH_ANNOUNCEMENT], [S.AWARDED, S.NOTICES_ISSUED,
                                                                          S.NOTICES_ISSUED]),
        # GP: a 质疑 after the result announcement does not hold the contract by default.
        (
            GP,
            [E.CONFIRM_AWARD, E.ISSUE_NOTICES, E.FILE_OBJECTION, E.SIGN_CONTRACT, E.ANSWER_OBJECTION, E.CLOSE],
            [S.AWARDED, S.NOTICES_ISSUED, S.OBJECTION_PENDING, S.OBJECTION_PENDING, S.CONTRACT_SIGNED, S.CLOSED],
        ),
    ],
)  # fmt: skip
def test_paths(sector: Sector, events: list[AwardEvent], shown: list[AwardState]) -> None:
    assert walk(events, sector) == shown
    assert replay([Step(e) for e in events], sector).shown == shown[-1]


OPEN = Position(S.PUBLICITY_OPEN)
CLOSED_PUBLICITY = Position(S.PUBLICITY_CLOSED)
AWARDED = Position(S.AWARDED)
NOTIFIED = Position(S.NOTICES_ISSUED)


@pytest.mark.parametrize(
    ("position", "event", "sector", "rule"),
    [
        (Position(), E.CONFIRM_AWARD, ENG, "award_after_publicity"),  # engineering: publicity first
        (OPEN, E.CONFIRM_AWARD, ENG, "award_after_publicity"),
        (Position(), E.ISSUE_NOTICES, ENG, "notices_after_award"),
        (AWARDED, E.SIGN_CONTRACT, ENG, "contract_after_notice"),  # signing before the notice
        (AWARDED, E.SIGN_CONTRACT, GP, "contract_after_notice"),
        (NOTIFIED, E.CLOSE, ENG, "close_after_contract"),
        (Position(), E.OPEN_PUBLICITY, GP, "award_sector"),  # no candidates' publicity in GP
        (AWARDED, E.OPEN_PUBLICITY, ENG, "publicity_after_report"),
        (AWARDED, E.CLOSE_PUBLICITY, ENG, "publicity_open"),
        (CLOSED_PUBLICITY, E.FILE_OBJECTION, ENG, "objection_period"),  # objection after the publicity
        (Position(), E.FILE_OBJECTION, ENG, "objection_period"),
        (Position(), E.FILE_OBJECTION, GP, "objection_period"),  # GP: after the winner's announcement
        # GP: the result announcement once the winner is confirmed; none in engineering.
        (Position(), E.PUBLISH_ANNOUNCEMENT, GP, "announcement_after_award"),
        (Position(S.CONTRACT_SIGNED), E.PUBLISH_ANNOUNCEMENT, GP, "announcement_after_award"),
        (AWARDED, E.PUBLISH_ANNOUNCEMENT, ENG, "award_sector"),
        (Position(S.AWARDED, suspended=True), E.PUBLISH_ANNOUNCEMENT, GP, "award_suspended"),
        (CLOSED_PUBLICITY, E.REASSIGN_AWARD, ENG, "award_first"),
        (Position(S.CONTRACT_SIGNED), E.FAIL, ENG, "award_state"),
        (Position(S.CONTRACT_SIGNED), E.RE_TENDER, ENG, "award_state"),
        (OPEN, E.ANSWER_OBJECTION, ENG, "no_pending_objection"),
        (AWARDED, E.DECIDE_COMPLAINT_CONTINUE, ENG, "no_accepted_complaint"),
        (AWARDED, E.UPHOLD_COMPLAINT_REEVALUATE, ENG, "no_accepted_complaint"),
        (AWARDED, E.RESUME, ENG, "not_suspended"),
        (Position(S.AWARDED, suspended=True), E.SUSPEND, ENG, "suspended_once"),
        # The supervisor's suspension and an unanswered engineering objection hold the award.
        (Position(S.AWARDED, suspended=True), E.ISSUE_NOTICES, ENG, "award_suspended"),
        (Position(S.NOTICES_ISSUED, suspended=True), E.SIGN_CONTRACT, GP, "award_suspended"),
        (Position(S.PUBLICITY_CLOSED, objections=1), E.CONFIRM_AWARD, ENG, "objection_pending"),
        (Position(S.PUBLICITY_CLOSED, objections=1), E.FAIL, ENG, "objection_pending"),
        # Nothing is archived while an objection or a complaint is open, whichever sector.
        (Position(S.CONTRACT_SIGNED, objections=1), E.CLOSE, GP, "objection_pending"),
        (Position(S.CONTRACT_SIGNED, complaints=1), E.CLOSE, ENG, "complaint_pending"),
        # Ended awards take no step.
        (Position(S.CLOSED), E.FILE_OBJECTION, GP, "award_finished"),
        (Position(S.VOIDED), E.CONFIRM_AWARD, ENG, "award_finished"),
        (Position(S.RE_TENDER), E.SUSPEND, ENG, "award_finished"),
        (Position(), "award_anyone", ENG, "choice"),
    ],
)
def test_refusals_name_their_rule(position: Position, event: AwardEvent | str, sector: Sector, rule: str) -> None:
    assert refused(position, event, sector) == ("event", rule)


def test_a_refusal_changes_nothing() -> None:
    position = Position(S.PUBLICITY_CLOSED, objections=1)
    with pytest.raises(AwardRefused):
        transition(position, E.CONFIRM_AWARD, ENG)
    assert position == Position(S.PUBLICITY_CLOSED, objections=1)  # frozen: the caller's value stands


def test_gp_objections_suspend_when_the_rules_say_so() -> None:
    held = shipped_rules().with_overrides({"version": "held", "objection_suspends": {"government_procurement": True}})
    position = Position(S.NOTICES_ISSUED, objections=1)
    assert transition(position, E.SIGN_CONTRACT, GP).state is S.CONTRACT_SIGNED
    with pytest.raises(AwardRefused) as caught:
        transition(position, E.SIGN_CONTRACT, GP, held)
    assert caught.value.rule == "objection_pending"


def test_the_supervisor_acts_while_the_tender_is_suspended_or_held() -> None:
    held = Position(S.NOTICES_ISSUED, objections=2, complaints=1, suspended=True)
    assert transition(held, E.FILE_OBJECTION, GP).objections == 3
    assert transition(held, E.ANSWER_OBJECTION, ENG).objections == 1
    voided = transition(held, E.UPHOLD_COMPLAINT_REEVALUATE, ENG)
    assert voided == Position(S.VOIDED)  # nothing of this award holds any more
    assert transition(held, E.RESUME, ENG) == Position(S.NOTICES_ISSUED, objections=2, complaints=1)


def test_upheld_complaint_voids_every_award_act_since_the_report() -> None:
    history = [Step(e) for e in [*ENGINEERING_PATH[:4], E.REASSIGN_AWARD, E.ISSUE_NOTICES, E.SIGN_CONTRACT]]
    history += [Step(E.ACCEPT_COMPLAINT), Step(E.SUSPEND), Step(E.UPHOLD_COMPLAINT_REEVALUATE)]
    assert replay(history, ENG).shown is S.VOIDED
    assert [s.event for s in void_acts(history)] == [
        E.OPEN_PUBLICITY,
        E.CLOSE_PUBLICITY,
        E.CONFIRM_AWARD,
        E.ISSUE_NOTICES,
        E.REASSIGN_AWARD,
        E.ISSUE_NOTICES,
        E.SIGN_CONTRACT,
    ]
    assert void_acts(history[:-1]) == []  # not voided (yet)
    re_tender = [*history[:-1], Step(E.UPHOLD_COMPLAINT_RE_TENDER)]
    assert replay(re_tender, ENG).state is S.RE_TENDER
    assert len(void_acts(re_tender)) == 7


def test_a_stored_history_that_does_not_replay_is_refused() -> None:
    with pytest.raises(AwardRefused) as caught:
        replay([Step(E.OPEN_PUBLICITY), Step(E.SIGN_CONTRACT)], ENG)
    assert caught.value.rule == "contract_after_notice"


def test_legal_acts_need_the_right_signatures() -> None:
    signers = {t.event: t.signers for t in TRANSITIONS}
    assert signers[E.SIGN_CONTRACT] == (Actor.WINNER, Actor.TENDEREE)  # the winner first
    assert signers[E.CONFIRM_AWARD] == signers[E.ISSUE_NOTICES] == (Actor.TENDEREE,)
    assert signers[E.OPEN_PUBLICITY] == signers[E.FAIL] == signers[E.RE_TENDER] == (Actor.TENDEREE,)
    assert signers[E.FILE_OBJECTION] == (Actor.BIDDER,)
    assert signers[E.ANSWER_OBJECTION] == (Actor.TENDEREE,)
    for supervisor_act in (E.ACCEPT_COMPLAINT, E.SUSPEND, E.RESUME, E.UPHOLD_COMPLAINT_REEVALUATE):
        assert signers[supervisor_act] == (Actor.SUPERVISOR,)
    # Time passing and the archive are not a party's legal act.
    assert not BY_EVENT[E.CLOSE_PUBLICITY].legal_act
    assert BY_EVENT[E.CLOSE_PUBLICITY].actor is Actor.SWEEP
    assert not BY_EVENT[E.CLOSE].legal_act
    assert BY_EVENT[E.CONFIRM_AWARD].legal_act


def test_every_event_is_in_the_table_and_sources_are_active_states() -> None:
    assert set(BY_EVENT) == set(AwardEvent)
    for t in TRANSITIONS:
        for sector in Sector:
            assert t.sources_for(sector) <= ACTIVE


def test_allowed_events_are_what_a_page_offers() -> None:
    assert allowed_events(Position(), ENG) == [
        E.OPEN_PUBLICITY,
        E.FAIL,
        E.ACCEPT_COMPLAINT,
        E.SUSPEND,
    ]
    assert allowed_events(Position(), GP) == [E.CONFIRM_AWARD, E.FAIL, E.ACCEPT_COMPLAINT, E.SUSPEND]
    assert E.CONFIRM_AWARD not in allowed_events(Position(S.PUBLICITY_CLOSED, objections=1), ENG)
    assert allowed_events(Position(S.CLOSED), ENG) == []


@pytest.mark.parametrize(
    ("current", "target", "signers"),
    [
        (ComplaintState.FILED, ComplaintState.ACCEPTED, (Actor.SUPERVISOR,)),
        (ComplaintState.FILED, ComplaintState.REJECTED, (Actor.SUPERVISOR,)),
        (ComplaintState.ACCEPTED, ComplaintState.UPHELD, (Actor.SUPERVISOR,)),
        (ComplaintState.ACCEPTED, ComplaintState.DISMISSED, (Actor.SUPERVISOR,)),
        (ComplaintState.ACCEPTED, ComplaintState.WITHDRAWN, (Actor.BIDDER,)),
    ],
)
def test_complaint_steps(current: ComplaintState, target: ComplaintState, signers: tuple[Actor, ...]) -> None:
    assert complaint_transition(current, target) == signers


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (ComplaintState.FILED, ComplaintState.UPHELD),  # decided before it was accepted
        (ComplaintState.REJECTED, ComplaintState.ACCEPTED),
        (ComplaintState.UPHELD, ComplaintState.DISMISSED),
        (ComplaintState.WITHDRAWN, ComplaintState.ACCEPTED),
    ],
)
def test_complaint_steps_refused(current: ComplaintState, target: ComplaintState) -> None:
    with pytest.raises(AwardRefused) as caught:
        complaint_transition(current, target)
    assert (caught.value.field, caught.value.rule) == ("state", "complaint_state")
