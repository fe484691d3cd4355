"""A purchaser fills a template, the checker finds a blocking clause, the gate holds on the API and
the page until the clause is fixed or justified with a reviewer's approval; four eyes; the ledger.
"""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.procurement.requirements.factories import (
    API,
    CLEAN_QUALIFICATIONS,
    ITEM_OF_CATEGORY,
    OVERVIEW,
    PACKAGE,
    PAGES,
    filled_requirement,
    headers,
    log_in,
    purchasing_unit,
)
from tests.trading.parties.factories import create_account, csrf_token, ledger_entries
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

FIXED_QUALIFICATIONS = CLEAN_QUALIFICATIONS


async def test_fill_find_fix_and_the_finding_is_gone(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    unit = await purchasing_unit(session_maker, settings)
    auth = await headers(client, unit.author)
    body = await filled_requirement(client, auth)
    assert body["templateVersion"] == "2026.1"
    [finding] = [f for f in body["findings"] if f["field"] == "packages[0].qualifications"]
    assert finding["rule"] == "NL-QUAL-REGION"
    assert finding["ruleVersion"] == 1
    assert finding["severity"] == "blocking"
    text = PACKAGE["qualifications"]
    assert text[finding["start"] : finding["end"]].startswith("注册地须在本市")
    assert finding["excerpt"] == "投标人注册地须在本市行政区域内。"
    assert "第二十条" in finding["basis"]
    assert finding["suggestion"]
    assert body["blocking"] == [finding["id"]]

    fixed = await client.put(
        f"{API}/{body['id']}/parts/package",
        json={"fields": {**PACKAGE, "qualifications": FIXED_QUALIFICATIONS}, "package": 0},
        headers=auth,
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["findings"] == []
    assert fixed.json()["blocking"] == []
    submitted = await client.post(f"{API}/{body['id']}/submission", headers=auth)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    assert submitted.json()["reviewLevel"] == "general"


async def test_unfixed_blocking_finding_cannot_be_submitted_api_and_page(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    unit = await purchasing_unit(session_maker, settings)
    auth = await headers(client, unit.author)
    body = await filled_requirement(client, auth)
    refused = await client.post(f"{API}/{body['id']}/submission", headers=auth)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["findings"][0]["rule"] == "NL-QUAL-REGION"
    assert problem["findings"][0]["ruleVersion"] == 1
    assert problem["findings"][0]["field"] == "packages[0].qualifications"
    assert (await client.get(f"{API}/{body['id']}", headers=auth)).json()["state"] == "draft"

    await log_in(client, unit.author)
    page = await client.get(f"{PAGES}/{body['id']}")
    assert page.status_code == 200
    assert "投标人<mark>注册地须在本市" in page.text
    submit = await client.post(f"{PAGES}/{body['id']}/submission", data={"_csrf_token": csrf_token(page.text)})
    assert submit.status_code == 409
    assert 'id="blocked"' in submit.text
    assert "NL-QUAL-REGION" in submit.text
    assert "阻断性问题未解决" in submit.text
    assert (await client.get(f"{API}/{body['id']}", headers=auth)).json()["state"] == "draft"
    assert await ledger_entries(session_maker, action="procurement.requirement_submitted", subject_id=body["id"]) == []


async def test_a_justification_unblocks_only_with_another_members_approval(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    unit = await purchasing_unit(session_maker, settings)
    author, reviewer = await headers(client, unit.author), await headers(client, unit.reviewer)
    body = await filled_requirement(client, author)
    rid, finding = body["id"], body["blocking"][0]

    bad = await client.post(f"{API}/{rid}/justifications", json={"findingId": finding, "reason": "  "}, headers=author)
    assert bad.status_code == 422
    assert (bad.json()["errors"][0]["field"], bad.json()["errors"][0]["rule"]) == ("reason", "required")
    filed = await client.post(
        f"{API}/{rid}/justifications",
        json={"findingId": finding, "reason": "本项目须在本市设立急救联动点，已经论证。"},
        headers=author,
    )
    assert filed.status_code == 201, filed.text
    justification = filed.json()["id"]
    # Pending is not approved: still blocked.
    assert (await client.post(f"{API}/{rid}/submission", headers=author)).status_code == 409
    # The author cannot approve their own.
    own = await client.post(f"{API}/justifications/{justification}/decision", json={"approve": True}, headers=author)
    assert own.status_code == 403
    assert own.json()["type"].endswith("requirement_four_eyes") or "four" in own.text
    # A member of another unit does not even see it.
    outsider = await headers(client, await create_account(session_maker, settings, Role.TENDEREE))
    assert (
        await client.post(f"{API}/justifications/{justification}/decision", json={"approve": True}, headers=outsider)
    ).status_code == 404

    approved = await client.post(
        f"{API}/justifications/{justification}/decision", json={"approve": True, "note": "同意"}, headers=reviewer
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    submitted = await client.post(f"{API}/{rid}/submission", headers=author)
    assert submitted.status_code == 200, submitted.text

    # The internal review: never the author; the reviewer approves.
    assert (await client.post(f"{API}/{rid}/reviews", json={"approve": True}, headers=author)).status_code == 403
    reviewed = await client.post(f"{API}/{rid}/reviews", json={"approve": True, "note": "符合要求"}, headers=reviewer)
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["state"] == "approved"

    for action in (
        "procurement.requirement_created",
        "procurement.requirement_saved",
        "procurement.justification_filed",
        "procurement.justification_approved",
        "procurement.requirement_submitted",
        "procurement.requirement_approved",
    ):
        assert await ledger_entries(session_maker, action=action, subject_id=rid), action

    supervisor = await create_account(session_maker, settings, Role.SUPERVISOR)
    await log_in(client, supervisor)
    page = await client.get(f"{PAGES}/supervision")
    assert page.status_code == 200
    assert "本项目须在本市设立急救联动点" in page.text
    assert 'data-status="approved"' in page.text


async def test_a_rejected_justification_keeps_the_block_and_a_rejection_needs_a_note(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    unit = await purchasing_unit(session_maker, settings)
    author, reviewer = await headers(client, unit.author), await headers(client, unit.reviewer)
    body = await filled_requirement(client, author)
    filed = await client.post(
        f"{API}/{body['id']}/justifications",
        json={"findingId": body["blocking"][0], "reason": "需要本地"},
        headers=author,
    )
    jid = filed.json()["id"]
    no_note = await client.post(f"{API}/justifications/{jid}/decision", json={"approve": False}, headers=reviewer)
    assert no_note.status_code == 422
    assert no_note.json()["errors"][0]["field"] == "note"
    rejected = await client.post(
        f"{API}/justifications/{jid}/decision", json={"approve": False, "note": "理由不充分"}, headers=reviewer
    )
    assert rejected.json()["status"] == "rejected"
    assert (await client.post(f"{API}/{body['id']}/submission", headers=author)).status_code == 409
    assert await ledger_entries(session_maker, action="procurement.justification_rejected", subject_id=body["id"])


async def test_bad_fields_are_refused_whole_naming_field_and_rule(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    unit = await purchasing_unit(session_maker, settings)
    auth = await headers(client, unit.author)
    body = await filled_requirement(client, auth)
    refused = await client.put(
        f"{API}/{body['id']}/parts/package",
        json={"fields": {**PACKAGE, "budget": "很多", "name": "改了"}, "package": 0},
        headers=auth,
    )
    assert refused.status_code == 422
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [("packages[0].budget", "number")]
    after = (await client.get(f"{API}/{body['id']}", headers=auth)).json()
    assert after["content"]["packages"][0]["name"] == PACKAGE["name"]  # nothing half-written
    # The item must be in the commodity library, in the requirement's category (goods: A…).
    for code, rule in (("A99999999", "catalogue"), ("C1001", "category")):
        item = await client.put(
            f"{API}/{body['id']}/parts/overview", json={"fields": {**OVERVIEW, "item_code": code}}, headers=auth
        )
        assert item.status_code == 422, item.text
        assert [(e["field"], e["rule"]) for e in item.json()["errors"]] == [("item_code", rule)]
    kept = (await client.get(f"{API}/{body['id']}", headers=auth)).json()
    assert kept["content"]["overview"]["item_code"] == OVERVIEW["item_code"]
    # A missing required field at submission names it.
    await client.put(
        f"{API}/{body['id']}/parts/package",
        json={"fields": {**PACKAGE, "qualifications": "具有独立承担民事责任的能力。", "payment": ""}, "package": 0},
        headers=auth,
    )
    missing = await client.post(f"{API}/{body['id']}/submission", headers=auth)
    assert missing.status_code == 422
    assert ("packages[0].payment", "required") in {(e["field"], e["rule"]) for e in missing.json()["errors"]}
    # Another unit sees nothing.
    other = await headers(client, await create_account(session_maker, settings, Role.TENDEREE))
    assert (await client.get(f"{API}/{body['id']}", headers=other)).status_code == 404


async def test_the_survey_becomes_required_and_the_review_focused_for_a_large_budget(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    unit = await purchasing_unit(session_maker, settings)
    auth = await headers(client, unit.author)
    body = await filled_requirement(client, auth, category="services")
    assert body["obligations"]["surveyRequired"] is False
    await client.put(
        f"{API}/{body['id']}/parts/package",
        json={"fields": {**PACKAGE, "qualifications": "具有独立承担民事责任的能力。"}, "package": 0},
        headers=auth,
    )
    large = await client.put(
        f"{API}/{body['id']}/parts/overview",
        json={"fields": {**OVERVIEW, "item_code": ITEM_OF_CATEGORY["services"], "budget": "12000000"}},
        headers=auth,
    )
    assert large.json()["obligations"] == {
        "surveyRequired": True,
        "focusedReview": True,
        "reasons": ["预算金额达到 1000 万元"],
        "exempt": False,
    }
    missing = await client.post(f"{API}/{body['id']}/submission", headers=auth)
    assert missing.status_code == 422
    assert "survey.market_supply" in {e["field"] for e in missing.json()["errors"]}

    await log_in(client, unit.author)
    page = await client.get(f"{PAGES}/{body['id']}")
    assert 'id="survey-required" data-value="yes"' in page.text
    assert 'id="review-level" data-value="focused"' in page.text
    assert "重点审查" in page.text


async def test_the_part_form_shows_the_finding_and_saving_the_fix_removes_it(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    unit = await purchasing_unit(session_maker, settings)
    body = await filled_requirement(client, await headers(client, unit.author))
    await log_in(client, unit.author)
    form = await client.get(f"{PAGES}/{body['id']}/parts/package?package=0")
    assert form.status_code == 200
    assert "<mark>注册地须在本市" in form.text
    assert "修改建议" in form.text
    data = {**PACKAGE, "_csrf_token": csrf_token(form.text), "qualifications": FIXED_QUALIFICATIONS}
    bad = await client.post(
        f"{PAGES}/{body['id']}/parts/package?package=0",
        data={**data, "price_weight": "一百二十"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422
    assert 'data-rule="number"' in bad.text
    assert "<mark>注册地须在本市" in bad.text  # nothing saved
    saved = await client.post(
        f"{PAGES}/{body['id']}/parts/package?package=0", data=data, headers={"HX-Request": "true"}
    )
    assert saved.status_code == 200
    assert 'id="saved"' in saved.text
    assert "<mark>" not in saved.text
    assert re.search(r"<html", saved.text) is None  # a fragment for HTMX


async def test_pages_create_and_list(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    unit = await purchasing_unit(session_maker, settings)
    await log_in(client, unit.author)
    listing = await client.get(f"{PAGES}/")
    assert listing.status_code == 200
    token = csrf_token(listing.text)
    refused = await client.post(f"{PAGES}/", data={"_csrf_token": token, "title": "", "category": "boats"})
    assert refused.status_code == 422
    assert 'data-rule="required"' in refused.text
    assert 'data-rule="known"' in refused.text
    created = await client.post(f"{PAGES}/", data={"_csrf_token": token, "title": "办公家具采购", "category": "goods"})
    assert created.status_code == 303
    detail = await client.get(created.headers["location"])
    assert "办公家具采购" in detail.text
    assert (await client.get(f"{PAGES}/templates")).status_code == 200
    assert (await client.get(f"{PAGES}/findings")).status_code == 200
    assert (await client.get(f"{PAGES}/reviews")).status_code == 200
