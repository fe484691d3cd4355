"""Agency mandates (委托代理): a tenderee organisation mandates an agency to run its tenders.

A user of the tenderee grants a mandate to an agency organisation (every tender, optionally until
a date, with what it covers in words) and revokes it; each is a ledger entry
(``parties.mandate_granted`` / ``parties.mandate_revoked``). The tender services ask
:meth:`MandateService.in_force` when an agency names a 招标人: only a mandate active and within its
period at that moment, with neither organisation suspended, lets it create a tender. Revoking
stops new tenders only: tenders already created record both organisations and stay with the agency.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.bounds import check_text
from trading.kernel.errors import PermissionDenied
from trading.parties.errors import MandateNotFound, MandateRefused
from trading.parties.models import AgencyMandate, MandateStatus, Organisation, OrganisationKind, OrganisationStatus
from trading.parties.repository import MandateRepository, OrganisationRepository
from trading.parties.service import Recording

SCOPE_MAX = 500
SEARCH_LIMIT = 20
OVERVIEW_LIMIT = 200


@dataclass(frozen=True)
class MandateLine:
    """A mandate with the organisation on the other side, and whether it is in force now."""

    mandate: AgencyMandate
    organisation: Organisation
    in_force: bool
    suspended: bool = False
    """Either organisation is suspended: the mandate lets no new tender be made."""

    @property
    def last_day(self) -> datetime | None:
        """A moment in the last day in force (the end itself is the next day's first moment)."""
        end = self.mandate.valid_until
        return end - timedelta(seconds=1) if end is not None else None


@dataclass(frozen=True)
class OverviewLine:
    """A mandate with both organisations, for those who oversee the platform."""

    mandate: AgencyMandate
    tenderee: Organisation
    agency: Organisation
    in_force: bool

    @property
    def last_day(self) -> datetime | None:
        end = self.mandate.valid_until
        return end - timedelta(seconds=1) if end is not None else None

    @property
    def suspended(self) -> bool:
        """Either organisation is suspended: the mandate lets no new tender be made."""
        return not (_active(self.tenderee) and _active(self.agency))


def _active(organisation: Organisation) -> bool:
    return organisation.status is OrganisationStatus.ACTIVE


def in_force(mandate: AgencyMandate, at: datetime) -> bool:
    """Active, begun, and not past its end (the same condition as ``MandateRepository.in_force``)."""
    return (
        mandate.status is MandateStatus.ACTIVE
        and mandate.valid_from <= at
        and (mandate.valid_until is None or at < mandate.valid_until)
    )


class MandateService(Recording):
    """Grant, revoke and read agency mandates; services only flush."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repo = MandateRepository(session)
        self.organisations = OrganisationRepository(session)

    # --- changes ---------------------------------------------------------------------------------

    @staticmethod
    def _tenderee_of(actor: Actor) -> uuid.UUID:
        if actor.organisation_id is None or actor.user_id is None or Role.TENDEREE not in actor.roles:
            raise PermissionDenied(
                "only a tenderee's user grants or revokes its mandates", field="role", rule="tenderee"
            )
        return actor.organisation_id

    async def resolve_agency(self, text: str) -> Organisation:
        """The agency a user names by its credit code or its exact name (field ``agency``)."""
        text = text.strip()
        if not text:
            raise MandateRefused("name the agency by its credit code or name", field="agency", rule="required")
        found = await self.organisations.agency_named(text)
        if not found:
            raise MandateRefused(
                "no agency on the platform has this credit code or name", field="agency", rule="agency_exists"
            )
        if len(found) > 1:
            raise MandateRefused(
                "several agencies have this name: use the credit code", field="agency", rule="agency_ambiguous"
            )
        return found[0]

    async def grant(
        self,
        actor: Actor,
        agency_organisation_id: uuid.UUID,
        *,
        valid_until: datetime | None = None,
        scope: str | None = None,
    ) -> AgencyMandate:
        """The actor's organisation (a tenderee) mandates the agency from now, until ``valid_until``
        (exclusive; None: until revoked). One active mandate per agency: revoke it to grant anew.
        """
        tenderee_id = self._tenderee_of(actor)
        assert actor.user_id is not None  # noqa: S101 - checked by _tenderee_of
        agency = await self.organisations.get(agency_organisation_id)
        if agency is None or agency.kind is not OrganisationKind.AGENCY:
            raise MandateRefused("a mandate goes to an agency organisation", field="agency", rule="agency_kind")
        if agency.status is not OrganisationStatus.ACTIVE:
            raise MandateRefused("the agency's organisation is suspended", field="agency", rule="agency_active")
        text = check_text("scope", (scope or "").strip(), max_length=SCOPE_MAX)  # refused naming ``scope``
        now = await clock.now(self.session)
        if valid_until is not None and valid_until <= now:
            raise MandateRefused("the mandate's end must lie in the future", field="validUntil", rule="in_future")
        if await self.repo.active(tenderee_id, agency.id) is not None:
            raise MandateRefused(
                "this agency already holds an active mandate of your organisation; revoke it first",
                field="agency",
                rule="already_mandated",
            )
        mandate = AgencyMandate(
            tenderee_organisation_id=tenderee_id,
            agency_organisation_id=agency.id,
            scope=text or None,
            status=MandateStatus.ACTIVE,
            valid_from=now,
            valid_until=valid_until,
            granted_by=actor.user_id,
            granted_at=now,
            updated_at=now,
        )
        try:
            async with self.session.begin_nested():  # a concurrent grant loses on the unique index
                self.repo.add(mandate)
                await self.session.flush()
        except IntegrityError:
            raise MandateRefused(
                "this agency already holds an active mandate of your organisation; revoke it first",
                field="agency",
                rule="already_mandated",
            ) from None
        await self._record(
            actor,
            "mandate_granted",
            "agency_mandate",
            mandate.id,
            summary={
                "tenderee_organisation_id": str(tenderee_id),
                "agency_organisation_id": str(agency.id),
                "agency_uscc": agency.uscc,
                "valid_until": valid_until.isoformat() if valid_until else None,
            },
            data={"scope": mandate.scope},
        )
        return mandate

    async def revoke(self, actor: Actor, mandate_id: uuid.UUID) -> AgencyMandate:
        """End an active mandate of the actor's organisation: no new tender from now; the tenders
        already created stay with the agency.
        """
        tenderee_id = self._tenderee_of(actor)
        mandate = await self.repo.get(mandate_id, for_update=True)
        if mandate is None or mandate.tenderee_organisation_id != tenderee_id:
            raise MandateNotFound("no such mandate of your organisation", field="mandate", rule="exists")
        if mandate.status is MandateStatus.REVOKED:
            raise MandateRefused("the mandate is already revoked", field="mandate", rule="already_revoked")
        now = await clock.now(self.session)
        mandate.status = MandateStatus.REVOKED
        mandate.revoked_by = actor.user_id
        mandate.revoked_at = now
        mandate.updated_at = now
        await self.session.flush()
        await self._record(
            actor,
            "mandate_revoked",
            "agency_mandate",
            mandate.id,
            summary={
                "tenderee_organisation_id": str(mandate.tenderee_organisation_id),
                "agency_organisation_id": str(mandate.agency_organisation_id),
            },
        )
        return mandate

    # --- reading ---------------------------------------------------------------------------------

    async def in_force(self, tenderee_id: uuid.UUID, agency_id: uuid.UUID) -> AgencyMandate | None:
        """The mandate that lets the agency act for the tenderee now (the database's clock); none
        while either organisation is suspended.
        """
        return await self.repo.in_force(tenderee_id, agency_id, await clock.now(self.session))

    async def clients(self, agency_id: uuid.UUID) -> Sequence[Organisation]:
        """The organisations an agency may create tenders for now (none while the agency is
        suspended; a suspended tenderee is left out).
        """
        return await self.repo.clients(agency_id, await clock.now(self.session))

    async def overview(self, *, status: MandateStatus | None = None, name: str = "") -> list[OverviewLine]:
        """Every mandate on the platform with both organisations (oversight: admins, supervisors);
        ``status`` filters, ``name`` matches part of either organisation's name.
        """
        now = await clock.now(self.session)
        rows = await self.repo.overview(status=status, name=name.strip()[:200], limit=OVERVIEW_LIMIT)
        return [
            OverviewLine(
                mandate,
                tenderee,
                agency,
                in_force(mandate, now) and _active(tenderee) and _active(agency),
            )
            for mandate, tenderee, agency in rows
        ]

    async def granted(self, organisation_id: uuid.UUID) -> list[MandateLine]:
        """The mandates a tenderee granted, each with its agency."""
        return await self._lines(organisation_id, "tenderee")

    async def held(self, organisation_id: uuid.UUID) -> list[MandateLine]:
        """The mandates an agency holds, each with its tenderee."""
        return await self._lines(organisation_id, "agency")

    async def _lines(self, organisation_id: uuid.UUID, side: str) -> list[MandateLine]:
        now = await clock.now(self.session)
        own = await self.organisations.get(organisation_id)
        lines = []
        for mandate, organisation in await self.repo.of_organisation(organisation_id, side=side):
            suspended = own is None or not (_active(own) and _active(organisation))
            lines.append(MandateLine(mandate, organisation, in_force(mandate, now) and not suspended, suspended))
        return lines

    async def find_agencies(self, query: str) -> Sequence[Organisation]:
        """Agencies by part of the name or the start of the credit code (at most ``SEARCH_LIMIT``)."""
        query = query.strip()
        if not query:
            return []
        return await self.organisations.agencies_matching(query, limit=SEARCH_LIMIT)
