"""Organisations, people, users, memberships and authentication sessions.

Tables are prefixed ``parties_``. Relationships are ``lazy="raise"``: load what you need
explicitly in the repository. Enumerations are stored as their string values in plain VARCHAR
columns (``native_enum=False``) so both backends and future values need no type migration.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trading.kernel.auth.roles import Role
from trading.kernel.db.base import Base, UUIDPrimaryKey
from trading.kernel.db.types import BigIntPK


class OrganisationKind(StrEnum):
    ENTERPRISE = "enterprise"  # 企业
    PURCHASER_UNIT = "purchaser_unit"  # 采购单位 / 招标人单位 (机关、事业单位、团体组织)
    AGENCY = "agency"  # 招标代理机构 / 采购代理机构
    INTERMEDIARY = "intermediary"  # 中介服务机构
    BANK = "bank"  # 银行 (银行保函)
    INSURER = "insurer"  # 保险公司 (保证保险)
    GUARANTEE_COMPANY = "guarantee_company"  # 担保公司 (担保保函)
    SUPERVISORY_DEPARTMENT = "supervisory_department"  # 行政监督部门
    TRADING_CENTRE = "trading_centre"  # 公共资源交易中心


class OrganisationStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class SessionKind(StrEnum):
    WEB = "web"  # cookie session of the browser pages
    API = "api"  # bearer token of an API client


def _enum(enum: type[StrEnum], length: int = 32) -> sa.Enum:
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class Organisation(UUIDPrimaryKey, Base):
    __tablename__ = "parties_organisations"

    uscc: Mapped[str] = mapped_column(sa.String(18), unique=True)
    """统一社会信用代码, validated (GB 32100-2015) and upper case."""
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind))
    region_code: Mapped[str] = mapped_column(sa.String(6))
    """GB/T 2260 administrative division code; positions 3–8 of the USCC unless set otherwise."""
    status: Mapped[OrganisationStatus] = mapped_column(_enum(OrganisationStatus), default=OrganisationStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(server_default=sa.text("CURRENT_TIMESTAMP"))


class Person(UUIDPrimaryKey, Base):
    """A natural person. The ID number itself is never stored (see ``identifiers``)."""

    __tablename__ = "parties_people"

    id_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    """HMAC-SHA256 of the normalised 公民身份号码 under ``pii_hash_key``."""
    id_masked: Mapped[str] = mapped_column(sa.String(18))
    name: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(server_default=sa.text("CURRENT_TIMESTAMP"))


class User(UUIDPrimaryKey, Base):
    __tablename__ = "parties_users"

    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    """Lower case; compared case-insensitively by normalising on the way in."""
    display_name: Mapped[str] = mapped_column(sa.String(100))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    """argon2id, PHC string format (parameters travel with the hash, so they can change)."""
    locale: Mapped[str] = mapped_column(sa.String(16), default="zh_CN")
    person_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_people.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    totp_secret: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    """AES-256-GCM nonce + ciphertext of the base32 TOTP secret, bound to the user id."""
    totp_enabled: Mapped[bool] = mapped_column(default=False)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    """The last accepted TOTP time step: a code is accepted once (RFC 6238 §5.2)."""
    created_at: Mapped[datetime] = mapped_column(server_default=sa.text("CURRENT_TIMESTAMP"))
    password_changed_at: Mapped[datetime] = mapped_column(server_default=sa.text("CURRENT_TIMESTAMP"))

    person: Mapped[Person | None] = relationship(lazy="raise")
    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="raise")


class Membership(UUIDPrimaryKey, Base):
    """A user's role in an organisation, for a period.

    ``next_check`` is ``valid_until`` while the membership is active and has an end, otherwise
    NULL: the sweep (``jobs.MembershipExpiry``) looks only at rows whose ``next_check`` is due.
    """

    __tablename__ = "parties_memberships"
    __table_args__ = (
        # One active grant of a role per user and organisation; expired and revoked rows stay as
        # history and do not block a new grant.
        sa.Index(
            "uq_parties_memberships_active_role",
            "user_id",
            "organisation_id",
            "role",
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    status: Mapped[MembershipStatus] = mapped_column(_enum(MembershipStatus), default=MembershipStatus.ACTIVE)
    next_check: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=sa.text("CURRENT_TIMESTAMP"))
    ended_at: Mapped[datetime | None]
    """When the membership expired or was revoked."""

    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")
    organisation: Mapped[Organisation] = relationship(lazy="raise")


class MandateStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class AgencyMandate(UUIDPrimaryKey, Base):
    """委托代理: a tenderee organisation mandates an agency to run its tenders, from ``valid_from``
    until ``valid_until`` (NULL: until revoked) or its revocation.

    The mandate is judged when a tender is created: an agency names as 招标人 only an organisation
    whose mandate is active and in force at that moment. Revoking (or the end date passing) stops
    new tenders; tenders already created stay with the agency (they record both organisations).
    Revoked rows stay as history; one active mandate per tenderee and agency.
    """

    __tablename__ = "parties_agency_mandates"
    __table_args__ = (
        sa.Index(
            "uq_parties_agency_mandates_active",
            "tenderee_organisation_id",
            "agency_organisation_id",
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        ),
    )

    tenderee_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    agency_organisation_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_organisations.id"), index=True)
    scope: Mapped[str | None] = mapped_column(sa.String(500))
    """What the mandate covers in words (委托事项), shown to both sides; NULL: every tender."""
    status: Mapped[MandateStatus] = mapped_column(_enum(MandateStatus), default=MandateStatus.ACTIVE)
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    granted_by: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"))
    granted_at: Mapped[datetime]
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    revoked_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class AuthSession(UUIDPrimaryKey, Base):
    """A server-side login: a browser cookie session or an API bearer token.

    Only the SHA-256 of the random token is stored, so a database leak yields no usable
    credentials. (A keyed hash is unnecessary here: 256 random bits cannot be enumerated.)
    """

    __tablename__ = "parties_auth_sessions"

    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"), index=True)
    kind: Mapped[SessionKind] = mapped_column(_enum(SessionKind, 8))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    client_ip: Mapped[str | None] = mapped_column(sa.String(45))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    """The organisation the user acts for, when they chose one (several memberships)."""

    user: Mapped[User] = relationship(lazy="raise")


# --- digital certificates (certs wired into the platform) -----------------------------------------
# `certs` is pure; these tables hold what it leaves to the platform: trust-list versions and their
# high-water marks, cached revocation data, one-time login challenges, certificate bindings and the
# platform TSA's serial numbers (trading.parties.certificates: .trust, .revocation, .login, .tsa).


class TrustListVersion(UUIDPrimaryKey, Base):
    """A verified trust list as published (exact bytes and detached signature), kept for ever.

    Our own list has ``peer_name`` NULL; a peer platform's list carries the name of the pointer in
    our list it was recognised through. The version in force at a time is the highest sequence of
    the series issued by then (time travel, reference §7.12).
    """

    __tablename__ = "parties_trust_lists"
    __table_args__ = (sa.UniqueConstraint("series", "sequence"),)

    series: Mapped[str] = mapped_column(sa.String(300))
    """``listType|operator USCC``: the series whose sequence numbers must increase."""
    peer_name: Mapped[str | None] = mapped_column(sa.String(200))
    sequence: Mapped[int] = mapped_column(sa.BigInteger)
    issued_at: Mapped[datetime]
    next_update: Mapped[datetime]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    document: Mapped[bytes] = mapped_column(sa.LargeBinary)
    signature: Mapped[bytes] = mapped_column(sa.LargeBinary)
    operator_name: Mapped[str] = mapped_column(sa.String(200))
    operator_certificate_sha256: Mapped[str] = mapped_column(sa.String(64))
    """The pinned operator certificate that signed it."""
    timestamped_at: Mapped[datetime]
    """The genTime of the signature's RFC 3161 timestamp."""
    loaded_at: Mapped[datetime]


