"""Who may see an evaluation's experts and scores before its results are published (issue 15 §2,
the contracts of the evaluation parts).

Until ``Evaluation.results_published_at``:

- the experts' identities (names, pool ids, the drawn order) are visible only to the centre's draw
  operator (an admin) and the supervisors; an expert sees their own membership;
- a score is visible only to the member who wrote it; after they submitted, the chair sees
  progress counts, not values, and nobody sees another's values until everyone submitted
  (the scoring part's views);
- bidders, the tenderee and the agency see neither.

Every refused attempt is recorded in the ledger (action ``evaluation.access_refused`` on the
tender's project chain) in the caller's transaction, which the caller then commits by answering
403 without raising (`identities_refusal`), or in a transaction of its own (`refuse`); any other
403 on an evaluation route (the permission guard, a part's own check) is recorded by the server's
``after_exception`` hook through `record_route_refusal`. From
publication on, the committee's names are public with the result.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Evaluation, Member, MemberStatus
from bidding.models import Tender
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.db.uow import transaction
from trading.kernel.errors import PermissionDenied
from trading.ledger.service import append_entry

CURRENT: Final = frozenset({MemberStatus.CONFIRMED, MemberStatus.SIGNED_IN})
"""A member is current when not voided and in one of these statuses (the contracts)."""
OPERATOR_PERMISSION: Final = "evaluation:draw:operate"


class Sight(StrEnum):
    """What was asked for (recorded with a refusal)."""

    IDENTITIES = "identities"


class AccessRefused(PermissionDenied):
    """Before the results are published this is confidential; the attempt has been recorded."""


def is_draw_operator(actor: Actor) -> bool:
    return Role.ADMIN in actor.roles or actor.has(OPERATOR_PERMISSION)


def is_supervisor(actor: Actor) -> bool:
    return Role.SUPERVISOR in actor.roles


def published(evaluation: Evaluation) -> bool:
    return evaluation.results_published_at is not None


def may_see_identities(actor: Actor, evaluation: Evaluation) -> bool:
    """The committee's names and the drawn order: the operator and supervisors, everyone once
    the results are published.
    """
    return published(evaluation) or is_draw_operator(actor) or is_supervisor(actor)


async def member_of(session: AsyncSession, actor: Actor, evaluation_id: uuid.UUID) -> Member | None:
    """The caller's membership of the evaluation (any status; the newest when several)."""
    if actor.user_id is None:
        return None
    found = await session.scalars(
        select(Member)
        .where(Member.evaluation_id == evaluation_id, Member.user_id == actor.user_id)
        .order_by(Member.created_at.desc())
        .limit(1)
    )
    return found.first()


async def current_member(session: AsyncSession, actor: Actor, evaluation_id: uuid.UUID) -> Member | None:
    """The caller's current membership (not voided, confirmed or signed in), else None."""
    member = await member_of(session, actor, evaluation_id)
    if member is None or member.voided_at is not None or member.status not in CURRENT:
        return None
    return member


async def record_refusal(
    session: AsyncSession, actor: Actor, evaluation: Evaluation, sight: Sight, *, route: str = ""
) -> AccessRefused:
    """Append ``evaluation.access_refused`` in ``session`` and return the error to raise."""
    tender = await session.get_one(Tender, evaluation.tender_id)
    await append_entry(
        session,
        actor=actor,
        action="evaluation.access_refused",
        subject_type="evaluation.evaluation",
        subject_id=str(evaluation.id),
        summary={
            "rule": "confidential_until_results",
            "sight": sight.value,
            "roles": sorted(role.value for role in actor.roles),
        },
        data={"route": route, "organisation_id": str(actor.organisation_id or "")},
        project_code=tender.project_code,
    )
    return AccessRefused(
        "the committee's identities and scores stay confidential until the results are published; "
        "this attempt is recorded",
        field="evaluation",
        rule="confidential_until_results",
    )


async def identities_refusal(
    session: AsyncSession, actor: Actor, evaluation: Evaluation, *, route: str = ""
) -> AccessRefused | None:
    """None when the caller may see the committee's names; else the refusal, recorded in
    ``session``. The caller *returns* it as a 403 (`AccessRefused.problem`, an error page) rather
    than raising it, so the request's transaction commits the record.
    """
    if may_see_identities(actor, evaluation):
        return None
    return await record_refusal(session, actor, evaluation, Sight.IDENTITIES, route=route)


async def refuse(
    session_maker: async_sessionmaker[AsyncSession],
    actor: Actor,
    evaluation: Evaluation,
    sight: Sight,
    *,
    route: str = "",
) -> AccessRefused:
    """Record a refusal in a transaction of its own (for a caller that raises it afterwards and
    whose own transaction rolls back); returns the error to raise.
    """
    async with transaction(session_maker, lock=True) as session:
        return await record_refusal(session, actor, evaluation, sight, route=route)


async def record_route_refusal(
    session_maker: async_sessionmaker[AsyncSession],
    actor: Actor,
    evaluation_id: uuid.UUID | None,
    *,
    route: str,
    rule: str,
) -> None:
    """Record, in a transaction of its own, an attempt refused on an evaluation route by the
    permission guard (``rule`` ``permission``) or by a part's own check (its rule):
    ``evaluation.access_refused``, on the tender's project chain when the route names an
    evaluation (subject: the evaluation), else on the platform chain (subject id: the route).
    """
    async with transaction(session_maker, lock=True) as session:
        evaluation = await session.get(Evaluation, evaluation_id) if evaluation_id is not None else None
        tender = await session.get(Tender, evaluation.tender_id) if evaluation is not None else None
        await append_entry(
            session,
            actor=actor,
            action="evaluation.access_refused",
            subject_type="evaluation.evaluation",
            subject_id=str(evaluation.id) if evaluation is not None else route,
            summary={"rule": rule, "roles": sorted(r.value for r in actor.roles)},
            data={"route": route, "organisation_id": str(actor.organisation_id or "")},
            project_code=tender.project_code if tender is not None else None,
        )
