"""The electronic guarantee inside the tender's life (issue 17 points 2, 4, 5): bidding calls down
into `trading.guarantees` (below the domains), never the reverse.

* **Intake** (`check_bid_guarantee`, `attach_bid_guarantee`): when a lot requires security and the
  signed manifest names the form ``guarantee``, its ``reference`` must be the number of a guarantee
  on this platform that verifies (`trading.guarantees.verify.verify_guarantee`: signature by a
  guarantor recognised for ``guarantee`` issuance, not revoked, and the tender's facts — beneficiary,
  project, lot, the bidder as applicant, amount ≥ required, validity covering the bid validity
  period) and that no other bid holds (`issuance.attach_to_bid`, rule ``guarantee_already_used``).
  Every refusal names ``manifest.guarantee.reference`` and the reason's code.
* **Opening and evaluation** (`security_statuses`): each bid's security is judged again (a
  guarantor may have been revoked since): ``verified``, ``refused`` with the reasons, ``cash`` or
  ``none``; a guarantee that verifies at the opening is marked verified (`issuance.mark_verified`).
* **Claims**: `bidding.award.securities.file_security_claim` (the award stage reads the opening's and
  its own records, which this core module may not import).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.errors import BidRefused
from bidding.models import Bid, BidVersion, Lot, Tender
from bidding.tenders.security import SecurityTerms, required_security
from trading.guarantees import issuance
from trading.guarantees.errors import GuaranteeAlreadyUsed, GuaranteeStateError
from trading.guarantees.models import Guarantee, GuaranteeStatus
from trading.guarantees.repository import LIVE, GuaranteesRepository
from trading.guarantees.verify import Expectation, GuaranteeVerdict, verify_guarantee
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.kernel.web.i18n import N_
from trading.parties.certificates.trust import trust_context
from trading.parties.models import Organisation

REFERENCE_FIELD = "manifest.guarantee.reference"


def manifest_guarantee(manifest: bytes | None) -> tuple[str, str]:
    """The signed manifest's ``guarantee.form`` and ``guarantee.reference`` ("" when absent)."""
    if not manifest:
        return "", ""
    try:
        parsed = json.loads(manifest)
    except ValueError:
        return "", ""
    value = parsed.get("guarantee") if isinstance(parsed, dict) else None
    if not isinstance(value, dict):
        return "", ""
    return str(value.get("form") or ""), str(value.get("reference") or "").strip()


def expectation(terms: SecurityTerms, applicant_uscc: str) -> Expectation:
    """What a bid guarantee for ``terms`` must say, the bidder being the applicant."""
    return Expectation(
        beneficiary_uscc=terms.beneficiary_uscc,
        project_code=terms.project_code,
        lot_code=terms.lot_code,
        applicant_uscc=applicant_uscc,
        minimum_amount=terms.amount,
        bid_deadline=terms.valid_from,
        bid_validity_end=terms.valid_until,
        currency=terms.currency,
    )


async def verify_stored(
    session: AsyncSession, settings: Settings, store: Store, guarantee: Guarantee, expected: Expectation
) -> GuaranteeVerdict:
    """Verify the stored canonical JSON and CAdES of ``guarantee`` with the platform's trust list
    (revocation through the database cache) at the database time.
    """
    now = await clock.now(session)
    context = await trust_context(session, settings, now)
    return await verify_guarantee(
        await store.read_bytes(guarantee.json_key),
        await store.read_bytes(guarantee.cades_key),
        context.validator,
        expected,
        clock=lambda: now,
    )


async def check_bid_guarantee(
    session: AsyncSession,
    settings: Settings,
    store: Store,
    *,
    tender_code: str,
    lot_code: str,
    bidder_uscc: str,
    bidder_organisation_id: uuid.UUID,
    manifest: bytes,
) -> Guarantee | None:
    """The guarantee a bid's manifest names, verified for this tender, lot and bidder; None when the
    lot requires no security or the bid gives cash. Raises `BidRefused` on ``manifest.guarantee.reference``.
    """
    form, reference = manifest_guarantee(manifest)
    if form != "guarantee":  # cash or none: nothing to look up (the lot's terms are not read)
        return None
    terms = await required_security(session, tender_code, lot_code)
    if terms is None:
        return None
    if not reference:
        raise BidRefused("name the guarantee's number", field=REFERENCE_FIELD, rule="required")
    guarantee = await GuaranteesRepository(session).guarantee_by_no(reference)
    if guarantee is None:
        raise BidRefused(
            f"no guarantee {reference!r} is on this platform", field=REFERENCE_FIELD, rule="guarantee_unknown"
        )
    if guarantee.status not in LIVE:
        raise BidRefused(
            f"guarantee {reference} is {guarantee.status.value}", field=REFERENCE_FIELD, rule="guarantee_status"
        )
    if guarantee.bid_id is not None:
        # Held by a bid: only this bidder's own bid on this lot may name it again (a new version).
        holder = await session.get(Bid, guarantee.bid_id)
        holder_lot = await session.get(Lot, holder.lot_id) if holder is not None else None
        if (
            holder is None
            or holder.organisation_id != bidder_organisation_id
            or holder_lot is None
            or holder_lot.code != lot_code
        ):
            raise BidRefused(
                f"guarantee {reference} already secures another bid",
                field=REFERENCE_FIELD,
                rule="guarantee_already_used",
            )
    verdict = await verify_stored(session, settings, store, guarantee, expectation(terms, bidder_uscc))
    if not verdict.valid:
        first = verdict.findings[0] if verdict.findings else None
        rule = verdict.reasons[0].value if verdict.reasons else "guarantee_signature_invalid"
        raise BidRefused(
            f"guarantee {reference} is refused: {first.detail if first else rule}", field=REFERENCE_FIELD, rule=rule
        )
    return guarantee


