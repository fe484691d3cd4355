"""The award stage's state machine, as data: the states, the events, who acts, who signs, and the
rule each refusal names. Pure: `transition` takes a position and an event and answers the next
position or raises `AwardRefused`; the service stores the position, checks time (`rules`) and the
parties (`succession`, `contract_rules`), signs and records.

**Progress.** Engineering: ``report_signed → publicity_open → publicity_closed → awarded →
notices_issued → contract_signed → closed`` (实施条例 Art. 54, 招标投标法 Art. 45-46). Government
procurement has no candidates' publicity: ``report_signed → awarded → notices_issued → contract_signed
→ closed``; its result announcement (87号令 Art. 69) is its own signed act, ``publish_announcement``,
once the winner is confirmed (at ``awarded`` or ``notices_issued``): journalled, it does not move the
progress state (the service keeps it once and stores its content, `announcement`), so the notices
can require it without a new state.

**Suspensions are conditions over the progress state, not a place in it**, so lifting one returns
exactly where the tender was: `Position.objections` counts the objections not yet answered (each
suspends the award where the sector's rules say so, 实施条例 Art. 54), `Position.suspended` is the
supervisor's order (实施条例 Art. 61, 政府采购法 Art. 57), `Position.complaints` counts the
complaints the supervisor accepted and has not decided (shown, suspending nothing by itself).
`Position.shown` is the state a page shows: ``suspended``, else ``objection_pending``, else
``complaint_accepted``, else the progress state.

**Ends.** ``closed`` (archived), ``failed`` (流标: no candidate left, all bids rejected) then
``re_tender``, ``voided`` (a complaint upheld: back to evaluation; every award step since the
report is void, `void_acts`) or ``re_tender`` directly (a complaint upheld that orders it, or the
tenderee's choice instead of the next candidate, 实施条例 Art. 55). A new evaluation starts a new award.

**Signatures.** A transition whose `Transition.signers` is not empty is a legal act (Order 20 Art.
40: notices, result and award notices, contracts; objections and the supervisor's decisions): the
service accepts it only with those parties' certificate signatures. ``close_publicity`` is the
sweep's (time passing), ``close`` the platform's (the archive, signed by the platform's checkpoint).

The GP 质疑 window (7 working days after the result announcement) lies after the award, so there
an objection can come before or after the notices and while the contract is being signed (the
service checks the window from the announcement, `rules.require_objection_in_time`); whether it suspends is
``rules.objection_suspends`` (no by default: the supervisor suspends).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final

from bidding.award.errors import AwardRefused
from bidding.award.rules import AwardRules, Sector, shipped_rules


class AwardState(StrEnum):
    REPORT_SIGNED = "report_signed"  # the evaluation report signed and published
    PUBLICITY_OPEN = "publicity_open"  # 中标候选人公示 (engineering)
    PUBLICITY_CLOSED = "publicity_closed"
    AWARDED = "awarded"  # 定标: the winner confirmed
    NOTICES_ISSUED = "notices_issued"  # 中标通知书 and 中标结果通知书 (GP: with the result announcement)
    CONTRACT_SIGNED = "contract_signed"  # signed by the winner, then the tenderee
    CLOSED = "closed"  # archived
    FAILED = "failed"  # 流标 (with its notice)
    RE_TENDER = "re_tender"  # 重新招标 (with its notice)
    VOIDED = "voided"  # a complaint upheld: back to evaluation, earlier award steps void
    # Shown only (`Position.shown`), never a progress state:
    OBJECTION_PENDING = "objection_pending"
    COMPLAINT_ACCEPTED = "complaint_accepted"
    SUSPENDED = "suspended"


PROGRESS: Final = frozenset(AwardState) - {
    AwardState.OBJECTION_PENDING,
    AwardState.COMPLAINT_ACCEPTED,
    AwardState.SUSPENDED,
}
TERMINAL: Final = frozenset({AwardState.CLOSED, AwardState.RE_TENDER, AwardState.VOIDED})
ACTIVE: Final = PROGRESS - TERMINAL
"""Where objections, complaints and the supervisor can still act (``failed`` included: its notice
can be complained about before the re-tender)."""


class Actor(StrEnum):
    TENDEREE = "tenderee"  # the tenderee or its agency
    BIDDER = "bidder"  # any bidder (an objection)
    WINNER = "winner"
    SUPERVISOR = "supervisor"  # the administrative supervisor (行政监督部门 / 财政部门)
    SWEEP = "sweep"  # time passing, on the database clock
    PLATFORM = "platform"


class AwardEvent(StrEnum):
    OPEN_PUBLICITY = "open_publicity"
    CLOSE_PUBLICITY = "close_publicity"
    CONFIRM_AWARD = "confirm_award"
    REASSIGN_AWARD = "reassign_award"  # the winner gave up, gave no performance security, ineligible
    ISSUE_NOTICES = "issue_notices"
    SIGN_CONTRACT = "sign_contract"  # the second (the tenderee's) signature completes it
    CLOSE = "close"
    FAIL = "fail"  # 流标
    RE_TENDER = "re_tender"
    FILE_OBJECTION = "file_objection"
    ANSWER_OBJECTION = "answer_objection"
    ACCEPT_COMPLAINT = "accept_complaint"
    DECIDE_COMPLAINT_CONTINUE = "decide_complaint_continue"  # dismissed, or upheld without effect on the result
    UPHOLD_COMPLAINT_REEVALUATE = "uphold_complaint_reevaluate"
    UPHOLD_COMPLAINT_RE_TENDER = "uphold_complaint_re_tender"
    SUSPEND = "suspend"
    RESUME = "resume"
    PUBLISH_ANNOUNCEMENT = "publish_announcement"  # GP 中标/成交结果公告: recorded, the progress state stays


class Effect(StrEnum):
    """What an event does besides (or instead of) moving the progress state."""

    MOVE = "move"
    OBJECTION_FILED = "objection_filed"
    OBJECTION_ANSWERED = "objection_answered"
    COMPLAINT_ACCEPTED = "complaint_accepted"
    COMPLAINT_DECIDED = "complaint_decided"
    SUSPEND = "suspend"
    RESUME = "resume"


S = AwardState
BOTH: Final = frozenset(Sector)
ENGINEERING: Final = frozenset({Sector.ENGINEERING})
GP: Final = frozenset({Sector.GOVERNMENT_PROCUREMENT})


@dataclass(frozen=True, slots=True)
class Transition:
    event: AwardEvent
    sources: frozenset[AwardState]
    """Progress states the event may start from (any sector in ``sectors``, unless ``by_sector``)."""
    target: AwardState | None
    """The next progress state; None: the progress state stays (``effect`` changes a condition)."""
    actor: Actor
    signers: tuple[Actor, ...]
    """Whose certificate signs the act (empty: not a legal act of a party)."""
    rule: str
    """The rule a refusal from another state names."""
    sectors: frozenset[Sector] = BOTH
    by_sector: tuple[tuple[Sector, frozenset[AwardState]], ...] = ()
    """Sources that differ by sector (replace ``sources`` for that sector)."""
    effect: Effect = Effect.MOVE
    blocked_by_suspension: bool = True
    """Refused while the supervisor's suspension holds."""
    blocked_by_objection: bool = True
    """Refused while an objection that suspends is unanswered."""
    voids: bool = False
    """Every award act since the report becomes void (`void_acts`)."""
    requires_quiet: bool = False
    """Refused while any objection or accepted complaint is open, suspending or not (the archive
    is written once, after everything is decided)."""

    @property
    def legal_act(self) -> bool:
        return bool(self.signers)

    def sources_for(self, sector: Sector) -> frozenset[AwardState]:
        for which, sources in self.by_sector:
            if which is sector:
                return sources
        return self.sources


