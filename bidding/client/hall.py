"""The opening hall from the bidder's machine: decryption, 签到, 异议, confirmation of the price
table, a key holder's share release and the host's signature of the record. Every statement is
signed here, with keys that never leave this machine, then sent through a `BidClient`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from cryptography import x509

from bidding.client import format as fmt
from bidding.client.problems import BidRejected, LocalRefusal, checked
from bidding.client.sdk import content_keys, holder_shares, price_table_sha256, sign_record, sign_statement_async
from certs.cms import SigningIdentity
from certs.envelope.keywrap import UnwrapKey

if TYPE_CHECKING:  # transport re-exports these workflows, so it is imported only for types here
    from bidding.client.transport import BidClient

_API: Final = "/api/v1"


class PlatformTsa:
    """The platform's RFC 3161 TSA (``POST /api/v1/tsa``) through a `BidClient`'s HTTP client, as
    a `certs.tsa.client.TsaTransport` (for `bidding.client.sdk.sign_record`).
    """

    def __init__(self, client: BidClient) -> None:
        self.client = client

    async def request(self, request_der: bytes) -> bytes:
        response = checked(
            await self.client.http.post(
                f"{self.client.base_url}{_API}/tsa",
                content=request_der,
                headers={"Content-Type": "application/timestamp-query"},
            )
        )
        return response.content


async def decrypt_bid(client: BidClient, tender: str, lot: str, bidder: str, key: UnwrapKey) -> dict[str, Any]:
    """Join the decryption: fetch this bid's envelope headers, unwrap both content keys here, send the
    price summary's key, then the package's. Returns the platform's answer for the package.
    """
    envelopes = [e for e in await client.envelopes(tender) if e.get("lot") == lot]
    if not envelopes:
        raise BidRejected(404, "not_found", "lot", "exists", f"no bid of ours for lot {lot} at this opening")
    envelope = envelopes[0]
    keys = content_keys(envelope, key, tender=tender, lot=lot, bidder=bidder)
    answer: dict[str, Any] = {}
    for kind in (fmt.PRICE_SUMMARY, fmt.PACKAGE):
        if envelope["parts"][kind].get("status") == "opened":
            continue
        answer = await client.send_content_key(tender, lot, kind, keys[kind])
    return answer


async def sign_in_signed(client: BidClient, tender: str, bidder: str, signer: SigningIdentity) -> dict[str, Any]:
    """签到: sign `fmt.sign_in_statement` (tender, our USCC, the action) here and send it; our rows
    plus the statement's SHA-256.
    """
    statement = fmt.sign_in_statement(tender, bidder)
    rows = await client.sign_in(tender, await sign_statement_async(statement, signer))
    return {"tender": tender, "bidder": bidder, "rows": rows, "statementSha256": hashlib.sha256(statement).hexdigest()}


async def sign_opening_record(client: BidClient, tender: str, signer: SigningIdentity) -> dict[str, Any]:
    """The host's round trip: download the platform-signed record, sign it here (the key stays on
    this machine; the timestamp comes from the platform TSA), upload it.
    """
    pdf = await client.opening_record_pdf(tender)
    signed = await sign_record(pdf, signer, tsa=PlatformTsa(client))
    return await client.upload_host_signed_record(tender, signed)


async def release_holder_shares(
    client: BidClient,
    tender: str,
    lot: str,
    bidder: str,
    *,
    holder: x509.Certificate,
    key: UnwrapKey,
    signer: SigningIdentity,
) -> dict[str, Any]:
    """A key holder's release: fetch the bid's headers, unwrap its shares, sign the statement, send."""
    [envelope] = await client.holder_envelopes(tender, lot, bidder)
    shares = holder_shares(envelope, holder, key, tender=tender, lot=lot, bidder=bidder)
    signature = await sign_statement_async(fmt.share_release_statement(tender, lot, bidder, shares), signer)
    return await client.release_shares(tender, lot, bidder, shares, signature)


async def our_bidder_uscc(client: BidClient, tender: str) -> str:
    """Our organisation's USCC as the platform recorded it on our bids for ``tender`` (every receipt
    names it): the bidder the hall's statements must name.
    """
    named = {
        str(version["record"]["bidder"])
        for entry in await client.my_bids(tender)
        for version in entry.get("versions", [])
        if isinstance(version.get("record"), dict) and version["record"].get("bidder")
    }
    if len(named) != 1:
        raise LocalRefusal("bidder", "exists", f"no bid of ours for tender {tender} names our USCC; give it")
    return named.pop()


def checked_price_table(view: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The hall view's price table and its SHA-256, recomputed here from the lines (so what is signed
    is the digest of what is shown) and compared with the platform's ``priceTableSha256``.
    """
    table = view.get("priceTable")
    if not isinstance(table, list):
        raise LocalRefusal(
            "priceTable", "published", f"the opening is at {view.get('stage')}: no price table before 唱标"
        )
    digest = price_table_sha256(table)
    if digest != view.get("priceTableSha256"):
        raise LocalRefusal(
            "priceTableSha256",
            "digest-mismatch",
            f"the platform names {view.get('priceTableSha256')}, but the table it shows hashes to {digest}",
        )
    return table, digest


