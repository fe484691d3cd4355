"""Reading the hall: its state for an actor (stage, countdown on the database clock, and per bidder
only what `bidding.visibility.OpeningPolicy` lets the caller see at this stage), the opening
record's data for the participants, and an opened package for those who read it afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from bidding.errors import OpeningRefused, OpeningStateConflict
from bidding.opening import coefficients, decryption, remedy, repository
from bidding.opening.decryption import OpenFailed
from bidding.opening.models import READ_OUT, OpeningBid, PartStatus
from bidding.opening.readings import iso, jsonable, opening_record, price_table, price_table_sha256
from bidding.opening.services.base import HallPart
from bidding.opening.stages import WINDOW_STAGES, next_stage
from bidding.visibility import OpeningPolicy
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import PermissionDenied
from trading.kernel.web.money import amount_in_words


class HallView(HallPart):
    """What the hall shows each reader."""

    async def view(self, actor: Actor, code: str) -> dict[str, Any]:
        """The hall's state for ``actor``: stage, countdown (database clock), and per bidder only
        what `bidding.visibility.OpeningPolicy` lets the caller see at this stage (visitors
        counts only; bidders their own rows before 唱标; the price table from 唱标 on).
        """
        async with self.session_maker() as session:
            tender, opening = await self.load(session, code)
            now = await clock.now(session)
            rows = await repository.bid_rows(session, opening)
            lots = {lot.id: lot.code for lot in await repository.lots_of_tender(session, tender.id)}
            policy = self.policy_of(actor, tender, opening, rows)
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
                # For the pages' download link; the API's `OpeningView` leaves it out (its clients
                # ask ``…/record.pdf``, which answers the same policy).
                "recordPublished": policy.may_read_record_pdf(platform_signed=opening.record_sha256 is not None),
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

            # The coefficients' commitments (and, once drawn, seeds and values) are public (抽取系数).
            view["coefficients"] = await coefficients.public_draws(session, opening, code)
            following = next_stage(tender, opening.stage)
            view["nextStage"] = following.value if following is not None else None
            if policy.participant or policy.sees_every_status:
                view["decryption"] = [status(r) for r in rows if policy.sees_row(r.organisation_id)]
            if policy.price_table_published:
                table = await price_table(session, opening)
                view["priceTable"] = table
                view["priceTableSha256"] = price_table_sha256(table)
                # Each price in Chinese capitals (大写), beside the table rather than in it: the
                # table is what bidders sign, its digest must not change with the wording.
                view["priceWords"] = [amount_in_words(line.get("totalPrice")) for line in table]
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

    async def policy(self, actor: Actor, code: str) -> OpeningPolicy:
        """What ``actor`` may see of the opening now (the pages check their audience with it)."""
        async with self.session_maker() as session:
            tender, opening = await self.load(session, code)
            return self.policy_of(actor, tender, opening, await repository.bid_rows(session, opening))

    async def opened_package(self, code: str, lot: str, bidder: str) -> bytes:
        """An opened package's plaintext for those who read it after the opening (the evaluation):
        decrypted again from the sealed container with the content key recorded at the opening.
        Callers check their own permission; no route serves this yet.
        """
        async with self.session_maker() as session:
            tender, opening = await self.load(session, code)
            row = await self.row_of(session, opening, lot, bidder, lock=False)
            if row.package_status is not PartStatus.OPENED or row.package_sha256 is None:
                raise OpeningStateConflict(f"the package of {bidder} is not open", field="bidder", rule="not-opened")
            stored = await self.stored(session, row, tender)
            key, digest = row.package_content_key, str(row.package_sha256)
        if key is None:  # opened from the backup channel: the stored backup, checked again
            data = await self.store.read_bytes(self.store.key_for(remedy.BACKUP_NAMESPACE, digest))
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
            return await self._record_data(actor, code)
        except PermissionDenied as refusal:
            if refusal.rule == "participants-only":
                await self.record_refusal(actor, code, "record", refusal, lot=None)
            raise

    async def _record_data(self, actor: Actor, code: str) -> dict[str, Any]:
        async with self.session_maker() as session:
            tender, opening = await self.load(session, code)
            policy = self.policy_of(actor, tender, opening, await repository.bid_rows(session, opening))
            if not policy.may_read_record():
                raise PermissionDenied(
                    "the opening record's data is for the opening's host, its bidders and the supervisors;"
                    " the published record is public once signed",
                    field="tender",
                    rule="participants-only",
                )
            return jsonable(await opening_record(session, code, policy))  # type: ignore[no-any-return]
