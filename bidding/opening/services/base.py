"""What every part of the opening hall shares: the lookups and checks of a request, signature
checks, and `audited`, which records a refused request in the ledger before it is answered.

The parts open their own short units of work (`trading.kernel.db.uow.transaction`) instead of
running in the request's: opening a package is file and crypto work that no transaction should
span, decryptions are recorded together (`bidding.opening.services.decrypting`), and a refusal is
recorded in a transaction of its own because the refused request's work rolls back.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.errors import NotABidder, NotTheHost, OpeningRefused, OpeningStateConflict
from bidding.models import BidVersion, Lot, Tender
from bidding.opening import decryption, repository
from bidding.opening.decryption import StoredBid
from bidding.opening.models import OpeningBid, OpeningSession
from bidding.policies import BiddingPermission
from bidding.visibility import OpeningPolicy
from certs.errors import Refused
from certs.pathval.identity import Party
from certs.sign.cades import DetachedSignature, verify_detached
from certs.trustlist.model import Usage
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import DomainError, NotFound
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.ledger.service import append_entry
from trading.parties.certificates.trust import signer_party

log = structlog.get_logger(__name__)

MAX_TEXT: Final = 4000
MAX_CAUSE: Final = 1000

P = ParamSpec("P")
T = TypeVar("T")
Part = TypeVar("Part", bound="HallPart")


def b64decode(text: str, field: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise OpeningRefused(f"{field} must be base64", field=field, rule="base64") from None


def json_object(data: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(data)
    return value


def audited(
    step: str, *, lot_argument: str | None = None
) -> Callable[
    [Callable[Concatenate[Part, Actor, str, P], Awaitable[T]]], Callable[Concatenate[Part, Actor, str, P], Awaitable[T]]
]:
    """A request of the hall, ``(self, actor, code, …)``: a refusal is recorded in the ledger as
    ``bidding.opening_<step>_refused`` (own transaction, field and rule) and then raised. An unknown
    tender is not recorded (there is no chain to record it on). With ``lot_argument``, the named
    argument's lot is recorded too and a refused decryption is counted on the caller's row there.
    """

    def decorate(
        method: Callable[Concatenate[Part, Actor, str, P], Awaitable[T]],
    ) -> Callable[Concatenate[Part, Actor, str, P], Awaitable[T]]:
        signature = inspect.signature(method)

        @functools.wraps(method)
        async def run(self: Part, actor: Actor, code: str, /, *args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return await method(self, actor, code, *args, **kwargs)
            except DomainError as refusal:
                if not (isinstance(refusal, NotFound) and refusal.field == "tender"):
                    lot = None
                    if lot_argument is not None:
                        lot = signature.bind(self, actor, code, *args, **kwargs).arguments[lot_argument]
                    await self.record_refusal(actor, code, step, refusal, lot=lot)
                raise

        return run

    return decorate


class HallPart:
    """The base of each part of the hall: the application's session factory, settings and file store."""

    def __init__(self, session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: Store) -> None:
        self.session_maker = session_maker
        self.settings = settings
        self.store = store

    # --- lookups ---

    @staticmethod
    async def load(session: AsyncSession, code: str, *, lock: bool = False) -> tuple[Tender, OpeningSession]:
        """The tender and its opening (the session row locked with ``lock``)."""
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
    async def own_row(
        session: AsyncSession, opening: OpeningSession, actor: Actor, lot: str, *, lock: bool
    ) -> OpeningBid:
        row = await repository.organisation_bid_in_lot(session, opening.id, lot, actor.organisation_id, lock=lock)
        if row is None:
            raise OpeningRefused(
                f"the caller's organisation has no bid at this opening for lot {lot}", field="lot", rule="not-a-bidder"
            )
        return row

    @staticmethod
    async def row_of(
        session: AsyncSession, opening: OpeningSession, lot: str, bidder: str, *, lock: bool
    ) -> OpeningBid:
        row = await repository.bidder_bid_in_lot(session, opening.id, lot, bidder, lock=lock)
        if row is None:
            raise OpeningRefused(
                f"{bidder} has no bid at this opening for lot {lot}", field="bidder", rule="not-a-bidder"
            )
        return row

    async def stored(self, session: AsyncSession, row: OpeningBid, tender: Tender) -> StoredBid:
        version = await session.get_one(BidVersion, row.version_id)
        lot = await session.get_one(Lot, row.lot_id)
        return self.stored_of(version, tender, lot.code, row)

    def stored_of(self, version: BidVersion, tender: Tender, lot: str, row: OpeningBid) -> StoredBid:
        """The sealed container of a bid's version as the decryption reads it."""
        if version.storage_key is None or version.parts is None or version.manifest is None:  # pragma: no cover
            raise OpeningStateConflict("the bid version has no container", field="bid", rule="container")
        record = json_object(version.receipt)
        return StoredBid(
            path=functools.partial(self.store.open_file, version.storage_key),
            parts=version.parts,
            manifest=fmt.parse_manifest(version.manifest),
            tender=tender.project_code,
            lot=lot,
            bidder=row.bidder_uscc,
            deadline=datetime.fromisoformat(str(record["deadline"])),
        )

    async def envelope_listing(
        self, session: AsyncSession, tender: Tender, rows: Sequence[OpeningBid]
    ) -> list[dict[str, Any]]:
        """Each bid's envelope headers per part (wrapped keys, binding), digests and statuses."""
        if not rows:
            raise OpeningRefused(
                "the caller's organisation has no bid at this opening", field="actor", rule="not-a-bidder"
            )
        result = []
        for row in rows:
            stored = await self.stored(session, row, tender)
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

    @staticmethod
    def policy_of(actor: Actor, tender: Tender, opening: OpeningSession, rows: Sequence[OpeningBid]) -> OpeningPolicy:
        return OpeningPolicy.of(
            actor,
            tenderee=tender.tenderee_organisation_id,
            agency=tender.agency_organisation_id,
            stage=opening.stage,
            bidders={row.organisation_id for row in rows},
        )

    # --- checks ---

    @staticmethod
    def check_host(actor: Actor, opening: OpeningSession) -> None:
        if not actor.has(BiddingPermission.OPENING_HOST) or actor.organisation_id != opening.host_organisation_id:
            raise NotTheHost(
                "only the opening's host (the tender's agency, else the tenderee) may do this; the attempt is recorded",
                field="actor",
                rule="host-only",
            )

    @staticmethod
    async def check_bidder(session: AsyncSession, opening: OpeningSession, actor: Actor) -> None:
        """The caller's organisation has a bid at this opening: checked before anything else, so an
        organisation without a seat learns nothing of the hall's state from the refusal.
        """
        if actor.organisation_id is None or not await repository.has_seat(session, opening.id, actor.organisation_id):
            raise NotABidder(
                "the caller's organisation has no bid at this opening; the attempt is recorded",
                field="actor",
                rule="not-a-bidder",
            )

    async def verify_signer(
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

    async def verify_bidder_signature(
        self, session: AsyncSession, data: bytes, signature: bytes, *, uscc: str, now: datetime
    ) -> DetachedSignature:
        signed, party = await self.verify_signer(session, data, signature, now, "signature")
        if party.identifier != uscc:
            raise OpeningRefused(
                f"signed by {party.name} ({party.identifier}), not by the bidder",
                field="signature",
                rule="signer-not-bidder",
            )
        return signed

    # --- refusals ---

    async def record_refusal(
        self, actor: Actor, code: str, step: str, refusal: DomainError, *, lot: str | None
    ) -> None:
        """Record a refused request in the ledger, in a transaction of its own (the request's own
        work rolls back); a refused decryption also counts on the caller's row in that lot.
        """
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
