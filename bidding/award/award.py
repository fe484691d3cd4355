"""The award decision (定标, 实施条例 Art. 55; GP 87号令 Art. 68): the tenderee confirms the winner,
passes a winner over for a recorded reason, or declares the tender failed (流标). Each is a legal
act signed with the tenderee's (or agency's) certificate: a detached CAdES signature over
`bidding.client.format.award_decision_statement`.

* **The order** is fixed once, at the first decision, from the evaluation's published result
  (`succession.decide_order` under the tender's published rule, `award_rule`: the ranking when it
  published none; a result of unranked recommendations without a rule is refused ``award_rule``;
  a draw or a vote is fixed first by `fix_order` with the revealed seed or the votes) and stored
  as `Award.order_record`; later decisions rebuild it from the record, never re-rank.
* **Confirm** (`confirm_award`): the state machine (``award_after_publicity``: engineering after
  the publicity closed; GP from the report), then `succession.check_award` (``not_a_candidate``,
  ``candidate_dropped``, ``first_remaining_candidate``: the order binds), then the signature.
* **Pass over** (`pass_over`): the awarded candidate gave up, gave no performance security, is
  ineligible… (`succession.DropReason`, with a note): recorded in `Award.passed_over`; the next
  remaining candidate is awarded (``reassign_award``) or, none left, the tender fails
  (``fail``, rule ``candidates_exhausted`` in the ledger).
* **Fail** (`fail_award`): 流标 by the tenderee (e.g. every bid rejected).
* **Re-tender** (`re_tender`): 重新招标 (after 流标, or instead of the next candidate), signed.

Every decision is an `AwardStep` and a ledger entry on the tender's chain; the award's milestone
asks for a checkpoint. A decision that names a winner (confirm, reassign) enqueues integrity's
award-time screen by name (`SCREEN_AWARD_TASK`, after commit; integrity is never imported here).
Services only flush; the request or job owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import announcement, award_rule, publicity
from bidding.award.errors import AwardRefused
from bidding.award.models import Award
from bidding.award.states import AwardEvent, AwardState, transition
from bidding.award.succession import (
    AwardRule,
    Candidate,
    Chosen,
    DrawInput,
    Dropped,
    DropReason,
    Order,
    PublishedRule,
    candidates_for,
    check_award,
    current,
    decide_order,
    drop,
)
from bidding.client import format as fmt
from bidding.models import Bid, BidStatus, Tender
from trading.kernel import clock, tasks
from trading.kernel.auth.identity import Actor
from trading.kernel.calendar_versions import load_calendar
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry, request_checkpoint
from trading.parties.models import Organisation

NOTE_MAX: Final = 2000
SUBJECT: Final = "award.award"
SCREEN_AWARD_TASK: Final = "integrity.screen_award"
"""Integrity's price screens that need the winner (PRICE-CEILING), run once a winner is decided."""
"""The ledger subject of an award (the same as `publicity.SUBJECT`)."""


class Decision(StrEnum):
    CONFIRM = "confirm"
    PASS_OVER = "pass_over"  # noqa: S105 - a decision, not a password
    FAIL = "fail"
    RE_TENDER = "re_tender"


async def order_of(session: AsyncSession, award: Award) -> Order:
    """The order of succession: rebuilt from the stored record, or decided from the result now
    under the tender's published rule (`award_rule`; the ranking when it published none).
    """
    result = await publicity.result_for(session, award)
    published = await award_rule.published_rule(session, award.tender_id)
    if award.order_record:
        recorded = PublishedRule(AwardRule(award.order_record.get("rule", "ranked")))
        by_bid = {c.bid: c for c in candidates_for(result, recorded)}
        ordered = tuple(by_bid[bid] for bid in award.order_record.get("order", []) if bid in by_bid)
        return Order(recorded.rule, ordered, dict(award.order_record))
    return decide_order(candidates_for(result, published), published)


