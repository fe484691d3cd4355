"""All SQL of the parties package.

List queries start from ``readable(actor)``; rows that are about to change are loaded with
``with_for_update()`` (a no-op on SQLite, where the unit of work holds the write lock instead).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.db.types import UTCDateTime
from trading.parties import policies
from trading.parties.models import (
    AgencyMandate,
    AuthSession,
    CertificateBinding,
    LoginChallenge,
    MandateStatus,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Person,
    RevocationCacheEntry,
    RevocationKind,
    SessionKind,
    TimestampToken,
    TrustListMark,
    TrustListVersion,
    User,
)


class OrganisationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def readable(self, actor: Actor) -> sa.Select[Organisation]:
        statement = sa.select(Organisation)
        if policies.sees_all_parties(actor):
            return statement
        return statement.where(Organisation.id == actor.organisation_id)

    async def list(self, actor: Actor, *, limit: int, offset: int) -> Sequence[Organisation]:
        statement = self.readable(actor).order_by(Organisation.name, Organisation.id).limit(limit).offset(offset)
        return (await self.session.scalars(statement)).all()

    async def get(self, organisation_id: uuid.UUID) -> Organisation | None:
        return await self.session.get(Organisation, organisation_id)

    async def by_uscc(self, uscc: str) -> Organisation | None:
        return await self.session.scalar(sa.select(Organisation).where(Organisation.uscc == uscc))

    def add(self, organisation: Organisation) -> None:
        self.session.add(organisation)

    async def by_ids(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Organisation]:
        """The organisations of ``ids`` (one query), by id."""
        if not ids:
            return {}
        rows = await self.session.scalars(sa.select(Organisation).where(Organisation.id.in_(set(ids))))
        return {row.id: row for row in rows}

    async def agencies_matching(self, query: str, *, limit: int) -> Sequence[Organisation]:
        """Agencies whose name contains ``query`` or whose credit code starts with it, by name."""
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = (
            sa.select(Organisation)
            .where(
                Organisation.kind == OrganisationKind.AGENCY,
                sa.or_(
                    Organisation.name.ilike(f"%{escaped}%", escape="\\"),
                    Organisation.uscc.like(f"{escaped.upper()}%", escape="\\"),
                ),
            )
            .order_by(Organisation.name, Organisation.id)
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()

    async def agency_named(self, text: str) -> Sequence[Organisation]:
        """Agencies whose credit code is ``text`` (any case) or whose name is exactly ``text``."""
        statement = sa.select(Organisation).where(
            Organisation.kind == OrganisationKind.AGENCY,
            sa.or_(Organisation.uscc == text.upper(), Organisation.name == text),
        )
        return (await self.session.scalars(statement.order_by(Organisation.name).limit(2))).all()


class PersonRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_id_hash(self, id_hash: str) -> Person | None:
        return await self.session.scalar(sa.select(Person).where(Person.id_hash == id_hash))

    def add(self, person: Person) -> None:
        self.session.add(person)


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def readable(self, actor: Actor) -> sa.Select[User]:
        statement = sa.select(User)
        if policies.sees_all_parties(actor):
            return statement
        members = sa.select(Membership.user_id).where(Membership.organisation_id == actor.organisation_id)
        return statement.where(User.id.in_(members))

    async def get(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        return await self.session.get(User, user_id, with_for_update=for_update)

    async def by_username(self, username: str) -> User | None:
        return await self.session.scalar(sa.select(User).where(User.username == username))

    async def username_taken(self, username: str) -> bool:
        found = await self.session.scalar(sa.select(User.id).where(User.username == username))
        return found is not None

    async def person_of(self, user: User) -> Person | None:
        if user.person_id is None:
            return None
        return await self.session.get(Person, user.person_id)

    def add(self, user: User) -> None:
        self.session.add(user)


class MembershipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def readable(self, actor: Actor) -> sa.Select[Membership]:
        statement = sa.select(Membership)
        if policies.sees_all_parties(actor):
            return statement
        return statement.where(Membership.user_id == actor.user_id)

    async def list(
        self,
        actor: Actor,
        *,
        organisation_id: uuid.UUID | None = None,
        user_id: uuid.UUID | None = None,
        limit: int,
        offset: int,
    ) -> Sequence[Membership]:
        statement = self.readable(actor)
        if organisation_id is not None:
            statement = statement.where(Membership.organisation_id == organisation_id)
        if user_id is not None:
            statement = statement.where(Membership.user_id == user_id)
        statement = statement.order_by(Membership.created_at, Membership.id).limit(limit).offset(offset)
        return (await self.session.scalars(statement)).all()

    async def with_organisations(self, user_id: uuid.UUID) -> Sequence[tuple[Membership, Organisation]]:
        """A user's memberships, newest first, each with its organisation (the account page)."""
        statement = (
            sa.select(Membership, Organisation)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at.desc(), Membership.id)
        )
        return [(membership, organisation) for membership, organisation in (await self.session.execute(statement))]

    async def get(self, membership_id: uuid.UUID, *, for_update: bool = False) -> Membership | None:
        return await self.session.get(Membership, membership_id, with_for_update=for_update)

    async def active_exists(self, user_id: uuid.UUID, organisation_id: uuid.UUID, role: Role) -> bool:
        found = await self.session.scalar(
            sa.select(Membership.id).where(
                Membership.user_id == user_id,
                Membership.organisation_id == organisation_id,
                Membership.role == role,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
        return found is not None

    async def due_ids(self, now: datetime, limit: int) -> Sequence[uuid.UUID]:
        """Active memberships whose ``next_check`` (their end) has come."""
        statement = (
            sa.select(Membership.id)
            .where(Membership.status == MembershipStatus.ACTIVE, Membership.next_check <= now)
            .order_by(Membership.next_check)
            .limit(limit)
        )
        return (await self.session.scalars(statement)).all()

    def add(self, membership: Membership) -> None:
        self.session.add(membership)


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """One row of :meth:`SessionRepository.resolve`: the session and user, and one membership."""

    session_id: uuid.UUID
    expires_at: datetime
    chosen_organisation_id: uuid.UUID | None
    user_id: uuid.UUID
    username: str
    display_name: str
    role: Role | None
    organisation_id: uuid.UUID | None
    organisation_name: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    database_now: datetime


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, auth_session: AuthSession) -> None:
        self.session.add(auth_session)

    async def get(self, session_id: uuid.UUID, *, for_update: bool = False) -> AuthSession | None:
        return await self.session.get(AuthSession, session_id, with_for_update=for_update)

    async def resolve(self, token_hash: str, kind: SessionKind) -> list[SessionGrant]:
        """The live session with this token, its active user and the user's active memberships
        in active organisations, in **one** query (it runs on every authenticated request).

        One row per membership (one row with NULL membership columns when there is none, and a
        NULL organisation when the membership's organisation is suspended); no rows
        when the token is unknown, revoked, of the other kind, or its user is deactivated. Expiry
        and membership validity are left to the caller, which compares them with the platform
        clock; the database's ``now()`` comes back in the same row for that.
        """
        membership_join = sa.and_(
            Membership.user_id == User.id,
            Membership.status == MembershipStatus.ACTIVE,
        )
        organisation_join = sa.and_(
            Organisation.id == Membership.organisation_id,
            Organisation.status == OrganisationStatus.ACTIVE,
        )
        statement = (
            sa.select(
                AuthSession.id,
                AuthSession.expires_at,
                AuthSession.organisation_id,
                User.id,
                User.username,
                User.display_name,
                Membership.role,
                Organisation.id,
                Organisation.name,
                Membership.valid_from,
                Membership.valid_until,
                sa.func.now(type_=UTCDateTime()),
            )
            .join(User, User.id == AuthSession.user_id)
            .outerjoin(Membership, membership_join)
            .outerjoin(Organisation, organisation_join)
            .where(
                AuthSession.token_hash == token_hash,
                AuthSession.kind == kind,
                AuthSession.revoked_at.is_(None),
                User.active.is_(True),
            )
            .order_by(Membership.valid_from, Membership.id)
        )
        rows = (await self.session.execute(statement)).all()
        return [
            SessionGrant(
                session_id=row[0],
                expires_at=row[1],
                chosen_organisation_id=row[2],
                user_id=row[3],
                username=row[4],
                display_name=row[5],
                role=row[6],
                organisation_id=row[7],
                organisation_name=row[8],
                valid_from=row[9],
                valid_until=row[10],
                database_now=row[11],
            )
            for row in rows
        ]

    async def revoke_for_user(self, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None) -> int:
        """Revoke every live session of a user (except ``keep``); returns how many."""
        statement = (
            sa.update(AuthSession)
            .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None), AuthSession.expires_at > now)
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        if keep is not None:
            statement = statement.where(AuthSession.id != keep)
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)


