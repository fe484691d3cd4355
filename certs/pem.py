"""Certificates in and out of PEM, and their fingerprints: for callers that hold `certs` and the
standard library only (the archive verifier, ``python -m bidding.award.verify``).
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """Every certificate in ``pem`` (``ValueError`` when there is none or one is malformed)."""
    return x509.load_pem_x509_certificates(pem)


def to_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, hex."""
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()
