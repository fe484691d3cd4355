"""Certificates and accounts: certificate login, and QR login with the e-licence / e-ID.

`certs.auth` does the cryptography (challenge signatures, path validation for ``login``,
revocation, credentials); this module keeps the one-time challenges and decides which account a
verified certificate or credential opens:

1. a certificate **bound** to an account (`bindings`: the user signed a challenge with its key
   while logged in, or the demo seeded it) opens that account, acting for the organisation it names;
2. otherwise the identity decides: an organisation certificate or e-licence (统一社会信用代码)
   opens the one active member account of that registered organisation, a personal certificate
   or e-ID (ID number, compared by its keyed hash, never stored) the one account of that person.
   No account, or several, is a refusal that says so (bind the certificate to choose).

Challenges are rows (certs' `ChallengeStore`, `DbChallengeStore`): bound to an origin the request
asserted (the browser's ``Origin``) or the configured one, to a purpose, and to an expiry; a
challenge is used once, refused or not. Each refusal names its reason (certs' codes such as
``expired``, ``revoked``, ``ca-not-recognised-for-usage``, ``challenge-reused``, or the
platform's ``party-not-registered`` …) and, when it answers a challenge we issued, is recorded in
the ledger; like failed password logins, refusals are returned, not raised, so the record commits.
Challenges themselves are ephemeral and not ledgered (``jobs.purge_login_challenges`` deletes old
ones).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from certs.auth.challenge import Challenge, LoginResponse, issue_challenge, verify_login
from certs.auth.credentials import CredentialKind, QrLoginResponse, verify_qr_login
from certs.errors import Refused
from certs.pathval.identity import Party
from certs.pathval.revocation import Fetcher
from certs.pathval.validate import ValidatedPath
from certs.trustlist.model import fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.parties import identifiers
from trading.parties.authentication import AuthenticationService
from trading.parties.certificates.challenges import (
    ORIGIN,
    DbChallengeStore,
    credential_kind,
    path_evidence,
    secret_hash,
)
from trading.parties.certificates.trust import PlatformReason, PlatformRefused, Refusal, TrustContext, trust_context
from trading.parties.models import (
    AuthSession,
    ChallengePurpose,
    LoginChallenge,
    OrganisationStatus,
    PartyKind,
    SessionKind,
    User,
)
from trading.parties.repository import (
    CertificateBindingRepository,
    ChallengeRepository,
    OrganisationRepository,
    PersonRepository,
    UserRepository,
)
from trading.parties.service import record_change

QR_TTL_FACTOR: Final = 2
"""A QR challenge lives twice as long as a certificate challenge: the phone must be found first."""


@dataclass(frozen=True)
class CertificateLogin:
    """A session and its token, or the refusal."""

    token: str | None = None
    session: AuthSession | None = None
    user: User | None = None
    refusal: Refusal | None = None


class QrState(StrEnum):
    WAITING = "waiting"
    DONE = "done"
    REFUSED = "refused"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class QrPoll:
    state: QrState
    token: str | None = None
    refusal: str | None = None


@dataclass(frozen=True)
class QrVerification:
    user: User | None = None
    kind: CredentialKind | None = None
    refusal: Refusal | None = None


class CertificateService:
    def __init__(self, session: AsyncSession, settings: Settings, *, upstream: Fetcher | None = None) -> None:
        self.session = session
        self.settings = settings
        self.upstream = upstream
        self.challenges = ChallengeRepository(session)
        self.bindings = CertificateBindingRepository(session)
        self.organisations = OrganisationRepository(session)
        self.people = PersonRepository(session)
        self.users = UserRepository(session)

    async def _now(self) -> datetime:
        return await clock.now(self.session)

    async def _context(self, now: datetime) -> TrustContext:
        return await trust_context(self.session, self.settings, now, upstream=self.upstream)

    # --- challenges ------------------------------------------------------------------------------

    def challenge_origin(self, requested: str | None) -> str:
        """The origin a new challenge is bound to: the one the request names (a browser's
        ``Origin`` header), else the first configured. A foreign origin is recorded as asked and
        refused when the answer comes (``challenge-wrong-origin``), as the signer saw it.
        """
        requested = (requested or "").strip()
        if requested and len(requested) <= 300 and ORIGIN.fullmatch(requested):  # noqa: PLR2004 - column size
            return requested
        return self.settings.certs.origins[0]

    def _expected_origin(self, row: LoginChallenge | None) -> str:
        origins = self.settings.certs.origins
        return row.origin if row is not None and row.origin in origins else origins[0]

    async def issue_challenge(
        self,
        purpose: ChallengePurpose,
        *,
        actor: Actor,
        origin: str | None = None,
        browser_secret: str | None = None,
    ) -> Challenge:
        """A fresh one-time challenge, stored. Binding challenges belong to the signed-in actor."""
        if purpose is ChallengePurpose.BIND and actor.user_id is None:
            raise PermissionDenied("only a signed-in user binds a certificate")
        now = (await self._now()).replace(microsecond=0)
        ttl = timedelta(seconds=self.settings.certs.challenge_ttl_seconds)
        if purpose is ChallengePurpose.QR_LOGIN:
            ttl *= QR_TTL_FACTOR
        challenge = issue_challenge(self.challenge_origin(origin), now=now, ttl=ttl, purpose=purpose.value)
        self.challenges.add(
            LoginChallenge(
                nonce=challenge.nonce,
                purpose=purpose,
                origin=challenge.origin,
                issued_at=challenge.issued_at,
                expires_at=challenge.expires_at,
                client_ip=actor.client_ip,
                browser_hash=secret_hash(browser_secret) if browser_secret else None,
                user_id=actor.user_id if purpose is ChallengePurpose.BIND else None,
            )
        )
        await self.session.flush()
        return challenge

    async def _refused(
        self,
        action: str,
        exc: Refused | PlatformRefused,
        store: DbChallengeStore,
        actor: Actor,
        *,
        subject_type: str,
        subject_id: str,
        data: Mapping[str, Any] | None = None,
    ) -> Refusal:
        """Settle the challenge and record the refusal (only for challenges we issued)."""
        refusal = Refusal.of(exc)
        store.settle(refusal)
        await self.session.flush()
        if store.row is None or not store.matches():
            return refusal  # an unknown nonce names nothing we issued: logged by the caller's access log only
        await record_change(
            self.session,
            actor,
            action,
            subject_type,
            subject_id,
            summary={"reason": refusal.reason, "purpose": store.purpose.value},
            data={
                "reason": refusal.reason,
                "text": refusal.text,
                "challenge_sha256": secret_hash(store.row.nonce),
                **(data or {}),
            },
        )
        return refusal

    # --- certificate login -----------------------------------------------------------------------

    async def login(self, payload: Mapping[str, Any], *, kind: SessionKind, actor: Actor) -> CertificateLogin:
        """Verify a signed login challenge (chain, revocation, ``login`` usage, trust list) and open
        a session for the account the certificate maps to. Appends ``parties.login_succeeded``
        (method ``certificate``, with the evidence digested) or ``parties.certificate_login_refused``.
        """
        now = await self._now()
        try:
            response = LoginResponse.from_dict(dict(payload))
        except Refused as malformed:
            return CertificateLogin(refusal=Refusal.of(malformed))
        row = await self.challenges.get(response.nonce, for_update=True)
        store = DbChallengeStore(row, ChallengePurpose.LOGIN, now)
        try:
            context = await self._context(now)
            result = await verify_login(
                response,
                store=store,
                expected_origin=self._expected_origin(row),
                now=now,
                validator=context.validator,
            )
            user, organisation_id = await self._account_for_certificate(result.party, result.path, now)
        except (Refused, PlatformRefused) as exc:
            refusal = await self._refused(
                "certificate_login_refused",
                exc,
                store,
                actor,
                subject_type="certificate",
                subject_id=fingerprint(response.certificate),
                data={"issuer": response.certificate.issuer.rfc4514_string()},
            )
            return CertificateLogin(refusal=refusal)
        token, auth_session = await AuthenticationService(self.session, self.settings).open_session(
            user,
            kind,
            actor,
            organisation_id,
            now,
            method="certificate",
            evidence=path_evidence(result.path, result.party, result.algorithm),
        )
        return CertificateLogin(token, auth_session, user)

    async def _account_for_certificate(
        self, party: Party, path: ValidatedPath, now: datetime
    ) -> tuple[User, uuid.UUID | None]:
        binding = await self.bindings.live_by_certificate(fingerprint(path.leaf))
        if binding is None:
            return await self._account_for_party(party, now)
        user = await self.users.get(binding.user_id)
        if user is None or not user.active:
            raise PlatformRefused(PlatformReason.PARTY_NOT_REGISTERED, "the account bound to it is deactivated")
        return user, binding.organisation_id

    async def _account_for_party(self, party: Party, now: datetime) -> tuple[User, uuid.UUID | None]:
        if party.kind == PartyKind.ORGANISATION:
            organisation = await self.organisations.by_uscc(party.identifier)
            if organisation is None or organisation.status is not OrganisationStatus.ACTIVE:
                raise PlatformRefused(PlatformReason.PARTY_NOT_REGISTERED, f"统一社会信用代码 {party.identifier}")
            members = await self.bindings.members(organisation.id, now)
            return self._one(members, f"{party.name} ({party.identifier})"), organisation.id
        person = await self.people.by_id_hash(self._id_hash(party.identifier))
        if person is None:
            raise PlatformRefused(PlatformReason.PARTY_NOT_REGISTERED, "no account names this person")
        return self._one(await self.bindings.users_of_person(person.id), "this person"), None

    @staticmethod
    def _one(users: Any, who: str) -> User:
        if not users:
            raise PlatformRefused(PlatformReason.PARTY_NOT_REGISTERED, f"no active account for {who}")
        if len(users) > 1:
            raise PlatformRefused(PlatformReason.PARTY_AMBIGUOUS, f"{len(users)} accounts for {who}")
        user: User = users[0]
        return user

    def _id_hash(self, number: str) -> str:
        return identifiers.resident_id_hash(number, self.settings.secret("pii_hash_key"))

    # --- QR login with the e-licence / e-ID ------------------------------------------------------

    async def verify_qr(self, payload: Mapping[str, Any], *, actor: Actor) -> QrVerification:
        """The holder's app answers a QR challenge: verify the credential (issuer recognised for
        ``e-licence`` / ``e-id``, not expired), the holder's signature and the challenge, and map
        the credential to an account; the browser that showed the QR code then completes the login
        (`poll_qr`). Appends ``parties.qr_login_verified`` or ``parties.qr_login_refused``.
        """
        now = await self._now()
        try:
            response = QrLoginResponse.from_dict(payload)
        except Refused as malformed:
            return QrVerification(refusal=Refusal.of(malformed))
        row = await self.challenges.get(response.nonce, for_update=True)
        store = DbChallengeStore(row, ChallengePurpose.QR_LOGIN, now)
        credential_sha256 = hashlib.sha256(response.credential.document).hexdigest()
        try:
            kind = credential_kind(response.credential)
            context = await self._context(now)
            data = await verify_qr_login(
                response,
                store=store,
                expected_origin=self._expected_origin(row),
                now=now,
                validator=context.validator,
                kind=kind,
            )
            party = data.party()
            user, organisation_id = await self._account_for_party(party, now)
        except (Refused, PlatformRefused) as exc:
            refusal = await self._refused(
                "qr_login_refused", exc, store, actor, subject_type="credential", subject_id=credential_sha256
            )
            return QrVerification(refusal=refusal)
        assert row is not None  # noqa: S101 - consume() refused an unknown nonce
        row.user_id, row.organisation_id, row.verified_at = user.id, organisation_id, now
        await self.session.flush()
        await record_change(
            self.session,
            actor,
            "qr_login_verified",
            "user",
            user.id,
            summary={"credential": kind.value, "issuer": data.issuer.subject.rfc4514_string()[:300]},
            data={
                "credential": kind.value,
                "credential_sha256": credential_sha256,
                "serial": data.serial,
                "issuer_sha256": fingerprint(data.issuer),
                "challenge_sha256": secret_hash(response.nonce),
                "organisation_id": str(organisation_id) if organisation_id else None,
            },
        )
        return QrVerification(user=user, kind=kind)

    async def poll_qr(self, nonce: str, browser_secret: str, *, actor: Actor) -> QrPoll:
        """The browser that showed a QR code asks how it went; once verified it gets a session (once)."""
        row = await self.challenges.get(nonce, for_update=True)
        if (
            row is None
            or row.purpose is not ChallengePurpose.QR_LOGIN
            or row.browser_hash is None
            or not hmac.compare_digest(row.browser_hash, secret_hash(browser_secret))
            or row.completed_at is not None
        ):
            return QrPoll(QrState.UNKNOWN)
        if row.refusal is not None:
            return QrPoll(QrState.REFUSED, refusal=row.refusal)
        now = await self._now()
        ttl = timedelta(seconds=self.settings.certs.challenge_ttl_seconds)
        if row.verified_at is None:
            return QrPoll(QrState.EXPIRED if now > row.expires_at else QrState.WAITING)
        user = await self.users.get(row.user_id) if row.user_id is not None else None
        if now > row.verified_at + ttl or user is None or not user.active:
            return QrPoll(QrState.EXPIRED)
        token, _ = await AuthenticationService(self.session, self.settings).open_session(
            user,
            SessionKind.WEB,
            actor,
            row.organisation_id,
            now,
            method="qr-credential",
            evidence={"challenge_sha256": secret_hash(row.nonce)},
        )
        row.completed_at = now
        await self.session.flush()
        return QrPoll(QrState.DONE, token=token)
