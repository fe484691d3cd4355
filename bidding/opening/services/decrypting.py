"""Online decryption in the hall: a bidder reads its envelope headers, unwraps each part's content
key on its own machine and sends only that key; the platform opens the part (`bidding.opening.decryption`,
every digest checked). The backup channel (`bidding.opening.remedy`) opens a part from the bidder's
backup file the same way.

**This part commits on its own, on purpose.** A decryption is checked against the window at the
start (fail fast), then opened in a thread with no transaction open (file and crypto work), then
recorded in a transaction of its own (`transaction(...)`), not the request's: decryptions of one
opening checked at the same moment share that transaction (`GroupCommit`, one `OpeningService` per
application), each recorded with its own ledger entry or refused on its own. The database time of
that commit, under the session row's lock, decides whether the window still runs; the window's end
takes the same lock, so a decryption is either counted or refused, and a caller is answered only
after the commit.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client import parties
from bidding.client_address import recorded_address
from bidding.errors import OpeningRefused, OpeningStateConflict
from bidding.models import Tender
from bidding.opening import authoring, decryption, remedy, repository
from bidding.opening.batching import GroupCommit, Waiting
from bidding.opening.decryption import OpenFailed
from bidding.opening.events import publish_after_commit
from bidding.opening.models import FINAL_OUTCOMES, OpeningBid, OpeningSession, Outcome, PartStatus, Stage
from bidding.opening.readings import decryption_progress
from bidding.opening.services.base import HallPart, audited, b64decode
from bidding.opening.stages import WINDOW_STAGES, add_timeline_event, enter_stage, sign_in_required
from bidding.remedy_plan import remedy_plan
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict, DomainError
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.ledger.service import append_entry

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Decrypted:
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
    files: dict[str, Any] | None = None
    """Issue 19: an opened package's files with their digests and authoring metadata (`files_of`)."""
    parties: dict[str, Any] | None = None
    """Issue 19: the parties its structured response declares (`parties_of`)."""


