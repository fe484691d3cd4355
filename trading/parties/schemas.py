"""The shapes parties data takes on the API and in forms (msgspec Structs).

Input structs carry types only; the rules (USCC check character, password length, role fits the
organisation kind …) live in the service, so the API and the web forms report the same field
and rule for the same mistake.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from trading.kernel.api.schemas import RowRead
from trading.kernel.auth.roles import Role
from trading.kernel.bounds import Input, ShortText
from trading.parties.models import (
    MembershipStatus,
    OrganisationKind,
    OrganisationStatus,
)


class RegistrationCreate(Input):
    """Self-registration: a new organisation and its first user."""

    uscc: ShortText
    organisation_name: ShortText
    organisation_kind: OrganisationKind
    role: Role
    username: ShortText
    display_name: ShortText
    password: str
    id_number: str | None = None
    """公民身份号码 of the user (optional); only a keyed hash and a masked form are kept."""
    person_name: str | None = None
    """The name on the ID card; defaults to ``display_name``."""


class OrganisationCreate(Input):
    uscc: ShortText
    name: ShortText
    kind: OrganisationKind
    region_code: str | None = None
    """Defaults to positions 3–8 of the USCC."""


class UserCreate(Input):
    """An administrator creates a user with a first membership (any role fitting the kind)."""

    username: ShortText
    display_name: ShortText
    password: str
    organisation_id: uuid.UUID
    role: Role
    valid_until: datetime | None = None
    id_number: str | None = None
    person_name: str | None = None


class MembershipCreate(Input):
    user_id: uuid.UUID
    organisation_id: uuid.UUID
    role: Role
    valid_from: datetime | None = None
    """Defaults to now."""
    valid_until: datetime | None = None


class MembershipRevoke(Input):
    reason: str = ""


class TokenCreate(Input):
    username: ShortText
    password: str
    totp: str | None = None
    organisation_id: uuid.UUID | None = None
    """The organisation to act for, when the user is a member of several."""


class TotpConfirm(Input):
    code: str


class PasswordChange(Input):
    current_password: str
    new_password: str


class OrganisationRead(RowRead):
    id: uuid.UUID
    uscc: str
    name: str
    kind: OrganisationKind
    region_code: str
    status: OrganisationStatus


class UserRead(RowRead):
    id: uuid.UUID
    username: str
    display_name: str
    active: bool
    totp_enabled: bool
    locale: str


class MembershipRead(RowRead):
    id: uuid.UUID
    user_id: uuid.UUID
    organisation_id: uuid.UUID
    role: Role
    valid_from: datetime
    valid_until: datetime | None
    status: MembershipStatus


class RegistrationRead(msgspec.Struct):
    organisation: OrganisationRead
    user: UserRead
    membership: MembershipRead


class UserCreatedRead(msgspec.Struct):
    user: UserRead
    membership: MembershipRead


class MeRead(msgspec.Struct):
    """Who the bearer of this token is, as the platform sees them on this request."""

    user_id: uuid.UUID
    username: str
    display_name: str | None
    organisation_id: uuid.UUID | None
    organisation_name: str | None
    roles: list[str]
    permissions: list[str]


class TokenRead(msgspec.Struct):
    """A new API token. It is shown once; the server keeps only its hash."""

    token: str
    expires_at: datetime
    token_type: str = "bearer"  # noqa: S105 - the RFC 6750 token type, not a secret


class TotpEnrolmentRead(msgspec.Struct):
    """The new TOTP secret: add it to an authenticator app, then confirm with a code."""

    secret: str
    provisioning_uri: str


# --- digital certificates -------------------------------------------------------------------------


class ChallengeRead(msgspec.Struct):
    """A one-time challenge. Sign the exact bytes ``to_sign`` (base64 of ``challenge`` as canonical
    JSON) with the certificate's key, then answer before ``expires_at``.
    """

    nonce: str
    origin: str
    purpose: str
    issued_at: datetime
    expires_at: datetime
    challenge: dict[str, str]
    to_sign: str


class SignatureBody(msgspec.Struct, forbid_unknown_fields=True):
    algorithm: str
    """e.g. ``ecdsa-p256-sha256``, ``rsa-pss-sha256``, ``ed25519``, ``sm2-sm3``."""
    value: str
    """Base64."""
    oid: str | None = None


class CertificateResponse(Input):
    """The signed answer to a challenge, as certs' ``LoginResponse`` encodes it."""

    nonce: str
    certificate: str
    """The signer's certificate, base64 DER."""
    signature: SignatureBody
    chain: list[str] = msgspec.field(default_factory=list)
    """Intermediate CA certificates (base64 DER), nearest first."""


class CredentialBody(msgspec.Struct, forbid_unknown_fields=True):
    document: str
    """base64url of the credential document."""
    signature: str
    """base64url of the issuer's detached CAdES signature."""


class QrResponseCreate(Input):
    """What the holder's app sends after scanning a login QR code (certs' ``QrLoginResponse``)."""

    nonce: str
    credential: CredentialBody
    signature: SignatureBody


class QrVerifiedRead(msgspec.Struct):
    credential: str
    status: str = "verified"
    detail: str = "the browser that shows the QR code is now logged in"


class TrustListCreate(Input):
    document: str
    """The published list, base64 of its exact bytes."""
    signature: str
    """Its detached CAdES signature (``.p7s``), base64."""
    peer: bool = False
    """A peer platform's list, recognised through a pointer in our list."""


class TrustListRead(RowRead):
    id: uuid.UUID
    sequence: int
    operator_name: str
    peer_name: str | None
    issued_at: datetime
    next_update: datetime
    sha256: str
    loaded_at: datetime
    created: bool = True


class BindingRead(RowRead):
    id: uuid.UUID
    certificate_sha256: str
    subject: str
    issuer: str
    ca_name: str
    party_kind: str
    organisation_id: uuid.UUID | None
    not_after: datetime
    bound_at: datetime
    unbound_at: datetime | None
