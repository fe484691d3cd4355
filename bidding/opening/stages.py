"""The opening session's state machine (开标, Order 20 Art. 29–32) and what is read from it.

Stages run 签到 sign-in → 解密 decryption → 唱标 price reading → 确认 confirmation → 结束 closed.
Here: the session's creation at the deadline (`start_opening`, in the deadline sweep's
transaction, 流标 when too few bids), entering a stage (`enter_stage`) and the decryption window's
end (`close_decryption_window`), shared by the host's requests (`bidding.opening.service`) and the
sweep (`advance_if_due`, run by `bidding.opening.jobs.OpeningClock`), and the readings both
publish: the price table and the opening record's data. Every function works inside the caller's
transaction; none commits.

唱标 starts as soon as every price summary is settled (opened, or the bid decided without it) and
then carries the rest of the decryption window as its clock, so the price table does not wait for
the packages; packages are accepted until the window's end.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client.sdk import price_table_sha256 as sdk_price_table_sha256
from bidding.models import Bid, BidVersion, Tender, TenderStatus
from bidding.opening import repository
from bidding.opening.events import publish_after_commit
from bidding.opening.models import (
    FINAL_OUTCOMES,
    OpeningBid,
    OpeningSession,
    Outcome,
    PartStatus,
    Stage,
)
from bidding.visibility import OpeningPolicy
from certs.canonical import canonical_json
from trading.kernel import tasks
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound
from trading.ledger.models import LedgerChainHead
from trading.ledger.service import append_entry, chain_for, request_checkpoint
from trading.parties.models import Organisation

bid_rows = repository.bid_rows

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


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def add_timeline_event(opening: OpeningSession, event: str, now: datetime, actor: Actor, **extra: Any) -> None:
    events = list((opening.timeline or {}).get("events", []))
    events.append({"event": event, "stage": opening.stage.value, "at": now.isoformat(), "by": actor.label, **extra})
    opening.timeline = {"events": events}


def price_row(row: OpeningBid, lot_code: str) -> dict[str, Any]:
    """One line of the price table (唱标): the bidder, the outcome and, when read out, the prices."""
    line: dict[str, Any] = {
        "lot": lot_code,
        "bidder": row.bidder_uscc,
        "bidderName": row.bidder_name,
        "outcome": row.outcome.value,
        "cause": row.cause,
    }
    if row.price_status is PartStatus.OPENED and row.price_summary is not None:
        summary = row.price_summary
        line.update(
            {
                "currency": summary.get("currency"),
                "totalPrice": summary.get("totalPrice"),
                "durationDays": summary.get("durationDays"),
                "items": summary.get("items", []),
            }
        )
    return line


def price_table_sha256(table: Sequence[Mapping[str, Any]]) -> str:
    """The digest bidders confirm (`bidding.client.format.confirmation_statement`); the client
    recomputes it with the same function before it signs.
    """
    return sdk_price_table_sha256(table)


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
    for row in await bid_rows(session, opening, lock=True):
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


async def decryption_progress(session: AsyncSession, opening: OpeningSession) -> dict[str, int]:
    """How far the opening's decryption is, counted in the database (one query, no rows loaded)."""
    total, prices, packages, opened, prices_pending, undecided = await repository.decryption_counts(session, opening.id)
    return {
        "total": total,
        "pricesOpened": prices,
        "packagesOpened": packages,
        "opened": opened,
        "pricesPending": prices_pending,
        "undecided": undecided,
    }


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


async def price_table(session: AsyncSession, opening: OpeningSession) -> list[dict[str, Any]]:
    lots = {lot.id: lot for lot in await repository.lots_of_tender(session, opening.tender_id)}
    rows = await bid_rows(session, opening)
    rows.sort(key=lambda r: (lots[r.lot_id].position, r.bidder_name))
    return [price_row(row, lots[row.lot_id].code) for row in rows]


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "is_finite"):  # Decimal
        return str(value)
    return value


def _visible_line(policy: OpeningPolicy | None, row: OpeningBid, lot_code: str) -> dict[str, Any]:
    line = price_row(row, lot_code)
    return line if policy is None else policy.price_line(line, row.organisation_id)


