"""Authentication: login with argon2id passwords and optional TOTP, sessions, logout, password.

Login is throttled per client address and per username-address pair (``trading.kernel.ratelimit``,
see :class:`_Attempt`), never per username alone, so nobody can lock an owner out. A successful
login opens a server-side session (``AuthSession``): a browser cookie or an API bearer token, of
which only the SHA-256 is stored. Every state change appends a ledger entry in the caller's
transaction; failed attempts are returned rather than raised so that their entry is committed.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.db.types import uuid7
from trading.kernel.errors import DomainError, PermissionDenied, ValidationFailed
from trading.kernel.ratelimit import Limit, RateLimiter
from trading.kernel.settings import Settings
from trading.parties import credentials, validation
from trading.parties.errors import (
    AlreadyRegistered,
    LoginFailed,
    TooManyLoginAttempts,
    TotpInvalid,
    TotpRequired,
    UserNotFound,
)
from trading.parties.models import AuthSession, SessionKind, User
from trading.parties.repository import SessionRepository, UserRepository
from trading.parties.service import Recording
from trading.parties.sessions import forget_actors_after_commit

log = structlog.get_logger(__name__)

# A pair's failures are counted, never capped by the counter itself (the backoff does that).
_UNLIMITED = 2**31


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What a login attempt produced: a session and its token, or the error to show.

    Failures are returned, not raised, because a failed attempt is recorded in the ledger and
    the request must commit for the record to stay.
    """

    token: str | None = None
    session: AuthSession | None = None
    user: User | None = None
    error: DomainError | None = None


@dataclass(frozen=True, slots=True)
class _Attempt:
    """One login attempt's throttling: a window per client address and a backoff per
    username-address pair.

    * The address counts failed logins for any usernames (``auth.login_attempts_per_window`` in
      ``auth.login_window_seconds``): credential stuffing and password spraying from one place stop
      there, whichever accounts they aim at.
    * The pair (username, address) gets ``auth.login_free_failures``, then each further failure
      blocks the pair for twice as long as the last (from ``auth.login_backoff_base_seconds`` up
      to ``auth.login_backoff_max_seconds``): guessing one account from one place slows down
      exponentially, and a success clears it.
    * Nothing counts per username alone. A lock per username would let anyone lock the owner out
      from anywhere (issue 11); the owner at another address has a fresh pair and address. Against
      a guesser spread over many addresses the defences are the password rules, argon2id and TOTP.

    * An unknown address (a Unix socket whose proxy is not trusted with ``"unix"``) has no window:
      one key for every client would let 20 wrong passwords lock everybody out. The pair
      (username, ``-``) still backs off; list ``"unix"`` in ``web.trusted_proxies`` to count the
      forwarded addresses instead.

    Certificate and credential logins never ask these counters: they are throttled per address
    by their own public-endpoint guard, so a flood of wrong passwords cannot block them.
    """

    address_key: str
    pair_key: str
    pair_block_key: str
    settings: Settings
    limiter: RateLimiter
    kind: SessionKind
    actor: Actor

    @classmethod
    def of(cls, username: str, settings: Settings, limiter: RateLimiter, kind: SessionKind, actor: Actor) -> _Attempt:
        address = actor.client_ip or "-"
        # Hashed: usernames are whatever a client sends, and keys must stay short and uniform.
        pair = hashlib.sha256(f"{validation.normalise_username(username)}\0{address}".encode()).hexdigest()[:32]
        return cls(
            address_key=f"login:ip:{address}",
            pair_key=f"login:pair:{pair}",
            pair_block_key=f"login:pair-blocked:{pair}",
            settings=settings,
            limiter=limiter,
            kind=kind,
            actor=actor,
        )

    @property
    def _address_limit(self) -> Limit:
        return Limit(self.settings.auth.login_attempts_per_window, self.settings.auth.login_window_seconds)

    @property
    def _blocked(self) -> Limit:
        # Any count means blocked; the key's own expiry is the wait (the window is a fallback).
        return Limit(1, self.settings.auth.login_backoff_max_seconds)

    @property
    def _address_known(self) -> bool:
        return self.actor.client_ip is not None

    async def raise_if_throttled(self) -> None:
        checks = [(self.pair_block_key, self._blocked, "pair")]
        if self._address_known:
            checks.append((self.address_key, self._address_limit, "address"))
        for key, limit, kind in checks:
            wait = await self.limiter.retry_after(key, limit)
            if wait is not None:
                log.info("parties.login_throttled", key_kind=kind, retry_after=wait)
                raise TooManyLoginAttempts(wait)

    async def count_failure(self) -> None:
        auth = self.settings.auth
        if self._address_known:
            await self.limiter.hit(self.address_key, self._address_limit)
        failures = await self.limiter.hit(self.pair_key, Limit(_UNLIMITED, auth.login_failure_memory_seconds))
        beyond = failures - auth.login_free_failures
        if beyond >= 0:
            wait = min(auth.login_backoff_max_seconds, auth.login_backoff_base_seconds * 2 ** min(beyond, 30))
            await self.limiter.hit(self.pair_block_key, Limit(1, wait))

    async def succeeded(self) -> None:
        """The right credentials: the pair starts afresh (the address keeps its count, or one
        valid account would let its holder clear the address's failures).
        """
        await self.limiter.reset(self.pair_key)
        await self.limiter.reset(self.pair_block_key)


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    provisioning_uri: str


