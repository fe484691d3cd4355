"""The award decision through the API (定标, the tenderee's client), and the tender's 定标 rule.

* ``GET /api/v1/award/tenders/{code}/rule`` (public): the tender's published 定标 rule;
  ``PUT`` the same (owners, before the bid deadline): ``rule``, ``tieBreak``, ``voters``, ``seedSha256``;
* ``GET /api/v1/award/tenders/{code}/decisions`` (public): each award's state, the winner, the
  candidates passed over with the reason, 流标 and re-tender with their reason;
* ``POST …/decisions/statement`` (owners): the exact statement to sign for ``decision``
  (``confirm``, ``pass_over``, ``fail``, ``re_tender``) with ``bid``/``reason`` (nothing stored);
* ``POST …/decisions/order`` (评定分离: the draw's ``seed`` or the committee's ``votes``),
  ``…/decisions/confirm``, ``…/decisions/pass-over``, ``…/decisions/fail``, ``…/decisions/re-tender``:
  each signed (detached CAdES, base64) over that statement, as `bidding.award.award` requires.

Refusals are the kernel's 4xx naming the field and the rule; nothing is stored on a refusal.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import award as decisions
from bidding.award import award_rule, publicity
from bidding.award.errors import AwardRefused
from bidding.award.lookups import award_of, owned_tender_of, tender_of
from bidding.award.models import Award
from bidding.award.rule_models import TenderAwardRule
from bidding.award.states import AwardEvent
from bidding.models import Tender
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, exposes, guarded
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound
from trading.kernel.settings import Settings

PREFIX: Final = "/award/tenders"
PUBLIC_PATHS: Final = frozenset({
    f"/api/v1{PREFIX}/{{code}}/rule",
    f"/api/v1{PREFIX}/{{code}}/decisions",
})  # fmt: skip


class RuleSet(msgspec.Struct, rename="camel"):
    rule: str
    tie_break: str = "draw"
    voters: list[str] = msgspec.field(default_factory=list)
    seed_sha256: str = ""


class StatementRequest(msgspec.Struct, rename="camel"):
    award: str
    decision: str
    bid: str = ""
    reason: str = ""


class OrderRequest(msgspec.Struct, rename="camel"):
    award: str
    seed: str = ""
    votes: dict[str, str] = msgspec.field(default_factory=dict)


class ConfirmRequest(msgspec.Struct, rename="camel"):
    award: str
    bid: str
    signature: str


class PassOverRequest(msgspec.Struct, rename="camel"):
    award: str
    reason: str
    signature: str
    note: str = ""


class ReasonRequest(msgspec.Struct, rename="camel"):
    award: str
    reason: str
    signature: str


def rule_json(row: TenderAwardRule | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "rule": row.rule,
        "tieBreak": row.tie_break,
        "voters": list(row.voters or []),
        "seedSha256": row.seed_sha256,
        "setAt": row.set_at.isoformat(),
    }


async def decisions_of(db_session: AsyncSession, tender: Tender) -> list[dict[str, Any]]:
    """What the public pages and the API show of each award's decision."""
    shown = []
    for award in await publicity.awards_of_tender(db_session, tender.id):
        steps = [s for s in await publicity.steps_of(db_session, award.id) if s.voided_at is None]
        ends = {s.event: s for s in steps if s.event in {AwardEvent.FAIL, AwardEvent.RE_TENDER}}
        failed, re_tendered = ends.get(AwardEvent.FAIL), ends.get(AwardEvent.RE_TENDER)
        record = award.order_record or {}
        shown.append({
            "award": str(award.id),
            "lotGroup": award.lot_group,
            "state": publicity.position_of(award).shown.value,
            "winner": str(award.chosen_bid_id) if award.chosen_bid_id else None,
            "awardedAt": award.awarded_at.isoformat() if award.awarded_at else None,
            "order": list(record.get("order", [])),
            "orderRecord": record or None,
            "passedOver": [
                {"bid": d["bid"], "reason": d["reason"], "note": d.get("note", ""), "at": d.get("at")}
                for d in (award.passed_over or {}).get("dropped", [])
            ],
            "failed": None if failed is None else {
                "at": failed.at.isoformat(),
                "reason": failed.details.get("reason") or failed.details.get("rule", ""),
                "signerSha256": failed.signer_sha256,
            },
            "reTender": None if re_tendered is None else {
                "at": re_tendered.at.isoformat(),
                "reason": re_tendered.details.get("reason", ""),
                "signerSha256": re_tendered.signer_sha256,
            },
        })  # fmt: skip
    return shown


def decision_of(value: str) -> decisions.Decision:
    try:
        return decisions.Decision(value.strip())
    except ValueError:
        raise AwardRefused(f"{value!r} is not a decision", field="decision", rule="award_decision") from None


async def statement_of(db_session: AsyncSession, actor: Actor, tender: Tender, data: StatementRequest) -> bytes:
    """The statement to sign (owners only; the bid named is checked by the decision itself)."""
    if not publicity.is_tenderee(actor, tender):
        raise NotFound("no such tender", field="code", rule="exists")
    award = await award_of(db_session, tender, data.award)
    decision = decision_of(data.decision)
    bid = data.bid.strip()
    if decision is decisions.Decision.PASS_OVER and not bid and award.chosen_bid_id is not None:
        bid = str(award.chosen_bid_id)
    if decision is decisions.Decision.PASS_OVER and not data.reason.strip():
        raise AwardRefused("say why the candidate is passed over", field="reason", rule="drop_reason")
    return await decisions.decision_statement(db_session, award, decision, bid, data.reason.strip())


