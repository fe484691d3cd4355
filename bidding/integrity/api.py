"""Integrity's API (``/api/v1/integrity/alerts``): the alert list with its filters, an alert with
its evidence and reviews, and a review step. For supervisors and the centre's staff only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.integrity import service
from bidding.integrity.policies import IntegrityPermission
from bidding.integrity.schemas import AlertDetail, AlertPage, AlertRead, ReviewCreate, ReviewRead
from bidding.integrity.screens.model import Scope, Severity
from bidding.integrity.service import AlertStatus
from trading.kernel.api.bounds import Offset
from trading.kernel.api.errors import documents_problems
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires

Limit = Annotated[int, QueryParameter(ge=1, le=service.MAX_PAGE)]
Text = Annotated[str, QueryParameter(max_length=200)]


class IntegrityAlertsApi(Controller):
    path = "/integrity/alerts"
    tags = ["integrity"]

    @get("/", operation_id="integrity_list_alerts", opt=requires(IntegrityPermission.READ))
    async def list_alerts(  # noqa: PLR0917 - the list's filters
        self,
        db_session: NamedDependency[AsyncSession],
        severity: FromQuery[Severity | None] = None,
        rule: Text = "",
        status: FromQuery[AlertStatus | None] = None,
        screened: Annotated[Scope | None, QueryParameter(name="scope", description="what was screened")] = None,
        tender: Text = "",
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        offset: Offset = 0,
        limit: Limit = 50,
    ) -> AlertPage:
        """Alerts, newest first, filtered by severity, rule, status, scope, tender (its code or an
        outside ocid) and when they were raised (``since`` inclusive, ``until`` exclusive).
        """
        filters = service.AlertFilter(
            severity=severity.value if severity else "",
            rule=rule,
            status=status.value if status else "",
            scope=screened.value if screened else "",
            tender=tender,
            since=since,
            until=until,
        )
        rows, total = await service.list_alerts(db_session, filters, offset=offset, limit=limit)
        return AlertPage([AlertRead.of(row) for row in rows], total, offset, limit)

    @get(
        "/{alert_id:uuid}",
        operation_id="integrity_get_alert",
        opt=requires(IntegrityPermission.READ) | documents_problems(404),
    )
    async def get_alert(self, db_session: NamedDependency[AsyncSession], alert_id: FromPath[uuid.UUID]) -> AlertDetail:
        """An alert with its evidence and its reviews, oldest first."""
        alert, reviews = await service.get_alert(db_session, alert_id)
        return AlertDetail(AlertRead.of(alert), dict(alert.evidence), [ReviewRead.of(r) for r in reviews])

    @post(
        "/{alert_id:uuid}/reviews",
        operation_id="integrity_review_alert",
        status_code=HTTP_200_OK,
        opt=requires(IntegrityPermission.REVIEW) | documents_problems(404, 409),
    )
    async def review_alert(
        self,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        alert_id: FromPath[uuid.UUID],
        data: JSONBody[ReviewCreate],
    ) -> AlertRead:
        """Take the alert up (``reviewing``), then dismiss or confirm it with a reason (422 naming
        ``reason`` without one; 409 naming ``status`` for a step the alert cannot take).
        """
        row = await service.review_alert(
            db_session, alert_id, to_status=data.status.value, reason=data.reason, actor=actor
        )
        return AlertRead.of(row)


CONTROLLERS = (IntegrityAlertsApi,)
