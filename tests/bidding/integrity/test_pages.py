"""Integrity's pages and API: the supervisor's dashboard leads to the alerts, an alert shows its
evidence per kind (numbers, shared paragraphs side by side, matching values, the network chart, the
lot against the market), the review form refuses a decision without a reason (naming the field) and
records one with it; the rule catalogue shows every rule with its history and the editor writes a
new version; bidders and experts get nothing; English on request.
"""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.integrity import service
from bidding.integrity.models import IntegrityAlert
from bidding.integrity.screens.model import Scope
from tests.bidding.integrity.support import PRICE_RULE, device_finding, price_finding, seed
from tests.intermediary_market.test_web import log_in
from tests.trading.parties.factories import api_token, bearer, create_account, csrf_token
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry

REVIEW_ACTIONS = ("integrity.alert_taken_up", "integrity.alert_dismissed", "integrity.alert_confirmed")


async def _alerts(session_maker: async_sessionmaker[AsyncSession]) -> list[IntegrityAlert]:
    async with session_maker() as session:
        await seed(session)
        for ocid, score in (("GGZY-M-1", 1.0), ("GGZY-M-2", 2.0), ("GGZY-M-3", 8.0)):
            await service.record_lot_screening(
                session,
                tender_id=None,
                ocid=ocid,
                lot=None,
                scope=Scope.LOT_EVIDENCE,
                score=score,
                flagged=score > 5,
                values={},
            )
        alerts = await service.record_findings(
            session, tender_id=None, ocid="GGZY-M-3", lot=None, scope=Scope.LOT_EVIDENCE, findings=[device_finding()]
        )
        alerts += await service.record_findings(
            session, tender_id=None, ocid="GGZY-M-3", lot=None, scope=Scope.LOT_PRICES, findings=[price_finding()]
        )
        await session.commit()
        return alerts


