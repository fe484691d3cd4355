"""The host uploads the requirement set on the tender's management pages (a draft), imports the
bill of quantities from Excel, and sees every refusal with its field and rule; once published the
set is fixed and public."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openpyxl
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import RequirementSetRecord
from bidding.models import Tender
from bidding.tenders.service import TenderService
from certs.devpki.pki import DevPki
from tests.bidding.evaluation.scoring.test_pages import log_in
from tests.bidding.evaluation.scoring.world import requirement_set
from tests.bidding.factories import draft_tender, ledger_entries, tenderee_party
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # as tests/conftest.py
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


def xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def stored(session_maker: async_sessionmaker[AsyncSession], tender: Tender) -> RequirementSetRecord | None:
    async with session_maker() as session:
        return await session.get(RequirementSetRecord, tender.id)


async def test_upload_refusals_bill_import_and_publication(  # noqa: PLR0915 - one walk through the pages
    *,
    browser: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
) -> None:
    tenderee = await tenderee_party(session_maker, settings, dev_pki)
    tender = await draft_tender(session_maker, settings, store, tenderee, lots=1)
    assert tender.deadline is not None
    code = tender.project_code
    csrf = await log_in(browser, tenderee.account)
    manage = await browser.get(f"/bidding/manage/tenders/{code}")
    assert f'href="/bidding/manage/tenders/{code}/requirements"' in manage.text
    page = await browser.get(f"/bidding/manage/tenders/{code}/requirements")
    assert page.status_code == 200, page.text
    assert "需求规范" in page.text

    async def upload(document: dict[str, Any] | bytes, path: str = "requirements", name: str = "r.json") -> Any:
        body = document if isinstance(document, bytes) else json.dumps(document, ensure_ascii=False).encode()
        return await browser.post(
            f"/bidding/manage/tenders/{code}/{path}",
            data={"_csrf_token": csrf},
            files={"file": (name, body, "application/octet-stream")},
        )

    good = requirement_set(code)
    good["deadline"] = tender.deadline.isoformat()
    bad_cases = [
        ({**good, "tender": "T-OTHER"}, "tender_match"),
        ({**good, "lot": "L9"}, "lot_exists"),
        ({**good, "deadline": "2020-01-01T00:00:00+08:00"}, "deadline_match"),
        ({**good, "starItems": [{"code": "S1", "text": "a"}, {"code": "S1", "text": "b"}]}, "unique"),
        ({k: v for k, v in good.items() if k != "sector"}, "required"),
    ]
    for document, rule in bad_cases:
        refused = await upload(document)
        assert refused.status_code == 422, (rule, refused.text[:300])
        assert f'data-rule="{rule}"' in refused.text, rule
        assert await stored(session_maker, tender) is None
    bill_first = await upload(xlsx([["项目编码", "项目名称", "计量单位", "工程量"]]), "requirements/bill", "b.xlsx")
    assert 'data-rule="requirements_first"' in bill_first.text

    accepted = await upload(good)
    assert accepted.status_code == 303, accepted.text[:500]
    record = await stored(session_maker, tender)
    assert record is not None
    assert record.document == json.dumps(good, ensure_ascii=False).encode()

    rows = [["项目编码", "项目名称", "计量单位", "工程量"], ["010101001001", "挖一般土方", "m³", "130.5"]]
    imported = await upload(xlsx(rows), "requirements/bill", "bill.xlsx")
    assert imported.status_code == 303, imported.text[:500]
    record = await stored(session_maker, tender)
    assert record is not None
    assert [line["quantity"] for line in json.loads(record.document)["bill"]] == ["130.5"]
    bad_bill = await upload(xlsx([*rows, ["", "回填方", "m³", "-1"]]), "requirements/bill", "bill.xlsx")
    assert bad_bill.status_code == 422
    assert "data-rule=" in bad_bill.text
    unchanged = await stored(session_maker, tender)
    assert unchanged is not None
    assert unchanged.sha256 == record.sha256

    public_before = await browser.get(f"/bidding/tenders/{code}/requirements.json")
    assert public_before.status_code == 404  # a draft's set is not public

    async with session_maker() as session:
        draft = (await session.scalars(sa.select(Tender).where(Tender.id == tender.id))).one()
        await TenderService(session, settings, store).publish(tenderee.actor(), draft)
        await session.commit()
        assert len(await ledger_entries(session, f"project:{code}", "evaluation.requirements_uploaded")) == 2
    fixed = await upload(good)
    assert fixed.status_code == 422
    assert 'data-rule="tender_draft"' in fixed.text
    browser.cookies.clear()
    public = await browser.get(f"/bidding/tenders/{code}/requirements")
    assert public.status_code == 200
    assert record.sha256 in public.text
    download = await browser.get(f"/bidding/tenders/{code}/requirements.json")
    assert download.content == record.document
    assert download.headers["X-Content-SHA256"] == record.sha256
    schema = await browser.get(f"/bidding/tenders/{code}/response-schema.json")
    assert schema.json()["$id"].endswith("ggzy-response/1")
