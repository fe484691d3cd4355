"""The expert pool's JSON API under ``/api/v1/evaluation``: the pool's list (filtered by specialty,
region and status) and one expert's record, for centre admins and supervisors
(``evaluation:expert:read``). Errors are problem+json naming the field and the rule.
"""

from __future__ import annotations

import uuid

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.pool.errors import ExpertRefused
from bidding.evaluation.pool.models import ExpertStatus
from bidding.evaluation.pool.policies import EvaluationPermission
from bidding.evaluation.pool.repository import PoolFilter
from bidding.evaluation.pool.schemas import ExpertDetailRead, ExpertPageRead, ExpertSummaryRead
from bidding.evaluation.pool.service import ExpertPool
from trading.kernel.api.bounds import Offset
from trading.kernel.auth.permissions import requires
from trading.parties.identifiers import InvalidIdentifier, validate_region_code

MAX_SPECIALTY_LENGTH = 16


def pool_filter(specialty: str, region: str, status: ExpertStatus | None, offset: int) -> PoolFilter:
    """The list's filters, checked: a specialty code prefix, a GB/T 2260 code."""
    code = specialty.strip().upper()
    if code and (len(code) > MAX_SPECIALTY_LENGTH or not code.isascii() or not code.isalnum()):
        raise ExpertRefused("a specialty code is a letter and digits", field="specialty", rule="format")
    place = region.strip()
    if place:
        try:
            place = validate_region_code(place)
        except InvalidIdentifier as exc:
            raise ExpertRefused(exc.message, field="region", rule=exc.rule) from None
    return PoolFilter(specialty=code, region=place, status=status, offset=offset)


class ExpertPoolApi(Controller):
    path = "/evaluation/experts"
    tags = ["evaluation"]

    @get("/", operation_id="evaluation_list_experts", opt=requires(EvaluationPermission.EXPERT_READ))
    async def list_experts(
        self,
        db_session: NamedDependency[AsyncSession],
        specialty: FromQuery[str] = "",
        region: FromQuery[str] = "",
        status: FromQuery[ExpertStatus | None] = None,
        offset: FromQuery[Offset] = 0,
    ) -> ExpertPageRead:
        """The pool's experts by name; a specialty code matches it and every code below it, a
        province or city code every place inside it.
        """
        where = pool_filter(specialty, region, status, offset)
        rows, total, codes = await ExpertPool(db_session).experts(where)
        return ExpertPageRead(total, offset, [ExpertSummaryRead.of(row, codes[row.id]) for row in rows])

    @get("/{expert_id:uuid}", operation_id="evaluation_get_expert", opt=requires(EvaluationPermission.EXPERT_READ))
    async def get_expert(
        self, expert_id: FromPath[uuid.UUID], db_session: NamedDependency[AsyncSession]
    ) -> ExpertDetailRead:
        """One expert's record: specialties, status and its history, availability, conflicts,
        ratings and the rules' verdict, counts of draws and attendances.
        """
        return ExpertDetailRead.of(await ExpertPool(db_session).record(expert_id))


CONTROLLERS = (ExpertPoolApi,)
