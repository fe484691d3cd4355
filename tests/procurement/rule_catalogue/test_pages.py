"""The catalogue's pages: the supervisor's dashboard leads to the list, the list to each rule, the
rule page shows the history, the difference between versions and a try box; the editor (HTMX, the
kernel's form path) writes a new version or refuses it naming each field in Chinese, with nothing
written; a bidder reads the catalogue and cannot edit it; English on request.
"""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from procurement.rule_catalogue.models import RuleVersion
from tests.intermediary_market.test_web import log_in
from tests.procurement.rule_catalogue.support import FOUND_BY_NOTHING, NEW_SUGGESTION, RULE, form
from tests.trading.parties.factories import create_account, csrf_token
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

RULES = "/procurement/rules"
HTMX = {"HX-Request": "true"}


async def _versions(session_maker: async_sessionmaker[AsyncSession]) -> int:
    async with session_maker() as session:
        return int(await session.scalar(select(func.count()).select_from(RuleVersion)) or 0)


async def test_the_procurement_office_edits_a_rule_through_the_pages(  # noqa: PLR0915 - one story, end to end
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    dashboard = await client.get("/dashboard")
    assert f'href="{RULES}"' in dashboard.text

    listing = await client.get(RULES)
    assert listing.status_code == 200
    assert "负面清单规则" in listing.text
    assert f'href="{RULES}/{RULE.id}"' in listing.text
    assert f'href="{RULES}/new"' in listing.text
    blocking = await client.get(RULES, params={"severity": "warning"})
    assert f'data-rule-id="{RULE.id}"' not in blocking.text or RULE.severity.value == "warning"

    rule_page = await client.get(f"{RULES}/{RULE.id}")
    assert rule_page.status_code == 200
    assert RULE.basis in rule_page.text
    assert "平台（内置初版）" in rule_page.text
    assert f'href="{RULES}/{RULE.id}/edit"' in rule_page.text
    edit = await client.get(f"{RULES}/{RULE.id}/edit")
    assert edit.status_code == 200
    assert 'hx-post="/procurement/rules/' in edit.text
    token = csrf_token(edit.text)

    # Refused: a pattern that does not compile and an example the rule misses, each named in Chinese
    # next to its field with the offending line; nothing is written.
    before = await _versions(session_maker)
    bad = form(
        token,
        patterns="\n".join((*RULE.patterns, "(未闭合")),
        positive_examples="\n".join((*RULE.positive_examples, FOUND_BY_NOTHING)),
        basis="",
    )
    refused = await client.post(f"{RULES}/{RULE.id}/versions", data=bad, headers=HTMX)
    assert refused.status_code == 422
    assert refused.text.lstrip().startswith("<")
    assert "<html" not in refused.text  # the form's fragment, swapped in place
    assert "该行不是有效的正则表达式。" in refused.text
    assert 'data-rule="regex_invalid"' in refused.text
    assert "(未闭合" in refused.text
    assert "法律依据" in refused.text
    assert 'data-rule="required"' in refused.text
    assert await _versions(session_maker) == before

    saved = await client.post(f"{RULES}/{RULE.id}/versions", data=form(token), headers=HTMX)
    assert saved.status_code == 200
    assert saved.headers["HX-Redirect"] == f"{RULES}/{RULE.id}"
    assert await _versions(session_maker) == before + 1

    # Without HTMX: a plain 303; the same edit again is refused (the version edited is no longer current).
    stale = await client.post(f"{RULES}/{RULE.id}/versions", data=form(token))
    assert stale.status_code == 422
    assert 'data-rule="rule_changed_meanwhile"' in stale.text

    shown = await client.get(f"{RULES}/{RULE.id}")
    assert NEW_SUGGESTION in shown.text
    assert 'data-version="2"' in shown.text
    assert "第 1 版到第 2 版的变化" in shown.text
    assert 'data-field="suggestion"' in shown.text
    old = await client.get(f"{RULES}/{RULE.id}", params={"version": 1})
    assert 'data-version="1"' in old.text
    assert "不是现行版本" in old.text

    # The try box highlights what the rule finds.
    tried = await client.post(
        f"{RULES}/{RULE.id}/try",
        data={"_csrf_token": token, "text": FOUND_BY_NOTHING + RULE.positive_examples[0], "version": "2"},
        headers=HTMX,
    )
    assert tried.status_code == 200
    assert 'data-hits="1"' in tried.text
    (marked,) = re.findall(r"<mark>(.*?)</mark>", tried.text)
    assert marked
    assert marked in RULE.positive_examples[0]
    empty = await client.post(f"{RULES}/{RULE.id}/try", data={"_csrf_token": token, "text": ""}, headers=HTMX)
    assert empty.status_code == 422


async def test_a_new_rule_from_the_page(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    new = await client.get(f"{RULES}/new")
    assert new.status_code == 200
    token = csrf_token(new.text)
    data = {
        "_csrf_token": token,
        "rule_id": "NL-PRICE-DROP-EXTREMES",
        "name": "评审时去掉最高报价和最低报价",
        "basis": "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第五十五条",
        "severity": "blocking",
        "suggestion": "删除去掉最高报价和最低报价的规定。",
        "patterns": r"去掉(1个)?最高(报价|价)和(1个)?最低(报价|价)",
        "negations": "",
        "positive_examples": "价格分计算时去掉一个最高报价和一个最低报价。",
        "negative_examples": "以满足招标文件要求的最低投标报价为评标基准价。",
        "in_force": "yes",
        "reason": "补充第五十五条",
        "base_version": "0",
    }
    refused = await client.post(RULES, data={**data, "rule_id": "bad id"})
    assert refused.status_code == 422
    assert 'data-rule="rule_id_format"' in refused.text
    created = await client.post(RULES, data=data)
    assert (created.status_code, created.headers["location"]) == (303, f"{RULES}/NL-PRICE-DROP-EXTREMES")
    assert "评审时去掉最高报价和最低报价" in (await client.get(RULES)).text


async def test_a_bidder_reads_the_catalogue_but_cannot_edit_it(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await log_in(client, await create_account(session_maker, settings, Role.BIDDER))
    listing = await client.get(RULES)
    assert listing.status_code == 200
    assert f'href="{RULES}/new"' not in listing.text
    rule_page = await client.get(f"{RULES}/{RULE.id}")
    assert rule_page.status_code == 200
    assert "/edit" not in rule_page.text
    token = csrf_token(rule_page.text)
    assert (await client.get(f"{RULES}/{RULE.id}/edit")).status_code == 403
    before = await _versions(session_maker)
    assert (await client.post(f"{RULES}/{RULE.id}/versions", data=form(token))).status_code == 403
    assert await _versions(session_maker) == before
    assert (await client.get(f"{RULES}/NL-NO-SUCH-RULE")).status_code == 404
    assert (await client.get(f"{RULES}/{RULE.id}", params={"version": 2**40})).status_code == 404


async def test_the_pages_in_english(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await log_in(client, await create_account(session_maker, settings, Role.TENDEREE))
    await client.get("/locale/en")
    listing = await client.get(RULES)
    assert "Negative-list rules" in listing.text
    assert "Blocking: stops publication" in listing.text or "Warning" in listing.text
    assert "负面清单规则" not in listing.text