class AuthenticationService(Recording):
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.users = UserRepository(session)
        self.sessions = SessionRepository(session)

    async def login(
        self,
        *,
        username: str,
        password: str,
        totp: str | None,
        kind: SessionKind,
        actor: Actor,
        limiter: RateLimiter,
        organisation_id: uuid.UUID | None = None,
    ) -> LoginResult:
        """Check credentials and open a session (web cookie or API token).

        Rules: failed attempts are counted per client address and per username-address pair
        (:class:`_Attempt`); a throttled address or pair is refused with 429 before any password
        check (:class:`TooManyLoginAttempts`, carrying the seconds to wait). Unknown user,
        inactive user and wrong password give the same :class:`LoginFailed`. With TOTP enabled,
        a missing code gives :class:`TotpRequired` (not counted as a failure: the password was
        right) and a wrong or reused code :class:`TotpInvalid` (counted). A password hashed with
        outdated argon2 parameters is rehashed. Failures of existing users append
        ``parties.login_failed``; success appends ``parties.login_succeeded``.
        """
        attempt = _Attempt.of(username, self.settings, limiter, kind, actor)
        await attempt.raise_if_throttled()

        user = await self.users.by_username(validation.normalise_username(username))
        known = user if user is not None and user.active else None
        check = await credentials.verify_password(known.password_hash if known else None, password)
        if known is None or not check.ok:
            await self._failed(attempt, known, "password")
            return LoginResult(error=LoginFailed("wrong username or password"))

        now = await self._now()
        if known.totp_enabled and known.totp_secret is not None:
            if not totp or not totp.strip():
                return LoginResult(error=TotpRequired("enter the code from your authenticator app", field="totp"))
            secret = self._totp_box().open(known.id, known.totp_secret)
            step = credentials.totp_accepted_step(secret, totp, now, last_step=known.totp_last_step)
            if step is None:
                await self._failed(attempt, known, "totp")
                return LoginResult(error=TotpInvalid("the code is wrong or was already used", field="totp"))
            known.totp_last_step = step

        if check.new_hash is not None:
            known.password_hash = check.new_hash
        await attempt.succeeded()
        token, auth_session = await self.open_session(known, kind, actor, organisation_id, now)
        return LoginResult(token=token, session=auth_session, user=known)

    async def _failed(self, attempt: _Attempt, user: User | None, reason: str) -> None:
        await attempt.count_failure()
        # Only attempts on existing accounts reach the ledger: it records what happened to a
        # subject, and random usernames typed by an attacker are not subjects (they are logged).
        if user is None:
            log.info("parties.login_failed_unknown_user", kind=attempt.kind.value)
            return
        await self._record(
            attempt.actor,
            "login_failed",
            "user",
            user.id,
            data={"reason": reason, "kind": attempt.kind.value},
            summary={"reason": reason, "kind": attempt.kind.value},
        )

    async def open_session(
        self,
        user: User,
        kind: SessionKind,
        actor: Actor,
        organisation_id: uuid.UUID | None,
        now: datetime,
        *,
        method: str = "password",
        evidence: dict[str, Any] | None = None,
    ) -> tuple[str, AuthSession]:
        """Open a session for a user whose login succeeded (``method``: password, certificate,
        e-licence, e-id). Appends ``parties.login_succeeded`` with ``evidence`` (digested only).
        """
        ttl = (
            self.settings.auth.session_ttl_seconds
            if kind is SessionKind.WEB
            else self.settings.auth.api_token_ttl_seconds
        )
        token, hashed = credentials.new_session_token()
        auth_session = AuthSession(
            id=uuid7(),
            token_hash=hashed,
            user_id=user.id,
            kind=kind,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
            client_ip=actor.client_ip,
            organisation_id=organisation_id,
        )
        self.sessions.add(auth_session)
        await self.session.flush()
        who = Actor(
            kind=ActorKind.USER,
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            organisation_id=organisation_id,
            client_ip=actor.client_ip,
            session_id=auth_session.id,
        )
        # TOTP is asked for on password logins only: a certificate or credential is itself a
        # second factor (a key in a USB token or a phone app, unlocked by its PIN).
        second_factor = user.totp_enabled and method == "password"
        await self._record(
            who,
            "login_succeeded",
            "user",
            user.id,
            data={
                "session_id": str(auth_session.id),
                "kind": kind.value,
                "second_factor": second_factor,
                "method": method,
                **({"evidence": evidence} if evidence else {}),
            },
            summary={"kind": kind.value, "second_factor": second_factor, "method": method},
        )
        return token, auth_session

    async def logout(self, *, actor: Actor) -> bool:
        """End the actor's session (cookie or token) now. Appends ``parties.logged_out``;
        returns False when there was no live session.
        """
        if actor.session_id is None or actor.user_id is None:
            return False
        auth_session = await self.sessions.get(actor.session_id, for_update=True)
        if auth_session is None or auth_session.revoked_at is not None:
            return False
        auth_session.revoked_at = await self._now()
        await self.session.flush()
        forget_actors_after_commit(self.session, actor.user_id)
        await self._record(
            actor,
            "logged_out",
            "user",
            actor.user_id,
            data={"session_id": str(auth_session.id), "kind": auth_session.kind.value},
            summary={"kind": auth_session.kind.value},
        )
        return True

    async def me(self, *, actor: Actor) -> User:
        if actor.user_id is None:
            raise PermissionDenied("only users have an account")
        user = await self.users.get(actor.user_id)
        if user is None:
            raise UserNotFound("no such user")
        return user

    def _totp_box(self) -> credentials.TotpBox:
        return credentials.TotpBox(self.settings.secret("secret_key"))

    async def enrol_totp(self, *, actor: Actor) -> TotpEnrolment:
        """Start (or restart) TOTP enrolment: a new secret is stored, encrypted, but not yet
        required. It becomes required once confirmed with a code (:meth:`confirm_totp`).
        Refused (409) when TOTP is already enabled. Appends ``parties.totp_enrolment_started``.
        """
        user = await self._locked_user(actor)
        if user.totp_enabled:
            raise AlreadyRegistered("two-step verification is already on", field="totp", rule="not_enabled")
        secret = credentials.new_totp_secret()
        user.totp_secret = self._totp_box().seal(user.id, secret)
        user.totp_last_step = None
        await self.session.flush()
        await self._record(actor, "totp_enrolment_started", "user", user.id, summary={})
        return TotpEnrolment(secret=secret, provisioning_uri=credentials.totp_provisioning_uri(secret, user.username))

    async def confirm_totp(self, code: str, *, actor: Actor) -> None:
        """Turn TOTP on after the user proves their app has the secret with a current code.
        From then on login needs a code. Appends ``parties.totp_enabled``.
        """
        user = await self._locked_user(actor)
        if user.totp_enabled:
            raise AlreadyRegistered("two-step verification is already on", field="code", rule="not_enabled")
        if user.totp_secret is None:
            raise ValidationFailed("start the enrolment first", field="code", rule="enrolment_started")
        secret = self._totp_box().open(user.id, user.totp_secret)
        step = credentials.totp_accepted_step(secret, code, await self._now(), last_step=user.totp_last_step)
        if step is None:
            raise ValidationFailed("the code is wrong or has expired", field="code", rule="totp")
        user.totp_enabled = True
        user.totp_last_step = step
        await self.session.flush()
        await self._record(actor, "totp_enabled", "user", user.id, summary={})

    async def change_password(self, *, current_password: str, new_password: str, actor: Actor) -> int:
        """Replace the actor's password after checking the current one. Every other session and
        token of the user is revoked (a stolen session does not survive a password change).
        Returns how many were revoked. Appends ``parties.password_changed``.
        """
        user = await self._locked_user(actor)
        check = await credentials.verify_password(user.password_hash, current_password)
        if not check.ok:
            raise ValidationFailed("the current password is wrong", field="current_password", rule="matches")
        errors = validation.FieldErrors()
        validation.password(errors, "new_password", new_password, user.username)
        errors.raise_if_any()
        now = await self._now()
        user.password_hash = await credentials.hash_password(new_password)
        user.password_changed_at = now
        revoked = await self.sessions.revoke_for_user(user.id, now, keep=actor.session_id)
        await self.session.flush()
        forget_actors_after_commit(self.session, user.id)
        await self._record(actor, "password_changed", "user", user.id, summary={"revoked_sessions": revoked})
        return revoked

    async def _locked_user(self, actor: Actor) -> User:
        if actor.user_id is None:
            raise PermissionDenied("only users have an account")
        user = await self.users.get(actor.user_id, for_update=True)
        if user is None:
            raise UserNotFound("no such user")
        return user