# --- digital certificates -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustListHead:
    """Which stored list version: its row, name, sequence, digest and end of validity."""

    id: uuid.UUID
    peer_name: str | None
    sequence: int
    sha256: str
    next_update: datetime


class TrustListRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def marks(self, *, for_update: bool = False) -> dict[str, tuple[int, str]]:
        """Every series' high-water mark (locked while a list is being loaded)."""
        statement = sa.select(TrustListMark)
        if for_update:
            statement = statement.with_for_update()
        return {mark.series: (mark.sequence, mark.sha256) for mark in await self.session.scalars(statement)}

    async def raise_mark(self, series: str, sequence: int, sha256: str, now: datetime) -> None:
        mark = await self.session.get(TrustListMark, series, with_for_update=True)
        if mark is None:
            self.session.add(TrustListMark(series=series, sequence=sequence, sha256=sha256, updated_at=now))
        elif sequence > mark.sequence:
            mark.sequence, mark.sha256, mark.updated_at = sequence, sha256, now

    async def version(self, series: str, sequence: int) -> TrustListVersion | None:
        return await self.session.scalar(
            sa.select(TrustListVersion).where(TrustListVersion.series == series, TrustListVersion.sequence == sequence)
        )

    def add(self, version: TrustListVersion) -> None:
        self.session.add(version)

    async def latest_own(self) -> TrustListVersion | None:
        """Our list in force: the latest loaded (sequences only rise, so also the highest)."""
        return await self.session.scalar(
            sa.select(TrustListVersion)
            .where(TrustListVersion.peer_name.is_(None))
            .order_by(TrustListVersion.loaded_at.desc(), TrustListVersion.sequence.desc())
            .limit(1)
        )

    async def latest_heads(self) -> tuple[TrustListHead | None, list[TrustListHead]]:
        """`latest_own` and `latest_peers` without their documents and signatures: what says which
        lists are in force (a verified registry is cached by their digests, so a request that finds
        it cached never needs the bytes).
        """
        columns = (
            TrustListVersion.id,
            TrustListVersion.peer_name,
            TrustListVersion.sequence,
            TrustListVersion.sha256,
            TrustListVersion.next_update,
        )
        own = (
            await self.session.execute(
                sa.select(*columns)
                .where(TrustListVersion.peer_name.is_(None))
                .order_by(TrustListVersion.loaded_at.desc(), TrustListVersion.sequence.desc())
                .limit(1)
            )
        ).one_or_none()
        rows = await self.session.execute(
            sa.select(*columns)
            .where(TrustListVersion.peer_name.is_not(None))
            .order_by(TrustListVersion.peer_name, TrustListVersion.sequence.desc(), TrustListVersion.loaded_at.desc())
        )
        peers: dict[str, TrustListHead] = {}
        for row in rows:
            peers.setdefault(row.peer_name or "", TrustListHead(*row))
        return (TrustListHead(*own) if own is not None else None), list(peers.values())

    async def own_at(self, at: datetime) -> TrustListVersion | None:
        """Our list as it stood at ``at``: the highest sequence issued by then (time travel)."""
        return await self.session.scalar(
            sa.select(TrustListVersion)
            .where(TrustListVersion.peer_name.is_(None), TrustListVersion.issued_at <= at)
            .order_by(TrustListVersion.sequence.desc())
            .limit(1)
        )

    async def latest_peers(self, *, issued_by: datetime | None = None) -> list[TrustListVersion]:
        """The latest loaded list of every peer platform, one per pointer name (as of ``issued_by``)."""
        statement = sa.select(TrustListVersion).where(TrustListVersion.peer_name.is_not(None))
        if issued_by is not None:
            statement = statement.where(TrustListVersion.issued_at <= issued_by)
        rows = await self.session.scalars(
            statement.order_by(
                TrustListVersion.peer_name, TrustListVersion.sequence.desc(), TrustListVersion.loaded_at.desc()
            )
        )
        latest: dict[str, TrustListVersion] = {}
        for row in rows:
            latest.setdefault(row.peer_name or "", row)
        return list(latest.values())

    async def history(self, *, limit: int = 50) -> Sequence[TrustListVersion]:
        statement = sa.select(TrustListVersion).order_by(TrustListVersion.loaded_at.desc()).limit(limit)
        return (await self.session.scalars(statement)).all()


class RevocationCacheRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def crl(self, url: str) -> RevocationCacheEntry | None:
        return await self.session.scalar(
            sa.select(RevocationCacheEntry).where(
                RevocationCacheEntry.key == url, RevocationCacheEntry.kind == RevocationKind.CRL
            )
        )

    async def crls(self) -> Sequence[RevocationCacheEntry]:
        statement = (
            sa.select(RevocationCacheEntry)
            .where(RevocationCacheEntry.kind == RevocationKind.CRL)
            .order_by(RevocationCacheEntry.next_update)
        )
        return (await self.session.scalars(statement)).all()

    async def upsert(self, values: dict[str, object]) -> None:
        """Insert or replace the entry with ``values["key"]`` (concurrent writers: the last one wins)."""
        insert = postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = insert(RevocationCacheEntry).values(**values)
        replace = {name: statement.excluded[name] for name in values if name not in {"id", "key"}}
        await self.session.execute(statement.on_conflict_do_update(index_elements=["key"], set_=replace))


class ChallengeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, challenge: LoginChallenge) -> None:
        self.session.add(challenge)

    async def get(self, nonce: str, *, for_update: bool = False) -> LoginChallenge | None:
        return await self.session.get(LoginChallenge, nonce, with_for_update=for_update)

    async def purge(self, expired_before: datetime) -> int:
        """Delete challenges that expired before ``expired_before``; returns how many."""
        result = await self.session.execute(
            sa.delete(LoginChallenge)
            .where(LoginChallenge.expires_at < expired_before)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class CertificateBindingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, binding: CertificateBinding) -> None:
        self.session.add(binding)

    async def get(self, binding_id: uuid.UUID, *, for_update: bool = False) -> CertificateBinding | None:
        return await self.session.get(CertificateBinding, binding_id, with_for_update=for_update)

    async def live_by_certificate(self, sha256: str) -> CertificateBinding | None:
        return await self.session.scalar(
            sa.select(CertificateBinding).where(
                CertificateBinding.certificate_sha256 == sha256, CertificateBinding.unbound_at.is_(None)
            )
        )

    async def for_user(self, user_id: uuid.UUID) -> Sequence[CertificateBinding]:
        statement = (
            sa.select(CertificateBinding)
            .where(CertificateBinding.user_id == user_id)
            .order_by(CertificateBinding.bound_at.desc(), CertificateBinding.id)
        )
        return (await self.session.scalars(statement)).all()

    async def members(self, organisation_id: uuid.UUID, now: datetime) -> Sequence[User]:
        """Active users holding an active, currently valid membership in the organisation."""
        members = sa.select(Membership.user_id).where(
            Membership.organisation_id == organisation_id,
            Membership.status == MembershipStatus.ACTIVE,
            Membership.valid_from <= now,
            sa.or_(Membership.valid_until.is_(None), Membership.valid_until > now),
        )
        statement = sa.select(User).where(User.id.in_(members), User.active.is_(True)).order_by(User.username)
        return (await self.session.scalars(statement)).all()

    async def users_of_person(self, person_id: uuid.UUID) -> Sequence[User]:
        statement = sa.select(User).where(User.person_id == person_id, User.active.is_(True)).order_by(User.username)
        return (await self.session.scalars(statement)).all()


class TimestampRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_serial(self) -> int:
        """PostgreSQL: the next serial number of the tokens' sequence (strictly increasing; a
        number drawn and never used leaves a gap, as a rolled-back insert does).
        """
        statement = sa.text("SELECT nextval(pg_get_serial_sequence('parties_timestamp_tokens', 'serial'))")
        return int((await self.session.execute(statement)).scalar_one())

    def add(self, token: TimestampToken) -> None:
        """A token row whose serial is already drawn (`next_serial`), written at the next flush."""
        self.session.add(token)

    async def allocate(self, token: TimestampToken) -> int:
        """Insert the token's row and return its serial number (strictly increasing)."""
        self.session.add(token)
        await self.session.flush()
        return token.serial


class MandateRepository:
    """Agency mandates (委托代理): who mandated whom, and whether a mandate is in force."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, mandate: AgencyMandate) -> None:
        self.session.add(mandate)

    async def get(self, mandate_id: uuid.UUID, *, for_update: bool = False) -> AgencyMandate | None:
        statement = sa.select(AgencyMandate).where(AgencyMandate.id == mandate_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def active(self, tenderee_id: uuid.UUID, agency_id: uuid.UUID) -> AgencyMandate | None:
        """The active (not revoked) mandate between the two, whatever its period."""
        return await self.session.scalar(
            sa.select(AgencyMandate).where(
                AgencyMandate.tenderee_organisation_id == tenderee_id,
                AgencyMandate.agency_organisation_id == agency_id,
                AgencyMandate.status == MandateStatus.ACTIVE,
            )
        )

    @staticmethod
    def _in_force(at: datetime) -> sa.ColumnElement[bool]:
        return sa.and_(
            AgencyMandate.status == MandateStatus.ACTIVE,
            AgencyMandate.valid_from <= at,
            sa.or_(AgencyMandate.valid_until.is_(None), AgencyMandate.valid_until > at),
        )

    @staticmethod
    def _both_active() -> sa.ColumnElement[bool]:
        """Neither side suspended: a suspended tenderee's or agency's mandate lets no new tender be made."""
        tenderee, agency = aliased(Organisation), aliased(Organisation)
        active = OrganisationStatus.ACTIVE
        return sa.and_(
            sa.exists().where(tenderee.id == AgencyMandate.tenderee_organisation_id, tenderee.status == active),
            sa.exists().where(agency.id == AgencyMandate.agency_organisation_id, agency.status == active),
        )

    async def in_force(self, tenderee_id: uuid.UUID, agency_id: uuid.UUID, at: datetime) -> AgencyMandate | None:
        """The mandate in force at ``at`` between the two, both organisations active."""
        return await self.session.scalar(
            sa.select(AgencyMandate).where(
                AgencyMandate.tenderee_organisation_id == tenderee_id,
                AgencyMandate.agency_organisation_id == agency_id,
                self._in_force(at),
                self._both_active(),
            )
        )

    async def clients(self, agency_id: uuid.UUID, at: datetime) -> Sequence[Organisation]:
        """The active organisations whose mandate to ``agency_id`` (itself active) is in force at
        ``at``, by name.
        """
        statement = (
            sa.select(Organisation)
            .join(AgencyMandate, AgencyMandate.tenderee_organisation_id == Organisation.id)
            .where(AgencyMandate.agency_organisation_id == agency_id, self._in_force(at), self._both_active())
            .order_by(Organisation.name, Organisation.id)
        )
        return (await self.session.scalars(statement)).all()

    async def overview(
        self, *, status: MandateStatus | None = None, name: str = "", limit: int = 200
    ) -> Sequence[tuple[AgencyMandate, Organisation, Organisation]]:
        """Every mandate (active first, newest first) with its tenderee and agency, for oversight;
        ``status`` filters, ``name`` matches part of either organisation's name.
        """
        tenderee, agency = aliased(Organisation), aliased(Organisation)
        statement = (
            sa.select(AgencyMandate, tenderee, agency)
            .join(tenderee, tenderee.id == AgencyMandate.tenderee_organisation_id)
            .join(agency, agency.id == AgencyMandate.agency_organisation_id)
        )
        if status is not None:
            statement = statement.where(AgencyMandate.status == status)
        if name:
            escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            statement = statement.where(
                sa.or_(tenderee.name.ilike(pattern, escape="\\"), agency.name.ilike(pattern, escape="\\"))
            )
        statement = statement.order_by(
            (AgencyMandate.status == MandateStatus.ACTIVE).desc(), AgencyMandate.granted_at.desc()
        ).limit(limit)
        return [(m, t, a) for m, t, a in (await self.session.execute(statement)).all()]

    async def of_organisation(
        self, organisation_id: uuid.UUID, *, side: str
    ) -> Sequence[tuple[AgencyMandate, Organisation]]:
        """Every mandate (active first, newest first) the organisation granted (``side="tenderee"``)
        or holds (``side="agency"``), each with the organisation on the other side.
        """
        if side == "tenderee":
            own, other = AgencyMandate.tenderee_organisation_id, AgencyMandate.agency_organisation_id
        else:
            own, other = AgencyMandate.agency_organisation_id, AgencyMandate.tenderee_organisation_id
        statement = (
            sa.select(AgencyMandate, Organisation)
            .join(Organisation, Organisation.id == other)
            .where(own == organisation_id)
            .order_by((AgencyMandate.status == MandateStatus.ACTIVE).desc(), AgencyMandate.granted_at.desc())
        )
        return [(mandate, organisation) for mandate, organisation in (await self.session.execute(statement)).all()]


async def party_names(
    session: AsyncSession, *, organisations: Collection[uuid.UUID], users: Collection[uuid.UUID]
) -> dict[tuple[Literal["organisation", "user"], uuid.UUID], str]:
    """Organisations' names and users' display names by (kind, id), in one query (the ledger
    page's `trading.ledger.names.PartyNames`, plugged in by the composition root).
    """
    parts: list[sa.Select[str, uuid.UUID, str]] = []
    if organisations:
        parts.append(
            sa.select(sa.literal("organisation"), Organisation.id, Organisation.name).where(
                Organisation.id.in_(set(organisations))
            )
        )
    if users:
        parts.append(sa.select(sa.literal("user"), User.id, User.display_name).where(User.id.in_(set(users))))
    if not parts:
        return {}
    query = parts[0] if len(parts) == 1 else sa.union_all(*parts)
    rows = (await session.execute(query)).all()
    return {("organisation" if row[0] == "organisation" else "user", row[1]): row[2] for row in rows}
