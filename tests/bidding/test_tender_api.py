"""The tender API: public search and detail, drafting and publication over HTTP, downloads, secrecy."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.opening.jobs import TenderDeadline
from tests.bidding.factories import (
    TENDER_DOCUMENT,
    Party,
    draft_tender,
    ledger_reader,
    published_tender,
    sign_document,
)
from trading.kernel import clock
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.repository import EntryFilter, LedgerRepository
from trading.ledger.service import chain_for

pytestmark = pytest.mark.usefixtures("dev_lists")


async def test_draft_sign_publish_over_http(
    *, client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], owner: Party
) -> None:
    headers = await owner.headers(client)
    async with session_maker() as session:
        now = await clock.now(session)
    body = {
        "projectCode": "API-0001",
        "title": "某学校设备采购",
        "category": "engineering",
        "tenderType": "engineering-mandatory",
        "estimate": "500000.00",
        "evaluationMethod": "lowest-evaluated-price",
        "lots": [{"code": "L1", "name": "一标段", "estimate": "500000.00"}],
        "bidSecurityAmount": "10000.00",
        "documentsFrom": now.isoformat(),
        "documentsUntil": (now + timedelta(days=10)).isoformat(),
        "deadline": (now + timedelta(days=21)).isoformat(),
    }
    created = await client.post("/api/v1/bidding/tenders", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft"

    refused = await client.post("/api/v1/bidding/tenders/API-0001/publication", headers=headers)
    assert refused.status_code == 422
    assert {(e["field"], e["rule"]) for e in refused.json()["errors"]} == {("documents", "signed_tender_document")}

    signature = await sign_document(owner.sign, TENDER_DOCUMENT)
    uploaded = await client.post(
        "/api/v1/bidding/tenders/API-0001/documents",
        files={
            "file": ("tender.pdf", TENDER_DOCUMENT, "application/pdf"),
            "signature": ("tender.pdf.p7s", signature, "application/pkcs7-signature"),
        },
        data={"kind": "tender-document", "title": "招标文件"},
        headers=headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    published = await client.post("/api/v1/bidding/tenders/API-0001/publication", headers=headers)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"

    public = await client.get("/api/v1/bidding/tenders/API-0001")
    assert public.status_code == 200
    detail = public.json()
    assert detail["serverTime"]
    assert detail["deadline"]
    assert len(detail["documents"]) == 1
    listing = await client.get("/api/v1/bidding/tenders", params={"q": "API-0001"})
    assert [item["code"] for item in listing.json()["items"]] == ["API-0001"]


async def test_bad_signature_is_refused_naming_the_field(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    bidder: Party,
) -> None:
    headers = await owner.headers(client)
    tender = await draft_tender(session_maker, settings, store, owner, signed=False)
    response = await client.post(
        f"/api/v1/bidding/tenders/{tender.project_code}/documents",
        files={
            "file": ("tender.pdf", TENDER_DOCUMENT, "application/pdf"),
            "signature": ("x.p7s", await sign_document(bidder.sign, TENDER_DOCUMENT), "application/pkcs7-signature"),
        },
        data={"kind": "tender-document", "title": "招标文件"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "field": "signature",
        "rule": "signer-not-tenderee",
        "message": response.json()["errors"][0]["message"],
    }


async def test_download_clarify_and_sealed_listing(
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    owner: Party,
    bidder: Party,
) -> None:
    tender = await published_tender(session_maker, settings, store, owner)
    owner_headers, bidder_headers = await owner.headers(client), await bidder.headers(client)
    base = f"/api/v1/bidding/tenders/{tender.project_code}"
    [document] = (await client.get(base)).json()["documents"]

    anonymous = await client.get(f"{base}/documents/{document['id']}")
    assert anonymous.status_code in {401, 403}
    downloaded = await client.get(f"{base}/documents/{document['id']}", headers=bidder_headers)
    assert downloaded.status_code == 200
    assert downloaded.content == TENDER_DOCUMENT
    signature = await client.get(f"{base}/documents/{document['id']}/signature", headers=bidder_headers)
    assert signature.status_code == 200
    assert signature.headers["content-type"].startswith("application/pkcs7")

    asked = await client.post(f"{base}/questions", json={"text": "是否接受联合体？"}, headers=bidder_headers)
    assert asked.status_code == 201, asked.text
    questions = (await client.get(f"{base}/questions", headers=owner_headers)).json()
    assert [q["text"] for q in questions] == ["是否接受联合体？"]
    assert "organisationId" not in questions[0]

    sealed = await client.get(f"{base}/downloads", headers=owner_headers)
    assert sealed.status_code == 403
    assert sealed.json()["errors"][0]["rule"] == "sealed_until_deadline"
    async with session_maker() as session:
        refused = await LedgerRepository(session).list_entries(
            ledger_reader(),
            EntryFilter(chain=chain_for(tender.project_code), action="bidding.downloads_list_refused"),
            limit=10,
        )
        assert [entry.actor_label for entry in refused] == [owner.account.username]

    with use_clock(ShiftedClock(timedelta(days=10))):
        text = b"clarification over http"
        clarified = await client.post(
            f"{base}/clarifications",
            files={
                "file": ("c.pdf", text, "application/pdf"),
                "signature": ("c.p7s", await sign_document(owner.sign, text), "application/pkcs7-signature"),
            },
            data={"title": "澄清一", "answers": json.dumps({questions[0]["id"]: "接受。"})},
            headers=owner_headers,
        )
        assert clarified.status_code == 201, clarified.text
        assert clarified.json()["deadlineAfter"] is not None
        mine = (await client.get(f"{base}/questions/mine", headers=bidder_headers)).json()
        assert mine[0]["answer"] == "接受。"

    with use_clock(ShiftedClock(timedelta(days=26))):
        await run_sweep(session_maker, [TenderDeadline(store)])
        listing = await client.get(f"{base}/downloads", headers=owner_headers)
    assert listing.status_code == 200, listing.text
    [line] = listing.json()["downloaders"]
    assert (line["organisationId"], line["downloads"]) == (str(bidder.organisation_id), 1)
