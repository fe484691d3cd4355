"""Bidding pages: the public tender list and detail, a bidder's upload through the page's routes
(the browser's resumable protocol, with CSRF), receipts and withdrawal, and the tenderee's forms."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import sign_statement_async
from bidding.models import DocumentDownload, Tender
from bidding.tenders.service import TenderService
from certs.devpki.pki import DevPki
from tests.bidding.containers import build
from tests.bidding.factories import (
    TENDER_DOCUMENT,
    Party,
    bidder_party,
    draft_tender,
    published_tender,
    sign_document,
)
from tests.trading.parties.factories import PASSWORD, csrf_token
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")

CHUNK = 4096
"""Small chunks, so the test resumes across several PATCHes like the browser's 8 MiB ones."""


@pytest.fixture
async def tender(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore, owner: Party
) -> Tender:
    return await published_tender(session_maker, settings, store, owner, title="淮安某道路改造工程施工招标")


@pytest.fixture
async def other_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser (its own cookie jar) over the same app."""
    # httpx types the ASGI app more narrowly than Litestar declares its __call__ (as tests/conftest.py).
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def log_in(client: httpx.AsyncClient, party: Party) -> str:
    """Log in through the form; returns the CSRF token the page's script sends (the cookie's value)."""
    form = await client.get("/login")
    response = await client.post(
        "/login",
        data={"_csrf_token": csrf_token(form.text), "username": party.account.username, "password": PASSWORD},
    )
    assert response.status_code == 303, response.text
    return str(client.cookies["ggzy_csrf"])


async def upload_in_pages(client: httpx.AsyncClient, token: str, code: str, lot: str, data: bytes) -> httpx.Response:
    """What bidding/static/js/bidding.js does: create, PATCH chunks (resuming from the server's offset), submit."""
    headers = {"x-csrftoken": token}
    created = await client.post(
        f"/bidding/tenders/{code}/lots/{lot}/uploads",
        content=json.dumps({"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}),
        headers={**headers, "content-type": "application/json"},
    )
    assert created.status_code == 201, created.text
    upload_id = created.json()["id"]
    offset = 0
    while offset < len(data):
        sent = await client.patch(
            f"/bidding/uploads/{upload_id}",
            content=data[offset : offset + CHUNK],
            headers={**headers, "Upload-Offset": str(offset), "content-type": "application/offset+octet-stream"},
        )
        assert sent.status_code == 204, sent.text
        offset = int(sent.headers["Upload-Offset"])
    # A repeated chunk (a lost response) is answered with the server's offset to resume from.
    stale = await client.patch(f"/bidding/uploads/{upload_id}", content=b"x", headers={**headers, "Upload-Offset": "0"})
    assert stale.status_code == 409
    assert stale.json()["offset"] == len(data)
    assert (await client.get(f"/bidding/uploads/{upload_id}")).json()["offset"] == len(data)
    return await client.post(f"/bidding/uploads/{upload_id}/submission", headers=headers)


async def test_public_list_and_detail_render_in_chinese(client: httpx.AsyncClient, tender: Tender) -> None:
    listing = await client.get("/bidding/tenders")
    assert listing.status_code == 200
    assert "交易公告" in listing.text
    assert tender.project_code in listing.text
    assert "淮安某道路改造工程施工招标" in listing.text

    searched = await client.get("/bidding/tenders", params={"q": "不存在的项目", "status": "published"})
    assert tender.project_code not in searched.text
    assert "没有符合条件的招标项目" in searched.text

    detail = await client.get(f"/bidding/tenders/{tender.project_code}")
    assert detail.status_code == 200
    assert '<html lang="zh-CN">' in detail.text
    assert "正在接受投标" in detail.text  # published
    assert "距投标截止剩余" in detail.text
    assert tender.deadline is not None
    assert f'data-deadline="{tender.deadline.isoformat()}"' in detail.text
    assert re.search(r'data-server-time="\d{4}-\d\d-\d\dT', detail.text)
    assert "L1" in detail.text
    assert "L2" in detail.text
    # Anonymous visitors see the documents' digests, not the download links.
    assert hashlib.sha256(TENDER_DOCUMENT).hexdigest() in detail.text
    assert "/documents/" not in detail.text

    now = await client.get("/bidding/time")
    assert now.status_code == 200
    assert "T" in now.json()["now"]


async def test_drafts_are_not_public(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
) -> None:
    draft = await draft_tender(session_maker, settings, store, owner)
    assert (await client.get(f"/bidding/tenders/{draft.project_code}")).status_code == 404
    assert draft.project_code not in (await client.get("/bidding/tenders")).text


async def test_bidder_downloads_uploads_gets_a_receipt_and_withdraws(
    *,
    client: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    tender: Tender,
    bidder: Party,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    code = tender.project_code
    token = await log_in(client, bidder)
    detail = await client.get(f"/bidding/tenders/{code}")
    link = re.search(rf'href="(/bidding/tenders/{code}/documents/[0-9a-f-]+)"', detail.text)
    assert link, "a bidder sees the download links"
    downloaded = await client.get(link.group(1))
    assert downloaded.status_code == 200
    assert downloaded.content == TENDER_DOCUMENT
    async with session_maker() as session:
        recorded = await session.scalar(
            sa.select(sa.func.count()).where(DocumentDownload.organisation_id == bidder.organisation_id)
        )
    assert recorded == 1

    page = await client.get(f"/bidding/tenders/{code}/lots/L1/bid")
    assert page.status_code == 200
    assert tender.deadline is not None
    assert f"--tender {code}" in page.text
    assert f"--deadline {tender.deadline.isoformat()}" in page.text
    assert "data-bid-upload" in page.text
    assert "js/bidding.js" in page.text

    built = await build(tmp_path, bidder, tender=code, lot="L1", deadline=tender.deadline)
    submitted = await upload_in_pages(client, token, code, "L1", built.path.read_bytes())
    assert submitted.status_code == 201, submitted.text
    receipt = submitted.json()
    assert receipt["containerSha256"] == built.sha256
    receipt_no = receipt["receiptNo"]

    mine = await client.get("/bidding/bids")
    assert mine.status_code == 200
    assert receipt_no in mine.text
    assert "已递交" in mine.text
    exact = await client.get(receipt["json"])
    assert exact.status_code == 200
    assert json.loads(exact.content)["receiptNo"] == receipt_no
    assert (await client.get(receipt["signature"])).status_code == 200

    # Another bidder cannot read this bidder's receipt.
    other = await bidder_party(session_maker, settings, dev_pki)
    await log_in(other_browser, other)
    assert (await other_browser.get(receipt["json"])).status_code == 404

    # The withdrawal is signed (a CA-bound action): unsigned it is refused and the bid stays.
    unsigned = await client.post(
        f"/bidding/tenders/{code}/lots/L1/withdrawal", data={"_csrf_token": csrf_token(mine.text)}
    )
    assert unsigned.status_code == 422
    assert "已递交" in (await client.get("/bidding/bids")).text
    shown = re.search(r"data-withdrawal-statement><code>(.*?)</code>", mine.text, re.DOTALL)
    assert shown, "the page shows the withdrawal statement to sign"
    statement = html.unescape(shown.group(1))
    assert statement.encode() == fmt.withdrawal_statement(code, "L1", bidder.uscc, receipt_no)
    signature = await sign_statement_async(statement.encode(), bidder.sign.signing())
    withdrawn = await client.post(
        f"/bidding/tenders/{code}/lots/L1/withdrawal",
        data={"_csrf_token": csrf_token(mine.text), "signature": base64.b64encode(signature).decode()},
    )
    assert withdrawn.status_code == 303, withdrawn.text
    after = await client.get(withdrawn.headers["location"])
    assert "已撤回" in after.text
    assert receipt_no in after.text  # the earlier version stays


async def test_refusal_names_field_and_rule_in_chinese(
    client: httpx.AsyncClient, tender: Tender, bidder: Party, tmp_path: Path
) -> None:
    token = await log_in(client, bidder)
    assert tender.deadline is not None
    built = await build(tmp_path, bidder, tender=tender.project_code, lot="L2", deadline=tender.deadline)
    refused = await upload_in_pages(client, token, tender.project_code, "L1", built.path.read_bytes())
    assert refused.status_code == 422
    body = refused.json()
    assert body["rule"] == "matches-upload"
    assert body["field"] == "manifest.lot"
    assert body["text"] == "文件包是为其他招标项目、标段或投标人封装的。"


async def test_an_upload_that_is_not_a_container_is_refused_in_chinese(
    client: httpx.AsyncClient, tender: Tender, bidder: Party
) -> None:
    """The refusal the page's script shows: the rule's sentence in Chinese, no English details and
    no code as text (issue 14: "not a bid container (ZIP)…" reached the Chinese page)."""
    token = await log_in(client, bidder)
    refused = await upload_in_pages(client, token, tender.project_code, "L1", b"this is not a zip file at all")
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert (body["field"], body["rule"]) == ("package", "container")
    assert "ZIP" in body["message"]  # the service's English, kept for machines and the English page
    assert body["text"] == "该文件不是有效的投标文件包（由投标工具生成的 ZIP 文件）。"
    assert body["details"] is None  # no English on the Chinese page
    client.cookies.set("ggzy_locale", "en")
    english = await upload_in_pages(client, token, tender.project_code, "L1", b"this is not a zip file at all")
    assert english.json()["details"] == english.json()["message"]


async def test_upload_routes_refuse_without_csrf(client: httpx.AsyncClient, tender: Tender, bidder: Party) -> None:
    await log_in(client, bidder)
    created = await client.post(
        f"/bidding/tenders/{tender.project_code}/lots/L1/uploads",
        content=json.dumps({"size": 10, "sha256": "0" * 64}),
        headers={"content-type": "application/json"},
    )
    assert created.status_code == 403
    chunk = await client.patch(
        "/bidding/uploads/00000000-0000-0000-0000-000000000000", content=b"x", headers={"Upload-Offset": "0"}
    )
    assert chunk.status_code == 403
    withdrawal = await client.post(f"/bidding/tenders/{tender.project_code}/lots/L1/withdrawal")
    assert withdrawal.status_code == 403


async def test_bidder_pages_need_a_login(client: httpx.AsyncClient, tender: Tender) -> None:
    response = await client.get("/bidding/bids")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert (await client.get(f"/bidding/tenders/{tender.project_code}/lots/L1/bid")).status_code == 303


async def test_bad_draft_form_shows_field_and_rule_and_stores_nothing(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], owner: Party
) -> None:
    await log_in(client, owner)
    form_page = await client.get("/bidding/manage/new")
    assert form_page.status_code == 200
    response = await client.post(
        "/bidding/manage/new",
        data={
            "_csrf_token": csrf_token(form_page.text),
            "projectCode": "WEB-BAD-0001",
            "title": "",
            "category": "engineering",
            "tenderType": "engineering-mandatory",
            "estimate": "-5",
            "lots": "",
            "evaluationMethod": "comprehensive",
            "bidSecurityAmount": "0",
            "bidSecurityForms": ["cash", "guarantee"],
        },
    )
    assert response.status_code == 422
    text = response.text
    assert 'id="error-title"' in text
    assert 'data-rule="required"' in text
    assert "(required)" not in text
    assert 'id="error-estimate"' in text
    assert "数值必须为正数" in text
    assert 'data-rule="positive"' in text
    assert 'id="error-lots"' in text
    assert 'data-rule="min_one"' in text
    assert 'value="WEB-BAD-0001"' in text  # what was typed is kept
    async with session_maker() as session:
        assert await session.scalar(sa.select(Tender).where(Tender.project_code == "WEB-BAD-0001")) is None

    malformed = await client.post(
        "/bidding/manage/new",
        data={"_csrf_token": csrf_token(form_page.text), "estimate": "lots", "deadline": "tomorrow"},
    )
    assert malformed.status_code == 422
    assert "请输入数字" in malformed.text
    assert "请输入日期和时间" in malformed.text


async def test_tenderee_drafts_signs_and_publishes_in_pages(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], owner: Party
) -> None:
    await log_in(client, owner)
    form_page = await client.get("/bidding/manage/new")
    token = csrf_token(form_page.text)
    created = await client.post(
        "/bidding/manage/new",
        data={
            "_csrf_token": token,
            "projectCode": "WEB-0001",
            "title": "淮安某学校设备采购",
            "category": "engineering",
            "tenderType": "engineering-mandatory",
            "estimate": "500000",
            "lots": "L1 | 一标段 | 500000",
            "evaluationMethod": "lowest-evaluated-price",
            "bidSecurityAmount": "10000",
            "bidSecurityForms": ["cash", "guarantee"],
            "documentsFrom": "2020-01-01T09:00",
            "documentsUntil": "2099-01-10T09:00",
            "deadline": "2099-01-21T09:00",
        },
    )
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/bidding/manage/tenders/WEB-0001"
    manage = await client.get("/bidding/manage/tenders/WEB-0001")
    assert "发布前须上传已签名的招标文件" in manage.text  # what still blocks publication

    unsigned = await client.post(
        "/bidding/manage/tenders/WEB-0001/documents",
        data={"_csrf_token": token, "title": "招标文件", "kind": "tender-document"},
        files={"file": ("tender.pdf", TENDER_DOCUMENT, "application/pdf")},
    )
    assert unsigned.status_code == 422
    assert 'id="error-signature"' in unsigned.text

    signature = await sign_document(owner.sign, TENDER_DOCUMENT)
    attached = await client.post(
        "/bidding/manage/tenders/WEB-0001/documents",
        data={"_csrf_token": token, "title": "招标文件", "kind": "tender-document"},
        files={
            "file": ("tender.pdf", TENDER_DOCUMENT, "application/pdf"),
            "signature": ("tender.pdf.p7s", signature, "application/pkcs7-signature"),
        },
    )
    assert attached.status_code == 303, attached.text
    published = await client.post("/bidding/manage/tenders/WEB-0001/publish", data={"_csrf_token": token})
    assert published.status_code == 303, published.text
    assert "正在接受投标" in (await client.get("/bidding/tenders/WEB-0001")).text
    assert "WEB-0001" in (await client.get("/bidding/manage")).text


async def test_document_objection_filed_and_answered_on_the_pages(
    *,
    client: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    tender: Tender,
    owner: Party,
    bidder: Party,
) -> None:
    """实施条例 Art. 22 on the pages: the bidder files a signed objection on the tender page, the
    tenderee answers it on the management page."""
    code = tender.project_code
    async with session_maker() as session:
        tenders = TenderService(session, settings, store)
        view = await tenders.detail(code, Actor.anonymous())
        await tenders.download(bidder.actor(), tender, await tenders.document(tender, view.documents[0].id))
        await session.commit()
    token = await log_in(client, bidder)
    text = "评分标准第二项与采购需求不一致。"
    unsigned = await client.post(
        f"/bidding/tenders/{code}/document-objections",
        data={"_csrf_token": token, "objection": text, "signature": "bm90LWEtc2lnbmF0dXJl"},
    )
    assert unsigned.status_code == 422
    signature = await sign_statement_async(
        fmt.document_objection_statement(code, bidder.uscc, text), bidder.sign.signing()
    )
    filed = await client.post(
        f"/bidding/tenders/{code}/document-objections",
        data={"_csrf_token": token, "objection": text, "signature": base64.b64encode(signature).decode()},
    )
    assert filed.status_code == 303, filed.text
    assert text in (await client.get(f"/bidding/tenders/{code}")).text

    owner_token = await log_in(other_browser, owner)
    manage = await other_browser.get(f"/bidding/manage/tenders/{code}")
    assert text in manage.text
    objection_id = re.search(r"document-objections/([0-9a-f-]{36})/answer", manage.text)
    assert objection_id is not None
    answered = await other_browser.post(
        f"/bidding/manage/tenders/{code}/document-objections/{objection_id.group(1)}/answer",
        data={"_csrf_token": owner_token, "answer": "将发布澄清统一表述。"},
    )
    assert answered.status_code == 303, answered.text
    assert "将发布澄清统一表述。" in (await client.get(f"/bidding/tenders/{code}")).text


async def test_an_upload_start_nested_too_deep_is_refused(
    client: httpx.AsyncClient, tender: Tender, bidder: Party
) -> None:
    token = await log_in(client, bidder)
    created = await client.post(
        f"/bidding/tenders/{tender.project_code}/lots/L1/uploads",
        content="[" * 50_000,
        headers={"x-csrftoken": token, "content-type": "text/plain"},
    )
    assert 400 <= created.status_code < 500
