"""The signals captured with the bids of one lot, as `BidSignals` for the hard-evidence screens.

Where each field comes from (issue 19 §1):

- ``bidder``: the bidding organisation's id on ggzy (``str(UUID)``), ``bidder_name`` its name;
- ``device_hash``: the signed public manifest's ``signals.deviceHash`` (`bidding.client.fingerprint`;
  None for browser-sealed bids and bids sealed before the fingerprint existed);
- ``submit_ip``: ``bidding_bid_versions.submit_ip`` (recorded at submission);
- ``decrypt_ip``, ``file_digests``, ``authoring``: ``bidding_opening_bids`` (``decrypt_ip``,
  ``package_files``: recorded when the bidder's decryption, backup or the key holders' escrow opened
  the package — no address for escrow; empty before the opening). The structured response
  (``ggzy-response.json``) is the platform's own format, not a document the bidder authored: left out;
- ``guarantee_issuer``: the USCC of the guarantor whose electronic guarantee (保函) secures the bid
  (`trading.guarantees`); None for cash or none;
- ``project_manager``, ``contacts``: ``bidding_opening_bids.declared_parties`` (migration 0054), the
  parties the opened package's structured response declares (`bidding.client.parties`, recorded
  at the opening, normalised): the project manager's identity number, else registration number,
  else name; every contact's phone (digits) and e-mail (lower case). None / empty before the
  opening (the response is sealed), for older responses, and when the declaration broke a rule;
- ``guarantee_payer_account``: for an electronic guarantee, the account its fee was paid from
  (``guarantees_applications.payer_account_no``, recorded when the guarantor marks it paid); else,
  for a cash bond, the account the response declares it was paid from (``bidSecurityPayer``,
  after the opening only); None when neither is recorded;
- ``texts``: not stored by the platform; the caller passes what it extracted (``texts=``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client.format import RESPONSE_FILE
from bidding.integrity.screens.model import BidSignals
from bidding.models import Bid, BidStatus, BidVersion, Lot
from bidding.opening.models import OpeningBid, OpeningSession, Outcome
from trading.guarantees.models import Guarantee, GuaranteeApplication, Guarantor
from trading.parties.models import Organisation

__all__ = ["AUTHORING_KEYS", "LotNotFound", "lot_signals"]

AUTHORING_KEYS = (
    "name",
    "author",
    "last_modified_by",
    "company",
    "creator",
    "producer",
    "application",
    "created",
    "modified",
    "document_id",
)
"""The keys of one file's authoring mapping (`bidding.opening.authoring` records them)."""

_NOT_VALID = frozenset({Outcome.REVOKED, Outcome.WITHDRAWN})  # not opened: no longer a valid bid