_AFTER_AWARD: Final = frozenset({S.AWARDED, S.NOTICES_ISSUED})

TRANSITIONS: Final[tuple[Transition, ...]] = (
    Transition(
        AwardEvent.OPEN_PUBLICITY, frozenset({S.REPORT_SIGNED}), S.PUBLICITY_OPEN, Actor.TENDEREE,
        (Actor.TENDEREE,), rule="publicity_after_report", sectors=ENGINEERING,
    ),
    Transition(
        AwardEvent.CLOSE_PUBLICITY, frozenset({S.PUBLICITY_OPEN}), S.PUBLICITY_CLOSED, Actor.SWEEP,
        (), rule="publicity_open", sectors=ENGINEERING, blocked_by_suspension=False, blocked_by_objection=False,
    ),
    Transition(
        AwardEvent.CONFIRM_AWARD, frozenset({S.PUBLICITY_CLOSED}), S.AWARDED, Actor.TENDEREE,
        (Actor.TENDEREE,), rule="award_after_publicity",
        by_sector=((Sector.GOVERNMENT_PROCUREMENT, frozenset({S.REPORT_SIGNED})),),
    ),
    Transition(
        AwardEvent.REASSIGN_AWARD, _AFTER_AWARD, S.AWARDED, Actor.TENDEREE, (Actor.TENDEREE,), rule="award_first",
    ),
    Transition(
        AwardEvent.ISSUE_NOTICES, frozenset({S.AWARDED}), S.NOTICES_ISSUED, Actor.TENDEREE,
        (Actor.TENDEREE,), rule="notices_after_award",
    ),
    Transition(
        AwardEvent.SIGN_CONTRACT, frozenset({S.NOTICES_ISSUED}), S.CONTRACT_SIGNED, Actor.TENDEREE,
        (Actor.WINNER, Actor.TENDEREE), rule="contract_after_notice",
    ),
    Transition(
        AwardEvent.CLOSE, frozenset({S.CONTRACT_SIGNED}), S.CLOSED, Actor.PLATFORM, (), rule="close_after_contract",
        requires_quiet=True,
    ),
    Transition(
        AwardEvent.FAIL,
        frozenset({S.REPORT_SIGNED, S.PUBLICITY_CLOSED, S.AWARDED, S.NOTICES_ISSUED}),
        S.FAILED, Actor.TENDEREE, (Actor.TENDEREE,), rule="award_state",
    ),
    Transition(
        AwardEvent.RE_TENDER,
        frozenset({S.FAILED, S.PUBLICITY_CLOSED, S.AWARDED, S.NOTICES_ISSUED}),
        S.RE_TENDER, Actor.TENDEREE, (Actor.TENDEREE,), rule="award_state",
    ),
    Transition(
        AwardEvent.PUBLISH_ANNOUNCEMENT, _AFTER_AWARD, None, Actor.TENDEREE, (Actor.TENDEREE,),
        rule="announcement_after_award", sectors=GP,
    ),
    Transition(
        AwardEvent.FILE_OBJECTION, frozenset({S.PUBLICITY_OPEN}), None, Actor.BIDDER, (Actor.BIDDER,),
        rule="objection_period",
        by_sector=((Sector.GOVERNMENT_PROCUREMENT, frozenset({S.AWARDED, S.NOTICES_ISSUED, S.CONTRACT_SIGNED})),),
        effect=Effect.OBJECTION_FILED, blocked_by_suspension=False, blocked_by_objection=False,
    ),
    Transition(
        AwardEvent.ANSWER_OBJECTION, ACTIVE, None, Actor.TENDEREE, (Actor.TENDEREE,),
        rule="no_pending_objection", effect=Effect.OBJECTION_ANSWERED, blocked_by_suspension=False,
        blocked_by_objection=False,
    ),
    Transition(
        AwardEvent.ACCEPT_COMPLAINT, ACTIVE, None, Actor.SUPERVISOR, (Actor.SUPERVISOR,), rule="award_finished",
        effect=Effect.COMPLAINT_ACCEPTED, blocked_by_suspension=False, blocked_by_objection=False,
    ),
    Transition(
        AwardEvent.DECIDE_COMPLAINT_CONTINUE, ACTIVE, None, Actor.SUPERVISOR, (Actor.SUPERVISOR,),
        rule="no_accepted_complaint", effect=Effect.COMPLAINT_DECIDED, blocked_by_suspension=False,
        blocked_by_objection=False,
    ),
    Transition(
        AwardEvent.UPHOLD_COMPLAINT_REEVALUATE, ACTIVE, S.VOIDED, Actor.SUPERVISOR, (Actor.SUPERVISOR,),
        rule="no_accepted_complaint", effect=Effect.COMPLAINT_DECIDED, blocked_by_suspension=False,
        blocked_by_objection=False, voids=True,
    ),
    Transition(
        AwardEvent.UPHOLD_COMPLAINT_RE_TENDER, ACTIVE, S.RE_TENDER, Actor.SUPERVISOR, (Actor.SUPERVISOR,),
        rule="no_accepted_complaint", effect=Effect.COMPLAINT_DECIDED, blocked_by_suspension=False,
        blocked_by_objection=False, voids=True,
    ),
    Transition(
        AwardEvent.SUSPEND, ACTIVE, None, Actor.SUPERVISOR, (Actor.SUPERVISOR,), rule="award_finished",
        effect=Effect.SUSPEND, blocked_by_suspension=False, blocked_by_objection=False,
    ),
    Transition(
        AwardEvent.RESUME, ACTIVE, None, Actor.SUPERVISOR, (Actor.SUPERVISOR,), rule="not_suspended",
        effect=Effect.RESUME, blocked_by_suspension=False, blocked_by_objection=False,
    ),
)  # fmt: skip
BY_EVENT: Final = {t.event: t for t in TRANSITIONS}


