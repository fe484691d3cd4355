"""A CRL is never taken as complete outside its scope (issue 12's defect), by either engine.

The defect: a fresh, validly signed CRL from the certificate's own CA, served at the certificate's
own CRL URL but scoped by an Issuing Distribution Point to CA certificates only (or to another
distribution point), made a revoked end-entity certificate pass, because the CRL was read as
complete. Both engines now refuse: pyhanko-certvalidator's for RSA/ECDSA chains through
`PathValidator`, and the platform's own rules (`crl_scope_problem`, used for SM2 chains) through
`RevocationChecker.check`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from certs.devpki.pki import CertificateAuthority, DevPki, PkiFetcher
from certs.errors import Reason, Refused
from certs.pathval.revocation import RevocationChecker, crl_scope_problem
from certs.pathval.validate import PathValidator
from certs.trustlist.model import Usage
from certs.trustlist.registry import TrustRegistry

OTHER_POINT = "http://crl.example.invalid/partition-2.crl"


def _idp_ca_only() -> x509.IssuingDistributionPoint:
    return x509.IssuingDistributionPoint(None, None, False, True, None, False, False)  # noqa: FBT003


def _idp_other_point() -> x509.IssuingDistributionPoint:
    return x509.IssuingDistributionPoint(
        [x509.UniformResourceIdentifier(OTHER_POINT)],
        None,
        False,  # noqa: FBT003
        False,  # noqa: FBT003
        None,
        False,  # noqa: FBT003
        False,  # noqa: FBT003
    )


def _narrow_crl(
    pki: DevPki, ca: CertificateAuthority, extension: x509.ExtensionType | None, *, critical: bool
) -> bytes:
    """A fresh CRL from ``ca`` listing nothing, carrying ``extension``: valid, but not complete for end entities."""
    now = pki.now
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now - timedelta(hours=1))
        .next_update(now + timedelta(days=7))
        .add_extension(x509.CRLNumber(99), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)  # type: ignore[arg-type]
    )
    if extension is not None:
        builder = builder.add_extension(extension, critical=critical)
    crl = builder.sign(ca.key, hashes.SHA256())  # type: ignore[arg-type]
    return crl.public_bytes(serialization.Encoding.DER)


class _ServesNarrowCrl(PkiFetcher):
    """Serves the narrow CRL at the CA's own CRL URL (where the certificate says its CRL is)."""

    def __init__(self, pki: DevPki, der: bytes) -> None:
        super().__init__(pki)
        self.der = der

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        if body is None and url == self._pki.jiangsu_ca.crl_url:
            self.requests.append(url)
            return self.der
        return await super().fetch(url, body=body, content_type=content_type)


SCOPES = {
    "idp-ca-certificates-only": (_idp_ca_only(), True),
    "idp-another-distribution-point": (_idp_other_point(), True),
    "unknown-critical-extension": (
        x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"),
        True,
    ),
    "delta-crl-indicator": (x509.DeltaCRLIndicator(1), True),
}


@pytest.mark.parametrize("scope", list(SCOPES))
async def test_a_crl_outside_its_scope_never_clears_a_revoked_certificate(
    pki: DevPki, registry: TrustRegistry, scope: str
) -> None:
    extension, critical = SCOPES[scope]
    fetcher = _ServesNarrowCrl(pki, _narrow_crl(pki, pki.jiangsu_ca, extension, critical=critical))
    validator = PathValidator(registry, RevocationChecker(fetcher, clock=lambda: pki.now, use_ocsp=False))
    for identity in (pki.revoked, pki.org_sign):  # revoked, and good: neither is cleared by this CRL
        with pytest.raises(Refused) as info:
            await validator.validate(identity.certificate, at=pki.now, usage=Usage.LOGIN)
        assert info.value.reason in {Reason.REVOCATION_UNKNOWN, Reason.REVOKED}
    assert fetcher.requests[0] == pki.jiangsu_ca.crl_url  # the CRL was there and was looked at


async def test_the_same_crl_without_a_scope_clears_a_good_certificate(pki: DevPki, registry: TrustRegistry) -> None:
    """The control: the narrow CRL's only fault is its scope."""
    fetcher = _ServesNarrowCrl(pki, _narrow_crl(pki, pki.jiangsu_ca, None, critical=False))
    validator = PathValidator(registry, RevocationChecker(fetcher, clock=lambda: pki.now, use_ocsp=False))
    path = await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN)
    assert [e.kind for e in path.evidence()] == ["trust-list", "crl"]


async def test_a_scoped_crl_falls_back_to_ocsp_which_says_revoked(pki: DevPki, registry: TrustRegistry) -> None:
    fetcher = _ServesNarrowCrl(pki, _narrow_crl(pki, pki.jiangsu_ca, _idp_ca_only(), critical=True))
    validator = PathValidator(registry, RevocationChecker(fetcher, clock=lambda: pki.now))
    with pytest.raises(Refused) as info:
        await validator.validate(pki.revoked.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.REVOKED
    path = await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN)
    assert [e.kind for e in path.revocation] == ["crl", "ocsp"]


@pytest.mark.parametrize("scope", list(SCOPES))
async def test_the_own_engine_refuses_every_crl_it_could_misread(pki: DevPki, scope: str) -> None:
    """The rules SM2 chains get (`RevocationChecker.check`, `crl_scope_problem`) on the same CRLs."""
    extension, critical = SCOPES[scope]
    der = _narrow_crl(pki, pki.jiangsu_ca, extension, critical=critical)
    assert crl_scope_problem(x509.load_der_x509_crl(der)) is not None
    checker = RevocationChecker(_ServesNarrowCrl(pki, der), clock=lambda: pki.now, use_ocsp=False)
    with pytest.raises(Refused) as info:
        await checker.check(pki.revoked.certificate, pki.jiangsu_ca.certificate, pki.now)
    assert info.value.reason is Reason.REVOCATION_UNKNOWN
    complete = _narrow_crl(pki, pki.jiangsu_ca, None, critical=False)
    assert crl_scope_problem(x509.load_der_x509_crl(complete)) is None


async def test_the_own_engine_requires_crl_sign(pki: DevPki) -> None:
    """A CRL signed by a key whose certificate lacks cRLSign is not the CA's CRL (the leaf signs one here)."""
    signer = pki.org_sign
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(signer.certificate.subject)
        .last_update(pki.now - timedelta(hours=1))
        .next_update(pki.now + timedelta(days=1))
        .sign(signer.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    checker = RevocationChecker(PkiFetcher(pki), clock=lambda: pki.now)
    with pytest.raises(Refused) as info:
        checker.add_crl("urn:test", crl.public_bytes(serialization.Encoding.DER), signer.certificate)
    assert "cRLSign" in info.value.text
