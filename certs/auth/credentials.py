"""Electronic business licences (电子营业执照) and e-ID credentials (身份证电子证照), and QR-code login.

A credential is a JSON document — its type, the subject's data (USCC, name, legal representative …
or ID number and name), the holder's public key, serial, issue and expiry times — with a detached
CAdES signature by the issuer. It is accepted only when the issuer's certificate is recognised in
the trust list for ``e-licence`` or ``e-id`` at the time, the document is well formed, its
identifier passes its check character, and it has not expired.

QR-code login: the platform shows a challenge (`certs.auth.challenge`) as a QR code; the holder's
app (`certs.tools.holder_app` plays it in tests and demos) signs the challenge with the key the
credential names and sends back the credential with the signature; `verify_qr_login` checks all of
it and returns the party.

The official formats of both credentials are not public here (reference §13.6); this module is the
platform's own format, behind which an adapter for the official one can sit.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from cryptography import x509

from certs.auth.challenge import Challenge, ChallengeStore, b64url, check_challenge, unb64url
from certs.canonical import canonical_json
from certs.cms import SigningIdentity
from certs.errors import Reason, Refused
from certs.identifiers import is_id_number, is_uscc
from certs.pathval.identity import Party
from certs.pathval.validate import PathValidator
from certs.providers import pyca
from certs.providers.base import SignatureValue, Signer
from certs.sign import cades
from certs.sign.verify import tsa_hook
from certs.trustlist.model import Usage
from certs.tsa.client import TsaTransport

QR_PREFIX: Final = "ggzy-login:"
QR_PURPOSE: Final = "qr-login"


class CredentialKind(StrEnum):
    LICENCE = "e-licence"
    EID = "e-id"

    @property
    def type_uri(self) -> str:
        return f"ggzy:credential:{self.value}/1"

    @property
    def usage(self) -> Usage:
        return Usage.LICENCE if self is CredentialKind.LICENCE else Usage.EID


@dataclass(frozen=True)
class Credential:
    """The credential as issued: document bytes and the issuer's detached signature."""

    document: bytes
    signature: bytes

    def to_dict(self) -> dict[str, str]:
        return {"document": b64url(self.document), "signature": b64url(self.signature)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Credential:
        try:
            return cls(unb64url(str(data["document"])), unb64url(str(data["signature"])))
        except (KeyError, ValueError) as exc:
            raise Refused(Reason.MALFORMED, f"credential: {exc}") from None


@dataclass(frozen=True)
class CredentialData:
    """A verified credential's content."""

    kind: CredentialKind
    subject: Mapping[str, str]
    holder_key: bytes
    serial: str
    issued: datetime
    expires: datetime
    issuer: x509.Certificate

    def party(self) -> Party:
        issuer = self.issuer.subject.rfc4514_string()
        if self.kind is CredentialKind.LICENCE:
            return Party("organisation", self.subject["uscc"], self.subject["name"], issuer, "")
        return Party("person", self.subject["idNumber"], self.subject["name"], issuer, "")


def _check_subject(kind: CredentialKind, subject: Mapping[str, str]) -> None:
    if kind is CredentialKind.LICENCE:
        if not is_uscc(subject.get("uscc", "")) or not subject.get("name"):
            raise Refused(Reason.CREDENTIAL_INVALID, "a licence names a valid USCC and a name")
    elif not is_id_number(subject.get("idNumber", "")) or not subject.get("name"):
        raise Refused(Reason.CREDENTIAL_INVALID, "an e-ID names a valid ID number and a name")


async def issue_credential(
    issuer: SigningIdentity,
    kind: CredentialKind,
    subject: Mapping[str, str],
    holder_key_spki: bytes,
    *,
    serial: str,
    issued: datetime,
    expires: datetime,
    tsa: TsaTransport | None = None,
) -> Credential:
    """Issue (sign) a credential; used by the development issuers and tests."""
    _check_subject(kind, subject)
    document = canonical_json(
        {
            "type": kind.type_uri,
            "subject": dict(subject),
            "holderKey": base64.b64encode(holder_key_spki).decode(),
            "serial": serial,
            "issued": issued.isoformat(),
            "expires": expires.isoformat(),
        }
    )
    return Credential(document, await cades.sign_detached(document, issuer, signing_time=issued, tsa=tsa))


async def verify_credential(
    credential: Credential, validator: PathValidator, *, kind: CredentialKind, now: datetime
) -> CredentialData:
    """Verify the issuer's signature and recognition, the document and its validity; raises `Refused`."""
    signed = cades.verify_detached(credential.document, credential.signature, validate_tsa=tsa_hook(validator))
    await validator.validate(signed.signer_certificate, signed.certificates, at=now, usage=kind.usage)
    try:
        data = json.loads(credential.document)
        if data["type"] != kind.type_uri:
            raise Refused(Reason.CREDENTIAL_INVALID, f"a {data['type']} is not a {kind.type_uri}")
        result = CredentialData(
            kind=kind,
            subject={str(k): str(v) for k, v in data["subject"].items()},
            holder_key=base64.b64decode(data["holderKey"], validate=True),
            serial=str(data["serial"]),
            issued=datetime.fromisoformat(data["issued"]),
            expires=datetime.fromisoformat(data["expires"]),
            issuer=signed.signer_certificate,
        )
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise Refused(Reason.CREDENTIAL_INVALID, f"{type(exc).__name__}: {exc}") from None
    _check_subject(kind, result.subject)
    if now > result.expires:
        raise Refused(Reason.CREDENTIAL_EXPIRED, result.serial, at=result.expires)
    if now < result.issued:
        raise Refused(Reason.CREDENTIAL_INVALID, f"issued in the future ({result.issued.isoformat()})")
    return result


# --- QR-code login ------------------------------------------------------------------------------


def qr_payload(challenge: Challenge) -> str:
    """The text the QR code carries: ``ggzy-login:`` and the challenge as base64url canonical JSON."""
    return QR_PREFIX + b64url(canonical_json(challenge.to_dict()))


def parse_qr_payload(text: str) -> Challenge:
    if not text.startswith(QR_PREFIX):
        raise Refused(Reason.MALFORMED, "not a ggzy login QR code")
    try:
        data = json.loads(unb64url(text.removeprefix(QR_PREFIX).strip()))
    except ValueError as exc:
        raise Refused(Reason.MALFORMED, f"QR payload: {exc}") from None
    return Challenge.from_dict(data)


def qr_svg(payload: str) -> str:
    """The QR code as an SVG document (for the login page)."""
    import segno  # noqa: PLC0415 - only the page rendering needs it

    return str(segno.make(payload, error="m").svg_inline(scale=4))


def qr_png(payload: str, *, scale: int = 6) -> bytes:
    """The QR code as a PNG image."""
    import io  # noqa: PLC0415

    import segno  # noqa: PLC0415

    out = io.BytesIO()
    segno.make(payload, error="m").save(out, kind="png", scale=scale)
    return out.getvalue()


@dataclass(frozen=True)
class QrLoginResponse:
    """The holder app's answer: which challenge, the credential, the signature by the holder key."""

    nonce: str
    credential: Credential
    signature: SignatureValue

    def to_dict(self) -> dict[str, Any]:
        return {"nonce": self.nonce, "credential": self.credential.to_dict(), "signature": self.signature.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QrLoginResponse:
        try:
            return cls(
                str(data["nonce"]),
                Credential.from_dict(data["credential"]),
                SignatureValue.from_dict(data["signature"]),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise Refused(Reason.MALFORMED, f"QR login response: {exc}") from None


def respond_to_qr(payload: str, credential: Credential, holder: Signer) -> QrLoginResponse:
    """The holder's app: sign the scanned challenge with the credential's key."""
    challenge = parse_qr_payload(payload)
    return QrLoginResponse(challenge.nonce, credential, holder.sign(challenge.to_sign()))


async def verify_qr_login(
    response: QrLoginResponse,
    *,
    store: ChallengeStore,
    expected_origin: str,
    now: datetime,
    validator: PathValidator,
    kind: CredentialKind,
) -> CredentialData:
    """Verify a QR-code login: one-time challenge, credential, and the holder's signature."""
    challenge = store.consume(response.nonce)
    check_challenge(challenge, expected_origin=expected_origin, purpose=QR_PURPOSE, now=now)
    data = await verify_credential(response.credential, validator, kind=kind, now=now)
    pyca.verify_spki(data.holder_key, challenge.to_sign(), response.signature)
    return data
