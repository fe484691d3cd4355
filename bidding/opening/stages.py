"""The opening session's state machine (开标, Order 20 Art. 29–32) and what is read from it.

Stages run 签到 sign-in → 解密 decryption → 唱标 price reading → 确认 confirmation → 结束 closed;
a tender whose evaluation needs random coefficients has 抽取系数 coefficient-draw between 唱标 and
确认 (`stages_of`; the seeds are committed in `start_opening`, `bidding.opening.coefficients`).
Here: the session's creation at the deadline (`start_opening`, in the deadline sweep's
transaction, 流标 when too few bids), entering a stage (`enter_stage`) and the decryption window's
end (`close_decryption_window`), shared by the host's requests (`bidding.opening.service`) and the
sweep (`advance_if_due`, run by `bidding.opening.jobs.OpeningClock`), and the readings both
publish (`bidding.opening.readings`: the price table and the opening record's data). Every
function works inside the caller's transaction; none commits.

唱标 starts as soon as every price summary is settled (opened, or the bid decided without it) and
then carries the rest of the decryption window as its clock, so the price table does not wait for
the packages; packages are accepted until the window's end.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding import coefficients as tender_coefficients
from bidding.models import Bid, BidVersion, Tender, TenderStatus
from bidding.opening import coefficients, repository
from bidding.opening.events import publish_after_commit
from bidding.opening.models import (
    FINAL_OUTCOMES,
    OpeningBid,
    OpeningSession,
    Outcome,
    PartStatus,
    Stage,
)
from bidding.opening.readings import jsonable, opening_record, price_table, price_table_sha256
from bidding.opening_stage import stage_order
from certs.canonical import canonical_json
from trading.kernel import tasks
from trading.kernel.auth.identity import Actor
from trading.ledger.service import append_entry, request_checkpoint
from trading.parties.models import Organisation

SIGN_IN_MINUTES: Final = 15
CONFIRMATION_MINUTES: Final = 30
OBJECTION_MINUTES: Final = 15
"""Defaults for tenders whose rule snapshot predates the rule (`bidding.rules.TenderRules`)."""
RENDER_RECORD_TASK: Final = "bidding.render_opening_record"
"""Renders, signs and stores the opening record after the close commits (`bidding.opening.record`)."""
WINDOW_STAGES: Final = frozenset({Stage.DECRYPTION, Stage.PRICE_READING})
"""Stages during which the decryption window may run: 唱标 starts as soon as every price summary is
settled, and packages go on being decrypted until the window's end."""


# --- pure helpers ---------------------------------------------------------------------------------


def host_of(tender: Tender) -> uuid.UUID:
    """The opening's host: the tender's agency if it has one, else the tenderee."""
    return tender.agency_organisation_id or tender.tenderee_organisation_id


def stage_minutes(tender: Tender, stage: Stage) -> int | None:
    """How long a stage runs by itself (None: it waits for the host)."""
    rules = tender.rules or {}
    if stage is Stage.SIGN_IN:
        return int(rules.get("opening_sign_in_minutes", SIGN_IN_MINUTES))
    if stage is Stage.DECRYPTION:
        return tender.decryption_window_minutes
    if stage is Stage.CONFIRMATION:
        return int(rules.get("opening_confirmation_minutes", CONFIRMATION_MINUTES))
    return None


def stages_of(tender: Tender) -> tuple[Stage, ...]:
    """The tender's stages in order: with 抽取系数 when it needs random coefficients."""
    return stage_order(coefficients=tender_coefficients.needs_draw(tender.evaluation_criteria))


def next_stage(tender: Tender, stage: Stage) -> Stage | None:
    """The stage after ``stage`` for this tender (None once closed)."""
    order = stages_of(tender)
    if stage not in order or stage is Stage.CLOSED:
        return None
    return order[order.index(stage) + 1]


def sign_in_required(tender: Tender) -> bool:
    """Only a signed-in bidder decrypts (rule ``opening_sign_in_required``, default on)."""
    return bool((tender.rules or {}).get("opening_sign_in_required", True))


def price_reading_started_at(opening: OpeningSession) -> datetime | None:
    """When 唱标 began (the price table's publication), from the timeline."""
    for event in (opening.timeline or {}).get("events", []):
        if event.get("event") == "stage" and event.get("stage") == Stage.PRICE_READING.value:
            return datetime.fromisoformat(str(event["at"]))
    return None


