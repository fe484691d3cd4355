"""The rule catalogue's API (``/api/v1/procurement/rules``): read the catalogue, a rule, its
versions (any version, to explain an old finding), and — for the procurement office — write a
rule's next version (or version 1 of a new rule).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.negative_list.model import Severity
from procurement.rule_catalogue import service
from procurement.rule_catalogue.policies import RulePermission
from procurement.rule_catalogue.schemas import RuleRead, RuleVersionCreate
from trading.kernel.api.errors import documents_problems
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires

PREFIX = "/procurement/rules"
Category = Annotated[str, QueryParameter(max_length=32, description="the rule id's second part, e.g. QUAL")]


class RuleCatalogueApi(Controller):
    path = PREFIX
    tags = ["procurement"]

    @get("/", operation_id="procurement_list_rules", opt=requires(RulePermission.READ))
    async def list_rules(
        self,
        db_session: NamedDependency[AsyncSession],
        severity: FromQuery[Severity | None] = None,
        category: Category = "",
    ) -> list[RuleRead]:
        """Every rule's current version (retired ones too: ``inForce`` false), by rule id."""
        rows = await service.catalogue(db_session, severity=severity.value if severity else "", category=category)
        return [RuleRead.of(row) for row in rows]

    @get("/{rule_id:str}", operation_id="procurement_get_rule", opt=requires(RulePermission.READ))
    async def get_rule(self, db_session: NamedDependency[AsyncSession], rule_id: FromPath[str]) -> RuleRead:
        """A rule's current version."""
        return RuleRead.of((await service.versions(db_session, rule_id))[0])

    @get("/{rule_id:str}/versions", operation_id="procurement_rule_versions", opt=requires(RulePermission.READ))
    async def list_versions(self, db_session: NamedDependency[AsyncSession], rule_id: FromPath[str]) -> list[RuleRead]:
        """Every version of a rule, newest first."""
        return [RuleRead.of(row) for row in await service.versions(db_session, rule_id)]

    @get(
        "/{rule_id:str}/versions/{version:int}",
        operation_id="procurement_rule_version",
        opt=requires(RulePermission.READ),
    )
    async def get_version(
        self,
        db_session: NamedDependency[AsyncSession],
        rule_id: FromPath[str],
        version: FromPath[int],
    ) -> RuleRead:
        """One version of a rule (a finding names the version it was made with)."""
        return RuleRead.of(await service.version_row(db_session, rule_id, version))

    @post(
        "/{rule_id:str}/versions",
        operation_id="procurement_create_rule_version",
        status_code=HTTP_201_CREATED,
        opt=requires(RulePermission.MANAGE) | documents_problems(404),
    )
    async def create_version(
        self,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        rule_id: FromPath[str],
        data: JSONBody[RuleVersionCreate],
    ) -> RuleRead:
        """Write the rule's next version (``baseVersion`` 0 and an unknown id: version 1 of a new rule).

        Refused whole (422, every problem named with its field and rule) unless every pattern and
        allowed form compiles, the rule as written finds each positive example and leaves each
        negative one alone, and the basis, suggestion and reason are given; 422 also when another
        version was written after ``baseVersion``.
        """
        draft = service.RuleDraft(
            rule_id=rule_id,
            name=data.name.strip(),
            basis=data.basis.strip(),
            severity=data.severity,
            suggestion=data.suggestion.strip(),
            reason=data.reason.strip(),
            base_version=data.base_version,
            in_force=data.in_force,
            patterns=tuple(p.strip() for p in data.patterns if p.strip()),
            negations=tuple(p.strip() for p in data.negations if p.strip()),
            positive_examples=tuple(p.strip() for p in data.positive_examples if p.strip()),
            negative_examples=tuple(p.strip() for p in data.negative_examples if p.strip()),
        )
        return RuleRead.of(await service.new_version(db_session, draft, actor=actor))


CONTROLLERS = (RuleCatalogueApi,)
