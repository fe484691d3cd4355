"""The award decision complete, on PostgreSQL through the API and the pages (issue 16, item 3):

* the second end-to-end story of the acceptance: the first candidate gives up, the second is
  awarded, the reason recorded and shown on the public pages, the API and in the ledger; then the
  tenderee re-tenders in the page, signed, and the re-tender notice is public;
* refusals with field and rule, nothing stored: award to a non-candidate, passing over without a
  reason, re-tender and 流标 by a non-owner, a forged signature;
* 评定分离: without a published rule the award is refused (``award_rule``); the rule is published
  before the deadline and refused after it (``award_rule_before_deadline``); the draw's seed must
  match its commitment (``seed_commitment``); the revealed seed fixes an order anyone re-derives,
  and the award follows it.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import award as decisions
from bidding.award import award_rule, publicity, succession
from bidding.award.errors import AwardRefused
from bidding.award.jobs import AwardDue
from bidding.award.models import Award
from bidding.award.rule_models import TenderAwardRule
from bidding.evaluation.models import Evaluation
from bidding.models import Tender
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import (
    award_hook,
    award_of,
    db_now,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    open_publicity,
    settings,
    signed_report,
    store,
)
from tests.bidding.evaluation.report.world import World
from tests.bidding.factories import Party, bidder_party, ledger_entries, sign_document, tenderee_party
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import api_token, bearer, csrf_token
from trading.kernel import draws
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.service import chain_for

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]
pytestmark = pytest.mark.usefixtures("dev_lists")
FIRST, SECOND = "南京甲建设工程有限公司", "苏州乙建筑有限公司"


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def _closed_publicity(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, award: Award, owner: Party
) -> None:
    opened = await open_publicity(session_maker, settings, award, owner, owner)
    with use_clock(ShiftedClock(opened.closes_at - await db_now(session_maker) + timedelta(seconds=1))):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1


async def _signed(client: httpx.AsyncClient, token: str, code: str, signer: Party, **asked: str) -> str:
    """The statement from the API, signed by ``signer`` (base64)."""
    response = await client.post(f"/api/v1/award/tenders/{code}/decisions/statement", json=asked, headers=bearer(token))
    assert response.status_code == 200, response.text
    statement = response.json()["statement"].encode()
    return base64.b64encode(await sign_document(signer.sign, statement)).decode()


def _refusal(response: httpx.Response) -> tuple[str, str]:
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    error = body["errors"][0] if body.get("errors") else body
    return error.get("field"), error.get("rule")


async def _state(session_maker: async_sessionmaker[AsyncSession], award: Award) -> Award:
    async with session_maker() as session:
        return await session.get_one(Award, award.id)


async def test_the_first_gives_up_the_second_is_awarded_and_the_tenderee_re_tenders(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    outsider = await bidder_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    award = await award_of(session_maker, world)
    await _closed_publicity(session_maker, settings, award, owner)
    code, api = world.project_code, f"/api/v1/award/tenders/{world.project_code}/decisions"
    first, second = str(world.bids[0]), str(world.bids[1])
    token = await api_token(client, owner.account)
    stranger = await api_token(client, outsider.account)
    other_tenderee = await tenderee_party(session_maker, settings, dev_pki)
    not_owner = await api_token(client, other_tenderee.account)

    # Award to a non-candidate: refused with the rule, nothing stored.
    nobody = "00000000-0000-0000-0000-000000000000"
    signature = await _signed(client, token, code, owner, award=str(award.id), decision="confirm", bid=nobody)
    refused = await client.post(
        f"{api}/confirm", json={"award": str(award.id), "bid": nobody, "signature": signature}, headers=bearer(token)
    )
    assert _refusal(refused) == ("bid", "not_a_candidate")
    assert (await _state(session_maker, award)).order_record is None

    signature = await _signed(client, token, code, owner, award=str(award.id), decision="confirm", bid=first)
    confirmed = await client.post(
        f"{api}/confirm", json={"award": str(award.id), "bid": first, "signature": signature}, headers=bearer(token)
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["winner"] == first

    # Passing over without a reason: refused (the statement and the decision), nothing stored.
    empty = await client.post(
        f"{api}/statement", json={"award": str(award.id), "decision": "pass_over"}, headers=bearer(token)
    )
    assert _refusal(empty) == ("reason", "drop_reason")
    signature = await _signed(client, token, code, owner, award=str(award.id), decision="pass_over", reason="gave_up")
    blank = await client.post(
        f"{api}/pass-over", json={"award": str(award.id), "reason": "", "signature": signature}, headers=bearer(token)
    )
    assert _refusal(blank) == ("reason", "drop_reason")
    assert str((await _state(session_maker, award)).chosen_bid_id) == first

    # 流标 and re-tender by a non-owner (a bidder; another tenderee): refused, nothing stored.
    for path, who in (("fail", stranger), ("re-tender", stranger), ("fail", not_owner), ("re-tender", not_owner)):
        denied = await client.post(
            f"{api}/{path}",
            json={"award": str(award.id), "reason": "不想要", "signature": signature},
            headers=bearer(who),
        )
        assert denied.status_code == 403, denied.text
        assert denied.json()["type"] == "urn:ggzy:error:permission_denied", denied.text
    assert (await _state(session_maker, award)).state.value == "awarded"

    # The first gives up: the second is awarded, the reason and the note recorded.
    passed = await client.post(
        f"{api}/pass-over",
        json={"award": str(award.id), "reason": "gave_up", "note": "书面放弃中标", "signature": signature},
        headers=bearer(token),
    )
    assert passed.status_code == 200, passed.text
    body = passed.json()
    assert body["winner"] == second
    assert [(p["bid"], p["reason"], p["note"]) for p in body["passedOver"]] == [(first, "gave_up", "书面放弃中标")]
    row = await _state(session_maker, award)
    assert (row.state.value, str(row.chosen_bid_id)) == ("awarded", second)

    # Public: the API and the page show who was passed over and why.
    public_api = await browser.get(api)
    assert public_api.status_code == 200
    assert public_api.json()[0]["passedOver"][0]["reason"] == "gave_up"
    public_page = await browser.get(f"/bidding/tenders/{code}/award")
    assert public_page.status_code == 200, public_page.text
    assert f'data-dropped="{first}" data-reason="gave_up"' in public_page.text
    assert "书面放弃中标" in public_page.text
    assert f'data-winner="{second}"' in public_page.text
    assert FIRST in public_page.text
    assert SECOND in public_page.text
    assert "放弃中标" in public_page.text  # the reason in Chinese
    tender_page = await browser.get(f"/bidding/tenders/{code}")
    assert 'id="award-decisions-link"' in tender_page.text

    # The ledger: the reassignment with the reason, on the tender's chain.
    async with session_maker() as session:
        [entry] = await ledger_entries(session, chain_for(code), "award.reassigned")
        assert (entry.summary["passed_over"], entry.summary["reason"], entry.summary["bid"]) == (
            first,
            "gave_up",
            second,
        )

    # The tenderee re-tenders in the page, signed over the statement the page fetches.
    await log_in(browser, owner)
    manage = f"/bidding/manage/tenders/{code}/decisions"
    page = await browser.get(manage)
    assert page.status_code == 200, page.text
    assert "data-pass-over-form" in page.text
    assert "data-re-tender-form" in page.text
    fields = {"_csrf_token": csrf_token(page.text), "award": str(award.id), "decision": "re_tender"}
    reason = "第二中标候选人报价超出预算，重新招标"
    statement = await browser.post(f"{manage}/statement", data=fields | {"reason": reason})
    assert statement.status_code == 200, statement.text
    signed = base64.b64encode(await sign_document(owner.sign, statement.content)).decode()
    forged = base64.b64encode(await sign_document(outsider.sign, statement.content)).decode()
    wrong = await browser.post(f"{manage}/re-tender", data=fields | {"reason": reason, "signature": forged})
    assert wrong.status_code == 422, wrong.text
    assert "award_signer" in wrong.text
    assert (await _state(session_maker, award)).state.value == "awarded"
    done = await browser.post(f"{manage}/re-tender", data=fields | {"reason": reason, "signature": signed})
    assert done.status_code == 303, done.text
    assert (await _state(session_maker, award)).state.value == "re_tender"
    notice = await browser.get(f"/bidding/tenders/{code}/award")
    assert "data-re-tender-notice" in notice.text
    assert reason in notice.text
    async with session_maker() as session:
        assert len(await ledger_entries(session, chain_for(code), "award.re_tendered")) == 1


async def test_a_failed_tender_by_the_tenderee_has_its_public_notice(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    award = await award_of(session_maker, world)
    await _closed_publicity(session_maker, settings, award, owner)
    code, api = world.project_code, f"/api/v1/award/tenders/{world.project_code}/decisions"
    token = await api_token(client, owner.account)
    reason = "所有投标均被否决"
    signature = await _signed(client, token, code, owner, award=str(award.id), decision="fail", reason=reason)
    failed = await client.post(
        f"{api}/fail", json={"award": str(award.id), "reason": reason, "signature": signature}, headers=bearer(token)
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["failed"]["reason"] == reason
    assert failed.json()["state"] == "failed"
    page = await client.get(f"/bidding/tenders/{code}/award")
    assert "data-failed-notice" in page.text
    assert reason in page.text


async def _recommended_only(session_maker: async_sessionmaker[AsyncSession], world: World) -> None:
    """The evaluation of a 评定分离 tender: its candidates recommended, unranked."""
    async with session_maker() as session:
        evaluation = await session.get_one(Evaluation, world.evaluation_id)
        result: dict[str, Any] = dict(evaluation.result or {})
        result["recommended"], result["candidates"] = list(result.get("candidates") or []), []
        evaluation.result = result
        await session.commit()


async def _fix_order(session_maker: async_sessionmaker[AsyncSession], award: Award, owner: Party, seed: str) -> Award:
    async with transaction(session_maker, lock=True) as session:
        return await decisions.fix_order(session, owner.actor(), award.id, seed=seed)


async def test_a_draw_rule_published_before_the_deadline_decides_the_award_with_its_committed_seed(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    browser: httpx.AsyncClient,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    award = await award_of(session_maker, world)
    await _closed_publicity(session_maker, settings, award, owner)
    await _recommended_only(session_maker, world)
    code = world.project_code
    token = await api_token(client, owner.account)

    # 评定分离 without a published rule: refused, nothing stored.
    with pytest.raises(AwardRefused) as none:
        async with session_maker() as session:
            await decisions.order_of(session, await session.get_one(Award, award.id))
    assert (none.value.field, none.value.rule) == ("rule", "award_rule")

    # After the bid deadline the rule cannot be published or changed (API), nothing stored.
    seed = draws.new_secret()
    rule = {"rule": "draw", "tieBreak": "draw", "seedSha256": draws.commitment(seed)}
    late = await client.put(f"/api/v1/award/tenders/{code}/rule", json=rule, headers=bearer(token))
    assert _refusal(late) == ("rule", "award_rule_before_deadline")
    async with session_maker() as session:
        assert await award_rule.rule_of(session, world.tender_id) is None
        deadline = (await session.get_one(Tender, world.tender_id)).deadline
        assert deadline is not None

    # Before the deadline (the clock moved back): published, with the seed's commitment; a draw
    # without a commitment is refused.
    with use_clock(ShiftedClock(deadline - await db_now(session_maker) - timedelta(hours=1))):
        async with transaction(session_maker, lock=True) as session:
            with pytest.raises(AwardRefused) as bare:
                await award_rule.set_rule(
                    session, owner.actor(), world.tender_id, rule="draw", tie_break="draw", voters=[], seed_sha256=""
                )
        assert (bare.value.field, bare.value.rule) == ("seed_sha256", "award_seed_commitment")
        async with transaction(session_maker, lock=True) as session:
            await award_rule.set_rule(
                session,
                owner.actor(),
                world.tender_id,
                rule="draw",
                tie_break="draw",
                voters=[],
                seed_sha256=draws.commitment(seed),
            )
    shown = await client.get(f"/api/v1/award/tenders/{code}/rule")
    assert shown.json()["rule"]["seedSha256"] == draws.commitment(seed)
    page = await client.get(f"/bidding/tenders/{code}/award")
    assert draws.commitment(seed) in page.text

    # The pages: the rule can no longer change (the form refuses, 422 naming the rule); the
    # decisions page asks for the seed, and a wrong one is refused with nothing stored.
    await log_in(browser, owner)
    rule_page = await browser.get(f"/bidding/manage/tenders/{code}/award-rule")
    assert rule_page.status_code == 200, rule_page.text
    assert 'id="rule-closed"' in rule_page.text
    changed = await browser.post(
        f"/bidding/manage/tenders/{code}/award-rule",
        data={"_csrf_token": csrf_token(rule_page.text), "rule": "lowest_price", "tie_break": "draw"},
    )
    assert changed.status_code == 422, changed.text
    assert "award_rule_before_deadline" in changed.text
    manage = f"/bidding/manage/tenders/{code}/decisions"
    decisions_page = await browser.get(manage)
    assert "data-order-form" in decisions_page.text
    # The publicity page still renders: no winner to confirm until the order is fixed.
    publicity_page = await browser.get(f"/bidding/manage/tenders/{code}/publicity")
    assert publicity_page.status_code == 200, publicity_page.text
    assert "data-award-form" not in publicity_page.text
    wrong_seed = await browser.post(
        f"{manage}/order",
        data={"_csrf_token": csrf_token(decisions_page.text), "award": str(award.id), "seed": draws.new_secret()},
    )
    assert wrong_seed.status_code == 422, wrong_seed.text
    assert "seed_commitment" in wrong_seed.text
    async with session_maker() as session:
        row = await award_rule.rule_of(session, world.tender_id)
        assert row is not None
        assert row.rule == "draw"

    # A seed not matching the commitment: refused, no order fixed.
    with pytest.raises(AwardRefused) as mismatch:
        await _fix_order(session_maker, award, owner, draws.new_secret())
    assert (mismatch.value.field, mismatch.value.rule) == ("seed", "seed_commitment")
    assert (await _state(session_maker, award)).order_record is None

    fixed = await _fix_order(session_maker, award, owner, seed)
    record = fixed.order_record
    assert record is not None
    assert record["seed"] == seed
    assert sorted(record["order"]) == sorted(str(b) for b in world.bids)
    async with session_maker() as session:
        result = await publicity.result_for(session, fixed)
        candidates = succession.candidates_for(result, await award_rule.published_rule(session, world.tender_id))
        assert succession.rederive(record, candidates)
        assert len(await ledger_entries(session, chain_for(code), "award.order_decided")) == 1
    # Fixed once.
    with pytest.raises(AwardRefused) as twice:
        await _fix_order(session_maker, award, owner, seed)
    assert twice.value.rule == "award_order_fixed"

    # The award follows the drawn order: another than the drawn first is refused.
    drawn_first, drawn_second = record["order"][0], record["order"][1]
    signature = await _signed(client, token, code, owner, award=str(award.id), decision="confirm", bid=drawn_second)
    api = f"/api/v1/award/tenders/{code}/decisions"
    skipped = await client.post(
        f"{api}/confirm",
        json={"award": str(award.id), "bid": drawn_second, "signature": signature},
        headers=bearer(token),
    )
    assert _refusal(skipped) == ("bid", "first_remaining_candidate")
    signature = await _signed(client, token, code, owner, award=str(award.id), decision="confirm", bid=drawn_first)
    confirmed = await client.post(
        f"{api}/confirm",
        json={"award": str(award.id), "bid": drawn_first, "signature": signature},
        headers=bearer(token),
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["winner"] == drawn_first
    public = await client.get(f"/bidding/tenders/{code}/award")
    assert f'data-winner="{drawn_first}"' in public.text
    assert seed in public.text
    async with session_maker() as session:
        count = await session.scalar(sa.select(sa.func.count()).select_from(TenderAwardRule))
        assert count == 1
    assert html.unescape(public.text).count(seed) >= 1
    assert re.search(r"data-award-rule=\"draw\"", public.text)


async def test_the_committee_vote_fixes_the_order_and_every_voter_must_vote(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    award = await award_of(session_maker, world)
    await _closed_publicity(session_maker, settings, award, owner)
    await _recommended_only(session_maker, world)
    code = world.project_code
    first, second, third = (str(b) for b in world.bids)
    async with session_maker() as session:
        deadline = (await session.get_one(Tender, world.tender_id)).deadline
        assert deadline is not None
    with use_clock(ShiftedClock(deadline - await db_now(session_maker) - timedelta(hours=1))):
        async with transaction(session_maker, lock=True) as session:
            with pytest.raises(AwardRefused) as no_voters:
                await award_rule.set_rule(
                    session,
                    owner.actor(),
                    world.tender_id,
                    rule="committee_vote",
                    tie_break="lowest_price",
                    voters=[],
                    seed_sha256="",
                )
        assert (no_voters.value.field, no_voters.value.rule) == ("voters", "award_voters")
        async with transaction(session_maker, lock=True) as session:
            await award_rule.set_rule(
                session,
                owner.actor(),
                world.tender_id,
                rule="committee_vote",
                tie_break="lowest_price",
                voters=["张委员", "李委员", "王委员"],
                seed_sha256="",
            )
    token = await api_token(client, owner.account)
    api = f"/api/v1/award/tenders/{code}/decisions/order"
    missing = await client.post(
        api, json={"award": str(award.id), "votes": {"张委员": second, "李委员": second}}, headers=bearer(token)
    )
    assert _refusal(missing) == ("votes", "votes_complete")
    assert (await _state(session_maker, award)).order_record is None
    votes = {"张委员": second, "李委员": second, "王委员": first}
    fixed = await client.post(api, json={"award": str(award.id), "votes": votes}, headers=bearer(token))
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["orderRecord"]["order"] == [second, first, third]
    assert fixed.json()["orderRecord"]["votes"] == dict(sorted(votes.items()))
    public = await client.get(f"/bidding/tenders/{code}/award")
    assert "data-votes" in public.text
    assert "王委员" in public.text
