"""The opening hall's requests (开标, Order 20 Art. 29–32): the host's transitions, pause and
incidents, the bidders' sign-in and online decryption, the key holders' escrow, objections and
confirmations, and the hall's view.

The state machine they drive (stages, the window's end, the price table, the record's data) is
`bidding.opening.stages`, shared with the sweep (`bidding.opening.jobs`). The database clock decides
every window; the host (the tender's agency, else the tenderee) moves the stages that wait for a
person. Pause keeps the stage and carries the remaining time over to the resume.

Like `bidding.intake.IntakeService`, `OpeningService` opens its own short units of work: opening a
package is file and crypto work that no transaction should span. A decryption is checked against
the window at the start (fail fast) and again, under the session row's lock, in the transaction
that records it: the database time of that commit decides, so a decryption either lands inside the
window or is refused, and the window's end (which takes the same lock) sees it or not at all.

Every change appends a ledger entry on the project chain and publishes a small event after commit
(`bidding.opening.events`). Every refusal names field and rule and is recorded in the ledger in a
transaction of its own before it is answered (the refused request's own transaction rolls back).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import structlog
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.errors import NotABidder, NotTheHost, OpeningRefused, OpeningStateConflict
from bidding.models import BidVersion, Lot, Tender
from bidding.opening import decryption, remedy, repository
from bidding.opening.batching import GroupCommit, Waiting
from bidding.opening.decryption import OpenFailed, StoredBid
from bidding.opening.events import publish_after_commit
from bidding.opening.models import (
    FINAL_OUTCOMES,
    READ_OUT,
    STAGE_ORDER,
    Confirmation,
    Objection,
    OpeningBid,
    OpeningSession,
    Outcome,
    PartStatus,
    ReleasedShare,
    Stage,
)
from bidding.opening.stages import (
    WINDOW_STAGES,
    add_timeline_event,
    bid_rows,
    decide_bid,
    decryption_progress,
    earliest_close,
    enter_stage,
    iso,
    jsonable,
    objections_open,
    opening_record,
    price_settled,
    price_table,
    price_table_sha256,
    sign_in_required,
)
from bidding.policies import BiddingPermission
from bidding.visibility import OpeningPolicy
from certs.envelope.threshold import Share
from certs.errors import Refused
from certs.pathval.identity import Party
from certs.sign.cades import DetachedSignature, verify_detached
from certs.trustlist.model import Usage
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict, DomainError, NotFound, PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.ledger.service import append_entry
from trading.parties.trust import signer_party

log = structlog.get_logger(__name__)
T = TypeVar("T")


def _b64decode(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise OpeningRefused(f"{field} must be base64", field=field, rule="base64") from None


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


MAX_TEXT: Final = 4000
MAX_CAUSE: Final = 1000


@dataclass(frozen=True)
class _Decrypted:
    """A decryption checked outside any transaction, waiting to be recorded (`GroupCommit`)."""

    actor: Actor
    code: str
    lot: str
    part: str
    row_id: uuid.UUID
    opened: decryption.OpenedPart
    summary: dict[str, Any] | None
    via: str = "key"
    """``key`` (the bidder's content key) or ``backup`` (the backup channel, `bidding.opening.remedy`)."""


# --- the service ----------------------------------------------------------------------------------


class OpeningService:
    """The opening hall's operations for hosts, bidders, key holders and viewers."""

    def __init__(self, session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore) -> None:
        self.session_maker = session_maker
        self.settings = settings
        self.store = store
        self._decryptions: GroupCommit[OpeningBid] = GroupCommit(self._record_decryptions)

    # --- lookups and checks ---

    @staticmethod
    async def _load(session: AsyncSession, code: str, *, lock: bool = False) -> tuple[Tender, OpeningSession]:
        tender = await repository.tender_by_code(session, code)
        if tender is None:
            raise NotFound(f"no tender {code}", field="tender", rule="exists")
        opening = await repository.opening_of_tender(session, tender.id, lock=lock)
        if opening is None:
            raise OpeningStateConflict(
                f"tender {code} has no opening: the bid deadline has not passed", field="tender", rule="opening-exists"
            )
        return tender, opening

    @staticmethod
    def _check_host(actor: Actor, opening: OpeningSession) -> None:
        if not actor.has(BiddingPermission.OPENING_HOST) or actor.organisation_id != opening.host_organisation_id:
            raise NotTheHost(
                "only the opening's host (the tender's agency, else the tenderee) may do this; the attempt is recorded",
                field="actor",
                rule="host-only",
            )

    @staticmethod
    async def _check_bidder(session: AsyncSession, opening: OpeningSession, actor: Actor) -> None:
        """The caller's organisation has a bid at this opening: checked before anything else, so an
        organisation without a seat learns nothing of the hall's state from the refusal.
        """
        if actor.organisation_id is None or not await repository.has_seat(session, opening.id, actor.organisation_id):
            raise NotABidder(
                "the caller's organisation has no bid at this opening; the attempt is recorded",
                field="actor",
                rule="not-a-bidder",
            )

    @staticmethod
    def _check_not_paused(opening: OpeningSession) -> None:
        if opening.paused_at is not None:
            raise OpeningStateConflict("the opening is paused", field="stage", rule="paused")

    @staticmethod
    def _check_window(opening: OpeningSession, now: datetime | None, part: str) -> None:
        """The decryption window runs: price summaries during 解密, packages also during 唱标 (which
        starts once every price summary is settled and carries the window's end as its clock).
        Without ``now`` only the state is checked (the fail-fast check before the crypto; the
        time is checked where the decryption is recorded).
        """
        stages = WINDOW_STAGES if part == fmt.PACKAGE else {Stage.DECRYPTION}
        if (
            opening.stage not in stages
            or opening.decryption_closed_at is not None
            or opening.stage_ends_at is None
            or (now is not None and now >= opening.stage_ends_at)
        ):
            if opening.paused_at is not None and opening.stage in stages and opening.decryption_closed_at is None:
                raise OpeningStateConflict("the decryption window is paused", field="stage", rule="paused")
            raise OpeningRefused(
                f"decryption of the {part} is possible only inside the decryption window;"
                f" the opening is at {opening.stage.value}",
                field="stage",
                rule="decryption-window",
            )

    @staticmethod
    async def _own_row(
        session: AsyncSession, opening: OpeningSession, actor: Actor, lot: str, *, lock: bool
    ) -> OpeningBid:
        row = await repository.organisation_bid_in_lot(session, opening.id, lot, actor.organisation_id, lock=lock)
        if row is None:
            raise OpeningRefused(
                f"the caller's organisation has no bid at this opening for lot {lot}", field="lot", rule="not-a-bidder"
            )
        return row

    @staticmethod
    async def _row_of(
        session: AsyncSession, opening: OpeningSession, lot: str, bidder: str, *, lock: bool
    ) -> OpeningBid:
        row = await repository.bidder_bid_in_lot(session, opening.id, lot, bidder, lock=lock)
        if row is None:
            raise OpeningRefused(
                f"{bidder} has no bid at this opening for lot {lot}", field="bidder", rule="not-a-bidder"
            )
        return row

    async def _stored(self, session: AsyncSession, row: OpeningBid, tender: Tender) -> StoredBid:
        version = await session.get_one(BidVersion, row.version_id)
        lot = await session.get_one(Lot, row.lot_id)
        return self._stored_of(version, tender, lot.code, row)

    def _stored_of(self, version: BidVersion, tender: Tender, lot: str, row: OpeningBid) -> StoredBid:
        if version.storage_key is None or version.parts is None or version.manifest is None:  # pragma: no cover
            raise OpeningStateConflict("the bid version has no container", field="bid", rule="container")
        record = fmt_json(version.receipt)
        return StoredBid(
            path=self.store.path(version.storage_key),
            parts=version.parts,
            manifest=fmt.parse_manifest(version.manifest),
            tender=tender.project_code,
            lot=lot,
            bidder=row.bidder_uscc,
            deadline=datetime.fromisoformat(str(record["deadline"])),
        )

    async def _verify_signer(
        self, session: AsyncSession, data: bytes, signature: bytes, now: datetime, field: str
    ) -> tuple[DetachedSignature, Party]:
        """A detached CAdES signature over ``data`` whose signer validates now (trust list, bid-signature)."""
        try:
            signed = verify_detached(data, signature)
        except Refused as refusal:
            raise OpeningRefused(
                f"the signature does not verify: {refusal.text}", field=field, rule=refusal.reason.value
            ) from None
        try:
            party = await signer_party(session, self.settings, signed, usage=Usage.BID_SIGNATURE, at=now)
        except Refused as refusal:
            raise OpeningRefused(
                f"the signing certificate is not accepted: {refusal.text}", field=field, rule=refusal.reason.value
            ) from None
        return signed, party

    async def _verify_bidder_signature(
        self, session: AsyncSession, data: bytes, signature: bytes, *, uscc: str, now: datetime
    ) -> DetachedSignature:
        signed, party = await self._verify_signer(session, data, signature, now, "signature")
        if party.identifier != uscc:
            raise OpeningRefused(
                f"signed by {party.name} ({party.identifier}), not by the bidder",
                field="signature",
                rule="signer-not-bidder",
            )
        return signed

    async def _audited(
        self, actor: Actor, code: str, step: str, call: Callable[[], Awaitable[T]], *, lot: str | None = None
    ) -> T:
        """Run ``call``; a refusal is recorded in the ledger (own transaction) and then raised."""
        try:
            return await call()
        except DomainError as refusal:
            if not (isinstance(refusal, NotFound) and refusal.field == "tender"):
                await self._record_refusal(actor, code, step, refusal, lot=lot)
            raise

    async def _record_refusal(
        self, actor: Actor, code: str, step: str, refusal: DomainError, *, lot: str | None
    ) -> None:
        async with transaction(self.session_maker, lock=True) as session:
            tender = await repository.tender_by_code(session, code)
            if tender is None:
                return
            now = await clock.now(session)
            if lot is not None and actor.organisation_id is not None:
                row = await repository.organisation_bid_at_tender_locked(session, tender.id, lot, actor.organisation_id)
                if row is not None and step == "decryption":
                    row.failed_attempts += 1
                    row.last_refusal = {"field": refusal.field, "rule": refusal.rule, "at": now.isoformat()}
                    row.updated_at = now
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action=f"bidding.opening_{step}_refused",
                subject_type="bidding.tender",
                subject_id=str(tender.id),
                summary={"field": refusal.field, "rule": refusal.rule, "code": refusal.code, "lot": lot},
                data={"message": refusal.message},
                project_code=code,
            )
        log.info("bidding.opening_refused", tender=code, step=step, rule=refusal.rule)

    # --- the host ---

    async def advance(self, actor: Actor, code: str, to: Stage) -> OpeningSession:
        """The host moves the opening to the next stage (``to`` must be the next one)."""
        return await self._audited(actor, code, "host", lambda: self._advance(actor, code, to))

    async def _advance(self, actor: Actor, code: str, to: Stage) -> OpeningSession:
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self._load(session, code, lock=True)
            self._check_host(actor, opening)
            self._check_not_paused(opening)
            now = await clock.now(session)
            if opening.stage is Stage.CLOSED or STAGE_ORDER.index(to) != STAGE_ORDER.index(opening.stage) + 1:
                raise OpeningStateConflict(
                    f"the opening is at {opening.stage.value}; it cannot move to {to.value}",
                    field="stage",
                    rule="next-stage",
                )
            if opening.stage in WINDOW_STAGES:
                # Leaving 解密 needs every price summary settled; leaving 唱标, every bid decided;
                # either way the window may have ended instead. What the escrow has not opened by
                # then (and holds up the stage) is withdrawn.
                if opening.decryption_closed_at is None:
                    progress = await decryption_progress(session, opening)
                    waiting = progress["pricesPending" if opening.stage is Stage.DECRYPTION else "undecided"]
                    if waiting:
                        raise OpeningStateConflict(
                            "the decryption window runs until its end or until every bid is decrypted",
                            field="stage",
                            rule="decryption-window-running",
                        )
                    if progress["undecided"] == 0:
                        opening.decryption_closed_at = now
                for row in await bid_rows(session, opening, lock=True):
                    holds_up = opening.stage is Stage.PRICE_READING or not price_settled(row)
                    if row.outcome is Outcome.ESCROW_PENDING and holds_up:
                        cause = (
                            "not decrypted for a platform-side cause (撤回): "
                            f"{row.incident['cause'] if row.incident else ''};"
                            " the escrow remedy was not completed (fewer than k shares)"
                        )
                        await decide_bid(session, row, Outcome.WITHDRAWN, cause, now=now, actor=actor, code=code)
            if to is Stage.CLOSED:
                await self._check_may_close(session, tender, opening, now)
            await enter_stage(session, opening, tender, to, now=now, actor=actor)
            return opening

    @staticmethod
    async def _check_may_close(session: AsyncSession, tender: Tender, opening: OpeningSession, now: datetime) -> None:
        """The host closes only once the minimum objection and confirmation windows have run
        (`stages.earliest_close`, or the stage's own end when a pause moved it) and every
        objection is answered.
        """
        earliest = max(
            (t for t in (earliest_close(tender, opening), opening.stage_ends_at) if t is not None), default=None
        )
        if earliest is not None and now < earliest:
            raise OpeningStateConflict(
                "bidders object and confirm for at least the tender's minimum windows"
                f" (objections from 唱标, confirmation); the opening closes from {earliest.isoformat()}",
                field="stage",
                rule="minimum-windows",
            )
        unanswered = await repository.unanswered_objections(session, opening.id)
        if unanswered:
            raise OpeningStateConflict(
                f"{unanswered} objection(s) are not answered yet", field="objections", rule="objections-unanswered"
            )

    async def pause(self, actor: Actor, code: str, reason: str) -> OpeningSession:
        return await self._audited(actor, code, "host", lambda: self._pause(actor, code, reason))

    async def _pause(self, actor: Actor, code: str, reason: str) -> OpeningSession:
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self._load(session, code, lock=True)
            self._check_host(actor, opening)
            if opening.paused_at is not None or opening.stage is Stage.CLOSED:
                raise OpeningStateConflict("the opening is closed or already paused", field="stage", rule="pausable")
            now = await clock.now(session)
            remaining = (
                max(0, int((opening.stage_ends_at - now).total_seconds()))
                if opening.stage_ends_at is not None
                else None
            )
            opening.paused_at = now
            opening.remaining_seconds = remaining
            opening.stage_ends_at = None
            opening.next_check = None
            opening.updated_at = now
            add_timeline_event(opening, "paused", now, actor, reason=reason[:500], remainingSeconds=remaining)
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_paused",
                subject_type="bidding.opening",
                subject_id=str(opening.id),
                summary={"stage": opening.stage.value, "remainingSeconds": remaining},
                data={"reason": reason},
                project_code=tender.project_code,
            )
            publish_after_commit(
                session,
                code,
                {"type": "paused", "state": opening.stage.value, "at": now, "remainingSeconds": remaining},
            )
            return opening

    async def resume(self, actor: Actor, code: str) -> OpeningSession:
        return await self._audited(actor, code, "host", lambda: self._resume(actor, code))

    async def _resume(self, actor: Actor, code: str) -> OpeningSession:
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self._load(session, code, lock=True)
            self._check_host(actor, opening)
            if opening.paused_at is None:
                raise OpeningStateConflict("the opening is not paused", field="stage", rule="paused")
            now = await clock.now(session)
            paused_for = int((now - opening.paused_at).total_seconds())
            if opening.remaining_seconds is not None:
                opening.stage_ends_at = now + timedelta(seconds=opening.remaining_seconds)
                opening.next_check = opening.stage_ends_at
            opening.paused_at = None
            opening.remaining_seconds = None
            opening.updated_at = now
            add_timeline_event(opening, "resumed", now, actor, pausedSeconds=paused_for)
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_resumed",
                subject_type="bidding.opening",
                subject_id=str(opening.id),
                summary={"stage": opening.stage.value, "pausedSeconds": paused_for},
                data={"endsAt": opening.stage_ends_at},
                project_code=tender.project_code,
            )
            publish_after_commit(
                session,
                code,
                {"type": "resumed", "state": opening.stage.value, "at": now, "endsAt": opening.stage_ends_at},
            )
            return opening

    async def record_incident(self, actor: Actor, code: str, *, lot: str, bidder: str, cause: str) -> OpeningBid:
        """The host records a platform-side cause for a bidder's failure to decrypt, during the window."""
        return await self._audited(
            actor, code, "host", lambda: self._record_incident(actor, code, lot=lot, bidder=bidder, cause=cause)
        )

    async def _record_incident(self, actor: Actor, code: str, *, lot: str, bidder: str, cause: str) -> OpeningBid:
        cause = cause.strip()
        if not cause or len(cause) > MAX_CAUSE:
            raise OpeningRefused("the cause is 1–1000 characters", field="cause", rule="length")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self._load(session, code, lock=True)
            self._check_host(actor, opening)
            if opening.stage not in WINDOW_STAGES or opening.decryption_closed_at is not None:
                raise OpeningRefused(
                    "incidents are recorded during the decryption window", field="stage", rule="decryption-window"
                )
            row = await self._row_of(session, opening, lot, bidder, lock=True)
            if row.outcome in FINAL_OUTCOMES:
                raise OpeningStateConflict(
                    f"the bid is already {row.outcome.value}", field="bidder", rule="outcome-final"
                )
            now = await clock.now(session)
            row.incident = {"cause": cause, "by": actor.label, "at": now.isoformat()}
            row.updated_at = now
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_incident_recorded",
                subject_type="bidding.opening_bid",
                subject_id=str(row.id),
                summary={"bidder": row.bidder_uscc, "lot": lot},
                data={"cause": cause},
                project_code=tender.project_code,
            )
            publish_after_commit(session, code, {"type": "incident", "state": opening.stage.value, "at": now})
            return row

    async def answer_objection(self, actor: Actor, code: str, objection_id: uuid.UUID, answer: str) -> Objection:
        return await self._audited(actor, code, "host", lambda: self._answer(actor, code, objection_id, answer))

    async def _answer(self, actor: Actor, code: str, objection_id: uuid.UUID, answer: str) -> Objection:
        answer = answer.strip()
        if not answer or len(answer) > MAX_TEXT:
            raise OpeningRefused(f"the answer is 1–{MAX_TEXT} characters", field="answer", rule="length")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self._load(session, code, lock=True)
            self._check_host(actor, opening)
            if opening.stage is Stage.CLOSED:
                raise OpeningStateConflict("the opening is closed", field="stage", rule="objection-window")
            objection = await repository.objection_locked(session, opening.id, objection_id)
            if objection is None:
                raise NotFound("no such objection at this opening", field="objection", rule="exists")
            if objection.answer is not None:
                raise Conflict("the objection is already answered", field="objection", rule="answered-once")
            now = await clock.now(session)
            objection.answer = answer
            objection.answered_by = actor.user_id
            objection.answered_at = now
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_objection_answered",
                subject_type="bidding.opening_objection",
                subject_id=str(objection.id),
                summary={"objection": str(objection.id)},
                data={"answer": answer},
                project_code=tender.project_code,
            )
            publish_after_commit(session, code, {"type": "objection-answered", "state": opening.stage.value, "at": now})
            return objection

    # --- bidders ---

    async def sign_in(self, actor: Actor, code: str, signature: str) -> list[OpeningBid]:
        """A bidder signs in to the hall (签到, domain-rules §2.1: with a CA signature), signed over
        `format.sign_in_statement` (tender, bidder, action); recorded on each of its bids here.
        """
        return await self._audited(actor, code, "sign_in", lambda: self._sign_in(actor, code, signature))

    async def _sign_in(self, actor: Actor, code: str, signature: str) -> list[OpeningBid]:
        signature_der = _b64decode(signature, "signature")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self._load(session, code)
            await self._check_bidder(session, opening, actor)
            if opening.stage not in {Stage.SIGN_IN, Stage.DECRYPTION}:
                raise OpeningStateConflict("sign-in is over", field="stage", rule="sign-in")
            rows = [
                r for r in await bid_rows(session, opening, lock=True) if r.organisation_id == actor.organisation_id
            ]
            if not rows:
                raise OpeningRefused(
                    "the caller's organisation has no bid at this opening", field="actor", rule="not-a-bidder"
                )
            now = await clock.now(session)
            statement = fmt.sign_in_statement(code, rows[0].bidder_uscc)
            signature_check = await self._verify_bidder_signature(
                session, statement, signature_der, uscc=rows[0].bidder_uscc, now=now
            )
            for row in rows:
                row.signed_in_at = row.signed_in_at or now
                row.updated_at = now
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_signed_in",
                subject_type="bidding.tender",
                subject_id=str(tender.id),
                summary={
                    "bidder": rows[0].bidder_uscc,
                    "signer": _fingerprint(signature_check.signer_certificate),
                    "statementSha256": hashlib.sha256(statement).hexdigest(),
                },
                data={"statement": statement.decode(), "signature": base64.b64encode(signature_der).decode()},
                project_code=code,
            )
            signed = sum(1 for r in await bid_rows(session, opening) if r.signed_in_at is not None)
            publish_after_commit(
                session, code, {"type": "signed-in", "state": opening.stage.value, "at": now, "signedIn": signed}
            )
            return rows

    async def envelopes(self, actor: Actor, code: str) -> list[dict[str, Any]]:
        """The caller's bids at this opening: each part's envelope header (wrapped keys, binding)."""
        return await self._audited(actor, code, "envelopes", lambda: self._envelopes(actor, code))

    async def holder_envelopes(self, actor: Actor, code: str, *, lot: str, bidder: str) -> list[dict[str, Any]]:
        """One bid's envelope headers for a key holder (its wrapped share is in them); only for a bid
        the escrow may open (the host recorded an incident and the tender names the remedy).
        """
        return await self._audited(
            actor, code, "envelopes", lambda: self._envelopes(actor, code, lot=lot, bidder=bidder)
        )

    async def _envelopes(
        self, actor: Actor, code: str, *, lot: str | None = None, bidder: str | None = None
    ) -> list[dict[str, Any]]:
        async with self.session_maker() as session:
            tender, opening = await self._load(session, code)
            if lot is None or bidder is None:
                await self._check_bidder(session, opening, actor)
            if lot is not None and bidder is not None:
                row = await self._row_of(session, opening, lot, bidder, lock=False)
                if not tender.key_holders.get("remedy") or row.incident is None:
                    raise OpeningRefused(
                        "the escrow opens only a bid for which the host recorded a platform-side cause",
                        field="bidder",
                        rule="escrow-not-applicable",
                    )
                rows = [row]
            else:
                rows = [r for r in await bid_rows(session, opening) if r.organisation_id == actor.organisation_id]
            if not rows:
                raise OpeningRefused(
                    "the caller's organisation has no bid at this opening", field="actor", rule="not-a-bidder"
                )
            result = []
            for row in rows:
                stored = await self._stored(session, row, tender)
                version = await session.get_one(BidVersion, row.version_id)
                headers = await asyncio.to_thread(decryption.envelope_headers, stored)
                result.append(
                    {
                        "lot": stored.lot,
                        "bidder": row.bidder_uscc,
                        "receiptNo": version.receipt_no,
                        "outcome": row.outcome.value,
                        "parts": {
                            kind: {
                                "header": header,
                                "sha256": stored.parts[kind]["sha256"],
                                "status": (row.price_status if kind == fmt.PRICE_SUMMARY else row.package_status).value,
                            }
                            for kind, header in headers.items()
                        },
                    }
                )
            return result

    async def decrypt(self, actor: Actor, code: str, lot: str, part: str, content_key: str) -> OpeningBid:
        """Open one part of the caller's bid with the content key it unwrapped on its own machine."""
        return await self._audited(
            actor, code, "decryption", lambda: self._decrypt(actor, code, lot, part, content_key), lot=lot
        )

    async def _decrypt(self, actor: Actor, code: str, lot: str, part: str, content_key: str) -> OpeningBid:
        if part not in fmt.PART_NAMES:
            raise OpeningRefused("part is price-summary or package", field="part", rule="enum")
        dek = _b64decode(content_key, "contentKey")
        # 1. Fail fast, outside the locks and in one query: bidder, stage, order.
        async with self.session_maker() as session:
            found = await repository.own_bid_for_opening(session, code, lot, actor.organisation_id)
            if found is None:  # say which: no tender, no opening yet, or not a bidder of this lot
                _, opening = await self._load(session, code)
                await self._check_bidder(session, opening, actor)
                await self._own_row(session, opening, actor, lot, lock=False)
                raise AssertionError  # pragma: no cover - _own_row raised
            tender, opening, row, version = found
            self._check_window(opening, None, part)
            self._check_signed_in(tender, row)
            self._check_part_open(row, part)
            stored = self._stored_of(version, tender, lot, row)
            opening_id, row_id = opening.id, row.id
        # 2. The crypto and the digests, in a thread, with no transaction open.
        try:
            opened = await asyncio.to_thread(decryption.open_with_key, stored, part, dek)
            summary = decryption.price_summary_of(opened.plaintext, stored) if part == fmt.PRICE_SUMMARY else None
        except OpenFailed as failed:
            raise OpeningRefused(failed.message, field=failed.field, rule=failed.rule) from None
        # 3. Record it, if the window (by the database clock, under the session's lock) still runs:
        #    together with whatever other decryptions of this opening are waiting (group commit).
        return await self._decryptions.submit(opening_id, _Decrypted(actor, code, lot, part, row_id, opened, summary))

    async def _record_decryptions(self, opening_id: Hashable, batch: list[Waiting[OpeningBid]]) -> None:
        """One transaction for a batch of checked decryptions of one opening: each is recorded (row,
        ledger entry) or refused on its own; the stage moves on at most once, after all of them.
        """
        recorded: list[tuple[Waiting[OpeningBid], OpeningBid]] = []
        async with transaction(self.session_maker, lock=True) as session:
            opening = await session.get_one(OpeningSession, opening_id, with_for_update=True, populate_existing=True)
            now = await clock.now(session)
            items: list[_Decrypted] = [waiting.payload for waiting in batch]
            rows = await repository.bids_by_id_locked(session, {item.row_id for item in items})
            for waiting, item in zip(batch, items, strict=True):
                row = rows[item.row_id]
                try:
                    self._check_window(opening, now, item.part)
                    self._check_part_open(row, item.part)
                except DomainError as refusal:
                    waiting.refuse(refusal)  # nothing of it was written; the others go on
                    continue
                await self._store_part(session, row, item.part, opened=item.opened, summary=item.summary, now=now)
                if item.via == "backup" and row.outcome is Outcome.DECRYPTED:
                    row.cause = "opened from the bidder's backup file (digests match the signed manifest)"
                await append_entry(
                    session,
                    actor=item.actor,
                    action="bidding.opening_part_decrypted",
                    subject_type="bidding.opening_bid",
                    subject_id=str(row.id),
                    summary={
                        "bidder": row.bidder_uscc,
                        "lot": item.lot,
                        "part": item.part,
                        "by": "bidder",
                        "via": item.via,
                    },
                    data={"plaintextSha256": item.opened.sha256, "priceSummary": item.summary},
                    project_code=item.code,
                )
                recorded.append((waiting, row))
            if recorded:
                last = recorded[-1][0].payload
                await self._after_opening(session, opening, last.code, now, last.actor)
        for waiting, row in recorded:  # only once the transaction has committed
            waiting.resolve(row)

    async def file_backup(self, actor: Actor, code: str, lot: str, part: str, content: bytes) -> OpeningBid:
        """The backup channel (the tender's remedy plan, `bidding.opening.remedy`): inside the
        decryption window a signed-in bidder sends a part's backup, generated with the sealed file;
        accepted only when it is the part the signed, receipted manifest pins. Recorded like a
        decryption (group commit, the window checked again under the session's lock).
        """
        return await self._audited(
            actor, code, "backup", lambda: self._file_backup(actor, code, lot, part, content), lot=lot
        )

    async def _file_backup(self, actor: Actor, code: str, lot: str, part: str, content: bytes) -> OpeningBid:
        if part not in fmt.PART_NAMES:
            raise OpeningRefused("part is price-summary or package", field="part", rule="enum")
        if not content or len(content) > remedy.MAX_BACKUP_BYTES:
            raise OpeningRefused(
                f"send the backup's bytes, at most {remedy.MAX_BACKUP_BYTES}", field="content", rule="size"
            )
        async with self.session_maker() as session:
            found = await repository.own_bid_for_opening(session, code, lot, actor.organisation_id)
            if found is None:
                _, opening = await self._load(session, code)
                await self._check_bidder(session, opening, actor)
                await self._own_row(session, opening, actor, lot, lock=False)
                raise AssertionError  # pragma: no cover - _own_row raised
            tender, opening, row, version = found
            if not remedy.remedy_plan(tender.key_holders, tender.rules)["backup"]:
                raise OpeningRefused(
                    "this tender's remedy plan names no backup channel", field="tender", rule="no-backup-remedy"
                )
            self._check_window(opening, None, part)
            self._check_signed_in(tender, row)
            self._check_part_open(row, part)
            stored = self._stored_of(version, tender, lot, row)
            opening_id, row_id = opening.id, row.id
        try:
            opened = await asyncio.to_thread(remedy.check_backup, stored, part, content)
            summary = decryption.price_summary_of(content, stored) if part == fmt.PRICE_SUMMARY else None
        except OpenFailed as failed:
            raise OpeningRefused(failed.message, field=failed.field, rule=failed.rule) from None
        if part == fmt.PACKAGE:  # kept for the evaluation: no content key will open the sealed copy
            await asyncio.to_thread(self.store.put, remedy.BACKUP_NAMESPACE, opened.sha256, content)
        decrypted = _Decrypted(actor, code, lot, part, row_id, opened, summary, via="backup")
        return await self._decryptions.submit(opening_id, decrypted)

    @staticmethod
    def _check_signed_in(tender: Tender, row: OpeningBid) -> None:
        """Only a bidder that signed in decrypts (rule ``opening_sign_in_required``, domain-rules §2.1)."""
        if sign_in_required(tender) and row.signed_in_at is None:
            raise OpeningRefused(
                "sign in to the hall (签到, signed with the bidder's certificate) before decrypting",
                field="signIn",
                rule="signed-in",
            )

    @staticmethod
    def _check_part_open(row: OpeningBid, part: str) -> None:
        status = row.price_status if part == fmt.PRICE_SUMMARY else row.package_status
        if status is PartStatus.OPENED:
            raise Conflict(f"the {part} is already open", field="part", rule="already-opened")
        if row.outcome in FINAL_OUTCOMES or row.outcome is Outcome.ESCROW_PENDING:
            raise OpeningStateConflict(f"the bid is {row.outcome.value}", field="bid", rule="outcome-final")
        if part == fmt.PACKAGE and row.price_status is PartStatus.SEALED:
            raise OpeningRefused(
                "decrypt the price summary first, then the package", field="part", rule="price-summary-first"
            )

    @staticmethod
    async def _store_part(
        session: AsyncSession,
        row: OpeningBid,
        part: str,
        *,
        opened: decryption.OpenedPart,
        summary: dict[str, Any] | None,
        now: datetime,
    ) -> None:
        if part == fmt.PRICE_SUMMARY:
            row.price_summary = summary
            row.price_status = PartStatus.OPENED
            row.price_opened_at = now
        else:
            row.package_content_key = opened.content_key or None  # none: opened from a backup file
            row.package_sha256 = opened.sha256
            row.package_status = PartStatus.OPENED
            row.package_opened_at = now
            if row.price_status is PartStatus.OPENED and row.outcome is Outcome.PENDING:
                row.outcome = Outcome.DECRYPTED
                row.cause = None
        row.updated_at = now
        await session.flush()

    @staticmethod
    async def _after_opening(
        session: AsyncSession, opening: OpeningSession, code: str, now: datetime, actor: Actor
    ) -> None:
        progress = await decryption_progress(session, opening)
        publish_after_commit(
            session,
            code,
            {"type": "decryption-progress", "state": opening.stage.value, "at": now, **progress},
        )
        if opening.paused_at is not None:
            return
        if progress["undecided"] == 0 and opening.decryption_closed_at is None:
            # Every bid is decided: the window has nothing left to wait for.
            opening.decryption_closed_at = now
            if opening.stage is Stage.PRICE_READING:
                opening.stage_ends_at = None
                opening.next_check = None
                opening.updated_at = now
                add_timeline_event(opening, "decryption-window-closed", now, actor)
                await session.flush()
                publish_after_commit(session, code, {"type": "window-closed", "state": opening.stage.value, "at": now})
        if opening.stage is Stage.DECRYPTION and progress["pricesPending"] == 0:
            # Every price summary is settled: 唱标 starts now; packages go on until the window's end.
            tender = await session.get_one(Tender, opening.tender_id)
            await enter_stage(session, opening, tender, Stage.PRICE_READING, now=now, actor=actor)

    # --- key holders ---

    async def release_shares(
        self, actor: Actor, code: str, *, lot: str, bidder: str, shares: Mapping[str, str], signature: str
    ) -> OpeningBid:
        """A key holder releases its shares of one bid (signed); k of them open it (the tender's remedy)."""
        return await self._audited(
            actor,
            code,
            "share",
            lambda: self._release(actor, code, lot=lot, bidder=bidder, shares=shares, signature=signature),
        )

    async def _release(  # noqa: C901 - one check after another
        self, actor: Actor, code: str, *, lot: str, bidder: str, shares: Mapping[str, str], signature: str
    ) -> OpeningBid:
        if set(shares) != set(fmt.PART_NAMES):
            raise OpeningRefused("release one share per part: price-summary and package", field="shares", rule="parts")
        decoded = {kind: _b64decode(value, f"shares.{kind}") for kind, value in shares.items()}
        signature_der = _b64decode(signature, "signature")
        statement = fmt.share_release_statement(code, lot, bidder, shares)
        if actor.user_id is None:
            raise PermissionDenied("a key holder releases shares from its own login", field="actor", rule="user")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self._load(session, code, lock=True)
            now = await clock.now(session)
            holders = list(tender.key_holders.get("holders", []))
            k = int(tender.key_holders.get("threshold") or 0)
            if not tender.key_holders.get("remedy") or not holders:
                raise OpeningRefused("this tender names no escrow remedy", field="tender", rule="no-remedy")
            if opening.stage not in WINDOW_STAGES:
                raise OpeningRefused(
                    "shares are released during the decryption stage (and 唱标, for a package)",
                    field="stage",
                    rule="decryption-window",
                )
            row = await self._row_of(session, opening, lot, bidder, lock=True)
            if row.incident is None or row.outcome not in {Outcome.PENDING, Outcome.ESCROW_PENDING}:
                raise OpeningRefused(
                    "the escrow opens only a bid for which the host recorded a platform-side cause",
                    field="bidder",
                    rule="escrow-not-applicable",
                )
            signed, _ = await self._verify_signer(session, statement, signature_der, now, "signature")
            position = self._holder_position(holders, signed.signer_certificate)
            stored = await self._stored(session, row, tender)
            headers = await asyncio.to_thread(decryption.envelope_headers, stored)
            try:
                for kind, data in decoded.items():
                    decryption.check_share(stored, kind, headers[kind], Share.from_bytes(data), position)
            except Refused as refusal:
                raise OpeningRefused(refusal.text, field="shares", rule=refusal.reason.value) from None
            except OpenFailed as failed:
                raise OpeningRefused(failed.message, field=failed.field, rule=failed.rule) from None
            holder_sha256 = str(holders[position]["sha256"])
            existing = await repository.released_share(session, row.id, holder_sha256)
            if existing is not None:
                raise Conflict(
                    "this key holder already released its share of this bid", field="shares", rule="released-once"
                )
            session.add(
                ReleasedShare(
                    opening_bid_id=row.id,
                    holder_sha256=holder_sha256,
                    holder_index=position + 1,
                    signer_sha256=_fingerprint(signed.signer_certificate),
                    statement=statement,
                    signature=signature_der,
                    released_by=actor.user_id,
                    released_at=now,
                )
            )
            await session.flush()
            released = await repository.released_shares(session, row.id)
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_share_released",
                subject_type="bidding.opening_bid",
                subject_id=str(row.id),
                summary={
                    "bidder": row.bidder_uscc,
                    "lot": lot,
                    "holder": position + 1,
                    "released": len(released),
                    "k": k,
                },
                data={
                    "statementSha256": hashlib.sha256(statement).hexdigest(),
                    "signer": _fingerprint(signed.signer_certificate),
                },
                project_code=code,
            )
            publish_after_commit(
                session,
                code,
                {"type": "share-released", "state": opening.stage.value, "at": now, "released": len(released)},
            )
            if len(released) >= k:
                await self._open_by_escrow(
                    session,
                    opening,
                    tender,
                    row,
                    stored=stored,
                    released=released,
                    k=k,
                    n=len(holders),
                    now=now,
                    actor=actor,
                )
            return row

    @staticmethod
    def _holder_position(holders: Sequence[Mapping[str, Any]], signer: x509.Certificate) -> int:
        """Which listed key holder signed: its own certificate, or its signing certificate paired with
        the listed encryption certificate (same subject, same issuer: the dual-certificate pair).
        """
        fingerprint = _fingerprint(signer)
        for position, holder in enumerate(holders):
            if holder.get("sha256") == fingerprint:
                return position
            listed = x509.load_pem_x509_certificate(str(holder["certificate"]).encode())
            if listed.subject == signer.subject and listed.issuer == signer.issuer:
                return position
        raise OpeningRefused(
            "the signer is not one of this tender's key holders", field="signature", rule="not-a-key-holder"
        )

    async def _open_by_escrow(
        self,
        session: AsyncSession,
        opening: OpeningSession,
        tender: Tender,
        row: OpeningBid,
        *,
        stored: StoredBid,
        released: Sequence[ReleasedShare],
        k: int,
        n: int,
        now: datetime,
        actor: Actor,
    ) -> None:
        statements = [fmt_json(r.statement) for r in released]
        try:
            for kind in (fmt.PRICE_SUMMARY, fmt.PACKAGE):
                status = row.price_status if kind == fmt.PRICE_SUMMARY else row.package_status
                if status is PartStatus.OPENED:
                    continue
                shares = [Share.from_bytes(base64.b64decode(s["shares"][kind])) for s in statements]
                opened = await asyncio.to_thread(decryption.open_with_escrow, stored, kind, shares)
                summary = decryption.price_summary_of(opened.plaintext, stored) if kind == fmt.PRICE_SUMMARY else None
                await self._store_part(session, row, kind, opened=opened, summary=summary, now=now)
        except OpenFailed as failed:
            raise OpeningRefused(failed.message, field=failed.field, rule=failed.rule) from None
        cause = (row.incident or {}).get("cause", "")
        row.outcome = Outcome.ESCROW
        row.cause = f"opened via escrow ({k} of {n}) after a platform-side cause: {cause}"
        row.updated_at = now
        await session.flush()
        await append_entry(
            session,
            actor=actor,
            action="bidding.opening_opened_by_escrow",
            subject_type="bidding.opening_bid",
            subject_id=str(row.id),
            summary={"bidder": row.bidder_uscc, "k": k, "n": n, "holders": sorted(r.holder_index for r in released)},
            data={"cause": row.cause, "priceSummary": row.price_summary, "packageSha256": row.package_sha256},
            project_code=tender.project_code,
        )
        await self._after_opening(session, opening, tender.project_code, now, actor)

    # --- objections and confirmations ---

    async def file_objection(self, actor: Actor, code: str, text: str, signature: str) -> Objection:
        """A bidder objects in the hall (实施条例 Art. 44), signed; until the confirmation stage ends."""
        return await self._audited(actor, code, "objection", lambda: self._object(actor, code, text, signature))

    async def _object(self, actor: Actor, code: str, text: str, signature: str) -> Objection:
        if not text.strip() or len(text) > MAX_TEXT:
            raise OpeningRefused(f"the objection is 1–{MAX_TEXT} characters", field="text", rule="length")
        signature_der = _b64decode(signature, "signature")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self._load(session, code, lock=True)
            await self._check_bidder(session, opening, actor)
            now = await clock.now(session)
            if not objections_open(tender, opening, now):
                raise OpeningRefused(
                    "objections are filed in the hall until the confirmation stage ends",
                    field="stage",
                    rule="objection-window",
                )
            rows = [r for r in await bid_rows(session, opening) if r.organisation_id == actor.organisation_id]
            if not rows or actor.user_id is None:
                raise OpeningRefused("only a bidder of this opening objects here", field="actor", rule="not-a-bidder")
            statement = fmt.objection_statement(code, rows[0].bidder_uscc, text)
            signed = await self._verify_bidder_signature(
                session, statement, signature_der, uscc=rows[0].bidder_uscc, now=now
            )
            objection = Objection(
                session_id=opening.id,
                organisation_id=rows[0].organisation_id,
                filed_by=actor.user_id,
                text=text,
                signature=signature_der,
                signer_sha256=_fingerprint(signed.signer_certificate),
                filed_at=now,
            )
            session.add(objection)
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_objection_filed",
                subject_type="bidding.opening_objection",
                subject_id=str(objection.id),
                summary={"bidder": rows[0].bidder_uscc, "stage": opening.stage.value},
                data={"text": text, "signer": objection.signer_sha256},
                project_code=tender.project_code,
            )
            publish_after_commit(session, code, {"type": "objection", "state": opening.stage.value, "at": now})
            return objection

    async def confirm(self, actor: Actor, code: str, signature: str) -> Confirmation:
        """A bidder confirms the opening result: a signature over the published price table's digest."""
        return await self._audited(actor, code, "confirmation", lambda: self._confirm(actor, code, signature))

    async def _confirm(self, actor: Actor, code: str, signature: str) -> Confirmation:
        signature_der = _b64decode(signature, "signature")
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self._load(session, code, lock=True)
            await self._check_bidder(session, opening, actor)
            now = await clock.now(session)
            if opening.stage is not Stage.CONFIRMATION or (
                opening.stage_ends_at is not None and now >= opening.stage_ends_at
            ):
                raise OpeningRefused(
                    "confirmations are signed during the confirmation stage", field="stage", rule="confirmation-window"
                )
            rows = [r for r in await bid_rows(session, opening) if r.organisation_id == actor.organisation_id]
            if not rows or actor.user_id is None:
                raise OpeningRefused("only a bidder of this opening confirms", field="actor", rule="not-a-bidder")
            statement = fmt.confirmation_statement(
                code, rows[0].bidder_uscc, price_table_sha256(await price_table(session, opening))
            )
            signed = await self._verify_bidder_signature(
                session, statement, signature_der, uscc=rows[0].bidder_uscc, now=now
            )
            existing = await repository.confirmation_of(session, opening.id, rows[0].organisation_id)
            if existing is not None:
                raise Conflict("already confirmed", field="actor", rule="confirmed-once")
            confirmation = Confirmation(
                session_id=opening.id,
                organisation_id=rows[0].organisation_id,
                confirmed_by=actor.user_id,
                statement=statement,
                signature=signature_der,
                signer_sha256=_fingerprint(signed.signer_certificate),
                confirmed_at=now,
            )
            session.add(confirmation)
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_confirmed",
                subject_type="bidding.tender",
                subject_id=str(tender.id),
                summary={"bidder": rows[0].bidder_uscc},
                data={"statement": statement.decode(), "signer": confirmation.signer_sha256},
                project_code=code,
            )
            publish_after_commit(session, code, {"type": "confirmed", "state": opening.stage.value, "at": now})
            return confirmation

    # --- reading ---

    async def view(self, actor: Actor, code: str) -> dict[str, Any]:
        """The hall's state for ``actor``: stage, countdown (database clock), and per bidder only
        what `bidding.visibility.OpeningPolicy` lets the caller see at this stage (visitors
        counts only; bidders their own rows before 唱标; the price table from 唱标 on).
        """
        async with self.session_maker() as session:
            tender, opening = await self._load(session, code)
            now = await clock.now(session)
            rows = await bid_rows(session, opening)
            lots = {lot.id: lot.code for lot in await repository.lots_of_tender(session, tender.id)}
            policy = self._policy(actor, tender, opening, rows)
            remaining = (
                opening.remaining_seconds
                if opening.paused_at is not None
                else max(0, int((opening.stage_ends_at - now).total_seconds()))
                if opening.stage_ends_at is not None
                else None
            )
            view: dict[str, Any] = {
                "tender": code,
                "title": tender.title,
                "stage": opening.stage.value,
                "paused": opening.paused_at is not None,
                "serverTime": now.isoformat(),
                "stageEndsAt": iso(opening.stage_ends_at),
                "remainingSeconds": remaining,
                "decryptionClosedAt": iso(opening.decryption_closed_at),
                "failedReason": opening.failed_reason,
                "lots": opening.lots,
                "bids": {
                    "total": len(rows),
                    "signedIn": sum(1 for r in rows if r.signed_in_at is not None),
                    "opened": sum(1 for r in rows if r.outcome in READ_OUT),
                    "pricesOpened": sum(1 for r in rows if r.price_status is PartStatus.OPENED),
                    "packagesOpened": sum(1 for r in rows if r.package_status is PartStatus.OPENED),
                },
                "decryptionWindowOpen": opening.stage in WINDOW_STAGES and opening.decryption_closed_at is None,
                "role": policy.role_label,
                "audience": policy.relation.value,
            }

            def status(row: OpeningBid) -> dict[str, Any]:
                return {
                    "lot": lots[row.lot_id],
                    "bidder": row.bidder_uscc,
                    "bidderName": row.bidder_name,
                    "signedIn": row.signed_in_at is not None,
                    "priceSummary": row.price_status.value,
                    "package": row.package_status.value,
                    "outcome": row.outcome.value,
                    "cause": row.cause,
                    "incident": row.incident is not None,
                    "failedAttempts": row.failed_attempts,
                }

            if policy.participant or policy.sees_every_status:
                view["decryption"] = [status(r) for r in rows if policy.sees_row(r.organisation_id)]
            if policy.price_table_published:
                table = await price_table(session, opening)
                view["priceTable"] = table
                view["priceTableSha256"] = price_table_sha256(table)
            if policy.participant:
                objections = await repository.objections_of(session, opening.id)
                names = {r.organisation_id: r.bidder_name for r in rows}
                view["objections"] = [
                    {
                        "id": str(o.id),
                        "bidder": names.get(o.organisation_id),
                        "text": o.text,
                        "signerSha256": o.signer_sha256,
                        "filedAt": iso(o.filed_at),
                        "answer": o.answer,
                        "answeredAt": iso(o.answered_at),
                    }
                    for o in objections
                    if policy.sees_objection(o.organisation_id)
                ]
            return view

    @staticmethod
    def _policy(actor: Actor, tender: Tender, opening: OpeningSession, rows: Sequence[OpeningBid]) -> OpeningPolicy:
        return OpeningPolicy.of(
            actor,
            tenderee=tender.tenderee_organisation_id,
            agency=tender.agency_organisation_id,
            stage=opening.stage,
            bidders={row.organisation_id for row in rows},
        )

    async def policy(self, actor: Actor, code: str) -> OpeningPolicy:
        """What ``actor`` may see of the opening now (the pages check their audience with it)."""
        async with self.session_maker() as session:
            tender, opening = await self._load(session, code)
            return self._policy(actor, tender, opening, await bid_rows(session, opening))

    async def opened_package(self, code: str, lot: str, bidder: str) -> bytes:
        """An opened package's plaintext for those who read it after the opening (the evaluation):
        decrypted again from the sealed container with the content key recorded at the opening.
        Callers check their own permission; no route serves this yet.
        """
        async with self.session_maker() as session:
            tender, opening = await self._load(session, code)
            row = await self._row_of(session, opening, lot, bidder, lock=False)
            if row.package_status is not PartStatus.OPENED or row.package_sha256 is None:
                raise OpeningStateConflict(f"the package of {bidder} is not open", field="bidder", rule="not-opened")
            stored = await self._stored(session, row, tender)
            key, digest = row.package_content_key, str(row.package_sha256)
        if key is None:  # opened from the backup channel: the stored backup, checked again
            data = await asyncio.to_thread(
                self.store.path(self.store.key_for(remedy.BACKUP_NAMESPACE, digest)).read_bytes
            )
            if hashlib.sha256(data).hexdigest() != digest:  # pragma: no cover - the store is content-addressed
                raise OpeningRefused("the stored backup is not the one opened", field="bidder", rule="digest-mismatch")
            return data
        try:
            return await asyncio.to_thread(decryption.reopen_package, stored, key, digest)
        except OpenFailed as failed:
            raise OpeningRefused(failed.message, field=failed.field, rule=failed.rule) from None

    async def record(self, actor: Actor, code: str) -> dict[str, Any]:
        """The record's data for the opening's participants, as much as the stage lets the caller
        see (`OpeningPolicy`): before 唱标 a bidder gets its own row and price only, the host and
        the overseers every row without prices. Anyone else is refused, and the attempt recorded.
        """
        # Only the participants-only refusal is an attempt worth recording: a 404 (no tender, no
        # opening yet) on this read must not append to the ledger under the write lock.
        try:
            return await self._record(actor, code)
        except PermissionDenied as refusal:
            if refusal.rule == "participants-only":
                await self._record_refusal(actor, code, "record", refusal, lot=None)
            raise

    async def _record(self, actor: Actor, code: str) -> dict[str, Any]:
        async with self.session_maker() as session:
            tender, opening = await self._load(session, code)
            policy = self._policy(actor, tender, opening, await bid_rows(session, opening))
            if not policy.may_read_record():
                raise PermissionDenied(
                    "the opening record's data is for the opening's host, its bidders and the supervisors;"
                    " the published record is public once signed",
                    field="tender",
                    rule="participants-only",
                )
            return jsonable(await opening_record(session, code, policy))  # type: ignore[no-any-return]


def fmt_json(data: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(data)
    return value
