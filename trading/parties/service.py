"""Parties service: registration, organisations, users and memberships.

Every state change appends a ledger entry (``trading.ledger``) in the caller's transaction. The
service only flushes; the request or job boundary commits. Secrets (passwords, tokens, TOTP
secrets and codes, ID numbers) never reach the ledger, a log line or an error message. Login,
sessions and TOTP are in ``trading.parties.authentication``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import uuid7
from trading.kernel.settings import Settings
from trading.ledger.service import append_entry
from trading.parties import credentials, identifiers, policies, validation
from trading.parties.errors import AlreadyRegistered, MembershipNotActive, MembershipNotFound, OrganisationNotFound
from trading.parties.models import Membership, MembershipStatus, Organisation, Person, User
from trading.parties.repository import MembershipRepository, OrganisationRepository, PersonRepository, UserRepository
from trading.parties.schemas import MembershipCreate, OrganisationCreate, RegistrationCreate, UserCreate
from trading.parties.sessions import forget_actors_after_commit


@dataclass(frozen=True, slots=True)
class Registration:
    organisation: Organisation
    user: User
    membership: Membership


async def expire_membership_if_due(session: AsyncSession, membership_id: uuid.UUID, now: datetime) -> bool:
    """Expire a membership whose end has come (the sweep's transition; see ``jobs``).

    Idempotent: the row is locked and re-checked, so a second sweep (or a concurrent one that
    waited for the lock) finds it no longer active or not yet due and changes nothing.
    Appends ``parties.membership_expired`` by the system actor.
    """
    membership = await MembershipRepository(session).get(membership_id, for_update=True)
    if membership is None or membership.status is not MembershipStatus.ACTIVE:
        return False
    if membership.next_check is None or membership.next_check > now:
        return False
    membership.status = MembershipStatus.EXPIRED
    membership.ended_at = now
    membership.next_check = None
    await session.flush()
    forget_actors_after_commit(session, membership.user_id)
    await record_change(
        session,
        Actor.system(),
        "membership_expired",
        "membership",
        membership.id,
        data={
            "user_id": str(membership.user_id),
            "organisation_id": str(membership.organisation_id),
            "role": membership.role.value,
            "valid_until": membership.valid_until.isoformat() if membership.valid_until else None,
        },
        summary={"role": membership.role.value, "user_id": str(membership.user_id)},
    )
    return True


async def record_change(
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID | str,
    *,
    summary: dict[str, Any],
    data: dict[str, Any] | None = None,
) -> None:
    """Append the ledger entry of a parties state change (action ``parties.<action>``).

    ``summary`` is stored and shown to supervisors, so it holds only what may be shown; ``data``
    (the whole change, defaulting to the summary) is only digested. Neither ever holds a
    password, token, TOTP secret or code, or an ID number.
    """
    await append_entry(
        session,
        actor=actor,
        action=f"parties.{action}",
        subject_type=subject_type,
        subject_id=str(subject_id),
        data=data if data is not None else summary,
        summary=summary,
    )


class Recording:
    """What each parties service does alike: read the database's clock and record a change."""

    session: AsyncSession

    async def _now(self) -> datetime:
        return await clock.now(self.session)

    async def _record(
        self,
        actor: Actor,
        action: str,
        subject_type: str,
        subject_id: uuid.UUID,
        *,
        summary: dict[str, Any],
        data: dict[str, Any] | None = None,
    ) -> None:
        await record_change(self.session, actor, action, subject_type, subject_id, summary=summary, data=data)


class PartiesService(Recording):
    """Registration and the centre's administration of organisations, users and memberships."""

    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.organisations = OrganisationRepository(session)
        self.people = PersonRepository(session)
        self.users = UserRepository(session)
        self.memberships = MembershipRepository(session)

    async def _record_organisation_registered(self, actor: Actor, organisation: Organisation) -> None:
        uscc, name, kind = organisation.uscc, organisation.name, organisation.kind.value
        await self._record(
            actor,
            "organisation_registered",
            "organisation",
            organisation.id,
            data={"uscc": uscc, "name": name, "kind": kind, "region_code": organisation.region_code},
            summary={"uscc": uscc, "name": name, "kind": kind},
        )

    async def _flush(self, conflict: AlreadyRegistered) -> None:
        # The pre-checks answer the common case with a precise field; this catches the race of
        # two identical registrations in flight, which the unique constraints decide.
        try:
            await self.session.flush()
        except IntegrityError:
            raise conflict from None

    async def _person(self, number: str, name: str, now: datetime) -> Person:
        """The person with this ID number, created on first sight (the number is not stored)."""
        id_hash = identifiers.resident_id_hash(number, self.settings.secret("pii_hash_key"))
        person = await self.people.by_id_hash(id_hash)
        if person is None:
            person = Person(
                id=uuid7(), id_hash=id_hash, id_masked=identifiers.mask_resident_id(number), name=name, created_at=now
            )
            self.people.add(person)
        return person

    async def identify_person(self, id_number: str, name: str) -> Person:
        """The person with this 公民身份号码 (checked, GB 11643), created on first sight; used by
        domains that record people who need no account yet (the expert pool's import). Raises
        ``identifiers.InvalidIdentifier`` naming the rule. The number itself is not stored.
        """
        now = await self._now()
        number = identifiers.validate_resident_id(
            id_number, today=now.astimezone(validation.CHINA_STANDARD_TIME).date()
        )
        return await self._person(number, name, now)

    # --- registration and administration ---

    async def register(self, form: RegistrationCreate, *, actor: Actor) -> Registration:
        """Register an organisation with its first user and membership (self-service).

        Rules: the USCC passes GB 32100 and is not registered yet; the role is open to
        self-registration (bidder, tenderee/purchaser, agency, intermediary, guarantor) and fits
        the organisation kind; the username is free and well-formed; the password has 10–128
        characters; an ID number, when given, passes GB 11643. All field errors are reported
        together (422); taken identifiers are a 409 naming the field. Appends
        ``parties.organisation_registered``, ``parties.user_created`` and
        ``parties.membership_granted``.
        """
        now = await self._now()
        errors = validation.FieldErrors()
        uscc = validation.uscc(errors, form.uscc)
        name = validation.text(errors, "organisation_name", form.organisation_name)
        display_name = validation.text(errors, "display_name", form.display_name)
        username = validation.username(errors, form.username)
        validation.password(errors, "password", form.password, username)
        if validation.self_registrable(errors, form.role):
            validation.role_fits(errors, form.role, form.organisation_kind)
        id_number = validation.resident_id(
            errors, form.id_number, now.astimezone(validation.CHINA_STANDARD_TIME).date()
        )
        person_name = validation.text(errors, "person_name", form.person_name, required=False) or display_name
        errors.raise_if_any()
        if await self.organisations.by_uscc(uscc) is not None:
            raise AlreadyRegistered(
                "an organisation with this 统一社会信用代码 is already registered", field="uscc", rule="unique"
            )
        if await self.users.username_taken(username):
            raise AlreadyRegistered("this username is taken", field="username", rule="unique")

        organisation = Organisation(
            id=uuid7(),
            uscc=uscc,
            name=name,
            kind=form.organisation_kind,
            region_code=identifiers.uscc_region(uscc),
            created_at=now,
        )
        self.organisations.add(organisation)
        person = await self._person(id_number, person_name, now) if id_number else None
        user = await self._new_user(username, display_name, form.password, person, now)
        membership = self._membership(user.id, organisation.id, form.role, valid_from=now, valid_until=None, now=now)
        await self._flush(
            AlreadyRegistered("this organisation or username was registered just now", field="uscc", rule="unique")
        )
        await self._record_organisation_registered(actor, organisation)
        await self._record_user_created(actor, user, person)
        await self._record_granted(actor, membership)
        return Registration(organisation=organisation, user=user, membership=membership)

    async def _new_user(
        self, username: str, display_name: str, password: str, person: Person | None, now: datetime
    ) -> User:
        user = User(
            id=uuid7(),
            username=username,
            display_name=display_name,
            password_hash=await credentials.hash_password(password),
            locale=self.settings.web.default_locale,
            person_id=person.id if person else None,
            active=True,
            totp_enabled=False,
            created_at=now,
            password_changed_at=now,
        )
        self.users.add(user)
        return user

    async def _record_user_created(self, actor: Actor, user: User, person: Person | None) -> None:
        data: dict[str, Any] = {"username": user.username, "display_name": user.display_name}
        if person is not None:
            data["person_id"] = str(person.id)
            data["id_masked"] = person.id_masked
        await self._record(actor, "user_created", "user", user.id, data=data, summary={"username": user.username})

    async def _record_granted(self, actor: Actor, membership: Membership) -> None:
        await self._record(
            actor,
            "membership_granted",
            "membership",
            membership.id,
            data={
                "user_id": str(membership.user_id),
                "organisation_id": str(membership.organisation_id),
                "role": membership.role.value,
                "valid_from": membership.valid_from.isoformat(),
                "valid_until": membership.valid_until.isoformat() if membership.valid_until else None,
            },
            summary={
                "role": membership.role.value,
                "user_id": str(membership.user_id),
                "organisation_id": str(membership.organisation_id),
            },
        )

    async def create_organisation(self, form: OrganisationCreate, *, actor: Actor) -> Organisation:
        """A centre admin registers an organisation of any kind (including supervisory departments
        and the trading centre). Rules as for registration: a valid, unregistered USCC and a name;
        a given region code must be 6 digits. Appends ``parties.organisation_registered``.
        """
        now = await self._now()
        errors = validation.FieldErrors()
        uscc = validation.uscc(errors, form.uscc)
        name = validation.text(errors, "name", form.name)
        region = (form.region_code or "").strip()
        if region and (len(region) != 6 or not region.isdigit()):  # noqa: PLR2004 - GB/T 2260 codes have 6 digits
            errors.add("region_code", "format", "a region code has 6 digits (GB/T 2260)")
        errors.raise_if_any()
        if await self.organisations.by_uscc(uscc) is not None:
            raise AlreadyRegistered(
                "an organisation with this 统一社会信用代码 is already registered", field="uscc", rule="unique"
            )
        organisation = Organisation(
            id=uuid7(),
            uscc=uscc,
            name=name,
            kind=form.kind,
            region_code=region or identifiers.uscc_region(uscc),
            created_at=now,
        )
        self.organisations.add(organisation)
        await self._flush(AlreadyRegistered("this organisation was registered just now", field="uscc", rule="unique"))
        await self._record_organisation_registered(actor, organisation)
        return organisation

    async def create_user(self, form: UserCreate, *, actor: Actor) -> tuple[User, Membership]:
        """A centre admin creates a user with a first membership. Any role may be granted here,
        including supervisor, expert and admin, but it must still fit the organisation kind.
        Appends ``parties.user_created`` and ``parties.membership_granted``.
        """
        now = await self._now()
        errors = validation.FieldErrors()
        display_name = validation.text(errors, "display_name", form.display_name)
        username = validation.username(errors, form.username)
        validation.password(errors, "password", form.password, username)
        id_number = validation.resident_id(
            errors, form.id_number, now.astimezone(validation.CHINA_STANDARD_TIME).date()
        )
        person_name = validation.text(errors, "person_name", form.person_name, required=False) or display_name
        organisation = await self.organisations.get(form.organisation_id)
        if organisation is None:
            errors.add("organisation_id", "exists", "no such organisation")
        else:
            validation.role_fits(errors, form.role, organisation.kind)
        if form.valid_until is not None and form.valid_until <= now:
            errors.add("valid_until", "future", "the membership would end before it starts")
        errors.raise_if_any()
        assert organisation is not None  # noqa: S101 - raise_if_any() returned, so it was found
        if await self.users.username_taken(username):
            raise AlreadyRegistered("this username is taken", field="username", rule="unique")
        person = await self._person(id_number, person_name, now) if id_number else None
        user = await self._new_user(username, display_name, form.password, person, now)
        membership = self._membership(
            user.id, organisation.id, form.role, valid_from=now, valid_until=form.valid_until, now=now
        )
        await self._flush(AlreadyRegistered("this username was taken just now", field="username", rule="unique"))
        await self._record_user_created(actor, user, person)
        await self._record_granted(actor, membership)
        return user, membership

    def _membership(
        self,
        user_id: uuid.UUID,
        organisation_id: uuid.UUID,
        role: Role,
        *,
        valid_from: datetime,
        valid_until: datetime | None,
        now: datetime,
    ) -> Membership:
        membership = Membership(
            id=uuid7(),
            user_id=user_id,
            organisation_id=organisation_id,
            role=role,
            valid_from=valid_from,
            valid_until=valid_until,
            status=MembershipStatus.ACTIVE,
            # The sweep looks at the membership again when it ends.
            next_check=valid_until,
            created_at=now,
        )
        self.memberships.add(membership)
        return membership

    async def grant_membership(self, form: MembershipCreate, *, actor: Actor) -> Membership:
        """A centre admin grants a role in an organisation, optionally for a period.

        Rules: user and organisation exist; the role fits the organisation kind; the period ends
        after it starts and after now; the user does not already hold this role there (409).
        Appends ``parties.membership_granted``.
        """
        now = await self._now()
        errors = validation.FieldErrors()
        user = await self.users.get(form.user_id)
        if user is None:
            errors.add("user_id", "exists", "no such user")
        organisation = await self.organisations.get(form.organisation_id)
        if organisation is None:
            errors.add("organisation_id", "exists", "no such organisation")
        else:
            validation.role_fits(errors, form.role, organisation.kind)
        valid_from = form.valid_from or now
        if valid_from.tzinfo is None:
            errors.add("valid_from", "timezone", "give the time with its UTC offset")
        elif form.valid_until is not None and (form.valid_until <= valid_from or form.valid_until <= now):
            errors.add("valid_until", "future", "the membership would end before it starts")
        if form.valid_until is not None and form.valid_until.tzinfo is None:
            errors.add("valid_until", "timezone", "give the time with its UTC offset")
        errors.raise_if_any()
        if await self.memberships.active_exists(form.user_id, form.organisation_id, form.role):
            raise AlreadyRegistered(
                "the user already holds this role in this organisation", field="role", rule="unique"
            )
        membership = self._membership(
            form.user_id, form.organisation_id, form.role, valid_from=valid_from, valid_until=form.valid_until, now=now
        )
        await self._flush(AlreadyRegistered("this role was granted just now", field="role", rule="unique"))
        forget_actors_after_commit(self.session, membership.user_id)
        await self._record_granted(actor, membership)
        return membership

    async def revoke_membership(self, membership_id: uuid.UUID, *, reason: str, actor: Actor) -> Membership:
        """A centre admin ends an active membership now. The row stays as history
        (status ``revoked``); the user's sessions lose the role on their next request. Appends
        ``parties.membership_revoked``.
        """
        membership = await self.memberships.get(membership_id, for_update=True)
        if membership is None:
            raise MembershipNotFound("no such membership")
        if membership.status is not MembershipStatus.ACTIVE:
            raise MembershipNotActive(f"the membership is already {membership.status}", field="status", rule="active")
        now = await self._now()
        membership.status = MembershipStatus.REVOKED
        membership.ended_at = now
        membership.next_check = None
        await self.session.flush()
        forget_actors_after_commit(self.session, membership.user_id)
        await self._record(
            actor,
            "membership_revoked",
            "membership",
            membership.id,
            data={"user_id": str(membership.user_id), "role": membership.role.value, "reason": reason[:500]},
            summary={"role": membership.role.value, "user_id": str(membership.user_id)},
        )
        return membership

    async def organisation(self, organisation_id: uuid.UUID, *, actor: Actor) -> Organisation:
        """An organisation the actor may read: any for admins and supervisors, else their own."""
        policies.assert_can_read_organisation(actor, organisation_id)
        organisation = await self.organisations.get(organisation_id)
        if organisation is None:
            raise OrganisationNotFound("no such organisation")
        return organisation

    # --- authentication ---
