"""What is read from an opening: the price table (唱标) and its digest, the decryption's progress,
and the opening record's data (开标记录), as much as a caller's `OpeningPolicy` lets it see. Shared
by the state machine (`bidding.opening.stages`: the ledger entries of 唱标 and of the close), the
hall's view (`bidding.opening.services.hall`) and the PDF record (`bidding.opening.record`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.client.sdk import price_table_sha256 as sdk_price_table_sha256
from bidding.opening import coefficients, repository
from bidding.opening.models import OpeningBid, OpeningSession, PartStatus, Stage
from bidding.visibility import OpeningPolicy
from trading.kernel.errors import NotFound
from trading.ledger.models import LedgerChainHead
from trading.ledger.service import chain_for


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


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


async def price_table(session: AsyncSession, opening: OpeningSession) -> list[dict[str, Any]]:
    lots = {lot.id: lot for lot in await repository.lots_of_tender(session, opening.tender_id)}
    rows = await repository.bid_rows(session, opening)
    rows.sort(key=lambda r: (lots[r.lot_id].position, r.bidder_name))
    return [price_row(row, lots[row.lot_id].code) for row in rows]


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
    rows = await repository.bid_rows(session, opening)
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
        # The random coefficients drawn in the hall (抽取系数): public, with the seed once drawn.
        "coefficients": await coefficients.public_draws(session, opening, code),
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
