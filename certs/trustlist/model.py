"""The ggzy trust list (reference §7.7): a JSON document naming every recognised CA and TSA.

Modelled on ETSI TS 119 612: a scheme operator, a strictly increasing sequence number, an issue
date and a ``nextUpdate`` after which the list must not be used, pointers to peer platforms' lists
(with their operators' certificates pinned, a mapping of their service types onto ours and the
scope we grant them), and trust-service providers whose services carry a certificate, a status
with its history, and a recognition scope (usages, regions, industries).

Field names are camelCase, times RFC 3339 UTC, regions GB/T 2260 codes (``CN-32``) or ``*``. The
``critical`` array names fields a consumer must understand: a critical field this code does not
know makes the whole list invalid, while unknown non-critical fields are ignored.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from certs.canonical import canonical_json
from certs.errors import Reason, Refused
from certs.percert import per_certificate

SCHEMA_VERSION: Final = "ggzy-tl/1"
LIST_TYPE: Final = "urn:ggzy:tl:ca-mutual-recognition"
ANY: Final = "*"


class Usage(StrEnum):
    LOGIN = "login"
    BID_SIGNATURE = "bid-signature"
    BID_ENCRYPTION = "bid-encryption"
    SEAL = "seal"
    TIMESTAMP = "timestamp"
    GUARANTEE = "guarantee"
    LICENCE = "e-licence"
    EID = "e-id"


class ServiceType(StrEnum):
    CA_SIGN = "urn:ggzy:svc:CA/PKC-sign"
    CA_ENC = "urn:ggzy:svc:CA/PKC-enc"
    TSA = "urn:ggzy:svc:TSA"
    OCSP = "urn:ggzy:svc:OCSP"
    SEAL_MAKER = "urn:ggzy:svc:SealMaker"
    GUARANTEE_ISSUER = "urn:ggzy:svc:GuaranteeIssuer"
    CREDENTIAL_ISSUER = "urn:ggzy:svc:CredentialIssuer"


class Status(StrEnum):
    GRANTED = "granted"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


_KNOWN_CRITICAL: Final = frozenset({"identityMapping", "recognitionScope", "history"})
_TOP_LEVEL: Final = frozenset(
    {
        "schemaVersion", "listType", "schemeOperator", "sequenceNumber", "issueDate", "nextUpdate",
        "distributionPoints", "validationPolicy", "pointersToOtherLists", "entities", "critical",
    }
)  # fmt: skip


def _time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        msg = f"time without zone: {value}"
        raise ValueError(msg)
    return parsed


def _certificate(value: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(value, validate=True))


def _cert_b64(certificate: x509.Certificate) -> str:
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


@per_certificate(maxsize=4096)
def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, hex (cached: registry lookups happen on every validation)."""
    return certificate.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True, slots=True)
class StatusChange:
    status: Status
    starting: datetime

    def to_dict(self) -> dict[str, str]:
        return {"status": self.status.value, "statusStartingTime": self.starting.isoformat()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StatusChange:
        return cls(Status(data["status"]), _time(data["statusStartingTime"]))


def status_at(changes: Iterable[StatusChange], at: datetime) -> StatusChange | None:
    """The status in force at ``at`` (the latest change starting at or before it), or None before any."""
    current = None
    for change in changes:  # the latest start at or before ``at``; of equal starts, the last given
        if change.starting <= at and (current is None or change.starting >= current.starting):
            current = change
    return current


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a service is recognised: usages, regions and industries (``*`` means any)."""

    usages: frozenset[Usage]
    regions: frozenset[str] = frozenset({ANY})
    industries: frozenset[str] = frozenset({ANY})

    def allows_region(self, region: str | None) -> bool:
        return region is None or ANY in self.regions or region in self.regions

    def allows_industry(self, industry: str | None) -> bool:
        return industry is None or ANY in self.industries or industry in self.industries

    def intersect(self, other: Scope) -> Scope:
        def meet(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
            if ANY in a:
                return b
            if ANY in b:
                return a
            return a & b

        return Scope(
            self.usages & other.usages, meet(self.regions, other.regions), meet(self.industries, other.industries)
        )

    def to_dict(self) -> dict[str, list[str]]:
        return {
            "usages": sorted(u.value for u in self.usages),
            "regions": sorted(self.regions),
            "industries": sorted(self.industries),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scope:
        return cls(
            frozenset(Usage(u) for u in data["usages"]),
            frozenset(data.get("regions", [ANY])),
            frozenset(data.get("industries", [ANY])),
        )


@dataclass(frozen=True, slots=True)
class IdentityRule:
    """Where a CA puts a party's identifier: a subject attribute or an extension, by OID."""

    kind: str  # "organisation" (USCC) or "person" (resident ID number)
    source: str  # "subject" or "extension"
    oid: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "source": self.source, "oid": self.oid}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IdentityRule:
        rule = cls(data["kind"], data["source"], data["oid"])
        if rule.kind not in {"organisation", "person"} or rule.source not in {"subject", "extension"}:
            msg = f"identity rule {data}"
            raise ValueError(msg)
        return rule