async def test_the_supervisor_reviews_an_alert_with_its_evidence(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    device, price = await _alerts(session_maker)
    await log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    dashboard = await client.get("/dashboard")
    assert 'href="/integrity/alerts"' in dashboard.text

    listing = await client.get("/integrity/alerts")
    assert listing.status_code == 200
    assert "串通预警" in listing.text  # Chinese by default
    assert f'href="/integrity/alerts/{device.id}"' in listing.text
    red = await client.get("/integrity/alerts", params={"severity": "red"})
    assert f'data-alert-id="{device.id}"' in red.text
    assert f'data-alert-id="{price.id}"' not in red.text
    by_rule = await client.get("/integrity/alerts", params={"rule": PRICE_RULE.id, "scope": "lot-prices"})
    assert f'data-alert-id="{price.id}"' in by_rule.text
    assert f'data-alert-id="{device.id}"' not in by_rule.text

    page = await client.get(f"/integrity/alerts/{device.id}")
    assert page.status_code == 200
    assert 'id="evidence-matches"' in page.text
    assert "ab12cd" in page.text
    assert page.text.count('class="integrity-pair"') == 1
    assert "甲公司施工组织设计第一段" in page.text
    assert "乙公司施工组织设计第一段" in page.text
    assert 'data-chart="network"' in page.text
    assert '"categories"' in page.text
    assert 'data-chart="distribution"' in page.text
    assert "/integrity/static/vendor/echarts/echarts.min.js" in page.text
    script = await client.get("/integrity/static/vendor/echarts/echarts.min.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000
    numbers = await client.get(f"/integrity/alerts/{price.id}")
    assert 'id="evidence-numbers"' in numbers.text
    assert "0.005" in numbers.text

    token = csrf_token(page.text)
    taken = await client.post(
        f"/integrity/alerts/{device.id}/reviews", data={"_csrf_token": token, "status": "reviewing"}
    )
    assert taken.status_code == 303
    page = await client.get(f"/integrity/alerts/{device.id}")
    refused = await client.post(
        f"/integrity/alerts/{device.id}/reviews",
        data={"_csrf_token": csrf_token(page.text), "status": "dismissed", "reason": ""},
    )
    assert refused.status_code == 422
    assert (
        re.search(
            r'data-field="reason"[^>]*data-rule="required"|data-rule="required"[^>]*data-field="reason"', refused.text
        )
        or "reason" in refused.text
    )
    dismissed = await client.post(
        f"/integrity/alerts/{device.id}/reviews",
        data={"_csrf_token": csrf_token(page.text), "status": "dismissed", "reason": "同一代理机构提供的制作电脑"},
    )
    assert dismissed.status_code == 303
    after = await client.get(f"/integrity/alerts/{device.id}")
    assert "同一代理机构提供的制作电脑" in after.text
    assert 'data-status="dismissed"' in after.text
    async with session_maker() as session:
        actions = (
            await session.scalars(
                select(LedgerEntry.action).where(LedgerEntry.action.in_(REVIEW_ACTIONS)).order_by(LedgerEntry.id)
            )
        ).all()
    assert list(actions) == ["integrity.alert_taken_up", "integrity.alert_dismissed"]

    await client.get("/locale/en")
    english = await client.get(f"/integrity/alerts/{device.id}")
    assert "Shared paragraphs" in english.text
    assert "Co-bidding network" in english.text


async def test_the_rule_catalogue_and_the_editor(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await _alerts(session_maker)
    await log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    rules = await client.get("/integrity/rules")
    assert rules.status_code == 200
    assert f'data-rule-id="{PRICE_RULE.id}"' in rules.text
    assert PRICE_RULE.basis in rules.text
    assert "cv_max = 0.02" in rules.text
    edit = await client.get(f"/integrity/rules/{PRICE_RULE.id}/edit")
    assert edit.status_code == 200
    form = {
        "_csrf_token": csrf_token(edit.text),
        "name": PRICE_RULE.name,
        "basis": PRICE_RULE.basis,
        "severity": "amber",
        "thresholds": "cv_max = abc\nmin_bids = 3",
        "description": PRICE_RULE.description,
        "reason": "收紧",
        "base_version": "1",
    }
    refused = await client.post(f"/integrity/rules/{PRICE_RULE.id}/versions", data=form)
    assert refused.status_code == 422
    assert 'data-field="thresholds.cv_max"' in refused.text
    saved = await client.post(
        f"/integrity/rules/{PRICE_RULE.id}/versions", data={**form, "thresholds": "cv_max = 0.01\nmin_bids = 3"}
    )
    assert saved.status_code == 303
    rule = await client.get(f"/integrity/rules/{PRICE_RULE.id}")
    assert 'data-version="2"' in rule.text
    assert 'data-version="1"' in rule.text
    assert "收紧" in rule.text
    assert "开标后" in rule.text  # when it runs (a price rule read at the opening)
    async with session_maker() as session:  # the shipped catalogue, PRICE-CEILING among it
        await service.ensure_rules_seeded(session)
        await session.commit()
    ceiling = await client.get("/integrity/rules/PRICE-CEILING")
    assert ceiling.status_code == 200
    assert "定标确定中标人后" in ceiling.text  # PRICE-CEILING reads the winner: screened at the award


@pytest.mark.parametrize("role", [Role.BIDDER, Role.EXPERT, Role.TENDEREE, Role.AGENCY])
async def test_the_people_screened_see_nothing(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, role: Role
) -> None:
    device, _ = await _alerts(session_maker)
    await log_in(client, await create_account(session_maker, settings, role))
    for path in ("/integrity/alerts", f"/integrity/alerts/{device.id}", "/integrity/rules"):
        assert (await client.get(path)).status_code == 403, path


@pytest.mark.parametrize("role", [Role.BIDDER, Role.EXPERT])
async def test_the_api_refuses_the_people_screened(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, role: Role
) -> None:
    device, _ = await _alerts(session_maker)
    headers = bearer(await api_token(client, await create_account(session_maker, settings, role)))
    assert (await client.get("/api/v1/integrity/alerts", headers=headers)).status_code == 403
    assert (await client.get(f"/api/v1/integrity/alerts/{device.id}", headers=headers)).status_code == 403


async def test_the_api_lists_shows_and_reviews(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    device, price = await _alerts(session_maker)
    headers = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    listing = (await client.get("/api/v1/integrity/alerts", params={"severity": "red"}, headers=headers)).json()
    assert (listing["total"], [a["id"] for a in listing["items"]]) == (1, [str(device.id)])
    assert listing["items"][0]["ruleVersion"] == 1
    assert listing["items"][0]["lot"] is None
    scoped = (await client.get("/api/v1/integrity/alerts", params={"scope": "lot-prices"}, headers=headers)).json()
    assert [a["id"] for a in scoped["items"]] == [str(price.id)]
    detail = (await client.get(f"/api/v1/integrity/alerts/{device.id}", headers=headers)).json()
    assert detail["evidence"]["matches"][0]["value"] == "ab12cd"
    url = f"/api/v1/integrity/alerts/{device.id}/reviews"
    assert (await client.post(url, json={"status": "reviewing"}, headers=headers)).status_code == 200
    refused = await client.post(url, json={"status": "confirmed", "reason": ""}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reason"
    confirmed = await client.post(
        url, json={"status": "confirmed", "reason": "设备指纹一致且报价等差"}, headers=headers
    )
    assert confirmed.json()["status"] == "confirmed"
    again = await client.post(url, json={"status": "dismissed", "reason": "x"}, headers=headers)
    assert (again.status_code, again.json()["errors"][0]["field"]) == (409, "status")