class LotNotFound(LookupError):
    """The tender has no such lot (or ``lot=None`` for a tender with several): names the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.field = "lot"
        self.rule = "lot-not-found"


async def lot_signals(
    session: AsyncSession,
    tender_id: uuid.UUID,
    lot: str | None,
    *,
    texts: Mapping[str, Sequence[str]] | None = None,
) -> list[BidSignals]:
    """The signals of the valid bids of one lot, by bidder id.

    ``lot`` is the lot's code; None for a single-lot tender. Valid bids: once the opening exists,
    its bids of the lot not revoked or withdrawn; before it, the bids currently submitted.
    ``texts``: the opened files' texts by bidder id, for the name-inside check, when the caller has
    them (the platform does not store them).
    """
    lot_row = await _lot(session, tender_id, lot)
    opening_id = await session.scalar(select(OpeningSession.id).where(OpeningSession.tender_id == tender_id))
    rows: list[tuple[BidVersion, Organisation, OpeningBid | None, str | None, str | None]]
    if opening_id is not None:  # the bids the opening holds, with what it recorded
        opened_query = (
            select(BidVersion, Organisation, OpeningBid, Guarantor.uscc, GuaranteeApplication.payer_account_no)
            .join(Bid, Bid.id == OpeningBid.bid_id)
            .join(BidVersion, BidVersion.id == OpeningBid.version_id)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            .outerjoin(Guarantee, Guarantee.bid_id == Bid.id)
            .outerjoin(Guarantor, Guarantor.id == Guarantee.guarantor_id)
            .outerjoin(GuaranteeApplication, GuaranteeApplication.id == Guarantee.application_id)
            .where(OpeningBid.session_id == opening_id, Bid.lot_id == lot_row.id)
            .order_by(Organisation.id)
        )
        rows = [(v, o, b, i, a) for v, o, b, i, a in (await session.execute(opened_query)).all()]
    else:  # before the opening: the current submitted versions
        submitted_query = (
            select(BidVersion, Organisation, Guarantor.uscc, GuaranteeApplication.payer_account_no)
            .join(Bid, Bid.current_version_id == BidVersion.id)
            .join(Organisation, Organisation.id == Bid.organisation_id)
            .outerjoin(Guarantee, Guarantee.bid_id == Bid.id)
            .outerjoin(Guarantor, Guarantor.id == Guarantee.guarantor_id)
            .outerjoin(GuaranteeApplication, GuaranteeApplication.id == Guarantee.application_id)
            .where(Bid.tender_id == tender_id, Bid.lot_id == lot_row.id, Bid.status == BidStatus.SUBMITTED)
            .order_by(Organisation.id)
        )
        rows = [(v, o, None, i, a) for v, o, i, a in (await session.execute(submitted_query)).all()]
    texts = texts or {}
    signals = []
    for version, organisation, opened, issuer, fee_account in rows:
        if opened is not None and opened.outcome in _NOT_VALID:
            continue
        files = _files(opened.package_files if opened is not None else None)
        declared = _declared(opened.declared_parties if opened is not None else None)
        bidder = str(organisation.id)
        signals.append(
            BidSignals(
                bidder=bidder,
                bidder_name=organisation.name,
                device_hash=_device_hash(version.manifest),
                file_digests=tuple(str(f["sha256"]) for f in files if f.get("sha256")),
                authoring=tuple(_authoring(f) for f in files),
                submit_ip=version.submit_ip,
                decrypt_ip=opened.decrypt_ip if opened is not None else None,
                guarantee_issuer=issuer,
                guarantee_payer_account=fee_account or _cash_payer(declared),
                contacts=_contacts(declared),
                project_manager=_project_manager(declared),
                texts=tuple(texts.get(bidder, ())),
            )
        )
    return signals


async def _lot(session: AsyncSession, tender_id: uuid.UUID, code: str | None) -> Lot:
    lots = list(await session.scalars(select(Lot).where(Lot.tender_id == tender_id).order_by(Lot.code)))
    if code is None:
        if len(lots) != 1:
            raise LotNotFound(f"tender {tender_id} has {len(lots)} lots: name one (lot=None is for a single lot)")
        return lots[0]
    for row in lots:
        if row.code == code:
            return row
    raise LotNotFound(f"tender {tender_id} has no lot {code!r}")


def _device_hash(manifest: bytes | None) -> str | None:
    """``signals.deviceHash`` of the stored manifest (checked at intake by `format.parse_manifest`)."""
    if not manifest:
        return None
    try:
        signals = json.loads(manifest).get("signals")
    except (ValueError, AttributeError):
        return None
    value = signals.get("deviceHash") if isinstance(signals, dict) else None
    return value if isinstance(value, str) and value else None


def _files(recorded: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    files = (recorded or {}).get("files") or []
    return [f for f in files if isinstance(f, Mapping) and f.get("name") != RESPONSE_FILE]


def _authoring(file: Mapping[str, Any]) -> Mapping[str, str]:
    return {key: str(file[key]) for key in AUTHORING_KEYS if file.get(key)}


def _declared(recorded: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The recorded declaration, or nothing when there is none or it broke a rule (``problems``)."""
    if not isinstance(recorded, Mapping) or "problems" in recorded:
        return {}
    return recorded


def _project_manager(declared: Mapping[str, Any]) -> str | None:
    """The identity number, else the registration number, else the name."""
    manager = declared.get("projectManager")
    if not isinstance(manager, Mapping):
        return None
    for key in ("idNumber", "registrationNo", "name"):
        value = manager.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _contacts(declared: Mapping[str, Any]) -> tuple[str, ...]:
    """Every declared contact's phone and e-mail, in order, without repeats."""
    found: list[str] = []
    for contact in declared.get("contacts") or ():
        if not isinstance(contact, Mapping):
            continue
        for key in ("phone", "email"):
            value = contact.get(key)
            if isinstance(value, str) and value and value not in found:
                found.append(value)
    return tuple(found)


def _cash_payer(declared: Mapping[str, Any]) -> str | None:
    payer = declared.get("bidSecurityPayer")
    value = payer.get("accountNo") if isinstance(payer, Mapping) else None
    return value if isinstance(value, str) and value else None