def earliest_close(tender: Tender, opening: OpeningSession) -> datetime | None:
    """The opening may not close before the minimum objection window (from 唱标) and the minimum
    confirmation window (from the confirmation stage's start) have both run: the host cannot cut
    them short (实施条例 Art. 44, 87号令 Art. 42). None outside the confirmation stage.
    """
    if opening.stage is not Stage.CONFIRMATION:
        return None
    rules = tender.rules or {}
    confirmation = int(rules.get("opening_confirmation_minutes", CONFIRMATION_MINUTES))
    objection = int(rules.get("opening_objection_minutes", OBJECTION_MINUTES))
    ends = opening.stage_started_at + timedelta(minutes=confirmation)
    read_out = price_reading_started_at(opening)
    if read_out is not None:
        ends = max(ends, read_out + timedelta(minutes=objection))
    return ends


def objections_open(tender: Tender, opening: OpeningSession, now: datetime) -> bool:
    """Objections are filed until the confirmation stage ends: its clock, or, when the tender sets
    no minimum windows (zero), until the host closes. Once the clock ran out (the sweep may have
    deferred the close over unanswered objections) no new one is filed.
    """
    if opening.stage is Stage.CLOSED:
        return False
    if opening.stage is not Stage.CONFIRMATION or opening.paused_at is not None:
        return True
    if opening.stage_ends_at is not None:
        return now < opening.stage_ends_at
    ends = earliest_close(tender, opening)
    return ends is None or ends <= opening.stage_started_at


def add_timeline_event(opening: OpeningSession, event: str, now: datetime, actor: Actor, **extra: Any) -> None:
    events = list((opening.timeline or {}).get("events", []))
    events.append({"event": event, "stage": opening.stage.value, "at": now.isoformat(), "by": actor.label, **extra})
    opening.timeline = {"events": events}


# --- creation at the deadline (called by the deadline sweep, in its transaction) --------------------


async def start_opening(session: AsyncSession, tender: Tender, now: datetime) -> OpeningSession:
    """Create the tender's opening as it closes: in sign-in when a lot has enough bids, else 流标.

    A lot with fewer than ``rules["min_bidders"]`` (default 3) submitted bids does not open; when no
    lot opens, the tender becomes ``failed`` and the session is born closed with the reason.
    """
    minimum = int((tender.rules or {}).get("min_bidders", 3))
    lots = await repository.lots_of_tender(session, tender.id)
    rows = await repository.submitted_bids(session, tender.id)
    by_lot: dict[uuid.UUID, list[tuple[Bid, BidVersion, Organisation]]] = {lot.id: [] for lot in lots}
    for bid, version, organisation in rows:
        by_lot.setdefault(bid.lot_id, []).append((bid, version, organisation))
    lot_states: dict[str, Any] = {}
    for lot in lots:
        count = len(by_lot[lot.id])
        if count >= minimum:
            lot_states[lot.code] = {"bids": count, "status": "opening"}
        else:
            lot_states[lot.code] = {
                "bids": count,
                "status": "failed",
                "reason": f"{count} bid(s) at the deadline, fewer than the {minimum} required (流标)",
            }
    opening_lots = [lot for lot in lots if lot_states[lot.code]["status"] == "opening"]
    system = Actor.system()
    opening = OpeningSession(
        tender_id=tender.id,
        host_organisation_id=host_of(tender),
        stage=Stage.SIGN_IN,
        stage_started_at=now,
        lots=lot_states,
        timeline={"events": []},
        created_at=now,
        updated_at=now,
    )
    if not opening_lots:
        reason = f"fewer than {minimum} bids in every lot at the deadline: the opening does not proceed (流标)"
        opening.stage = Stage.CLOSED
        opening.failed_reason = reason
        opening.closed_at = now
        add_timeline_event(opening, "failed", now, system, reason=reason)
        tender.status = TenderStatus.FAILED
        tender.updated_at = now
        session.add(opening)
        await session.flush()
        await append_entry(
            session,
            actor=system,
            action="bidding.tender_failed",
            subject_type="bidding.tender",
            subject_id=str(tender.id),
            summary={
                "rule": "min-bidders",
                "minBidders": minimum,
                "lots": {k: v["bids"] for k, v in lot_states.items()},
            },
            data={"reason": reason, "lots": lot_states},
            project_code=tender.project_code,
        )
        publish_after_commit(session, tender.project_code, {"type": "failed", "state": "failed", "at": now})
        return opening
    minutes = stage_minutes(tender, Stage.SIGN_IN)
    opening.stage_ends_at = now + timedelta(minutes=minutes) if minutes else None
    opening.next_check = opening.stage_ends_at
    add_timeline_event(opening, "created", now, system)
    tender.status = TenderStatus.OPENING
    tender.updated_at = now
    session.add(opening)
    await session.flush()
    for lot in opening_lots:
        for bid, version, organisation in by_lot[lot.id]:
            session.add(
                OpeningBid(
                    session_id=opening.id,
                    bid_id=bid.id,
                    version_id=version.id,
                    lot_id=lot.id,
                    organisation_id=organisation.id,
                    bidder_uscc=organisation.uscc,
                    bidder_name=organisation.name,
                    price_status=PartStatus.SEALED,
                    package_status=PartStatus.SEALED,
                    outcome=Outcome.PENDING,
                    failed_attempts=0,
                    updated_at=now,
                )
            )
    await session.flush()
    # The random coefficients' seeds are committed now, before any price is known (抽取系数 later).
    await coefficients.commit(session, opening, tender, now)
    await append_entry(
        session,
        actor=system,
        action="bidding.opening_started",
        subject_type="bidding.opening",
        subject_id=str(opening.id),
        summary={"stage": Stage.SIGN_IN.value, "lots": {k: v["status"] for k, v in lot_states.items()}},
        data={"lots": lot_states, "host": str(opening.host_organisation_id), "endsAt": opening.stage_ends_at},
        project_code=tender.project_code,
    )
    publish_after_commit(
        session,
        tender.project_code,
        {"type": "stage", "state": Stage.SIGN_IN.value, "at": now, "endsAt": opening.stage_ends_at},
    )
    return opening


