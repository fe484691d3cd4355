"""Algorithm registry: names, OIDs and the per-date acceptability policy.

Every signature `certs` produces or stores is recorded with one of these names (and its OID), so a
stored signature says how to verify it years later. Which algorithms are acceptable is decided per
date by `AlgorithmPolicy`, in the manner of EU DSS's ``AlgoExpirationDate``: SHA-1 signatures, for
instance, were acceptable for signatures made before 2009 and are refused for anything later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from certs.errors import Reason, Refused

SM2_DEFAULT_ID: Final = b"1234567812345678"
"""The GM/T 0009 default distinguishing ID used in SM2's Z_A (every Chinese CA uses it)."""


@dataclass(frozen=True, slots=True)
class DigestAlgorithm:
    name: str
    oid: str
    size: int


SHA256: Final = DigestAlgorithm("sha256", "2.16.840.1.101.3.4.2.1", 32)
SHA384: Final = DigestAlgorithm("sha384", "2.16.840.1.101.3.4.2.2", 48)
SHA512: Final = DigestAlgorithm("sha512", "2.16.840.1.101.3.4.2.3", 64)
SM3: Final = DigestAlgorithm("sm3", "1.2.156.10197.1.401", 32)
SHA1: Final = DigestAlgorithm("sha1", "1.3.14.3.2.26", 20)

DIGESTS: Final = {d.name: d for d in (SHA256, SHA384, SHA512, SM3, SHA1)}


@dataclass(frozen=True, slots=True)
class SignatureAlgorithm:
    """A signature algorithm as stored with every signature: ``name`` for people, ``oid`` for machines.

    ``family`` is the key type (``rsa``, ``ecdsa``, ``eddsa``, ``sm2``); ``digest`` the hash the
    signature covers (None for Ed25519, which hashes internally).
    """

    name: str
    oid: str
    family: str
    digest: DigestAlgorithm | None
    padding: str | None = None


RSA_PKCS1_SHA256: Final = SignatureAlgorithm("rsa-pkcs1-sha256", "1.2.840.113549.1.1.11", "rsa", SHA256, "pkcs1v15")
RSA_PKCS1_SHA384: Final = SignatureAlgorithm("rsa-pkcs1-sha384", "1.2.840.113549.1.1.12", "rsa", SHA384, "pkcs1v15")
RSA_PKCS1_SHA512: Final = SignatureAlgorithm("rsa-pkcs1-sha512", "1.2.840.113549.1.1.13", "rsa", SHA512, "pkcs1v15")
RSA_PKCS1_SHA1: Final = SignatureAlgorithm("rsa-pkcs1-sha1", "1.2.840.113549.1.1.5", "rsa", SHA1, "pkcs1v15")
RSA_PSS_SHA256: Final = SignatureAlgorithm("rsa-pss-sha256", "1.2.840.113549.1.1.10", "rsa", SHA256, "pss")
ECDSA_P256_SHA256: Final = SignatureAlgorithm("ecdsa-p256-sha256", "1.2.840.10045.4.3.2", "ecdsa", SHA256)
ECDSA_P384_SHA384: Final = SignatureAlgorithm("ecdsa-p384-sha384", "1.2.840.10045.4.3.3", "ecdsa", SHA384)
ED25519: Final = SignatureAlgorithm("ed25519", "1.3.101.112", "eddsa", None)
SM2_SM3: Final = SignatureAlgorithm("sm2-sm3", "1.2.156.10197.1.501", "sm2", SM3)

SIGNATURE_ALGORITHMS: Final = {
    a.name: a
    for a in (
        RSA_PKCS1_SHA256,
        RSA_PKCS1_SHA384,
        RSA_PKCS1_SHA512,
        RSA_PKCS1_SHA1,
        RSA_PSS_SHA256,
        ECDSA_P256_SHA256,
        ECDSA_P384_SHA384,
        ED25519,
        SM2_SM3,
    )
}