@dataclass(frozen=True, slots=True)
class Position:
    """Where an award stands: its progress state and the conditions that hold it."""

    state: AwardState = AwardState.REPORT_SIGNED
    objections: int = 0
    """Objections filed and not answered."""
    complaints: int = 0
    """Complaints the supervisor accepted and has not decided."""
    suspended: bool = False
    """The supervisor's suspension (责令暂停)."""

    @property
    def shown(self) -> AwardState:
        if self.suspended:
            return AwardState.SUSPENDED
        if self.objections:
            return AwardState.OBJECTION_PENDING
        if self.complaints:
            return AwardState.COMPLAINT_ACCEPTED
        return self.state


def _check_conditions(position: Position, t: Transition, sector: Sector, rules: AwardRules) -> None:
    if t.blocked_by_suspension and position.suspended:
        raise AwardRefused("the supervisor has suspended the tender", field="event", rule="award_suspended")
    if t.blocked_by_objection and position.objections and rules.objection_suspends[sector]:
        raise AwardRefused(
            "an objection is unanswered: the award is suspended until it is answered",
            field="event",
            rule="objection_pending",
        )
    if t.requires_quiet and position.objections:
        raise AwardRefused("an objection is unanswered", field="event", rule="objection_pending")
    if t.requires_quiet and position.complaints:
        raise AwardRefused("an accepted complaint is undecided", field="event", rule="complaint_pending")