# --- transitions (shared by the host's requests and the sweep) --------------------------------------


async def enter_stage(
    session: AsyncSession, opening: OpeningSession, tender: Tender, stage: Stage, *, now: datetime, actor: Actor
) -> None:
    """Move to ``stage``: its own clock starts, the timeline, the ledger and the hall learn of it."""
    previous = opening.stage
    window_end = opening.stage_ends_at if opening.decryption_closed_at is None else None
    opening.stage = stage
    opening.stage_started_at = now
    minutes = stage_minutes(tender, stage)
    opening.stage_ends_at = now + timedelta(minutes=minutes) if minutes else None
    if stage is Stage.PRICE_READING and window_end is not None:
        # 唱标 began before every package was open: the rest of the decryption window is its clock.
        opening.stage_ends_at = window_end
    if stage is Stage.CONFIRMATION:
        # The confirmation stage lasts until both minimum windows have run (objections from 唱标).
        ends = earliest_close(tender, opening)
        opening.stage_ends_at = ends if ends is not None and ends > now else None
    opening.next_check = opening.stage_ends_at
    opening.updated_at = now
    if stage is Stage.CLOSED:
        opening.closed_at = now
        opening.next_check = None
    add_timeline_event(opening, "stage", now, actor, previous=previous.value)
    await session.flush()
    summary: dict[str, Any] = {"from": previous.value, "to": stage.value}
    data: dict[str, Any] = {**summary, "endsAt": opening.stage_ends_at}
    if stage is Stage.PRICE_READING:
        table = await price_table(session, opening)
        summary["priceTableSha256"] = price_table_sha256(table)
        data["priceTable"] = table
    if stage is Stage.CLOSED:
        record = await opening_record(session, tender.project_code)
        summary["recordSha256"] = hashlib.sha256(canonical_json(jsonable(record))).hexdigest()
        # The PDF record is rendered after this commits, outside the row locks (bidding.opening.record).
        tasks.enqueue(session, RENDER_RECORD_TASK, code=tender.project_code)
    await append_entry(
        session,
        actor=actor,
        action="bidding.opening_stage_changed",
        subject_type="bidding.opening",
        subject_id=str(opening.id),
        summary=summary,
        data=data,
        project_code=tender.project_code,
    )
    if stage is Stage.CLOSED:
        # A legal milestone: the opening's record is signed by a checkpoint right after commit.
        request_checkpoint(session, milestone="opening_closed", project_code=tender.project_code)
    publish_after_commit(
        session,
        tender.project_code,
        {"type": "stage", "state": stage.value, "at": now, "endsAt": opening.stage_ends_at},
    )


async def decide_bid(
    session: AsyncSession,
    row: OpeningBid,
    outcome: Outcome,
    cause: str,
    *,
    now: datetime,
    actor: Actor,
    code: str,
    **data: Any,
) -> None:
    """Give a bid its outcome at the opening, with its cause, on the row and in the ledger."""
    row.outcome = outcome
    row.cause = cause
    row.updated_at = now
    await session.flush()
    await append_entry(
        session,
        actor=actor,
        action="bidding.opening_bid_outcome",
        subject_type="bidding.opening_bid",
        subject_id=str(row.id),
        summary={"bidder": row.bidder_uscc, "outcome": outcome.value},
        data={"cause": cause, **data},
        project_code=code,
    )


