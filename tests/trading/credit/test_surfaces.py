"""The credit API, the public organisation page, the staff import page and ``ggzy credit import``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.credit.samples import csv_bytes, json_bytes, row
from tests.trading.parties.factories import PASSWORD, Account, api_token, bearer, create_account, csrf_token, new_uscc
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings

BASE = "/api/v1/credit"
GGZY = str(Path(sys.executable).parent / "ggzy")


async def _uscc(session_maker: async_sessionmaker[AsyncSession], account: Account) -> str:
    async with session_maker() as session:
        value = await session.scalar(
            text("SELECT uscc FROM parties_organisations WHERE id = :id"), {"id": account.organisation_id}
        )
    return str(value)


async def test_the_api_imports_lists_and_answers_eligibility(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    staff = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    bidder_account = await create_account(session_maker, settings, Role.BIDDER)
    bidder = bearer(await api_token(client, bidder_account))
    uscc = await _uscc(session_maker, bidder_account)
    body = {"format": "csv", "content": csv_bytes([row(uscc, 有效期至="")]).decode(), "label": "api"}
    assert (await client.post(f"{BASE}/imports", json=body, headers=bidder)).status_code == 403
    imported = await client.post(f"{BASE}/imports", json=body, headers=staff)
    assert imported.status_code == 201, imported.text
    assert imported.json()["created"] == 1

    bad = {
        "format": "json",
        "content": json_bytes([row(uscc, 决定日期=""), row("X", 决定文书号="2")]).decode(),
        "label": "x",
    }
    refused = await client.post(f"{BASE}/imports", json=bad, headers=staff)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert {(e["row"], e["rule"]) for e in refused.json()["errors"]} == {(1, "required"), (2, "length")}

    records = await client.get(f"{BASE}/organisations/{bidder_account.organisation_id}/records", headers=bidder)
    assert records.status_code == 200
    assert [(r["decision_no"], r["kind"], r["reason"]) for r in records.json()] == [
        ("苏建罚〔2026〕101号", "blacklist", "串通投标")
    ]
    assert records.json()[0]["history"] == []  # the history is for those who manage records
    managed = await client.get(f"{BASE}/organisations/{bidder_account.organisation_id}/records", headers=staff)
    assert [change["action"] for change in managed.json()[0]["history"]] == ["published"]
    assert (await client.get(f"{BASE}/organisations/{bidder_account.organisation_id}/records")).status_code == 401

    answer = await client.get(
        f"{BASE}/eligibility",
        params={"organisation_id": str(bidder_account.organisation_id), "activity": "bidding"},
        headers=bidder,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["allowed"] is False
    assert answer.json()["blocking"][0]["reason"] == "串通投标"
    before = await client.get(
        f"{BASE}/eligibility",
        params={
            "organisation_id": str(bidder_account.organisation_id),
            "activity": "bidding",
            "at": "2026-02-01T00:00:00+08:00",
        },
        headers=bidder,
    )
    assert before.json()["allowed"] is True


async def _log_in(client: httpx.AsyncClient, account: Account) -> None:
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text


async def test_staff_import_page_and_the_public_page_in_chinese(
    app: Litestar, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    bidder_account = await create_account(session_maker, settings, Role.BIDDER)
    uscc = await _uscc(session_maker, bidder_account)
    await _log_in(client, await create_account(session_maker, settings, Role.SUPERVISOR))
    form = await client.get("/credit/imports")
    assert form.status_code == 200
    assert "导入信用记录" in form.text
    token = csrf_token(form.text)

    bad = csv_bytes([row(uscc), row(new_uscc(), 决定日期="昨天"), row(uscc[:-1], 决定文书号="B")])
    refused = await client.post(
        "/credit/imports",
        data={"_csrf_token": token, "label": "网页导入"},
        files={"file": ("penalties.csv", bad, "text/csv")},
    )
    assert refused.status_code == 422
    assert "文件被拒绝，未导入任何记录" in refused.text
    # Spreadsheet lines: the header is line 1, the refused records are lines 3 and 4.
    assert 'data-row="3"' in refused.text
    assert 'data-row="4"' in refused.text
    assert 'data-row="2"' not in refused.text

    good = await client.post(
        "/credit/imports",
        data={"_csrf_token": token, "label": "网页导入"},
        files={"file": ("penalties.csv", csv_bytes([row(uscc)]), "text/csv")},
    )
    assert good.status_code == 200, good.text
    assert '<dd id="created">1</dd>' in good.text

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as anonymous:
        public = await anonymous.get(f"/credit/organisations/{bidder_account.organisation_id}")
    assert public.status_code == 200
    for text_shown in ("有效的信用记录", "黑名单", "苏建罚〔2026〕101号", "江苏省住房和城乡建设厅", "招标投标"):
        assert text_shown in public.text
    assert "《中华人民共和国招标投标法》第五十三条" in public.text


async def test_the_public_page_of_an_unknown_organisation_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/credit/organisations/00000000-0000-0000-0000-000000000000")).status_code == 404


async def test_ggzy_credit_import(pg_databases: None, fresh_db: str, tmp_path: Path) -> None:
    env = {**os.environ, "GGZY_DB_URL": fresh_db, "GGZY_STORAGE_DIR": str(tmp_path / "files")}

    def ggzy(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [GGZY, "credit", "import", *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([row(new_uscc()), row("", 决定文书号="2"), row(new_uscc(), 处罚事由="")]))
    refused = await asyncio.to_thread(ggzy, str(bad))
    assert refused.returncode == 1
    assert "row 3: 统一社会信用代码 (required)" in refused.stderr
    assert "row 4: 处罚事由 (required)" in refused.stderr
    good = tmp_path / "good.json"
    good.write_bytes(json_bytes([row(new_uscc()), row(new_uscc())]))
    imported = await asyncio.to_thread(ggzy, str(good), "--label", "cli")
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 rows as import:cli: 2 created" in imported.stdout
    engine = create_engine(fresh_db)
    try:
        async with create_session_maker(engine)() as session:
            count = await session.scalar(text("SELECT count(*) FROM credit_records"))
        assert count == 2
    finally:
        await engine.dispose()
