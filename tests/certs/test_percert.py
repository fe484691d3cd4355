"""`certs.percert`: the identity cache answers as the function does, per certificate and argument."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certs.devpki.pki import DevPki
from certs.percert import per_certificate


def test_answers_per_certificate_and_argument_and_equal_der_shares_the_answer(pki: DevPki) -> None:
    calls: list[tuple[str, str]] = []

    @per_certificate(maxsize=4)
    def describe(certificate: x509.Certificate, suffix: str) -> str:
        calls.append((certificate.subject.rfc4514_string(), suffix))
        return certificate.subject.rfc4514_string() + suffix

    guarantor, tsa = pki.guarantor.certificate, pki.tsa.certificate
    assert describe(guarantor, "!") == guarantor.subject.rfc4514_string() + "!"
    assert describe(tsa, "!") == tsa.subject.rfc4514_string() + "!"
    assert describe(guarantor, "?") == guarantor.subject.rfc4514_string() + "?"
    assert describe(guarantor, "!") == guarantor.subject.rfc4514_string() + "!"
    assert len(calls) == 3  # the repeat came from the cache
    # another object with the same DER: the same answer, from the DER-keyed cache underneath
    twin = x509.load_der_x509_certificate(guarantor.public_bytes(serialization.Encoding.DER))
    assert twin is not guarantor
    assert describe(twin, "!") == guarantor.subject.rfc4514_string() + "!"
    assert len(calls) == 3


def test_a_full_cache_starts_over_and_never_mixes_certificates_up(pki: DevPki) -> None:
    @per_certificate(maxsize=2)
    def subject(certificate: x509.Certificate) -> str:
        return certificate.subject.rfc4514_string()

    certificates = [pki.guarantor.certificate, pki.tsa.certificate, pki.operator.certificate] * 3
    for certificate in certificates:
        # fresh objects too: a dead object's id may be reused by the next one, the answer must follow the object
        fresh = x509.load_der_x509_certificate(certificate.public_bytes(serialization.Encoding.DER))
        assert subject(certificate) == certificate.subject.rfc4514_string()
        assert subject(fresh) == certificate.subject.rfc4514_string()
        del fresh
    subject.cache_clear()
    assert subject(pki.tsa.certificate) == pki.tsa.certificate.subject.rfc4514_string()