async def attach_bid_guarantee(
    session: AsyncSession, actor: Actor, bid_id: uuid.UUID, guarantee: Guarantee | None
) -> None:
    """The bid's current version is secured by ``guarantee`` (None: cash or none). A replacing version
    naming another guarantee, or cash, frees the one before. ``guarantee_already_used`` when another bid
    holds it, as a `BidRefused` on the reference (the whole acceptance rolls back).
    """
    repo = GuaranteesRepository(session)
    before = await repo.guarantee_of_bid(bid_id)
    if before is not None and (guarantee is None or before.id != guarantee.id):
        await issuance.detach_from_bid(session, actor, before.id)
    if guarantee is None:
        return
    try:
        await issuance.attach_to_bid(session, actor, guarantee.id, bid_id)
    except (GuaranteeAlreadyUsed, GuaranteeStateError) as refusal:
        raise BidRefused(
            f"guarantee {guarantee.guarantee_no}: {refusal.message}", field=REFERENCE_FIELD, rule=refusal.rule
        ) from None


async def detach_bid_guarantee(session: AsyncSession, actor: Actor, bid_id: uuid.UUID) -> None:
    """The bid was withdrawn (撤回) before the deadline: its guarantee is free for another bid."""
    before = await GuaranteesRepository(session).guarantee_of_bid(bid_id)
    if before is not None:
        await issuance.detach_from_bid(session, actor, before.id)


# --- the status per bid, at the opening and at the evaluation ---------------------------------------------


class SecurityState(StrEnum):
    VERIFIED = "verified"
    REFUSED = "refused"
    CASH = "cash"
    NONE = "none"


STATE_LABELS: dict[str, str] = {
    SecurityState.VERIFIED.value: N_("Guarantee verified"),
    SecurityState.REFUSED.value: N_("Guarantee refused"),
    SecurityState.CASH.value: N_("Cash bond"),
    SecurityState.NONE.value: N_("No security"),
}
"""Each state's words (English source, zh_CN in the kernel catalogue); reasons are rule codes worded
in `trading.kernel.web.refusals`."""


@dataclass(frozen=True)
class SecurityStatus:
    """One bid's security as judged now."""

    state: SecurityState
    guarantee_no: str = ""
    reasons: tuple[str, ...] = ()


async def security_status(  # noqa: PLR0911 - one answer per state
    session: AsyncSession,
    settings: Settings,
    store: Store,
    actor: Actor,
    bid: Bid,
    *,
    mark: bool = False,
) -> SecurityStatus:
    """``bid``'s security judged again now (a guarantor revoked since the upload is refused now).
    ``mark``: a guarantee that verifies is marked verified (the opening).
    """
    tender = await session.get_one(Tender, bid.tender_id)
    lot = await session.get_one(Lot, bid.lot_id)
    version = await session.get(BidVersion, bid.current_version_id) if bid.current_version_id else None
    form, reference = manifest_guarantee(version.manifest if version else None)
    if form == "cash":
        return SecurityStatus(SecurityState.CASH)
    terms = await required_security(session, tender.project_code, lot.code)
    guarantee = await GuaranteesRepository(session).guarantee_of_bid(bid.id)
    if guarantee is None:
        if form == "guarantee" and terms is not None:
            return SecurityStatus(SecurityState.REFUSED, reference, ("guarantee_unknown",))
        return SecurityStatus(SecurityState.NONE)
    if terms is None:  # nothing required (any more): the guarantee is shown, not judged
        return SecurityStatus(SecurityState.NONE, guarantee.guarantee_no)
    bidder = await session.get_one(Organisation, bid.organisation_id)
    verdict = await verify_stored(session, settings, store, guarantee, expectation(terms, bidder.uscc))
    if not verdict.valid:
        reasons = tuple(r.value for r in verdict.reasons) or ("guarantee_signature_invalid",)
        return SecurityStatus(SecurityState.REFUSED, guarantee.guarantee_no, reasons)
    if guarantee.status not in {*LIVE, GuaranteeStatus.CLAIMED}:
        return SecurityStatus(SecurityState.REFUSED, guarantee.guarantee_no, ("guarantee_status",))
    if mark and guarantee.status == GuaranteeStatus.ISSUED:
        await issuance.mark_verified(session, actor, guarantee.id)
    return SecurityStatus(SecurityState.VERIFIED, guarantee.guarantee_no)


def status_json(status: SecurityStatus) -> dict[str, Any]:
    """A status as the opening record and the evaluation's list carry it."""
    return {"state": status.state.value, "guaranteeNo": status.guarantee_no, "reasons": list(status.reasons)}


async def statuses_by_bidder(
    session: AsyncSession,
    settings: Settings,
    store: Store,
    lot_bidders: list[tuple[uuid.UUID, uuid.UUID]],
) -> dict[tuple[uuid.UUID, uuid.UUID], SecurityStatus]:
    """`security_status` (not marking) of each (lot id, bidder organisation id)'s bid: the
    evaluation's bid list, which knows the opening's bids, not the bid rows.
    """
    statuses: dict[tuple[uuid.UUID, uuid.UUID], SecurityStatus] = {}
    for lot_id, organisation_id in lot_bidders:
        bid = await session.scalar(sa.select(Bid).where(Bid.lot_id == lot_id, Bid.organisation_id == organisation_id))
        if bid is not None:
            statuses[(lot_id, organisation_id)] = await security_status(session, settings, store, Actor.system(), bid)
    return statuses