def _apply(position: Position, t: Transition) -> Position:  # noqa: C901, PLR0911 - one branch per effect
    moved = replace(position, state=t.target) if t.target is not None else position
    if t.effect is Effect.OBJECTION_FILED:
        return replace(moved, objections=position.objections + 1)
    if t.effect is Effect.OBJECTION_ANSWERED:
        if not position.objections:
            raise AwardRefused("no objection is waiting for an answer", field="event", rule=t.rule)
        return replace(moved, objections=position.objections - 1)
    if t.effect is Effect.COMPLAINT_ACCEPTED:
        return replace(moved, complaints=position.complaints + 1)
    if t.effect is Effect.COMPLAINT_DECIDED:
        if not position.complaints:
            raise AwardRefused("no accepted complaint is waiting for a decision", field="event", rule=t.rule)
        if t.voids:
            # The tender leaves this award: nothing of it holds any more.
            return Position(state=moved.state)
        return replace(moved, complaints=position.complaints - 1)
    if t.effect is Effect.SUSPEND:
        if position.suspended:
            raise AwardRefused("the tender is already suspended", field="event", rule="suspended_once")
        return replace(moved, suspended=True)
    if t.effect is Effect.RESUME:
        if not position.suspended:
            raise AwardRefused("the tender is not suspended", field="event", rule=t.rule)
        return replace(moved, suspended=False)
    return moved