async def close_decryption_window(
    session: AsyncSession, opening: OpeningSession, tender: Tender, now: datetime, actor: Actor
) -> bool:
    """The window's end: every bid not opened gets its outcome. True when every price summary is
    settled (none waits for the key holders' escrow), so that 唱标 may start.
    """
    remedy = bool(tender.key_holders.get("remedy")) and bool(tender.key_holders.get("holders"))
    waiting = False
    for row in await repository.bid_rows(session, opening, lock=True):
        if row.outcome is not Outcome.PENDING:
            waiting = waiting or not price_settled(row)
            continue
        if row.incident is not None and remedy:
            outcome = Outcome.ESCROW_PENDING
            cause = (
                f"platform-side cause recorded by the host: {row.incident['cause']};"
                " the key holders' escrow may open it"
            )
        elif row.incident is not None:
            outcome = Outcome.WITHDRAWN
            cause = f"not decrypted for a platform-side cause (撤回): {row.incident['cause']}"
        else:
            missing = "the price summary" if row.price_status is PartStatus.SEALED else "the package"
            outcome = Outcome.REVOKED
            cause = f"no valid content key for {missing} within the decryption window: the bidder's fault (撤销)"
        await decide_bid(
            session,
            row,
            outcome,
            cause,
            now=now,
            actor=actor,
            code=tender.project_code,
            incident=row.incident,
            failedAttempts=row.failed_attempts,
        )
        waiting = waiting or not price_settled(row)
    opening.decryption_closed_at = now
    opening.stage_ends_at = None
    opening.next_check = None
    opening.updated_at = now
    add_timeline_event(opening, "decryption-window-closed", now, actor)
    await session.flush()
    publish_after_commit(
        session, tender.project_code, {"type": "window-closed", "state": opening.stage.value, "at": now}
    )
    return not waiting


def price_settled(row: OpeningBid) -> bool:
    """Its price summary is open, or the bid is decided without it: it no longer holds up 唱标."""
    return row.price_status is PartStatus.OPENED or row.outcome in FINAL_OUTCOMES


async def advance_if_due(session: AsyncSession, opening_id: uuid.UUID, now: datetime) -> bool:
    """The sweep's step for one session: lock, re-check, act. True when something changed."""
    opening = await repository.opening_locked(session, opening_id)
    if opening is None or opening.next_check is None or opening.next_check > now:
        return False
    if opening.paused_at is not None or opening.stage is Stage.CLOSED or opening.stage_ends_at is None:
        opening.next_check = None
        await session.flush()
        return False
    if opening.stage_ends_at > now:
        opening.next_check = opening.stage_ends_at
        await session.flush()
        return False
    tender = await session.get_one(Tender, opening.tender_id)
    system = Actor.system()
    if opening.stage is Stage.SIGN_IN:
        await enter_stage(session, opening, tender, Stage.DECRYPTION, now=now, actor=system)
    elif opening.stage is Stage.DECRYPTION:
        if await close_decryption_window(session, opening, tender, now, system):
            await enter_stage(session, opening, tender, Stage.PRICE_READING, now=now, actor=system)
    elif opening.stage is Stage.CONFIRMATION:
        unanswered = await repository.unanswered_objections(session, opening.id)
        if unanswered:
            # The record cannot close over an unanswered objection (实施条例 Art. 44): the host closes.
            opening.stage_ends_at = None
            opening.next_check = None
            add_timeline_event(opening, "close-waits-for-answers", now, system, unanswered=unanswered)
            await session.flush()
            await append_entry(
                session,
                actor=system,
                action="bidding.opening_close_deferred",
                subject_type="bidding.opening",
                subject_id=str(opening.id),
                summary={"rule": "objections-unanswered", "unanswered": int(unanswered)},
                project_code=tender.project_code,
            )
        else:
            await enter_stage(session, opening, tender, Stage.CLOSED, now=now, actor=system)
    elif opening.stage is Stage.PRICE_READING and opening.decryption_closed_at is None:
        # The window carried into 唱标 ends: packages not opened by now get their outcome.
        await close_decryption_window(session, opening, tender, now, system)
    else:  # pragma: no cover - price reading has no clock of its own
        opening.next_check = None
        await session.flush()
        return False
    return True


# --- reading ------------------------------------------------------------------------------------------