class Decryptions(HallPart):
    """The bidders' decryptions and backups; one per application (its group commit batches them)."""

    def __init__(self, session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: Store) -> None:
        super().__init__(session_maker, settings, store)
        self._decryptions: GroupCommit[OpeningBid] = GroupCommit(self._record_decryptions)

    @audited("envelopes")
    async def envelopes(self, actor: Actor, code: str) -> list[dict[str, Any]]:
        """The caller's bids at this opening: each part's envelope header (wrapped keys, binding)."""
        async with self.session_maker() as session:
            tender, opening = await self.load(session, code)
            await self.check_bidder(session, opening, actor)
            rows = [
                r for r in await repository.bid_rows(session, opening) if r.organisation_id == actor.organisation_id
            ]
            return await self.envelope_listing(session, tender, rows)

    @audited("decryption", lot_argument="lot")
    async def decrypt(self, actor: Actor, code: str, lot: str, part: str, content_key: str) -> OpeningBid:
        """Open one part of the caller's bid with the content key it unwrapped on its own machine."""
        if part not in fmt.PART_NAMES:
            raise OpeningRefused("part is price-summary or package", field="part", rule="enum")
        dek = b64decode(content_key, "contentKey")
        # 1. Fail fast, outside the locks and in one query: bidder, stage, order.
        async with self.session_maker() as session:
            found = await repository.own_bid_for_opening(session, code, lot, actor.organisation_id)
            if found is None:  # say which: no tender, no opening yet, or not a bidder of this lot
                _, opening = await self.load(session, code)
                await self.check_bidder(session, opening, actor)
                await self.own_row(session, opening, actor, lot, lock=False)
                raise AssertionError  # pragma: no cover - _own_row raised
            tender, opening, row, version = found
            check_window(opening, None, part)
            check_signed_in(tender, row)
            check_part_open(row, part)
            stored = self.stored_of(version, tender, lot, row)
            opening_id, row_id = opening.id, row.id
        # 2. The crypto and the digests, in a thread, with no transaction open.
        try:
            opened = await asyncio.to_thread(decryption.open_with_key, stored, part, dek)
            summary = decryption.price_summary_of(opened.plaintext, stored) if part == fmt.PRICE_SUMMARY else None
        except OpenFailed as failed:
            raise OpeningRefused(failed.message, field=failed.field, rule=failed.rule) from None
        files = await asyncio.to_thread(files_of, opened.plaintext) if part == fmt.PACKAGE else None
        declared = await asyncio.to_thread(parties_of, opened.plaintext) if part == fmt.PACKAGE else None
        # 3. Record it, if the window (by the database clock, under the session's lock) still runs:
        #    together with whatever other decryptions of this opening are waiting (group commit).
        return await self._decryptions.submit(
            opening_id, Decrypted(actor, code, lot, part, row_id, opened, summary, files=files, parties=declared)
        )

    async def _record_decryptions(self, opening_id: Hashable, batch: list[Waiting[OpeningBid]]) -> None:
        """One transaction for a batch of checked decryptions of one opening: each is recorded (row,
        ledger entry) or refused on its own; the stage moves on at most once, after all of them.
        """
        recorded: list[tuple[Waiting[OpeningBid], OpeningBid]] = []
        async with transaction(self.session_maker, lock=True) as session:
            opening = await session.get_one(OpeningSession, opening_id, with_for_update=True, populate_existing=True)
            now = await clock.now(session)
            items: list[Decrypted] = [waiting.payload for waiting in batch]
            rows = await repository.bids_by_id_locked(session, {item.row_id for item in items})
            for waiting, item in zip(batch, items, strict=True):
                row = rows[item.row_id]
                try:
                    check_window(opening, now, item.part)
                    check_part_open(row, item.part)
                except DomainError as refusal:
                    waiting.refuse(refusal)  # nothing of it was written; the others go on
                    continue
                await store_part(session, row, item.part, opened=item.opened, summary=item.summary, now=now)
                # Issue 19, for the integrity screens only: where the bidder decrypted from, and the
                # opened package's files (digests, authoring metadata). Not part of the result.
                if row.decrypt_ip is None:
                    row.decrypt_ip = recorded_address(item.actor.client_ip)
                if item.files is not None:
                    row.package_files = item.files
                if item.parties is not None:
                    row.declared_parties = item.parties
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
                await after_opening(session, opening, last.code, now, last.actor)
        for waiting, row in recorded:  # only once the transaction has committed
            waiting.resolve(row)

    @audited("backup", lot_argument="lot")
    async def file_backup(self, actor: Actor, code: str, lot: str, part: str, content: bytes) -> OpeningBid:
        """The backup channel (the tender's remedy plan, `bidding.opening.remedy`): inside the
        decryption window a signed-in bidder sends a part's backup, generated with the sealed file;
        accepted only when it is the part the signed, receipted manifest pins. Recorded like a
        decryption (group commit, the window checked again under the session's lock).
        """
        if part not in fmt.PART_NAMES:
            raise OpeningRefused("part is price-summary or package", field="part", rule="enum")
        if not content or len(content) > remedy.MAX_BACKUP_BYTES:
            raise OpeningRefused(
                f"send the backup's bytes, at most {remedy.MAX_BACKUP_BYTES}", field="content", rule="size"
            )
        async with self.session_maker() as session:
            found = await repository.own_bid_for_opening(session, code, lot, actor.organisation_id)
            if found is None:
                _, opening = await self.load(session, code)
                await self.check_bidder(session, opening, actor)
                await self.own_row(session, opening, actor, lot, lock=False)
                raise AssertionError  # pragma: no cover - _own_row raised
            tender, opening, row, version = found
            if not remedy_plan(tender.key_holders, tender.rules)["backup"]:
                raise OpeningRefused(
                    "this tender's remedy plan names no backup channel", field="tender", rule="no-backup-remedy"
                )
            check_window(opening, None, part)
            check_signed_in(tender, row)
            check_part_open(row, part)
            stored = self.stored_of(version, tender, lot, row)
            opening_id, row_id = opening.id, row.id
        try:
            opened = await asyncio.to_thread(remedy.check_backup, stored, part, content)
            summary = decryption.price_summary_of(content, stored) if part == fmt.PRICE_SUMMARY else None
        except OpenFailed as failed:
            raise OpeningRefused(failed.message, field=failed.field, rule=failed.rule) from None
        if part == fmt.PACKAGE:  # kept for the evaluation: no content key will open the sealed copy
            await asyncio.to_thread(self.store.put, remedy.BACKUP_NAMESPACE, opened.sha256, content)
        files = await asyncio.to_thread(files_of, content) if part == fmt.PACKAGE else None
        declared = await asyncio.to_thread(parties_of, content) if part == fmt.PACKAGE else None
        decrypted = Decrypted(
            actor, code, lot, part, row_id, opened, summary, via="backup", files=files, parties=declared
        )
        return await self._decryptions.submit(opening_id, decrypted)


