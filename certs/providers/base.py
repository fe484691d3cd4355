"""Provider protocols and the signature value every provider returns.

A provider is whatever holds a private key: an in-memory key (`pyca`, `sm2`) or, later, an HSM.
Callers sign through `Signer` and always get a `SignatureValue`, which names its algorithm, so a
stored signature says how to verify it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from certs.algorithms import SignatureAlgorithm, signature_algorithm


@dataclass(frozen=True, slots=True)
class SignatureValue:
    """A signature together with the algorithm that made it."""

    algorithm: SignatureAlgorithm
    value: bytes

    def to_dict(self) -> dict[str, str]:
        return {
            "algorithm": self.algorithm.name,
            "oid": self.algorithm.oid,
            "value": base64.b64encode(self.value).decode(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> SignatureValue:
        return cls(signature_algorithm(data["algorithm"]), base64.b64decode(data["value"], validate=True))


@runtime_checkable
class Signer(Protocol):
    """Something that signs with one key under one algorithm."""

    @property
    def algorithm(self) -> SignatureAlgorithm: ...

    def sign(self, data: bytes) -> SignatureValue: ...

    def public_key_der(self) -> bytes:
        """The DER SubjectPublicKeyInfo of the signing key."""
        ...
