"""The notices and the contract signed in the page (`bidding.award.web_pagesign`), through the real
application, with the CMS made as ``cades.js`` makes it (`certs.sign.cades.sign_detached` over the
prepared bytes; ``tests/e2e`` runs the same flow in Chromium).

The tenderee signs every notice in the page (prepare refused for another organisation's tenderee
and for a prepared signature of another draft; the notices issue with the e-seal, verified by
``pdfsig`` and pyHanko); then the contract: the tenderee's prepare refused before the winner's
signature, the winner's prepared signature refused to the tenderee (another user), the winner's
finish accepted (`contract.sign_contract`), a second finish refused as reused, the tenderee's
finish completing the contract with two signatures.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import contract as contracts
from bidding.award import notices
from bidding.award.models import Award, AwardNoticeDraft
from bidding.award.states import AwardState
from certs.devpki.pki import DevPki
from certs.sign.cades import sign_detached
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_contract import _draft, winner_party
from tests.bidding.award.test_notices import awarded, bind_certificate, pyhanko_valid
from tests.bidding.evaluation.report.test_report_signing import pdfsig
from tests.bidding.factories import Party, tenderee_party
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import csrf_token
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")

DRAFT_LINK = re.compile(r'href="(/bidding/manage/tenders/[^"]+/notices/drafts/([0-9a-f-]+))" data-draft-pdf')


@pytest.fixture
async def other_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


def _certificate(holder: Party) -> str:
    return base64.b64encode(holder.sign.certificate.public_bytes(serialization.Encoding.DER)).decode()


async def _prepare(http: httpx.AsyncClient, url: str, token: str, holder: Party) -> httpx.Response:
    return await http.post(f"{url}/prepare", data={"certificate": _certificate(holder)}, headers={"x-csrftoken": token})


async def _finish(
    http: httpx.AsyncClient, url: str, token: str, holder: Party, answer: dict[str, Any]
) -> httpx.Response:
    cms = await sign_detached(base64.b64decode(answer["toSign"]), holder.sign.signing())
    data = {"_csrf_token": token, "prepared": answer["id"], "signature": base64.b64encode(cms).decode()}
    return await http.post(url, data=data)


async def test_the_notices_then_the_contract_are_signed_in_the_pages(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    case = await awarded(session_maker, settings, store, dev_tsa, dev_pki)
    code = case.world.project_code
    owner = case.owner
    token = await log_in(client, owner)
    manage = f"/bidding/manage/tenders/{code}/notices"
    page = await client.get(manage)
    drafted = await client.post(manage, data={"_csrf_token": csrf_token(page.text), "award": str(case.award.id)})
    assert drafted.status_code == 303, drafted.text
    page = await client.get(manage)
    assert "data-pki-sign-pdf" in page.text
    assert "在本页面签章通知书" in page.text
    links = DRAFT_LINK.findall(page.text)
    assert len(links) == 3, page.text
    sign_urls = [f"{url}/page-signature" for url, _ in links]

    # Another organisation's tenderee: not the owner of these drafts (403), nothing prepared.
    foreign = await tenderee_party(session_maker, settings, dev_pki)
    await bind_certificate(session_maker, foreign)
    transport = httpx.ASGITransport(app=client._transport.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as foreign_browser:
        foreign_token = await log_in(foreign_browser, foreign)
        refused = await _prepare(foreign_browser, sign_urls[0], foreign_token, foreign)
    assert refused.status_code in {403, 404}, refused.text

    # A signature prepared for one draft cannot finish another (purpose and subject bound).
    first = await _prepare(client, sign_urls[0], token, owner)
    assert first.status_code == 200, first.text
    assert first.json()["digestAlgorithm"] == "sha256"
    crossed = await _finish(client, sign_urls[1], csrf_token(page.text), owner, first.json())
    assert crossed.status_code == 422, crossed.text
    assert 'data-rule="pdf-signing-unknown"' in crossed.text
    async with session_maker() as session:
        assert (await session.get_one(AwardNoticeDraft, uuid.UUID(links[1][1]))).signed_at is None

    answers = [first.json()] + [(await _prepare(client, url, token, owner)).json() for url in sign_urls[1:]]
    for url, answer in zip(sign_urls, answers, strict=True):
        accepted = await _finish(client, url, csrf_token(page.text), owner, answer)
        assert accepted.status_code == 303, accepted.text
    again = await _finish(client, sign_urls[0], csrf_token(page.text), owner, answers[0])
    assert again.status_code == 422, again.text
    assert 'data-rule="pdf-signing-reused"' in again.text

    async with session_maker() as session:
        assert (await session.get_one(Award, case.award.id)).state is AwardState.NOTICES_ISSUED
        issued = list(await notices.notices_of(session, case.award.id))
    assert len(issued) == 3
    for notice in issued:
        pdf = await notices.notice_pdf(store, notice)
        assert await pyhanko_valid(pdf, dev_pki)
        folder = tmp_path / str(notice.id)
        folder.mkdir()
        assert "Signature Validation: Signature is Valid." in pdfsig(pdf, folder, dev_pki)
        assert b"/Subtype /Image" in pdf or b"/Subtype/Image" in pdf  # the e-seal's image

    # The contract: drafted by the tenderee, signed in the page by the winner, then the tenderee.
    await _draft(session_maker, settings, store, owner, case.award)
    winner = await winner_party(session_maker, settings, dev_pki, case.award)
    winner_token = await log_in(other_browser, winner)
    contract_url = f"/bidding/tenders/{code}/contract"
    winner_page = await other_browser.get(contract_url)
    assert winner_page.status_code == 200
    assert 'id="sign-pdf-form"' in winner_page.text
    assert "在本页面签署合同" in winner_page.text
    winner_sign = f"{contract_url}/page-signature"
    owner_sign = f"/bidding/manage/tenders/{code}/contract/page-signature"

    early = await _prepare(client, owner_sign, token, owner)
    assert early.status_code in {409, 422}, early.text
    assert early.json()["errors"][0]["rule"] == "winner_signs_first"

    prepared = await _prepare(other_browser, winner_sign, winner_token, winner)
    assert prepared.status_code == 200, prepared.text
    owner_page = await client.get(contract_url)
    stolen = await _finish(client, owner_sign, csrf_token(owner_page.text), winner, prepared.json())
    assert stolen.status_code == 422, stolen.text
    assert 'data-rule="pdf-signing-unknown"' in stolen.text

    signed = await _finish(other_browser, winner_sign, csrf_token(winner_page.text), winner, prepared.json())
    assert signed.status_code == 303, signed.text
    reused = await _finish(other_browser, winner_sign, csrf_token(winner_page.text), winner, prepared.json())
    assert reused.status_code == 422, reused.text
    assert 'data-rule="pdf-signing-reused"' in reused.text
    async with session_maker() as session:
        contract = await contracts.contract_of(session, case.award.id)
        assert contract is not None
        assert contract.winner_signed_at is not None
        assert contract.tenderee_signed_at is None

    owner_page = await client.get(contract_url)
    assert 'id="sign-pdf-form"' in owner_page.text
    prepared = await _prepare(client, owner_sign, token, owner)
    assert prepared.status_code == 200, prepared.text
    done = await _finish(client, owner_sign, csrf_token(owner_page.text), owner, prepared.json())
    assert done.status_code == 303, done.text

    async with session_maker() as session:
        assert (await session.get_one(Award, case.award.id)).state is AwardState.CONTRACT_SIGNED
        final = await contracts.contract_pdf(session, store, owner.actor(), case.award.id)
    out = pdfsig(final, tmp_path, dev_pki)
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 2, out
