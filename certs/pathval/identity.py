"""Identity extraction: which organisation (统一社会信用代码) or person (ID number) a certificate names.

Chinese CAs put the identifier in different places — the ``serialNumber`` subject attribute, an
``OU``, or an extension such as ``1.2.156.10260.4.1.4`` — so the mapping is data, not code: each
service in the trust list carries ``identityMapping`` rules (reference §3.9), tried in order. A rule
yields an identifier only when it passes its check character (GB 32100 / GB 11643); an organisation
rule applies only to certificates whose subject names an organisation (``O``), since an 18-digit ID
number can pass a USCC check by chance. No rule matching is a refusal that names the CA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from certs.errors import Reason, Refused
from certs.identifiers import is_id_number, is_uscc
from certs.pathval.validate import ValidatedPath
from certs.percert import per_certificate
from certs.trustlist.model import IdentityRule

_STRING_TAGS = {0x0C, 0x13, 0x16, 0x14, 0x1E}  # UTF8String, PrintableString, IA5String, T61String, BMPString


@dataclass(frozen=True, slots=True)
class Party:
    """The party a certificate stands for."""

    kind: str  # "organisation" or "person"
    identifier: str  # USCC or resident ID number
    name: str
    ca: str
    certificate_sha256: str

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "identifier": self.identifier,
            "name": self.name,
            "ca": self.ca,
            "certificateSha256": self.certificate_sha256,
        }


def _decode_string(der: bytes) -> str | None:
    """The text of a DER string (short or long length form), or None if it is not a string type."""
    if len(der) < 2 or der[0] not in _STRING_TAGS:  # noqa: PLR2004 - tag and length
        return None
    length, start = der[1], 2
    if length & 0x80:
        n = length & 0x7F
        length, start = int.from_bytes(der[2 : 2 + n], "big"), 2 + n
    raw = der[start : start + length]
    return raw.decode("utf-16-be") if der[0] == 0x1E else raw.decode("utf-8", errors="replace")  # noqa: PLR2004


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _read(certificate: x509.Certificate, rule: IdentityRule) -> str | None:
    oid = x509.ObjectIdentifier(rule.oid)
    if rule.source == "subject":
        return _attribute(certificate.subject, oid)
    try:
        ext = certificate.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    if isinstance(ext, x509.UnrecognizedExtension):
        return _decode_string(ext.value)
    return None


def extract_party(certificate: x509.Certificate, rules: Sequence[IdentityRule], ca: str) -> Party:
    """Apply ``rules`` in order to ``certificate``; refuses (identity-unmapped) when none yields a valid identifier."""
    return _extract_party(certificate, tuple(rules), ca)


@per_certificate(maxsize=4096)
def _extract_party(certificate: x509.Certificate, rules: tuple[IdentityRule, ...], ca: str) -> Party:
    """`extract_party`, once per certificate (its exact DER), rules and CA (a refusal is not kept)."""
    organisation = _attribute(certificate.subject, NameOID.ORGANIZATION_NAME)
    common_name = _attribute(certificate.subject, NameOID.COMMON_NAME)
    for rule in rules:
        if rule.kind == "organisation" and organisation is None:
            continue
        value = _read(certificate, rule)
        if value is None:
            continue
        value = value.strip().upper()
        valid = is_uscc(value) if rule.kind == "organisation" else is_id_number(value)
        if not valid:
            continue
        name = organisation if rule.kind == "organisation" else common_name
        return Party(
            kind=rule.kind,
            identifier=value,
            name=name or "",
            ca=ca,
            certificate_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        )
    raise Refused(
        Reason.IDENTITY_UNMAPPED, f"no identity rule of CA {ca} matches {certificate.subject.rfc4514_string()}"
    )


def party_of(path: ValidatedPath) -> Party:
    """The party of a validated leaf, using its recognised CA's identity mapping from the trust list."""
    service = path.recognition.service
    return extract_party(path.leaf, service.identity_mapping, service.name)
