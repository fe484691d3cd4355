"""The credit JSON API under ``/api/v1/credit``: an organisation's records, the eligibility
question, and imports. Errors are problem+json naming the field and the rule; a refused import
names every bad row in ``errors`` (``row``, ``field``, ``rule``, ``message``).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_404_NOT_FOUND
from sqlalchemy.ext.asyncio import AsyncSession

from trading.credit.importing import import_records
from trading.credit.models import Activity
from trading.credit.policies import CreditPermission
from trading.credit.schemas import CreditImportCreate, CreditRecordRead, EligibilityRead, ImportResultRead
from trading.credit.service import CreditService, may_take_part
from trading.kernel import clock
from trading.kernel.api.errors import documents_problems
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.bounds import check_datetime


class CreditApi(Controller):
    path = "/credit"
    tags = ["credit"]

    @get(
        "/organisations/{organisation_id:uuid}/records",
        operation_id="credit_list_records",
        opt=requires(CreditPermission.RECORD_READ),
    )
    async def list_records(
        self,
        organisation_id: FromPath[uuid.UUID],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        effective_only: FromQuery[bool] = False,  # noqa: FBT002 - a query flag
    ) -> list[CreditRecordRead]:
        """The organisation's credit records from every source, newest decision first. Managers
        (``credit:record:manage``) see every record with its history and evidence; everyone else
        what the public page shows: the records in force now, without history or evidence (a
        withdrawn record, 信用修复, is no longer published).
        """
        service = CreditService(db_session)
        if not actor.has(CreditPermission.RECORD_MANAGE):
            rows = await service.records_of(organisation_id, in_force_at=await clock.now(db_session))
            return [CreditRecordRead.public(row) for row in rows]
        rows = await service.records_of(organisation_id, effective_only=effective_only)
        history = await service.history(rows)
        return [CreditRecordRead.of(row, history[row.id]) for row in rows]

    @get(
        "/eligibility",
        operation_id="credit_eligibility",
        # An unknown organisation (named in the query, not the path) is a 404.
        opt={**requires(CreditPermission.RECORD_READ), **documents_problems(HTTP_404_NOT_FOUND)},
    )
    async def eligibility(
        self,
        organisation_id: FromQuery[uuid.UUID],
        activity: FromQuery[Activity],
        db_session: NamedDependency[AsyncSession],
        at: FromQuery[datetime | None] = None,
    ) -> EligibilityRead:
        """May the organisation take part in the activity at ``at`` (default: now)? With the
        blocking records, their reasons and periods when not.
        """
        moment = check_datetime("at", at) if at is not None else await clock.now(db_session)
        return EligibilityRead.of(await may_take_part(db_session, organisation_id, activity, moment))

    @post(
        "/imports",
        operation_id="credit_import",
        status_code=HTTP_201_CREATED,
        opt=requires(CreditPermission.RECORD_MANAGE),
    )
    async def import_file(
        self,
        data: JSONBody[CreditImportCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> ImportResultRead:
        """Import records (CSV or JSON text); refused whole, naming every bad row, if any row is bad."""
        result = await import_records(
            db_session, data.content.encode(), data.format, actor=actor, label=data.label, default_kind=data.kind
        )
        return ImportResultRead.of(result)


CONTROLLERS = (CreditApi,)