def files_of(package: bytes) -> dict[str, Any] | None:
    """The opened package's files for the integrity screens (`authoring.package_files`); None when
    the package cannot be listed, which never stops the decryption (it is already checked).
    """
    try:
        return authoring.package_files(package)
    except (zipfile.BadZipFile, OSError, ValueError, KeyError) as exc:
        log.warning("bidding.opening_package_files_unread", error=type(exc).__name__)
        return None


def parties_of(package: bytes) -> dict[str, Any] | None:
    """The parties the package's structured response (`fmt.RESPONSE_FILE`) declares, normalised
    (`bidding.client.parties.declared_parties`); ``{"problems": [rule…]}`` when they break a rule
    (the evaluation's reader refuses such a response); None without a response or without parties.
    Never stops the decryption.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(package)) as archive:
            if fmt.RESPONSE_FILE not in archive.namelist():
                return None
            if archive.getinfo(fmt.RESPONSE_FILE).file_size > fmt.RESPONSE_LIMIT:
                return {"problems": ["size"]}
            document = json.loads(archive.read(fmt.RESPONSE_FILE))
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RecursionError) as exc:
        log.warning("bidding.opening_response_unread", error=type(exc).__name__)
        return None
    if not isinstance(document, dict):
        return None
    found = parties.problems(document)
    if found:
        return {"problems": sorted({p.rule for p in found})}
    return parties.declared_parties(document)


def check_window(opening: OpeningSession, now: datetime | None, part: str) -> None:
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


def check_signed_in(tender: Tender, row: OpeningBid) -> None:
    """Only a bidder that signed in decrypts (rule ``opening_sign_in_required``, domain-rules §2.1)."""
    if sign_in_required(tender) and row.signed_in_at is None:
        raise OpeningRefused(
            "sign in to the hall (签到, signed with the bidder's certificate) before decrypting",
            field="signIn",
            rule="signed-in",
        )


def check_part_open(row: OpeningBid, part: str) -> None:
    status = row.price_status if part == fmt.PRICE_SUMMARY else row.package_status
    if status is PartStatus.OPENED:
        raise Conflict(f"the {part} is already open", field="part", rule="already-opened")
    if row.outcome in FINAL_OUTCOMES or row.outcome is Outcome.ESCROW_PENDING:
        raise OpeningStateConflict(f"the bid is {row.outcome.value}", field="bid", rule="outcome-final")
    if part == fmt.PACKAGE and row.price_status is PartStatus.SEALED:
        raise OpeningRefused(
            "decrypt the price summary first, then the package", field="part", rule="price-summary-first"
        )


async def store_part(
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


async def after_opening(session: AsyncSession, opening: OpeningSession, code: str, now: datetime, actor: Actor) -> None:
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