async def opening_record(session: AsyncSession, code: str, policy: OpeningPolicy | None = None) -> dict[str, Any]:
    """Everything the opening record (开标记录) shows: tender, lots, host, timeline, each bidder's
    outcome with its price summary, objections and answers, confirmations, the ledger chain head.

    With a ``policy`` only what its caller may see at the current stage (`bidding.visibility`):
    the bids, prices, objections and confirmations of others are left out before 唱标. Without
    one, everything (the record is rendered only once the opening is closed).
    """
    tender = await repository.tender_by_code(session, code)
    if tender is None:
        raise NotFound(f"no tender {code}", field="tender", rule="exists")
    opening = await repository.opening_of_tender(session, tender.id)
    if opening is None:
        raise NotFound(f"tender {code} has no opening yet", field="opening", rule="exists")
    lots = await repository.lots_of_tender(session, tender.id)
    organisations = await repository.organisations_by_id(
        session,
        {opening.host_organisation_id, tender.tenderee_organisation_id}
        | ({tender.agency_organisation_id} if tender.agency_organisation_id else set()),
    )
    rows = await bid_rows(session, opening)
    names = {row.organisation_id: row.bidder_name for row in rows}
    objections = await repository.objections_of(session, opening.id)
    if policy is not None:
        objections = [o for o in objections if policy.sees_objection(o.organisation_id)]
    confirmations = await repository.confirmations_by_organisation(session, opening.id)
    head = await session.get(LedgerChainHead, chain_for(code))
    bidders = sorted({(row.organisation_id, row.bidder_uscc, row.bidder_name) for row in rows}, key=lambda b: b[2])
    host = organisations.get(opening.host_organisation_id)
    return {
        "tender": {
            "code": tender.project_code,
            "title": tender.title,
            "category": tender.category.value,
            "deadline": iso(tender.deadline),
            "tenderee": organisations[tender.tenderee_organisation_id].name
            if tender.tenderee_organisation_id in organisations
            else None,
            "agency": organisations[tender.agency_organisation_id].name
            if tender.agency_organisation_id and tender.agency_organisation_id in organisations
            else None,
            "keyHolders": {
                "n": len(tender.key_holders.get("holders", [])),
                "k": tender.key_holders.get("threshold"),
                "remedy": bool(tender.key_holders.get("remedy")),
            },
        },
        "lots": [
            {"code": lot.code, "name": lot.name, "estimate": str(lot.estimate), **opening.lots.get(lot.code, {})}
            for lot in lots
        ],
        "host": {"organisation": host.name if host else None, "uscc": host.uscc if host else None},
        "stage": opening.stage.value,
        "failedReason": opening.failed_reason,
        "createdAt": iso(opening.created_at),
        "closedAt": iso(opening.closed_at),
        "timeline": (opening.timeline or {}).get("events", []),
        "bids": [
            {
                **_visible_line(policy, row, next(lot.code for lot in lots if lot.id == row.lot_id)),
                "priceOpenedAt": iso(row.price_opened_at),
                "packageOpenedAt": iso(row.package_opened_at),
                "packageSha256": row.package_sha256,
                "incident": row.incident,
                "signedInAt": iso(row.signed_in_at),
            }
            for row in sorted(
                rows, key=lambda r: (next(lot.position for lot in lots if lot.id == r.lot_id), r.bidder_name)
            )
            if policy is None or policy.sees_row(row.organisation_id)
        ],
        "objections": [
            {
                "id": str(o.id),
                "bidder": names.get(o.organisation_id),
                "text": o.text,
                "filedAt": iso(o.filed_at),
                "signerSha256": o.signer_sha256,
                "answer": o.answer,
                "answeredAt": iso(o.answered_at),
            }
            for o in objections
        ],
        "confirmations": [
            {
                "bidder": uscc,
                "bidderName": name,
                "confirmed": organisation_id in confirmations,
                "confirmedAt": iso(confirmations[organisation_id].confirmed_at)
                if organisation_id in confirmations
                else None,
                "signerSha256": confirmations[organisation_id].signer_sha256
                if organisation_id in confirmations
                else None,
                # 87号令 Art. 42: a bidder who does not confirm by the end accepts the result.
                "deemedAccepted": organisation_id not in confirmations and opening.stage is Stage.CLOSED,
            }
            for organisation_id, uscc, name in bidders
            if policy is None or policy.sees_row(organisation_id)
        ],
        "ledger": {
            "chain": chain_for(code),
            "head": head.entry_hash.hex() if head is not None else None,
            "sequence": head.seq if head is not None else None,
        },
    }