class AwardDecisionsApi(Controller):
    path = PREFIX
    tags = ["award"]

    @get("/{code:str}/rule", operation_id="award_rule", opt=exposes(Exposure.PUBLIC))
    async def rule(self, code: FromPath[str], db_session: NamedDependency[AsyncSession]) -> dict[str, Any]:
        """The tender's published 定标 rule (``rule`` is null: the committee's ranking decides)."""
        tender = await tender_of(db_session, code)
        return {"tender": tender.project_code, "rule": rule_json(await award_rule.rule_of(db_session, tender.id))}

    @put(
        "/{code:str}/rule", operation_id="award_rule_set", opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER)
    )
    async def set_rule(
        self,
        code: FromPath[str],
        data: JSONBody[RuleSet],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """Publish the 定标 rule (评定分离) before the bid deadline."""
        tender = await owned_tender_of(db_session, code)
        row = await award_rule.set_rule(
            db_session,
            actor,
            tender.id,
            rule=data.rule,
            tie_break=data.tie_break,
            voters=data.voters,
            seed_sha256=data.seed_sha256,
        )
        return {"tender": tender.project_code, "rule": rule_json(row)}

    @get("/{code:str}/decisions", operation_id="award_decisions", opt=exposes(Exposure.PUBLIC))
    async def decisions(self, code: FromPath[str], db_session: NamedDependency[AsyncSession]) -> list[dict[str, Any]]:
        """Each award's decision: the winner, who was passed over and why, 流标 and re-tender."""
        return await decisions_of(db_session, await tender_of(db_session, code))

    @post(
        "/{code:str}/decisions/statement",
        operation_id="award_decision_statement",
        status_code=200,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def statement(
        self,
        code: FromPath[str],
        data: JSONBody[StatementRequest],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, str]:
        """The exact statement (UTF-8) the tenderee signs for the decision; nothing stored."""
        tender = await tender_of(db_session, code)
        return {"statement": (await statement_of(db_session, actor, tender, data)).decode()}

    @post(
        "/{code:str}/decisions/order",
        operation_id="award_decision_order",
        status_code=200,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def order(
        self,
        code: FromPath[str],
        data: JSONBody[OrderRequest],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """评定分离: fix the order with the revealed seed or the committee's votes."""
        award = await award_of(db_session, await tender_of(db_session, code), data.award)
        row = await decisions.fix_order(db_session, actor, award.id, seed=data.seed, votes=data.votes)
        return {"award": str(row.id), "orderRecord": row.order_record}

    @post(
        "/{code:str}/decisions/confirm",
        operation_id="award_decision_confirm",
        status_code=200,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def confirm(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[ConfirmRequest],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """Confirm the first remaining candidate, signed."""
        settings: Settings = request.app.state.settings
        return await _decided(
            db_session,
            code,
            data.award,
            lambda award: decisions.confirm_award(
                db_session, settings, actor, award.id, bid=data.bid, signature=data.signature
            ),
        )

    @post(
        "/{code:str}/decisions/pass-over",
        operation_id="award_decision_pass_over",
        status_code=200,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def pass_over(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[PassOverRequest],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """Pass the awarded candidate over with the reason: the next one is awarded, or 流标."""
        settings: Settings = request.app.state.settings
        return await _decided(
            db_session,
            code,
            data.award,
            lambda award: decisions.pass_over(
                db_session, settings, actor, award.id, reason=data.reason, note=data.note, signature=data.signature
            ),
        )

    @post(
        "/{code:str}/decisions/fail",
        operation_id="award_decision_fail",
        status_code=200,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def fail(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[ReasonRequest],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """流标 by the tenderee (all bids rejected, none left), signed, with the reason."""
        settings: Settings = request.app.state.settings
        return await _decided(
            db_session,
            code,
            data.award,
            lambda award: decisions.fail_award(
                db_session, settings, actor, award.id, reason=data.reason, signature=data.signature
            ),
        )

    @post(
        "/{code:str}/decisions/re-tender",
        operation_id="award_decision_re_tender",
        status_code=200,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def re_tender(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: JSONBody[ReasonRequest],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> dict[str, Any]:
        """重新招标, signed, with the reason (its public notice on the tender's award page)."""
        settings: Settings = request.app.state.settings
        return await _decided(
            db_session,
            code,
            data.award,
            lambda award: decisions.re_tender(
                db_session, settings, actor, award.id, reason=data.reason, signature=data.signature
            ),
        )


async def _decided(
    db_session: AsyncSession, code: str, award: str, decide: Callable[[Award], Awaitable[object]]
) -> dict[str, Any]:
    """One signed decision through the API: the tender and the award the body names (404 naming
    ``code`` or ``award``), ``decide`` calls the service (which verifies the signature and refuses
    with field and rule), then the award's decision as ``GET …/decisions`` shows it.
    """
    tender = await tender_of(db_session, code)
    row = await award_of(db_session, tender, award)
    await decide(row)
    return next(d for d in await decisions_of(db_session, tender) if d["award"] == str(row.id))


CONTROLLERS: list[ControllerRouterHandler] = [AwardDecisionsApi]
