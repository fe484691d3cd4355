"""The catalogue's API (``/api/v1/procurement/rules``): reads for every reader role, a new version
for the procurement office only, refusals as problem+json naming the field and the rule.
"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.procurement.rule_catalogue.support import FOUND_BY_NOTHING, NEW_SUGGESTION, RULE, draft
from tests.trading.parties.factories import api_token, bearer, create_account, ledger_entries
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings

BASE = "/api/v1/procurement/rules"


def _body(**changes: object) -> dict[str, object]:
    d = draft()
    return {
        "name": d.name,
        "basis": d.basis,
        "severity": d.severity.value,
        "suggestion": d.suggestion,
        "reason": d.reason,
        "baseVersion": d.base_version,
        "patterns": list(d.patterns),
        "negations": list(d.negations),
        "positiveExamples": list(d.positive_examples),
        "negativeExamples": list(d.negative_examples),
        **changes,
    }


async def test_the_catalogue_over_the_api(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    office = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    bidder = bearer(await api_token(client, await create_account(session_maker, settings, Role.BIDDER)))

    listed = await client.get(f"{BASE}/", headers=bidder)
    assert listed.status_code == 200, listed.text
    assert RULE.id in {rule["id"] for rule in listed.json()}
    filtered = await client.get(f"{BASE}/", params={"severity": RULE.severity.value}, headers=bidder)
    assert {rule["severity"] for rule in filtered.json()} == {RULE.severity.value}
    assert (await client.get(f"{BASE}/")).status_code == 401

    refused = await client.post(
        f"{BASE}/{RULE.id}/versions",
        json=_body(patterns=[*RULE.patterns, "(x"], positiveExamples=[*RULE.positive_examples, FOUND_BY_NOTHING]),
        headers=office,
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    named = {(e["field"], e["rule"]) for e in refused.json()["errors"]}
    assert ("patterns", "regex_invalid") in named
    assert (await client.get(f"{BASE}/{RULE.id}/versions", headers=office)).json()[0]["version"] == 1

    assert (await client.post(f"{BASE}/{RULE.id}/versions", json=_body(), headers=bidder)).status_code == 403
    created = await client.post(f"{BASE}/{RULE.id}/versions", json=_body(), headers=office)
    assert created.status_code == 201, created.text
    assert (created.json()["version"], created.json()["suggestion"]) == (2, NEW_SUGGESTION)

    current = await client.get(f"{BASE}/{RULE.id}", headers=bidder)
    assert current.json()["version"] == 2
    first = await client.get(f"{BASE}/{RULE.id}/versions/1", headers=bidder)
    assert (first.json()["version"], first.json()["suggestion"]) == (1, RULE.suggestion)
    assert [v["version"] for v in (await client.get(f"{BASE}/{RULE.id}/versions", headers=bidder)).json()] == [2, 1]
    assert (await client.get(f"{BASE}/{RULE.id}/versions/9", headers=bidder)).status_code == 404
    assert (await client.get(f"{BASE}/{RULE.id}/versions/{2**40}", headers=bidder)).status_code == 404
    assert (await client.get(f"{BASE}/NL-NO-SUCH", headers=bidder)).status_code == 404
    entries = await ledger_entries(session_maker, action="procurement.rule_version_created", subject_id=RULE.id)
    assert [entry.summary["version"] for entry in entries] == [2]
