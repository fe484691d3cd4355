"""Bid receipts (确认回执, Order 20 Art. 27; signed per certification item A-101).

A receipt is a small record — tender, lot, bidder, version, what was received (container, manifest
and part digests), the database time — as canonical JSON, signed by the platform's receipt key
with a detached CAdES-B-T signature whose timestamp comes from the platform TSA in the same
transaction. Anyone verifies it with `certs` (`bidding.client.sdk.verify_receipt`) or with::

    openssl cms -verify -binary -inform DER -in R.p7s -content R.json -CAfile platform_root.pem -purpose any

The receipt key is configured like the TSA key (``GGZY_CERTS_RECEIPT_P12``; embedded: the
development PKI's ``platform_signer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from cryptography.hazmat.primitives import serialization
from sqlalchemy.ext.asyncio import AsyncSession

from certs.cms import SigningIdentity
from certs.sign.cades import SignedRecord, sign_record
from trading.kernel.settings import Settings
from trading.kernel.signing import load_identity
from trading.parties.certificates import tsa as platform_tsa

log = structlog.get_logger(__name__)

RECEIPT_TYPE = "ggzy-bid-receipt/1"


def receipt_identity(settings: Settings) -> SigningIdentity:
    """The receipt signer's key, certificate and chain (read once per file version)."""
    return load_identity(
        settings.certs.receipt_p12, settings.certs.receipt_p12_password, setting="GGZY_CERTS_RECEIPT_P12"
    )


def signer_chain_pem(settings: Settings) -> bytes:
    """The receipt signer's certificate and chain, PEM: what verifiers need besides a root."""
    identity = receipt_identity(settings)
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (identity.certificate, *identity.chain))


@dataclass(frozen=True)
class _SessionTsa:
    """The platform TSA in the caller's transaction (its serial row commits with the receipt), at
    the database time the caller read in that transaction (no second clock read).
    """

    session: AsyncSession
    settings: Settings
    client_ip: str | None
    at: datetime

    async def request(self, request_der: bytes) -> bytes:
        return await platform_tsa.timestamp(
            self.session, self.settings, request_der, client_ip=self.client_ip, at=self.at
        )


async def sign_receipt(
    session: AsyncSession, settings: Settings, record: Mapping[str, Any], *, client_ip: str | None, at: datetime
) -> SignedRecord:
    """Sign ``record`` (``type`` added) with the receipt key, timestamped by the platform TSA.

    The claimed signing time is ``at``, the database time the bid was received, read in
    ``session``'s transaction; the TSA's time is that same reading in whole seconds (on PostgreSQL
    the clock is the transaction's start, which a second read would return again), so the two agree.
    """
    body = {"type": RECEIPT_TYPE, **record}
    return await sign_record(
        body, receipt_identity(settings), signing_time=at, tsa=_SessionTsa(session, settings, client_ip, at)
    )
