"""The award decision's pages (定标), in Chinese with the English switch.

* ``/bidding/tenders/{code}/award`` (public): the tender's published 定标 rule (评定分离) and each
  award's decision: the winner, the candidates passed over with the reason and the note, the order
  a 评定分离 rule fixed (the seed revealed, the votes), the 流标 notice and the re-tender notice
  (reason, instant, the signing certificate's SHA-256). Linked from the tender's public page.
* ``/bidding/manage/tenders/{code}/decisions`` (owners): the same, and the forms: fix the order
  of a 评定分离 rule (the draw's seed, the committee's votes), pass the winner over with a reason
  (next candidate awarded, 流标 when none is left), 流标, re-tender. Each legal act is signed over
  the exact statement (``…/decisions/statement``, the form's fields) in the page
  (`/static/js/pki/sign-form.js`) or with any CA client (pasted). Confirming the first remaining
  candidate stays on the publicity page. Linked from the owners' publicity page.
* ``/bidding/manage/tenders/{code}/award-rule`` (owners): publish the 定标 rule before the bid
  deadline. Linked from the tender's manage page.

Forms go the kernel's way (`submit`: savepoint, 303 or 422 naming field and rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import award as decisions
from bidding.award import award_rule, publicity
from bidding.award.api_decisions import StatementRequest, decisions_of, statement_of
from bidding.award.errors import AwardRefused
from bidding.award.lookups import owned_tender_of, tender_of
from bidding.award.models import Award
from bidding.award.rule_models import TenderAwardRule
from bidding.award.signed_act import submit_award_act
from bidding.award.states import AwardEvent, allowed_events
from bidding.award.succession import AwardRule, DropReason
from bidding.models import Tender
from bidding.policies import BiddingPermission
from bidding.visibility import Exposure, exposes, guarded
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.kernel.web.forms import FieldError, FormBody, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

PUBLIC: Final = "award.decisions"
MANAGE: Final = "award.decisions_manage"
STATEMENT: Final = "award.decision_statement"
ORDER: Final = "award.decision_order"
PASS_OVER: Final = "award.decision_pass_over"  # noqa: S105 - a route name
FAIL: Final = "award.decision_fail"
RE_TENDER: Final = "award.decision_re_tender"
RULE: Final = "award.rule"
PUBLIC_PATHS: Final = frozenset({"/bidding/tenders/{code}/award"})

REASONS: Final = {
    DropReason.GAVE_UP.value: N_("The candidate gave up the award"),
    DropReason.NO_PERFORMANCE_SECURITY.value: N_("No performance security as the documents require"),
    DropReason.INELIGIBLE.value: N_("Found ineligible (e.g. a violation affecting the result)"),
    DropReason.FORCE_MAJEURE.value: N_("Cannot perform the contract for force majeure"),
    DropReason.REFUSED_CONTRACT.value: N_("Refused to sign the contract"),
}
RULES: Final = {
    AwardRule.LOWEST_PRICE.value: N_("Lowest price among the recommended candidates"),
    AwardRule.COMMITTEE_VOTE.value: N_("Vote of the award committee"),
    AwardRule.DRAW.value: N_("Draw with a committed seed"),
}
STATES: Final = {
    "report_signed": N_("Evaluation report signed"),
    "publicity_open": N_("Candidates' publicity open"),
    "publicity_closed": N_("Candidates' publicity closed: awaiting the award"),
    "awarded": N_("Winner confirmed"),
    "notices_issued": N_("Award notices issued"),
    "contract_signed": N_("Contract signed"),
    "closed": N_("Closed"),
    "failed": N_("Tender failed"),
    "re_tender": N_("Re-tender"),
    "voided": N_("Voided by an upheld complaint"),
    "objection_pending": N_("Suspended: an objection is unanswered"),
    "complaint_accepted": N_("A complaint is being handled"),
    "suspended": N_("Suspended by the supervisor"),
}
TIE_BREAKS: Final = {
    "lowest_price": N_("Lowest price (equal prices by the draw)"),
    "draw": N_("Draw with the committed seed"),
    "revote": N_("The committee votes again"),
}


@dataclass
class DecisionForm:
    award: str = ""
    decision: str = ""
    bid: str = ""
    reason: str = ""
    note: str = ""
    signature: str = ""


@dataclass
class OrderForm:
    award: str = ""
    seed: str = ""
    votes: str = ""
    """One ``voter: bid`` per line (the committee's vote result, recorded by the tenderee)."""


@dataclass
class RuleForm:
    rule: str = ""
    tie_break: str = "draw"
    voters: str = ""
    """One voter per line."""
    seed_sha256: str = ""


def parse_votes(text: str) -> dict[str, str]:
    """``voter: bid`` lines (or ``voter=bid``) into the votes; a line without a separator is refused."""
    votes: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        sep = ":" if ":" in line else "="
        voter, _, bid = line.partition(sep)
        if not bid.strip():
            raise AwardRefused(f"{line!r} is not 'voter: candidate'", field="votes", rule="votes_complete")
        votes[voter.strip()] = bid.strip()
    return votes


@dataclass(frozen=True)
class Item:
    """One award on the owners' page."""

    award: Award
    shown: dict[str, Any]
    names: dict[str, str]
    events: frozenset[AwardEvent]
    needs_order: bool
    revoked: decisions.RevokedWinner | None = None
    """The winner to confirm, or confirmed, revoked its bid: the tenderee chooses (pass over or re-tender)."""


async def _names(db_session: AsyncSession, award: Award) -> dict[str, str]:
    result = await publicity.result_for(db_session, award)
    return {str(b.opening_bid_id): b.bidder_name for b in result.bids}


async def _context(db_session: AsyncSession, tender: Tender) -> dict[str, Any]:
    row = await award_rule.rule_of(db_session, tender.id)
    items = []
    shown = {d["award"]: d for d in await decisions_of(db_session, tender)}
    for award in await publicity.awards_of_tender(db_session, tender.id):
        events = allowed_events(publicity.position_of(award), award.sector, publicity.rules_of(award))
        needs = (
            row is not None
            and award.order_record is None
            and AwardEvent.CONFIRM_AWARD in events
            and (row.rule != AwardRule.LOWEST_PRICE.value or row.seed_sha256 is not None)
        )
        names = await _names(db_session, award)
        revoked = await decisions.revoked_winner(db_session, award)
        items.append(Item(award, shown[str(award.id)], names, frozenset(events), needs, revoked))
    return {
        "tender": tender,
        "rule": row,
        "items": items,
        "reasons": REASONS,
        "rules": RULES,
        "tie_breaks": TIE_BREAKS,
        "states": STATES,
        "server_time": await clock.now(db_session),
    }


class DecisionPages(Controller):
    path = "/bidding"
    include_in_schema = False

    @get("/tenders/{code:str}/award", name=PUBLIC, opt=exposes(Exposure.PUBLIC))
    async def public(
        self, *, request: Request[Any, Any, Any], code: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        """The tender's 定标 rule and decisions, 流标 and re-tender notices (public)."""
        tender = await tender_of(db_session, code)
        return await page(request, "award/decisions.html", await _context(db_session, tender))

    @get(
        "/manage/tenders/{code:str}/decisions",
        name=MANAGE,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def manage(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The owners' decisions page: pass over, 流标, re-tender, the 评定分离 order."""
        return await _Manage(request, db_session, actor, code).render([], {})

    @post(
        "/manage/tenders/{code:str}/decisions/statement",
        name=STATEMENT,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
        status_code=200,
    )
    async def statement(
        self,
        *,
        code: FromPath[str],
        data: FormBody[DecisionForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """The exact bytes the tenderee signs for the decision (nothing stored)."""
        tender = await tender_of(db_session, code)
        asked = StatementRequest(award=data.award, decision=data.decision, bid=data.bid, reason=data.reason)
        return Response(await statement_of(db_session, actor, tender, asked), media_type="application/json")

    @post(
        "/manage/tenders/{code:str}/decisions/order",
        name=ORDER,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def order(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[OrderForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """评定分离: fix the order (the seed revealed, or the committee's votes recorded)."""
        managed = _Manage(request, db_session, actor, code)

        async def fix(award: Award) -> Award:
            votes = parse_votes(data.votes)
            return await decisions.fix_order(db_session, actor, award.id, seed=data.seed, votes=votes)

        return await submit_award_act(
            request,
            db_session,
            fix,
            code=code,
            award=data.award,
            back=MANAGE,
            done="ordered=1",
            refusal=lambda errors: managed.render(errors, {"seed": data.seed, "votes": data.votes}),
        )

    @post(
        "/manage/tenders/{code:str}/decisions/pass-over",
        name=PASS_OVER,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def pass_over(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[DecisionForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Pass the winner over with the reason, signed: the next candidate is awarded (or 流标)."""
        settings: Settings = request.app.state.settings
        managed = _Manage(request, db_session, actor, code)

        async def pass_over(award: Award) -> Award:
            if not data.reason.strip():
                raise AwardRefused("say why the candidate is passed over", field="reason", rule="drop_reason")
            return await decisions.pass_over(
                db_session, settings, actor, award.id, reason=data.reason, note=data.note, signature=data.signature
            )

        return await submit_award_act(
            request,
            db_session,
            pass_over,
            code=code,
            award=data.award,
            back=MANAGE,
            done="passed=1",
            refusal=lambda errors: managed.render(errors, {"reason": data.reason, "note": data.note}),
        )

    @post(
        "/manage/tenders/{code:str}/decisions/fail",
        name=FAIL,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def fail(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[DecisionForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """流标 by the tenderee, signed, with the reason."""
        settings: Settings = request.app.state.settings
        managed = _Manage(request, db_session, actor, code)
        return await submit_award_act(
            request,
            db_session,
            lambda award: decisions.fail_award(
                db_session, settings, actor, award.id, reason=data.reason, signature=data.signature
            ),
            code=code,
            award=data.award,
            back=MANAGE,
            done="failed=1",
            refusal=lambda errors: managed.render(errors, {"fail_reason": data.reason}),
        )

    @post(
        "/manage/tenders/{code:str}/decisions/re-tender",
        name=RE_TENDER,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def re_tender(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[DecisionForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """重新招标, signed, with the reason."""
        settings: Settings = request.app.state.settings
        managed = _Manage(request, db_session, actor, code)
        return await submit_award_act(
            request,
            db_session,
            lambda award: decisions.re_tender(
                db_session, settings, actor, award.id, reason=data.reason, signature=data.signature
            ),
            code=code,
            award=data.award,
            back=MANAGE,
            done="re_tendered=1",
            refusal=lambda errors: managed.render(errors, {"re_tender_reason": data.reason}),
        )

    @get(
        "/manage/tenders/{code:str}/award-rule",
        name=RULE,
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def rule(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The form that publishes the tender's 定标 rule (before the bid deadline)."""
        return await _RulePage(request, db_session, actor, code).render([], None)

    @post(
        "/manage/tenders/{code:str}/award-rule",
        name="award.rule_set",
        opt=guarded(BiddingPermission.TENDER_MANAGE, Exposure.OWNER),
    )
    async def set_rule(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        data: FormBody[RuleForm],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Publish the 定标 rule."""
        tender = await _owned_tender(db_session, actor, code, draft=True)
        rule_page = _RulePage(request, db_session, actor, code)

        async def run() -> TenderAwardRule:
            return await award_rule.set_rule(
                db_session,
                actor,
                tender.id,
                rule=data.rule,
                tie_break=data.tie_break,
                voters=data.voters.splitlines(),
                seed_sha256=data.seed_sha256,
            )

        return await submit(
            db_session,
            run,
            redirect=request.app.route_reverse(RULE, code=code) + "?saved=1",
            refusal=lambda errors: rule_page.render(errors, data),
        )


async def _owned_tender(db_session: AsyncSession, actor: Actor, code: str, *, draft: bool = False) -> Tender:
    tender = await (owned_tender_of(db_session, code) if draft else tender_of(db_session, code))
    if not publicity.is_tenderee(actor, tender):
        raise PermissionDenied("only the tenderee or its agency decides the award", field="code", rule="owner")
    return tender


@dataclass(frozen=True)
class _Manage:
    request: Request[Any, Any, Any]
    db_session: AsyncSession
    actor: Actor
    code: str

    async def render(self, errors: list[FieldError], values: dict[str, str]) -> Response[Any]:
        tender = await _owned_tender(self.db_session, self.actor, self.code)
        done = next((k for k in ("ordered", "passed", "failed", "re_tendered") if self.request.query_params.get(k)), "")
        context = await _context(self.db_session, tender) | {"errors": errors, "values": values, "done": done}
        return await page(self.request, "award/decisions_manage.html", context)


@dataclass(frozen=True)
class _RulePage:
    request: Request[Any, Any, Any]
    db_session: AsyncSession
    actor: Actor
    code: str

    async def render(self, errors: list[FieldError], form: RuleForm | None) -> Response[Any]:
        tender = await _owned_tender(self.db_session, self.actor, self.code, draft=True)
        row = await award_rule.rule_of(self.db_session, tender.id)
        if form is None:
            form = RuleForm()
            if row is not None:
                form = RuleForm(row.rule, row.tie_break, "\n".join(row.voters or []), row.seed_sha256 or "")
        now = await clock.now(self.db_session)
        context = {
            "tender": tender,
            "rule": row,
            "form": form,
            "rules": RULES,
            "tie_breaks": TIE_BREAKS,
            "open": tender.deadline is None or now < tender.deadline,
            "saved": self.request.query_params.get("saved") == "1",
            "errors": errors,
            "server_time": now,
        }
        return await page(self.request, "award/rule_manage.html", context)


CONTROLLERS = (DecisionPages,)
