"""OCSP answers are cached and reused within their validity window, then asked for again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certs.devpki.pki import DevPki, PkiFetcher
from certs.errors import Reason, Refused
from certs.pathval.revocation import RevocationChecker
from certs.pathval.validate import PathValidator
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


def _leaf_naming_no_responder(pki: DevPki) -> x509.Certificate:
    """A signing certificate from the Jiangsu CA without AIA or CRL distribution points."""
    ca = pki.jiangsu_ca
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "无 AIA 的签名证书")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(pki.now - timedelta(days=1))
        .not_valid_after(pki.now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)  # type: ignore[arg-type]
        .sign(ca.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    ca.issued[certificate.serial_number] = certificate  # the development responder answers for it
    return certificate


async def test_a_leaf_naming_no_responder_is_covered_by_the_trust_lists_responder(
    pki: DevPki, registry: TrustRegistry
) -> None:
    now = [pki.now]
    fetcher = _OcspOnly(pki, now)
    validator = PathValidator(registry, RevocationChecker(fetcher, clock=lambda: now[0]))
    leaf = _leaf_naming_no_responder(pki)
    path = await validator.validate(leaf, at=pki.now, usage=Usage.LOGIN)
    assert [e.source for e in path.revocation] == [pki.jiangsu_ca.ocsp_url]  # the URL from the trust list
    pki.jiangsu_ca.revoke(leaf, pki.now - timedelta(hours=1))
    revoked_now = PathValidator(registry, RevocationChecker(_OcspOnly(pki, now), clock=lambda: now[0]))
    with pytest.raises(Refused) as info:
        await revoked_now.validate(leaf, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.REVOKED