async def fix_order(
    session: AsyncSession, actor: Actor, award_id: uuid.UUID, *, seed: str = "", votes: Mapping[str, str] | None = None
) -> Award:
    """评定分离: fix the order by the tender's published rule with what 定标 reveals: the draw's
    seed (checked against the commitment published with the rule, ``seed_commitment``) or the
    committee's votes (voter → bid, every published voter; `succession.decide_order`). Before the
    first confirmation, once; recorded on the award and in the ledger (``award.order_decided``).
    """
    award, tender = await _owned(session, actor, award_id)
    transition(publicity.position_of(award), AwardEvent.CONFIRM_AWARD, award.sector, publicity.rules_of(award))
    if award.order_record:
        raise AwardRefused("the order of succession is already fixed", field="order", rule="award_order_fixed")
    row = await award_rule.rule_of(session, tender.id)
    published = award_rule.published_of(row)
    if published.rule is AwardRule.RANKED:
        raise AwardRefused(
            "the tender published no 评定分离 rule: the committee's ranking is the order",
            field="rule",
            rule="award_rule",
        )
    result = await publicity.result_for(session, award)
    draw = None
    if award_rule.uses_draw(row) and row is not None and (seed.strip() or published.rule is AwardRule.DRAW):
        draw = DrawInput(seed.strip(), row.seed_sha256 or "", f"{tender.project_code} {award.lot_group}")
    cast = {str(k).strip(): str(v).strip() for k, v in (votes or {}).items() if str(v).strip()}
    order = decide_order(
        candidates_for(result, published),
        published,
        votes=cast if published.rule is AwardRule.COMMITTEE_VOTE else None,
        draw=draw,
    )
    award.order_record = dict(order.record)
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="award.order_decided",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary=dict(order.record),
        project_code=tender.project_code,
    )
    return award


async def re_tender(
    session: AsyncSession, settings: Settings, actor: Actor, award_id: uuid.UUID, *, reason: str, signature: str
) -> Award:
    """重新招标 (实施条例 Art. 55; after 流标, or instead of the next candidate), signed by the
    tenderee over `decision_statement` (``re_tender``, the reason); the reason is recorded and
    published on the tender's award page.
    """
    award, tender = await _owned(session, actor, award_id)
    after = transition(publicity.position_of(award), AwardEvent.RE_TENDER, award.sector, publicity.rules_of(award))
    reason = reason.strip()
    if not reason or len(reason) > NOTE_MAX:
        raise AwardRefused(f"a reason has 1–{NOTE_MAX} characters", field="reason", rule="length")
    now = await clock.now(session)
    statement = await decision_statement(session, award, Decision.RE_TENDER, "", reason)
    _, signer, _ = await publicity.verify_owner_signature(
        session, settings, actor, statement, signature, now=now, rule="award_signer", what="the decision"
    )
    award.chosen_bid_id = None
    award.chosen_organisation_id = None
    details = {"signer_sha256": signer, "reason": reason}
    await publicity.record_step(
        session, award, AwardEvent.RE_TENDER, after, actor=actor, now=now, signer_sha256=signer, details=details
    )
    await append_entry(
        session,
        actor=actor,
        action="award.re_tendered",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary=details,
        project_code=tender.project_code,
    )
    request_checkpoint(session, milestone="award", project_code=tender.project_code)
    return award


def dropped_of(award: Award) -> list[Dropped]:
    return [
        Dropped(str(d["bid"]), DropReason(d["reason"]), str(d.get("note", "")))
        for d in (award.passed_over or {}).get("dropped", [])
    ]


_OPENING_BIDS = sa.table("bidding_opening_bids", sa.column("id", sa.Uuid()), sa.column("bid_id", sa.Uuid()))
"""The opening's bids, read as a table (the award does not import the opening)."""
REVOKED_NOTE: Final = "the bidder revoked its bid after the deadline (撤销, 实施条例 Art. 35)"


async def revoked_of(session: AsyncSession, order: Order) -> list[Dropped]:
    """The candidates whose bidder revoked the bid after the deadline (`bidding.intake.revocation`):
    skipped as if passed over (a revocation is final, so the order stays the same on every reading),
    never recorded in ``passed_over``: the claim's trigger is the revocation, not a drop reason.
    """
    ids = [uuid.UUID(c.bid) for c in order.candidates]
    if not ids:
        return []
    rows = await session.scalars(
        sa.select(_OPENING_BIDS.c.id)
        .join(Bid, Bid.id == _OPENING_BIDS.c.bid_id)
        .where(_OPENING_BIDS.c.id.in_(ids), Bid.status == BidStatus.REVOKED)
    )
    return [Dropped(str(opening_bid), DropReason.GAVE_UP, REVOKED_NOTE) for opening_bid in rows]


_CHOOSING: Final = frozenset(
    {
        AwardState.REPORT_SIGNED,
        AwardState.PUBLICITY_OPEN,
        AwardState.PUBLICITY_CLOSED,
        AwardState.AWARDED,
        AwardState.NOTICES_ISSUED,
    }
)
"""The states in which a winner's revocation leaves the tenderee a choice to make."""


@dataclass(frozen=True, slots=True)
class RevokedWinner:
    """The winner the tenderee is about to confirm, or has confirmed, revoked its bid (撤销)."""

    bid: str
    """The candidate (the opening's bid id)."""
    name: str
    revoked_at: datetime
    confirmed: bool
    """Confirmed as the winner (pass over or re-tender), else the first candidate of the order (the
    next one is offered for confirmation, or re-tender)."""


