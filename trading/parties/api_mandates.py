"""Agency mandates on the API (``/api/v1/parties/mandates``): what the caller's organisation granted
and holds, so an agency's client finds the 招标人 it may name when it creates a tender
(``tenderee_organisation_id`` of ``POST /api/v1/bidding/tenders``, refused otherwise with rule
``mandated``). Granting and revoking are done on the tenderee's page (``/organisation/mandates``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency, Provide

from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.auth.roles import Role
from trading.parties.mandates import MandateLine, MandateService
from trading.parties.models import MandateStatus
from trading.parties.policies import PartiesPermission
from trading.parties.web_mandates import provide_mandates


class MandateRead(msgspec.Struct):
    id: uuid.UUID
    tenderee_organisation_id: uuid.UUID
    agency_organisation_id: uuid.UUID
    organisation_name: str
    """The organisation on the other side (the agency of a granted mandate, the tenderee of a held one)."""
    organisation_uscc: str
    scope: str | None
    status: MandateStatus
    valid_from: datetime
    valid_until: datetime | None
    """Exclusive end; None: until revoked."""
    in_force: bool
    """Whether the agency may name the tenderee on a new tender now."""

    @classmethod
    def of(cls, line: MandateLine) -> MandateRead:
        mandate = line.mandate
        return cls(
            id=mandate.id,
            tenderee_organisation_id=mandate.tenderee_organisation_id,
            agency_organisation_id=mandate.agency_organisation_id,
            organisation_name=line.organisation.name,
            organisation_uscc=line.organisation.uscc,
            scope=mandate.scope,
            status=mandate.status,
            valid_from=mandate.valid_from,
            valid_until=mandate.valid_until,
            in_force=line.in_force,
        )


class MandatesRead(msgspec.Struct):
    granted: list[MandateRead]
    """Mandates the caller's organisation gave (as a tenderee)."""
    held: list[MandateRead]
    """Mandates the caller's organisation holds (as an agency)."""


class MandateController(Controller):
    path = "/parties/mandates"
    tags = ["parties"]
    dependencies = {"mandates": Provide(provide_mandates)}

    @get("/", operation_id="parties_list_mandates", opt=requires(PartiesPermission.MANDATE_READ))
    async def list_mandates(
        self, mandates: NamedDependency[MandateService], actor: NamedDependency[Actor]
    ) -> MandatesRead:
        """The agency mandates (委托代理) the caller's organisation granted or holds, active first."""
        organisation = actor.organisation_id
        granted = await mandates.granted(organisation) if organisation and Role.TENDEREE in actor.roles else []
        held = await mandates.held(organisation) if organisation and Role.AGENCY in actor.roles else []
        return MandatesRead(
            granted=[MandateRead.of(line) for line in granted], held=[MandateRead.of(line) for line in held]
        )


CONTROLLERS = (MandateController,)
