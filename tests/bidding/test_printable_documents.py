"""Issue 14 item 4: the printable receipt (递交回执, PDF) on 我的投标, the bidder's organisation's
only, and the opening record PDF linked from the tender page and the hall once it is published.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from litestar import Litestar
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.models import Tender
from bidding.opening.models import OpeningSession, Stage
from bidding.opening.record import RECORDS_NAMESPACE
from certs.devpki.pki import DevPki
from tests.bidding.containers import build
from tests.bidding.factories import Party, bidder_party, published_tender
from tests.bidding.test_web import log_in, upload_in_pages
from tests.bidding.visibility_world import World, set_stage
from tests.trading.kernel.test_pdf import poppler, warm_renderer
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")

RECORD_LINK = re.compile(r'href="([^"]+/record\.pdf)"[^>]*data-record-pdf')


async def test_the_bidder_prints_its_receipt_and_no_other_organisation_can(
    *,
    app: Litestar,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    bidder: Party,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    tender = await published_tender(session_maker, settings, store, owner, title="淮安某道路改造工程施工招标")
    assert tender.deadline is not None
    code = tender.project_code
    token = await log_in(client, bidder)
    built = await build(tmp_path, bidder, tender=code, lot="L1", deadline=tender.deadline)
    submitted = await upload_in_pages(client, token, code, "L1", built.path.read_bytes())
    assert submitted.status_code == 201, submitted.text
    receipt_no = submitted.json()["receiptNo"]

    mine = await client.get("/bidding/bids")
    link = f"/bidding/receipts/{receipt_no}/receipt.pdf"
    assert f'href="{link}"' in mine.text, "我的投标 links the printable receipt"
    assert 'href="/bidding/platform-root"' in mine.text, "我的投标 links the root certificate receipts verify against"
    upload_page = await client.get(f"/bidding/tenders/{code}/lots/L1/bid")
    assert f'href="{link}"' in upload_page.text, "the upload page links the receipt PDF once there is a receipt"
    assert submitted.json()["pdf"] == link, "and the receipt the upload script shows links it too"
    warm_renderer()
    printed = await client.get(link)
    assert printed.status_code == 200, printed.text
    assert printed.headers["content-type"] == "application/pdf"
    assert printed.content.startswith(b"%PDF")
    text = "".join(poppler("pdftotext", printed.content, tmp_path).split())
    for fragment in ("递交回执", receipt_no, code, bidder.uscc, "淮安某道路改造工程施工招标", "ggzybidverify-receipt"):
        assert fragment in text, fragment
    assert built.sha256 in text, "the package's SHA-256 is on the receipt"
    root_sha256 = dev_pki.platform_root.certificate.fingerprint(hashes.SHA256()).hex(":").upper()
    assert root_sha256 in text, "the root certificate's fingerprint is printed to compare"
    assert "/bidding/platform-root" in text, "and where to download it"
    signed = await client.get(f"/bidding/receipts/{receipt_no}/receipt.json")
    assert hashlib.sha256(signed.content).hexdigest() in text, "the printed copy names the signed bytes"

    other = await bidder_party(session_maker, settings, dev_pki)
    # httpx types the ASGI app more narrowly than Litestar declares its __call__ (as tests/conftest.py).
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as other_browser:
        await log_in(other_browser, other)
        assert (await other_browser.get(link)).status_code in {403, 404}
        assert (await other_browser.get("/bidding/bids")).text.count(receipt_no) == 0
    async with httpx.AsyncClient(transport=transport, base_url=str(client.base_url)) as anonymous:
        assert (await anonymous.get(link, follow_redirects=False)).status_code in {302, 303, 401, 403}


async def test_the_record_pdf_is_linked_once_published_and_downloads_for_everyone(
    w: World, session_maker: async_sessionmaker[AsyncSession], store: FileStore
) -> None:
    await set_stage(session_maker, w.code, Stage.CLOSED)
    pages = {
        "visitor": [f"/bidding/tenders/{w.code}", f"/bidding/opening/{w.code}"],
        "bidder-A": [f"/bidding/tenders/{w.code}", f"/bidding/opening/{w.code}/bidder"],
        "agency": [f"/bidding/tenders/{w.code}", f"/bidding/opening/{w.code}/host"],
        "supervisor": [f"/bidding/opening/{w.code}/supervise"],
    }
    for name, paths in pages.items():
        for path in paths:
            shown = await w.callers[name].browser.get(path)
            assert shown.status_code == 200, (name, path)
            assert "data-record-pdf" not in shown.text, f"{name} {path}: no record yet, no link"

    # What `publish_record` leaves behind (the rendering and signing are the opening story's test).
    planted = b"%PDF-1.7 planted record"
    digest = hashlib.sha256(planted).hexdigest()
    key = store.put(RECORDS_NAMESPACE, digest, planted)
    async with session_maker() as session:
        tender_id = await session.scalar(select(Tender.id).where(Tender.project_code == w.code))
        await session.execute(
            update(OpeningSession)
            .where(OpeningSession.tender_id == tender_id)
            .values(record_storage_key=key, record_sha256=digest)
        )
        await session.commit()

    for name, paths in pages.items():
        for path in paths:
            shown = await w.callers[name].browser.get(path)
            found = RECORD_LINK.search(shown.text)
            assert found, f"{name} {path}: the published record is linked"
            assert found.group(1) == f"/api/v1/bidding/opening/{w.code}/record.pdf"
            downloaded = await w.callers[name].browser.get(found.group(1))
            assert downloaded.status_code == 200, (name, downloaded.text)
            assert downloaded.content == planted