async def revoked_winner(session: AsyncSession, award: Award) -> RevokedWinner | None:
    """The confirmed winner, or before confirmation the first candidate not passed over, when its
    bidder revoked the bid after the deadline: what the owners' pages tell the tenderee, who chooses
    (实施条例 Art. 55; GP 87号令 Art. 69): the next candidate in order, or a new tender. Nothing is
    decided here (never an automatic reassignment). None when the order is not fixed yet (评定分离)
    or the award is past choosing (the contract signed, failed, re-tendered, voided).
    """
    if publicity.position_of(award).state not in _CHOOSING:
        return None
    try:
        order = await order_of(session, award)
    except AwardRefused:
        return None
    if award.chosen_bid_id is not None:
        candidate = order.candidate(str(award.chosen_bid_id))
        confirmed = True
    else:
        first = current(order, dropped_of(award))
        candidate = first.winner if isinstance(first, Chosen) else None
        confirmed = False
    if candidate is None:
        return None
    revoked_at = await session.scalar(
        sa.select(Bid.updated_at)
        .join(_OPENING_BIDS, _OPENING_BIDS.c.bid_id == Bid.id)
        .where(_OPENING_BIDS.c.id == uuid.UUID(candidate.bid), Bid.status == BidStatus.REVOKED)
    )
    if revoked_at is None:
        return None
    return RevokedWinner(candidate.bid, candidate.name, revoked_at, confirmed)


async def decision_statement(
    session: AsyncSession, award: Award, decision: Decision, bid: str = "", reason: str = ""
) -> bytes:
    """The exact statement the tenderee signs for ``decision`` (what the page shows)."""
    tender = await session.get_one(Tender, award.tender_id)
    candidate = (await order_of(session, award)).candidate(bid) if bid else None
    uscc = candidate.uscc if candidate is not None else ""
    return fmt.award_decision_statement(
        tender.project_code, award.lot_group, decision.value, bid=bid, bidder=uscc, reason=reason
    )


async def _owned(session: AsyncSession, actor: Actor, award_id: uuid.UUID) -> tuple[Award, Tender]:
    award = await publicity.locked(session, award_id)
    tender = await session.get_one(Tender, award.tender_id)
    if not publicity.is_tenderee(actor, tender) or actor.user_id is None:
        raise PermissionDenied("only the tenderee or its agency decides the award", field="actor", rule="owner")
    return award, tender


async def _organisation_of(session: AsyncSession, candidate: Candidate) -> uuid.UUID | None:
    return await session.scalar(sa.select(Organisation.id).where(Organisation.uscc == candidate.uscc))


async def confirm_award(
    session: AsyncSession, settings: Settings, actor: Actor, award_id: uuid.UUID, *, bid: str, signature: str
) -> Award:
    """Confirm candidate ``bid`` as the winner (module docstring); refusals name the rule, nothing stored."""
    award, tender = await _owned(session, actor, award_id)
    after = transition(publicity.position_of(award), AwardEvent.CONFIRM_AWARD, award.sector, publicity.rules_of(award))
    order = await order_of(session, award)
    revoked = await revoked_of(session, order)
    if any(r.bid == bid.strip() for r in revoked):
        raise AwardRefused(
            f"{bid.strip()}: the bidder revoked its bid after the deadline", field="bid", rule="candidate_revoked"
        )
    chosen = check_award(order, [*dropped_of(award), *revoked], bid.strip())
    now = await clock.now(session)
    statement = await decision_statement(session, award, Decision.CONFIRM, chosen.bid)
    _, signer, _ = await publicity.verify_owner_signature(
        session, settings, actor, statement, signature, now=now, rule="award_signer", what="the award"
    )
    award.order_record = dict(order.record)
    award.chosen_bid_id = uuid.UUID(chosen.bid)
    award.chosen_organisation_id = await _organisation_of(session, chosen)
    award.awarded_at = now
    announcement.schedule(award, await load_calendar(session), now)
    summary = {"bid": chosen.bid, "bidder_uscc": chosen.uscc, "price": str(chosen.price), "signer_sha256": signer}
    await publicity.record_step(
        session, award, AwardEvent.CONFIRM_AWARD, after, actor=actor, now=now, signer_sha256=signer, details=summary
    )
    await append_entry(
        session,
        actor=actor,
        action="award.confirmed",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary=summary | {"order": list(order.record.get("order", []))},
        project_code=tender.project_code,
    )
    tasks.enqueue(session, SCREEN_AWARD_TASK, award_id=str(award.id))
    request_checkpoint(session, milestone="award", project_code=tender.project_code)
    return award