class TrustListMark(Base):
    """The high-water mark per list series (certs' ``SequenceStore``): a lower sequence is a rollback."""

    __tablename__ = "parties_trust_list_marks"

    series: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    sequence: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime]


class RevocationKind(StrEnum):
    CRL = "crl"
    OCSP = "ocsp"


class RevocationCacheEntry(UUIDPrimaryKey, Base):
    """A verified CRL (served until its nextUpdate) or the latest OCSP answer about a certificate.

    ``key`` is the CRL's URL, or ``<responder URL>#<issuer key hash>:<serial>`` for OCSP. OCSP
    answers are kept as evidence only: every check asks the responder afresh with a new nonce.
    """

    __tablename__ = "parties_revocation_cache"

    key: Mapped[str] = mapped_column(sa.String(1200), unique=True)
    kind: Mapped[RevocationKind] = mapped_column(_enum(RevocationKind, 8))
    url: Mapped[str] = mapped_column(sa.String(1024))
    der: Mapped[bytes] = mapped_column(sa.LargeBinary)
    issuer_sha256: Mapped[str] = mapped_column(sa.String(64))
    """The CA certificate the CRL or OCSP answer was verified against."""
    this_update: Mapped[datetime]
    next_update: Mapped[datetime | None] = mapped_column(index=True)
    fetched_at: Mapped[datetime]


