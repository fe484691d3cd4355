"""In Chromium: the winner opens the award notice (我的通知, the read receipt recorded) and signs the
contract IN THE PAGE (``static/js/pki/sign-pdf.js`` over `bidding.award.page_signing`), then the
tenderee signs it in the page too; the contract carries two valid signatures (poppler's ``pdfsig``
and pyHanko) and the award reached ``contract_signed``.

The world is the award tests' (`tests.bidding.award.test_notices.awarded`: a signed report, the
publicity closed by the sweep, the first candidate confirmed), the notices drafted, signed with the
client's code and issued by the real `notices` service, the contract drafted by `contract`; on a
PostgreSQL database of the test's own, served by uvicorn.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import contract as contracts
from bidding.award import notices
from bidding.award.models import Award, NoticeKind
from bidding.award.states import AwardState
from bidding.client.sdk import sign_notice
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_contract import _draft, winner_party
from tests.bidding.award.test_notices import awarded, draft_bytes, prepare, upload
from tests.bidding.award.test_publicity import award_hook
from tests.bidding.evaluation.report.test_report_signing import pdfsig
from tests.bidding.factories import Party
from tests.e2e.test_expert_evaluation_flow import serving, session_maker, settings, store
from tests.trading.kernel.test_pdf import warm_renderer
from tests.trading.parties.certificates.conftest import dev_ca, dev_lists, dev_pki, dev_tsa
from tests.trading.parties.factories import PASSWORD
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "session_maker", "settings", "store"]
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("dev_lists", "publisher")]

P12_PASSWORD = "合同-签署-2026"


async def _sign_in_page(browser: Any, base_url: str, party: Party, code: str, *, open_notice: bool) -> None:
    from playwright.async_api import FilePayload, expect

    context = await browser.new_context(locale="zh-CN", base_url=base_url, accept_downloads=True)
    page = await context.new_page()
    await page.goto("/login")
    await page.locator("input[name=username]").fill(party.account.username)
    await page.locator("input[name=password]").fill(PASSWORD)
    await page.locator("form#login-form button[type=submit]").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))

    if open_notice:
        await page.goto("/bidding/notices")
        link = page.locator("a[data-notice-pdf]")
        await expect(link).to_have_count(1)
        async with page.expect_download() as downloading:
            await link.click()
        download = await downloading.value
        assert Path(await download.path()).read_bytes().startswith(b"%PDF-")

    await page.goto(f"/bidding/tenders/{code}/contract")
    form = page.locator("#sign-pdf-form")
    await expect(form).to_have_attribute("data-pki-ready", "true")
    picker = page.locator("#contract-certificate")
    await picker.locator("[data-pki-file]").set_input_files(
        FilePayload(
            name="my-signing.p12", mimeType="application/x-pkcs12", buffer=party.sign.pkcs12(P12_PASSWORD.encode())
        )
    )
    await picker.locator("[data-pki-password]").fill(P12_PASSWORD)
    async with page.expect_navigation(url=re.compile(r"/contract\?done=signed$")):
        await page.get_by_role("button", name="在本页面签署合同").click()
    await expect(page.locator("#done-notice")).to_be_visible()
    await context.close()


async def _pyhanko_valid(pdf: bytes, pki: DevPki) -> list[bool]:
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    roots = [pki.jiangsu_root.certificate, pki.platform_root.certificate]
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER)) for root in roots],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    answers = []
    for embedded in PdfFileReader(io.BytesIO(pdf), strict=False).embedded_regular_signatures:
        status = await async_validate_pdf_signature(embedded, signer_validation_context=context)
        answers.append(bool(status.intact and status.valid and status.trusted))
    return answers


async def test_the_winner_opens_the_award_notice_and_signs_the_contract_in_the_page(  # noqa: PLR0917 - fixtures
    browser: Any,
    app: Litestar,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
    tmp_path: Path,
) -> None:
    warm_renderer()
    case = await awarded(session_maker, settings, store, dev_tsa, dev_pki)
    for draft_id in await prepare(session_maker, store, case):
        draft = await draft_bytes(session_maker, store, case, draft_id)
        await upload(
            session_maker,
            settings,
            store,
            case,
            draft_id,
            await sign_notice(draft, case.owner.sign.signing(), tsa=dev_tsa),
        )
    await _draft(session_maker, settings, store, case.owner, case.award)
    winner = await winner_party(session_maker, settings, dev_pki, case.award)
    code = case.world.project_code

    async with serving(app) as base_url:
        await _sign_in_page(browser, base_url, winner, code, open_notice=True)
        async with session_maker() as session:
            contract = await contracts.contract_of(session, case.award.id)
            assert contract is not None
            assert contract.winner_signed_at is not None
            assert contract.tenderee_signed_at is None
        await _sign_in_page(browser, base_url, case.owner, code, open_notice=False)

    async with session_maker() as session:
        assert (await session.get_one(Award, case.award.id)).state is AwardState.CONTRACT_SIGNED
        issued = list(await notices.notices_of(session, case.award.id))
        final = await contracts.contract_pdf(session, store, case.owner.actor(), case.award.id)
    award_notice = next(n for n in issued if n.kind is NoticeKind.AWARD)
    assert award_notice.read_at is not None  # the winner's open recorded the receipt
    assert await _pyhanko_valid(final, dev_pki) == [True, True]
    out = pdfsig(final, tmp_path, dev_pki)
    assert out.count("Signature Validation: Signature is Valid.") == 2, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 2, out
