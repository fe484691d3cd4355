"""Publishing a trust list: serialise once, sign the exact bytes (CAdES-B-T), publish both."""

from __future__ import annotations

from dataclasses import dataclass

from certs.cms import SigningIdentity
from certs.sign import cades
from certs.trustlist.model import TrustList
from certs.tsa.client import TsaTransport


@dataclass(frozen=True)
class PublishedList:
    """The list document as published (exact bytes) and its detached, timestamped signature."""

    document: bytes
    signature: bytes


async def publish(trust_list: TrustList, operator: SigningIdentity, *, tsa: TsaTransport) -> PublishedList:
    """Sign ``trust_list`` as its operator, with a timestamp from ``tsa``."""
    document = trust_list.to_json()
    signature = await cades.sign_detached(document, operator, signing_time=trust_list.issued, tsa=tsa)
    return PublishedList(document, signature)