def expect_price_table(digest: str, expected: str | None) -> None:
    """Refuse (before signing or sending anything) when the table is not the one the bidder reviewed."""
    if expected is not None and expected.strip().lower() != digest:
        raise LocalRefusal(
            "priceTableSha256",
            "expect-sha256",
            f"the price table is now {digest}, not the {expected.strip()} you reviewed; nothing was sent",
        )


async def file_signed_objection(
    client: BidClient, tender: str, bidder: str, text: str, signer: SigningIdentity
) -> dict[str, Any]:
    """异议: sign `fmt.objection_statement` (tender, our USCC, the text) here and file it; the
    platform's answer plus the statement's SHA-256.
    """
    statement = fmt.objection_statement(tender, bidder, text)
    answer = await client.file_objection(tender, text, await sign_statement_async(statement, signer))
    return {**answer, "tender": tender, "bidder": bidder, "statementSha256": hashlib.sha256(statement).hexdigest()}


async def file_signed_publicity_objection(
    client: BidClient,
    tender: str,
    bidder: str,
    text: str,
    signer: SigningIdentity,
    *,
    lot_group: str | None = None,
    stage: str = "publicity",
) -> dict[str, Any]:
    """异议 to the candidates' publicity (``stage`` ``publicity``) or GP 质疑 to the result
    announcement (``announcement``): fetch the open one (of ``lot_group`` when the tender has
    several), sign `fmt.award_objection_statement` (tender, lot group, our USCC, its content
    SHA-256, the text) here and file it; the platform's answer plus the statement's SHA-256.
    """
    opened = [p for p in await client.publicities(tender) if not p["closed"] and p.get("stage", "publicity") == stage]
    if lot_group is not None:
        opened = [p for p in opened if p["lotGroup"] == lot_group]
    if len(opened) != 1:
        detail = (
            f"{len(opened)} open publicities of {tender}: name one with --lot-group"
            if opened
            else f"no {'candidates publicity' if stage == 'publicity' else 'result announcement'} of {tender} "
            "takes objections now"
        )
        raise LocalRefusal("award", "objection_period", detail)
    [shown] = opened
    statement = fmt.award_objection_statement(tender, shown["lotGroup"], bidder, shown["contentSha256"], text)
    answer = await client.file_publicity_objection(
        tender, shown["award"], text, await sign_statement_async(statement, signer)
    )
    return {**answer, "tender": tender, "bidder": bidder, "statementSha256": hashlib.sha256(statement).hexdigest()}


async def answer_clarification_signed(
    client: BidClient, clarification_id: str, answer: str, signer: SigningIdentity
) -> dict[str, Any]:
    """澄清: fetch the request, sign `fmt.clarification_answer_statement` (tender, our USCC as the
    request names it, the request's id, the question's and the answer's SHA-256) here and send it.
    """
    request = await client.clarification(clarification_id)
    statement = fmt.clarification_answer_statement(
        request["tender"], request["bidder"], request["id"], request["question"], answer
    )
    answered = await client.answer_clarification(
        clarification_id, answer, await sign_statement_async(statement, signer)
    )
    return {**answered, "statementSha256": hashlib.sha256(statement).hexdigest()}


async def confirm_price_table(
    client: BidClient, tender: str, bidder: str, table_sha256: str, signer: SigningIdentity
) -> dict[str, Any]:
    """Confirm the opening result: sign `fmt.confirmation_statement` naming the price table's digest."""
    statement = fmt.confirmation_statement(tender, bidder, table_sha256)
    answer = await client.confirm(tender, await sign_statement_async(statement, signer))
    return {
        **answer,
        "tender": tender,
        "bidder": bidder,
        "priceTableSha256": table_sha256,
        "statementSha256": hashlib.sha256(statement).hexdigest(),
    }
