"""OCSP answers are cached and reused within their validity window, then asked for again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from certs.errors import Reason, Refused
from certs.pathval.revocation import RevocationChecker
from certs.pathval.validate import PathValidator
from certs.testing.pki import DevPki, PkiFetcher
from certs.trustlist.model import Usage
from certs.trustlist.registry import TrustRegistry


class _OcspOnly(PkiFetcher):
    """CRLs unreachable, so every verdict rests on OCSP; counts what is asked of the responder."""

    def __init__(self, pki: DevPki, clock: list[datetime]) -> None:
        super().__init__(pki, clock=lambda: clock[0])
        self.ocsp_requests = 0

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        if body is None:
            msg = f"{url} unreachable"
            raise ConnectionError(msg)
        self.ocsp_requests += 1
        return await super().fetch(url, body=body, content_type=content_type)


async def test_an_ocsp_answer_is_reused_within_its_validity_window(pki: DevPki, registry: TrustRegistry) -> None:
    now = [pki.now]
    fetcher = _OcspOnly(pki, now)
    validator = PathValidator(registry, RevocationChecker(fetcher, clock=lambda: now[0]))
    for _ in range(3):
        path = await validator.validate(pki.org_sign.certificate, at=now[0], usage=Usage.LOGIN)
        assert [e.kind for e in path.revocation] == ["ocsp"]
    assert fetcher.ocsp_requests == 1
    now[0] = pki.now + timedelta(hours=13)  # the development responder's answers last 12 hours
    await validator.validate(pki.org_sign.certificate, at=now[0], usage=Usage.LOGIN)
    assert fetcher.ocsp_requests == 2


async def test_a_cached_revoked_answer_still_refuses(pki: DevPki, registry: TrustRegistry) -> None:
    now = [pki.now]
    fetcher = _OcspOnly(pki, now)
    validator = PathValidator(registry, RevocationChecker(fetcher, clock=lambda: now[0]))
    for _ in range(2):
        with pytest.raises(Refused) as info:
            await validator.validate(pki.revoked.certificate, at=now[0], usage=Usage.LOGIN)
        assert info.value.reason is Reason.REVOKED
    assert fetcher.ocsp_requests == 1
    # before the revocation, the same cached answer is used; the engine does not read "revoked
    # later" as "good then" (it fails closed: unknown), while a CRL would clear that time
    with pytest.raises(Refused) as info:
        await validator.validate(pki.revoked.certificate, at=pki.now - timedelta(days=3), usage=Usage.LOGIN)
    assert info.value.reason is Reason.REVOCATION_UNKNOWN
    assert fetcher.ocsp_requests == 1