def transition(
    position: Position, event: AwardEvent | str, sector: Sector, rules: AwardRules | None = None
) -> Position:
    """The position after ``event``, or `AwardRefused` naming the rule (module docstring)."""
    rules = rules or shipped_rules()
    try:
        t = BY_EVENT[AwardEvent(event)]
    except ValueError:
        raise AwardRefused(f"{event!r} is not an event of the award stage", field="event", rule="choice") from None
    if position.state in TERMINAL:
        raise AwardRefused(f"the award has ended ({position.state.value})", field="event", rule="award_finished")
    if sector not in t.sectors:
        raise AwardRefused(
            f"{t.event.value} is not a step of a {sector.value} tender", field="event", rule="award_sector"
        )
    if position.state not in t.sources_for(sector):
        raise AwardRefused(f"{t.event.value} is not possible at {position.state.value}", field="event", rule=t.rule)
    _check_conditions(position, t, sector, rules)
    return _apply(position, t)


def allowed_events(position: Position, sector: Sector, rules: AwardRules | None = None) -> list[AwardEvent]:
    """The events `transition` would accept now (what a page offers)."""
    found = []
    for t in TRANSITIONS:
        try:
            transition(position, t.event, sector, rules)
        except AwardRefused:
            continue
        found.append(t.event)
    return found


@dataclass(frozen=True, slots=True)
class Step:
    """One recorded transition of an award (what the service keeps, in order)."""

    event: AwardEvent
    at: str = ""
    """When, as the service recorded it (ISO text; only carried along here)."""


VOIDABLE: Final = frozenset(
    {
        AwardEvent.OPEN_PUBLICITY,
        AwardEvent.CLOSE_PUBLICITY,
        AwardEvent.CONFIRM_AWARD,
        AwardEvent.REASSIGN_AWARD,
        AwardEvent.ISSUE_NOTICES,
        AwardEvent.SIGN_CONTRACT,
        AwardEvent.PUBLISH_ANNOUNCEMENT,
    }
)
"""The award's own acts: what an upheld complaint makes void (the objections, complaints and the
supervisor's acts stay on the record as what happened)."""


def void_acts(history: Sequence[Step]) -> list[Step]:
    """The acts a voiding decision at the end of ``history`` makes void: every award act since the
    report (publicity, award, reassignments, notices, contract), in order; empty when the history
    does not end in a voiding decision.
    """
    if not history or not BY_EVENT[history[-1].event].voids:
        return []
    return [step for step in history[:-1] if step.event in VOIDABLE]


def replay(history: Sequence[Step], sector: Sector, rules: AwardRules | None = None) -> Position:
    """The position ``history`` leads to from the report, every step checked (a stored history that
    no longer replays is refused with the rule of the first step that fails).
    """
    position = Position()
    for step in history:
        position = transition(position, step.event, sector, rules)
    return position


class ComplaintState(StrEnum):
    """One complaint (投诉) at the supervisor: filed → accepted or rejected (不予受理); accepted →
    upheld or dismissed; withdrawn by the complainant before the decision.
    """

    FILED = "filed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UPHELD = "upheld"
    DISMISSED = "dismissed"
    WITHDRAWN = "withdrawn"


COMPLAINT_TRANSITIONS: Final[dict[tuple[ComplaintState, ComplaintState], tuple[Actor, ...]]] = {
    # (from, to) → who signs
    (ComplaintState.FILED, ComplaintState.ACCEPTED): (Actor.SUPERVISOR,),
    (ComplaintState.FILED, ComplaintState.REJECTED): (Actor.SUPERVISOR,),
    (ComplaintState.FILED, ComplaintState.WITHDRAWN): (Actor.BIDDER,),
    (ComplaintState.ACCEPTED, ComplaintState.UPHELD): (Actor.SUPERVISOR,),
    (ComplaintState.ACCEPTED, ComplaintState.DISMISSED): (Actor.SUPERVISOR,),
    (ComplaintState.ACCEPTED, ComplaintState.WITHDRAWN): (Actor.BIDDER,),
}
"""A complaint's steps and whose certificate signs each (filing itself is signed by the bidder)."""


def complaint_transition(current: ComplaintState, target: ComplaintState) -> tuple[Actor, ...]:
    """Who signs the move from ``current`` to ``target``; `AwardRefused` (``complaint_state``) when
    the move is not one of a complaint's.
    """
    signers = COMPLAINT_TRANSITIONS.get((current, target))
    if signers is None:
        raise AwardRefused(
            f"a complaint that is {current.value} cannot become {target.value}", field="state", rule="complaint_state"
        )
    return signers