async def pass_over(
    session: AsyncSession,
    settings: Settings,
    actor: Actor,
    award_id: uuid.UUID,
    *,
    reason: str,
    note: str,
    signature: str,
) -> Award:
    """Pass the awarded candidate over for ``reason``: the next remaining one is awarded, or the
    tender fails when none is left (module docstring).
    """
    award, tender = await _owned(session, actor, award_id)
    rules = publicity.rules_of(award)
    position = publicity.position_of(award)
    transition(position, AwardEvent.REASSIGN_AWARD, award.sector, rules)  # refuses before an award
    if award.chosen_bid_id is None:  # pragma: no cover - an awarded award has its winner
        raise AwardRefused("no candidate is awarded", field="bid", rule="award_first")
    if len(note) > NOTE_MAX:
        raise AwardRefused(f"a note has at most {NOTE_MAX} characters", field="note", rule="length")
    order = await order_of(session, award)
    dropped = dropped_of(award)
    passed = drop(order, dropped, str(award.chosen_bid_id), reason, note.strip())
    now = await clock.now(session)
    statement = await decision_statement(session, award, Decision.PASS_OVER, passed.bid, passed.reason.value)
    _, signer, _ = await publicity.verify_owner_signature(
        session, settings, actor, statement, signature, now=now, rule="award_signer", what="the decision"
    )
    award.passed_over = {
        "dropped": [
            *(award.passed_over or {}).get("dropped", []),
            {"bid": passed.bid, "reason": passed.reason.value, "note": passed.note, "at": now.isoformat()},
        ]
    }
    following = current(order, [*dropped, passed, *await revoked_of(session, order)])
    details = {"passed_over": passed.bid, "reason": passed.reason.value, "signer_sha256": signer}
    if isinstance(following, Chosen):
        after = transition(position, AwardEvent.REASSIGN_AWARD, award.sector, rules)
        winner = following.winner
        award.chosen_bid_id = uuid.UUID(winner.bid)
        award.chosen_organisation_id = await _organisation_of(session, winner)
        award.awarded_at = now
        details |= {"bid": winner.bid, "bidder_uscc": winner.uscc, "price": str(winner.price)}
        event = AwardEvent.REASSIGN_AWARD
    else:
        after = transition(position, AwardEvent.FAIL, award.sector, rules)
        award.chosen_bid_id = None
        award.chosen_organisation_id = None
        details |= {"rule": following.rule}
        event = AwardEvent.FAIL
    await publicity.record_step(
        session, award, event, after, actor=actor, now=now, signer_sha256=signer, details=details
    )
    if event is AwardEvent.REASSIGN_AWARD:
        tasks.enqueue(session, SCREEN_AWARD_TASK, award_id=str(award.id))
        await append_entry(
            session,
            actor=actor,
            action="award.reassigned",
            subject_type=SUBJECT,
            subject_id=str(award.id),
            summary=details,
            data={"note": passed.note},
            project_code=tender.project_code,
        )
    else:
        await append_entry(
            session,
            actor=actor,
            action="award.failed",
            subject_type=SUBJECT,
            subject_id=str(award.id),
            summary=details,
            data={"note": passed.note},
            project_code=tender.project_code,
        )
    request_checkpoint(session, milestone="award", project_code=tender.project_code)
    return award


async def fail_award(
    session: AsyncSession, settings: Settings, actor: Actor, award_id: uuid.UUID, *, reason: str, signature: str
) -> Award:
    """流标 by the tenderee (e.g. every bid rejected), signed; the reason is recorded."""
    award, tender = await _owned(session, actor, award_id)
    after = transition(publicity.position_of(award), AwardEvent.FAIL, award.sector, publicity.rules_of(award))
    reason = reason.strip()
    if not reason or len(reason) > NOTE_MAX:
        raise AwardRefused(f"a reason has 1–{NOTE_MAX} characters", field="reason", rule="length")
    now = await clock.now(session)
    statement = await decision_statement(session, award, Decision.FAIL, "", reason)
    _, signer, _ = await publicity.verify_owner_signature(
        session, settings, actor, statement, signature, now=now, rule="award_signer", what="the decision"
    )
    award.chosen_bid_id = None
    award.chosen_organisation_id = None
    details = {"signer_sha256": signer, "by": "tenderee", "reason": reason}
    await publicity.record_step(
        session, award, AwardEvent.FAIL, after, actor=actor, now=now, signer_sha256=signer, details=details
    )
    await append_entry(
        session,
        actor=actor,
        action="award.failed",
        subject_type=SUBJECT,
        subject_id=str(award.id),
        summary=details,
        data={"reason": reason},
        project_code=tender.project_code,
    )
    return award