class ChallengePurpose(StrEnum):
    LOGIN = "login"  # certificate login (USB key middleware)
    QR_LOGIN = "qr-login"  # e-licence / e-ID holder app
    BIND = "bind-certificate"  # a signed-in user proves possession of a certificate's key
    SEAT_SIGN_IN = "evaluation-seat"  # an expert signs in at their evaluation seat (bidding.evaluation.session)


class LoginChallenge(Base):
    """A one-time challenge (certs ``ChallengeStore``): issued, then consumed once.

    A QR-login challenge also records its outcome for the browser that asked for it
    (``browser_hash`` is the SHA-256 of a secret cookie of that browser): the holder's app answers
    through the API, the page polls until ``verified_at`` and then opens the session
    (``completed_at``), once.
    """

    __tablename__ = "parties_login_challenges"

    nonce: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    purpose: Mapped[ChallengePurpose] = mapped_column(_enum(ChallengePurpose, 24))
    origin: Mapped[str] = mapped_column(sa.String(300))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    client_ip: Mapped[str | None] = mapped_column(sa.String(45))
    browser_hash: Mapped[str | None] = mapped_column(sa.String(64))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_users.id"))
    """Bind: the user who asked. QR login: the user the verified credential maps to."""
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    verified_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    refusal: Mapped[str | None] = mapped_column(sa.String(64))
    """Why the answer to a QR challenge was refused (a certs reason code), shown to the browser."""


class PartyKind(StrEnum):
    ORGANISATION = "organisation"
    PERSON = "person"


class CertificateBinding(UUIDPrimaryKey, Base):
    """A certificate a user proved to hold, bound to their account (and to the party it names).

    Ended bindings stay as history (``unbound_at``); one certificate has at most one live binding.
    """

    __tablename__ = "parties_certificate_bindings"
    __table_args__ = (
        sa.Index(
            "uq_parties_certificate_bindings_live",
            "certificate_sha256",
            unique=True,
            postgresql_where=sa.text("unbound_at IS NULL"),
            sqlite_where=sa.text("unbound_at IS NULL"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("parties_users.id"), index=True)
    certificate_sha256: Mapped[str] = mapped_column(sa.String(64))
    certificate: Mapped[bytes] = mapped_column(sa.LargeBinary)
    subject: Mapped[str] = mapped_column(sa.String(500))
    issuer: Mapped[str] = mapped_column(sa.String(500))
    serial_number: Mapped[str] = mapped_column(sa.String(64))
    not_after: Mapped[datetime]
    ca_name: Mapped[str] = mapped_column(sa.String(200))
    party_kind: Mapped[PartyKind] = mapped_column(_enum(PartyKind, 16))
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_organisations.id"))
    person_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("parties_people.id"))
    bound_at: Mapped[datetime]
    unbound_at: Mapped[datetime | None]


class TimestampToken(Base):
    """One token of the platform TSA: the serial number is this row's key (strictly increasing)."""

    __tablename__ = "parties_timestamp_tokens"

    serial: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    issued_at: Mapped[datetime]
    digest_algorithm: Mapped[str] = mapped_column(sa.String(16))
    message_imprint: Mapped[str] = mapped_column(sa.String(128))
    token_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    client_ip: Mapped[str | None] = mapped_column(sa.String(45))