def signature_algorithm(name: str) -> SignatureAlgorithm:
    """The registered algorithm called ``name``; refuses an unknown name."""
    try:
        return SIGNATURE_ALGORITHMS[name]
    except KeyError:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"unknown signature algorithm {name!r}") from None


def digest_algorithm(name: str) -> DigestAlgorithm:
    try:
        return DIGESTS[name]
    except KeyError:
        raise Refused(Reason.UNSUPPORTED_ALGORITHM, f"unknown digest algorithm {name!r}") from None


@dataclass(frozen=True, slots=True)
class Acceptability:
    """When an algorithm may be used: signatures made before ``until`` (exclusive) are acceptable."""

    since: datetime | None = None
    until: datetime | None = None


def _utc(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@dataclass(frozen=True)
class AlgorithmPolicy:
    """Which signature and digest algorithms are acceptable at a given time.

    ``min_rsa_bits`` is the smallest RSA modulus accepted at any time (2048: RSA-1900 expired in
    DSS's policy in 2023). An algorithm absent from the tables is refused.
    """

    signatures: dict[str, Acceptability] = field(
        default_factory=lambda: {
            RSA_PKCS1_SHA256.name: Acceptability(),
            RSA_PKCS1_SHA384.name: Acceptability(),
            RSA_PKCS1_SHA512.name: Acceptability(),
            RSA_PSS_SHA256.name: Acceptability(),
            RSA_PKCS1_SHA1.name: Acceptability(until=_utc(2009)),
            ECDSA_P256_SHA256.name: Acceptability(),
            ECDSA_P384_SHA384.name: Acceptability(),
            ED25519.name: Acceptability(),
            SM2_SM3.name: Acceptability(),
        }
    )
    digests: dict[str, Acceptability] = field(
        default_factory=lambda: {
            SHA256.name: Acceptability(),
            SHA384.name: Acceptability(),
            SHA512.name: Acceptability(),
            SM3.name: Acceptability(),
            SHA1.name: Acceptability(until=_utc(2009)),
        }
    )
    min_rsa_bits: int = 2048

    def check_signature(self, algorithm: SignatureAlgorithm, at: datetime, *, rsa_bits: int | None = None) -> None:
        """Refuse ``algorithm`` for a signature made at ``at`` when the policy does not allow it."""
        self._check(self.signatures, algorithm.name, at)
        if algorithm.digest is not None:
            self._check(self.digests, algorithm.digest.name, at)
        if algorithm.family == "rsa" and rsa_bits is not None and rsa_bits < self.min_rsa_bits:
            raise Refused(
                Reason.ALGORITHM_NOT_ACCEPTED,
                f"RSA key of {rsa_bits} bits is below the minimum of {self.min_rsa_bits}",
            )

    def signature_dates(self, algorithm: SignatureAlgorithm) -> list[datetime]:
        """The dates at which `check_signature`'s answer for ``algorithm`` can change (its and its digest's
        ``since`` and ``until``): the answer is the same for every time between two of them.
        """
        rules = [self.signatures.get(algorithm.name)]
        if algorithm.digest is not None:
            rules.append(self.digests.get(algorithm.digest.name))
        return [when for rule in rules if rule is not None for when in (rule.since, rule.until) if when is not None]

    @staticmethod
    def _check(table: dict[str, Acceptability], name: str, at: datetime) -> None:
        rule = table.get(name)
        if rule is None:
            raise Refused(Reason.ALGORITHM_NOT_ACCEPTED, f"algorithm {name} is not in the validation policy")
        if rule.since is not None and at < rule.since:
            raise Refused(
                Reason.ALGORITHM_NOT_ACCEPTED, f"algorithm {name} is accepted only from {rule.since:%Y-%m-%d}"
            )
        if rule.until is not None and at >= rule.until:
            raise Refused(
                Reason.ALGORITHM_NOT_ACCEPTED,
                f"algorithm {name} is accepted only for signatures made before {rule.until:%Y-%m-%d}",
            )


DEFAULT_POLICY: Final = AlgorithmPolicy()