@dataclass(frozen=True)
class Service:
    """One recognised service (a CA, a TSA, a credential issuer …) and its status over time."""

    type: ServiceType
    name: str
    certificate: x509.Certificate
    status: StatusChange
    scope: Scope
    history: tuple[StatusChange, ...] = ()
    algorithms: tuple[str, ...] = ()
    identity_mapping: tuple[IdentityRule, ...] = ()
    crl_urls: tuple[str, ...] = ()
    ocsp_urls: tuple[str, ...] = ()

    @property
    def sha256(self) -> str:
        return fingerprint(self.certificate)

    def status_at(self, at: datetime) -> StatusChange | None:
        return status_at((self.status, *self.history), at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "name": self.name,
            "digitalIdentity": {"certificate": _cert_b64(self.certificate), "sha256": self.sha256},
            "status": self.status.status.value,
            "statusStartingTime": self.status.starting.isoformat(),
            "history": [h.to_dict() for h in self.history],
            "recognitionScope": self.scope.to_dict(),
            "algorithms": list(self.algorithms),
            "identityMapping": [r.to_dict() for r in self.identity_mapping],
            "revocation": {"crl": list(self.crl_urls), "ocsp": list(self.ocsp_urls)},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Service:
        identity = data["digitalIdentity"]
        certificate = _certificate(identity["certificate"])
        if fingerprint(certificate) != identity["sha256"]:
            msg = f"service {data['name']}: certificate does not match its SHA-256"
            raise ValueError(msg)
        revocation = data.get("revocation", {})
        return cls(
            type=ServiceType(data["type"]),
            name=data["name"],
            certificate=certificate,
            status=StatusChange(Status(data["status"]), _time(data["statusStartingTime"])),
            scope=Scope.from_dict(data["recognitionScope"]),
            history=tuple(StatusChange.from_dict(h) for h in data.get("history", [])),
            algorithms=tuple(data.get("algorithms", [])),
            identity_mapping=tuple(IdentityRule.from_dict(r) for r in data.get("identityMapping", [])),
            crl_urls=tuple(revocation.get("crl", [])),
            ocsp_urls=tuple(revocation.get("ocsp", [])),
        )


@dataclass(frozen=True)
class Provider:
    """A trust-service provider (a CA company, a TSA operator, a guarantor …)."""

    name: str
    uscc: str
    region: str
    services: tuple[Service, ...]
    licences: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "tspName": self.name,
            "tspId": self.uscc,
            "region": self.region,
            "licences": list(self.licences),
            "services": [s.to_dict() for s in self.services],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provider:
        return cls(
            name=data["tspName"],
            uscc=data["tspId"],
            region=data["region"],
            services=tuple(Service.from_dict(s) for s in data["services"]),
            licences=tuple(data.get("licences", [])),
        )


@dataclass(frozen=True)
class PeerPointer:
    """A peer platform's list we recognise: its pinned operators, the scope we grant, the type mapping."""

    name: str
    list_type: str
    url: str
    operator_certificates: tuple[x509.Certificate, ...]
    scope: Scope
    equivalence: Mapping[str, ServiceType]
    status: StatusChange
    history: tuple[StatusChange, ...] = ()

    def status_at(self, at: datetime) -> StatusChange | None:
        return status_at((self.status, *self.history), at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listType": self.list_type,
            "url": self.url,
            "operatorCertificates": [_cert_b64(c) for c in self.operator_certificates],
            "recognitionScope": self.scope.to_dict(),
            "equivalence": {k: v.value for k, v in sorted(self.equivalence.items())},
            "equivalenceStatus": self.status.status.value,
            "statusStartingTime": self.status.starting.isoformat(),
            "history": [h.to_dict() for h in self.history],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PeerPointer:
        return cls(
            name=data["name"],
            list_type=data["listType"],
            url=data["url"],
            operator_certificates=tuple(_certificate(c) for c in data["operatorCertificates"]),
            scope=Scope.from_dict(data["recognitionScope"]),
            equivalence={k: ServiceType(v) for k, v in data["equivalence"].items()},
            status=StatusChange(Status(data["equivalenceStatus"]), _time(data["statusStartingTime"])),
            history=tuple(StatusChange.from_dict(h) for h in data.get("history", [])),
        )


@dataclass(frozen=True)
class TrustList:
    operator_name: str
    operator_uscc: str
    territory: str
    sequence: int
    issued: datetime
    next_update: datetime
    providers: tuple[Provider, ...]
    pointers: tuple[PeerPointer, ...] = ()
    distribution_points: tuple[str, ...] = ()
    policy_uri: str = ""
    policy_sha256: str = ""
    list_type: str = LIST_TYPE
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def operator_key(self) -> str:
        """Names the list series whose sequence numbers must increase."""
        return f"{self.list_type}|{self.operator_uscc}"

    def services(self) -> Iterable[tuple[Provider, Service]]:
        for provider in self.providers:
            for service in provider.services:
                yield provider, service

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.extra,
            "schemaVersion": SCHEMA_VERSION,
            "listType": self.list_type,
            "schemeOperator": {"name": self.operator_name, "uscc": self.operator_uscc, "territory": self.territory},
            "sequenceNumber": self.sequence,
            "issueDate": self.issued.isoformat(),
            "nextUpdate": self.next_update.isoformat(),
            "distributionPoints": list(self.distribution_points),
            "validationPolicy": {"uri": self.policy_uri, "sha256": self.policy_sha256},
            "pointersToOtherLists": [p.to_dict() for p in self.pointers],
            "entities": [p.to_dict() for p in self.providers],
            "critical": sorted(_KNOWN_CRITICAL),
        }

    def to_json(self) -> bytes:
        """The exact bytes to sign and publish."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrustList:
        """Parse and validate a list document; refuses (trust-list-invalid) anything off-schema."""
        try:
            return cls._parse(data)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise Refused(Reason.LIST_INVALID, f"{type(exc).__name__}: {exc}") from None

    @classmethod
    def _parse(cls, data: Mapping[str, Any]) -> TrustList:
        if data["schemaVersion"] != SCHEMA_VERSION:
            msg = f"schema {data['schemaVersion']}"
            raise ValueError(msg)
        unknown = set(data.get("critical", [])) - _KNOWN_CRITICAL
        if unknown:
            msg = f"unknown critical fields {sorted(unknown)}"
            raise ValueError(msg)
        operator = data["schemeOperator"]
        sequence = data["sequenceNumber"]
        if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
            msg = "sequenceNumber must be a positive integer"
            raise ValueError(msg)
        policy = data.get("validationPolicy", {})
        return cls(
            operator_name=operator["name"],
            operator_uscc=operator["uscc"],
            territory=operator.get("territory", ""),
            sequence=sequence,
            issued=_time(data["issueDate"]),
            next_update=_time(data["nextUpdate"]),
            providers=tuple(Provider.from_dict(p) for p in data["entities"]),
            pointers=tuple(PeerPointer.from_dict(p) for p in data.get("pointersToOtherLists", [])),
            distribution_points=tuple(data.get("distributionPoints", [])),
            policy_uri=policy.get("uri", ""),
            policy_sha256=policy.get("sha256", ""),
            list_type=data["listType"],
            extra={k: v for k, v in data.items() if k not in _TOP_LEVEL},
        )


def document_sha256(document: bytes) -> str:
    return hashlib.sha256(document).hexdigest()
