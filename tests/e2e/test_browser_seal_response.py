"""Acceptance (issue 15 item 5, the page): a bidder seals its structured response in the browser.

A real ``ggzy serve`` on PostgreSQL (`tests.bidding.harness`, test clock) whose tender publishes a
requirement set (Q1, ★ S1 and S2, a one-line bill). On the sealing page the bidder is told that a
response is expected, with links to the set and the response's schema, and the ``ggzy bid seal``
line carries ``--response``/``--requirements``. In Chromium:

* a response missing ★ item S2 is refused next to its field, naming the rule (in Chinese, with
  ``data-rule``), as soon as it is chosen and again at sealing — and nothing is uploaded;
* the complete response is sealed in the package and submitted with the page's files and prices;
  no request of the whole flow carries its plaintext (a marker in it), while the container is
  seen going out;
* after the opening (two more bidders sealed with the CLI's SDK, every bid decrypted), the opened
  package read as the evaluation reads it (`OpeningService.hall.opened_package`,
  `scoring.documents.read_file`: SHA-256 against the inner manifest the envelopes are bound to)
  holds the chosen file byte for byte, and the assistance (`assistance.assess`) reads it: the
  bill's price, no finding.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bidding.client import format as fmt
from bidding.client.transport import BidClient, decrypt_bid
from bidding.evaluation.assistance.assess import assess
from bidding.evaluation.models import RequirementSetRecord
from bidding.evaluation.response.requirements import read_requirements
from bidding.evaluation.scoring import documents
from bidding.opening.models import OpeningBid
from bidding.opening.service import OpeningService
from tests.bidding import harness
from tests.e2e.test_browser_seal import P12_PASSWORD, RecordingProxy, _fill_seal_form, _p12
from tests.e2e.test_opening_hall import _login, _usernames
from trading.kernel import clock
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.storage import FileStore

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("publisher")]
LOT = "001"
MARKER = "RESPONSE-PLAINTEXT-4b1e"
STAR_RULE = "未响应★项 S2（规则：每个★项均须响应）。"


def _requirements(code: str, deadline: str) -> bytes:
    return json.dumps(
        {
            "format": "ggzy-requirements/1",
            "tender": code,
            "lot": LOT,
            "sector": "engineering",
            "deadline": deadline,
            "qualifications": [{"code": "Q1", "kind": "enterprise-qualification", "name": "建筑工程施工总承包"}],
            "starItems": [{"code": "S1", "text": "工期不超过 240 天"}, {"code": "S2", "text": "质量合格"}],
            "bill": [{"code": "010101001001", "description": "挖一般土方", "unit": "m³", "quantity": "120.5"}],
        },
        ensure_ascii=False,
    ).encode()


def _response(code: str, bidder: str, stars: list[str]) -> bytes:
    return json.dumps(
        {
            "format": "ggzy-response/1",
            "tender": code,
            "lot": LOT,
            "bidder": bidder,
            "qualifications": [
                {
                    "ref": "Q1",
                    "certificateNo": "D132000001",
                    "issuer": "江苏省住房和城乡建设厅",
                    "validFrom": "2024-01-01",
                }
            ],
            "starResponses": [{"item": s, "response": "complies", "statement": f"{MARKER} {s}"} for s in stars],
            "bill": [{"code": "010101001001", "quantity": "120.5", "unitPrice": "356.80", "lineTotal": "42994.40"}],
            "total": "42994.40",
            "totalInWords": "肆万贰仟玖佰玖拾肆元肆角整",
        },
        ensure_ascii=False,
        indent=2,
    ).encode()


async def _publish_requirements(setup: harness.SubmissionSetup) -> bytes:
    """The set as the host uploaded it before publication (`requirementset.service.upload` takes a
    draft's only; the harness's tender is published already, so the row is written as it would be)."""
    document = _requirements(setup.tender.code, setup.tender.deadline.isoformat())
    engine = create_engine(setup.db_url)
    try:
        session_maker = create_session_maker(engine)
        host = await harness.host_actor(session_maker, setup)
        async with session_maker() as session:
            session.add(
                RequirementSetRecord(
                    tender_id=setup.tender.id,
                    format="ggzy-requirements/1",
                    document=document,
                    sha256=hashlib.sha256(document).hexdigest(),
                    uploaded_by=host.user_id,
                    uploaded_at=await clock.now(session),
                )
            )
            await session.commit()
    finally:
        await engine.dispose()
    return document


async def test_a_structured_response_sealed_in_the_browser_reaches_the_evaluation(  # noqa: PLR0915 - one flow
    browser: object, fresh_db: str, tmp_path: Path
) -> None:
    from playwright.async_api import Browser, Page, expect

    assert isinstance(browser, Browser)
    setup = await harness.prepare(fresh_db, tmp_path / "var", bidders=3, max_package_bytes=1024 * 1024)
    code = setup.tender.code
    _, bidder_names = await _usernames(setup)
    ours = setup.bidders[0]
    sign_p12 = _p12(ours.sign, tmp_path / "sign.p12")
    enc_pem = tmp_path / "enc.pem"
    enc_pem.write_bytes(ours.enc.cert_pem)
    proposal = tmp_path / "技术标.txt"
    proposal.write_bytes("技术标(含结构化响应)\n".encode() * 200)

    with harness.running_server(setup, tmp_path / "server.log") as server:
        setup = await harness.deadline_soon(setup, 180)
        requirements = await _publish_requirements(setup)
        partial = tmp_path / "partial.json"
        partial.write_bytes(_response(code, ours.uscc, ["S1"]))
        complete = tmp_path / "response.json"
        complete.write_bytes(_response(code, ours.uscc, ["S1", "S2"]))

        proxy = await RecordingProxy(server.base_url).__aenter__()
        context = await browser.new_context(locale="zh-CN", base_url=proxy.base_url)
        urls: list[str] = []
        context.on("request", lambda request: urls.append(f"{request.method} {request.url}"))
        page = await _login(context, bidder_names[0])
        assert isinstance(page, Page)
        await page.goto(f"/bidding/tenders/{code}/lots/{LOT}/bid")

        # The page says a response is expected and links the set and the response's schema.
        await expect(page.locator("#response-expected")).to_contain_text("应包含对其作出响应的结构化响应")
        await expect(page.locator("label[for=seal-response]")).to_have_text("结构化响应（ggzy-response JSON，可选）")
        await expect(page.locator("#response-expected")).to_contain_text(hashlib.sha256(requirements).hexdigest())
        schema = await context.request.get(await page.locator("#response-schema-link").get_attribute("href") or "")
        assert json.loads(await schema.body())["$id"] == "urn:ggzy:ggzy-response/1"
        await page.locator("#requirements-link").click()
        await expect(page.locator("#requirements-download")).to_be_visible()
        await page.go_back()
        await expect(page.locator("#seal-command")).to_contain_text(
            "--response response.json --requirements requirements.json"
        )
        await expect(page.locator("#requirements-command")).to_contain_text(f"--tender {code} --out requirements.json")

        # A response missing a ★ item: refused next to its field, by rule, when chosen and at sealing.
        await _fill_seal_form(page, [proposal], sign_p12, enc_pem, P12_PASSWORD)
        error = page.locator("#seal-error-response")
        await page.locator("#seal-response").set_input_files(str(partial))
        await expect(error).to_have_text(STAR_RULE)
        await expect(error).to_have_attribute("data-rule", "star-answered")
        seal = page.get_by_role("button", name="密封并递交", exact=True)
        await seal.click()
        await expect(error).to_have_text(STAR_RULE)
        await expect(page.locator("#seal-response")).to_have_attribute("aria-invalid", "true")
        assert not [url for url in urls if "/uploads" in url]

        # Issue 19: the project manager and contact typed on the page go into the response; an
        # identity number with a wrong check character is refused by name at sealing.
        await page.locator("#seal-response").set_input_files(str(complete))
        await page.locator("#seal-pm-name").fill("张建国")
        await page.locator("#seal-pm-id-number").fill("110105194912310021")
        await seal.click()
        await expect(error).to_have_attribute("data-rule", "id-number-checksum")
        await expect(error).to_contain_text("校验码")
        assert not [url for url in urls if "/uploads" in url]
        await page.locator("#seal-pm-id-number").fill("11010519491231002X")
        await page.locator("#seal-contact-name").fill("李四")
        await page.locator("#seal-contact-phone").fill("138 0013 8000")
        await page.locator("#seal-contact-phone").blur()  # a party put right is checked again on leaving it

        # The complete response: sealed in the package, submitted, receipted.
        await page.locator("#seal-response").set_input_files(str(complete))
        await expect(error).to_be_hidden()
        await seal.click()
        await expect(page.locator("#receipt-no")).to_have_text(re.compile(r"^BR\d{14}-"), timeout=60000)
        container_b64 = await page.evaluate(
            """async () => {
              const file = document.querySelector("form[data-bid-upload] input[type=file]").files[0];
              const bytes = new Uint8Array(await file.arrayBuffer());
              let text = "";
              for (let i = 0; i < bytes.length; i += 0x8000) {
                text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
              }
              return btoa(text);
            }"""
        )
        container = base64.b64decode(container_b64)
        assert any(container in sent for sent in proxy.sent)
        await context.close()
        await proxy.__aexit__()
        # What left the page: the sealed container, never the response (nor the set's check of it).
        assert not [sent for sent in proxy.sent if MARKER.encode() in sent or complete.read_bytes() in sent]
        assert not [sent for sent in proxy.sent if b"11010519491231002X" in sent]  # sealed, never in clear
        assert not [url for url in urls if url.startswith("POST") and "requirements" in url]

        # Two more bidders seal with the CLI's SDK; the hall opens and every bid is decrypted.
        async with httpx.AsyncClient(timeout=60) as http:
            for bidder in setup.bidders[1:]:
                built = await asyncio.to_thread(
                    harness.build_bid, setup, bidder, LOT, tmp_path / "bids", size_bytes=2048
                )
                attempt = await harness.submit_bid(http, server.base_url, harness.Attempt(bidder, LOT, built))
                assert attempt.receipt is not None, attempt.error
        await harness.open_at_deadline(setup)
        async with httpx.AsyncClient(timeout=60) as http:
            for account in setup.bidders:
                await harness.sign_in_over_http(http, server.base_url, account, code)
            moved = await http.post(
                f"{server.base_url}/api/v1/bidding/opening/{code}/transitions",
                json={"action": "decryption"},
                headers=harness.bearer(await harness.host_token(setup)),
            )
            assert moved.status_code < harness.HTTP_ERROR, moved.text
        for account in setup.bidders:
            async with BidClient(server.base_url, account.token) as client:
                await decrypt_bid(client, code, LOT, account.uscc, account.enc.key)

    # The evaluation's reading of the opened package: the response, its digest as signed inside.
    engine = create_engine(setup.db_url)
    try:
        settings = harness.harness_settings(setup.db_url, setup.var)
        opening = OpeningService(create_session_maker(engine), settings, FileStore(setup.storage_dir))
        package = await opening.hall.opened_package(code, LOT, ours.uscc)
        async with create_session_maker(engine)() as session:
            recorded = await session.scalar(
                select(OpeningBid.declared_parties).where(OpeningBid.bidder_uscc == ours.uscc)
            )
    finally:
        await engine.dispose()
    assert [f.name for f in documents.files_of(package)] == [proposal.name, fmt.RESPONSE_FILE]
    read = documents.read_file(package, fmt.RESPONSE_FILE)
    assert read.matches
    declared = {
        "projectManager": {"name": "张建国", "idNumber": "11010519491231002X"},
        "contacts": [{"name": "李四", "phone": "138 0013 8000"}],
    }
    assert read.data is not None
    assert json.loads(read.data) == {**json.loads(complete.read_bytes()), **declared}
    # The opening recorded them, normalised, for the integrity screens.
    assert recorded == {
        "projectManager": {"name": "张建国", "idNumber": "11010519491231002X", "registrationNo": None},
        "contacts": [{"name": "李四", "phone": "13800138000", "email": None}],
    }
    assert read.file.sha256 == hashlib.sha256(read.data).hexdigest()
    response = documents.structured_response(package)
    assert response is not None
    assessment = assess(read_requirements(requirements), [response])
    assert assessment.corrected_prices[ours.uscc] == Decimal("42994.40")
    assert assessment.of(ours.uscc) == []
