"""In Chromium: a member of the evaluation committee signs the evaluation report IN THE PAGE
(``static/js/pki/sign-pdf.js`` over `trading.parties.pdf_signing`), after another member signed it
with the CLI, and the report records the signature.

The world is the report tests' (`tests.bidding.evaluation.report.world`: a 7-member committee at
``report-signing``, certificates bound to the members, the report rendered) on a PostgreSQL database
of the test's own; one member's account is a real expert account (password login) holding that
member's certificate binding. The member opens the report page, chooses their PKCS#12 file in the
picker, clicks 「在本页签署评标报告」; the platform prepares the current revision, the key signs in the
page, the platform adds its timestamp and the revision goes through the report's own checks. The
stored revision then carries two valid signatures (pyHanko and the platform's verifier), the second
by the browser's member; the private key and the password never leave the page.
"""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from litestar import Litestar
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import Member, ReportSignature
from bidding.evaluation.report.service import publish_report
from certs.devpki.pki import DevPki
from certs.sign.pades import verify_pdf
from certs.trustlist.model import Usage
from certs.tsa.client import LocalTsa
from tests.bidding.evaluation.report.test_report_signing import current_pdf, sign_as
from tests.bidding.evaluation.report.world import Signer, World, build_world
from tests.e2e.test_expert_evaluation_flow import serving, session_maker, settings, store
from tests.trading.kernel.test_pdf import warm_renderer
from tests.trading.parties.certificates.conftest import dev_ca, dev_lists, dev_pki, dev_tsa
from tests.trading.parties.factories import PASSWORD, Account, create_account
from trading.kernel import clock
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.certificates.trust import trust_context
from trading.parties.models import CertificateBinding

__all__ = ["dev_ca", "dev_lists", "dev_pki", "dev_tsa", "session_maker", "settings", "store"]
pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("dev_lists", "publisher")]

P12_PASSWORD = "报告-签署-4711"


async def _as_real_account(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, signer: Signer
) -> Account:
    """A password-login expert account that is ``signer``'s member and holds their certificate binding."""
    account = await create_account(session_maker, settings, Role.EXPERT)
    async with session_maker() as session:
        await session.execute(sa.update(Member).where(Member.id == signer.member_id).values(user_id=account.user_id))
        await session.execute(
            sa.update(CertificateBinding)
            .where(CertificateBinding.user_id == signer.user_id)
            .values(user_id=account.user_id)
        )
        await session.commit()
    return account


async def test_a_member_signs_the_report_in_the_page_and_the_report_records_it(  # noqa: PLR0917
    browser: Any,
    app: Litestar,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    dev_tsa: LocalTsa,
) -> None:
    from playwright.async_api import FilePayload, Request, expect

    warm_renderer()
    world: World = await build_world(session_maker, dev_pki)
    assert await publish_report(session_maker, settings, store, world.evaluation_id) is not None
    await sign_as(session_maker, settings, store, dev_tsa, world, world.signers[0])  # the CLI path, first
    member = world.signers[1]
    account = await _as_real_account(session_maker, settings, member)
    p12 = member.identity.pkcs12(P12_PASSWORD.encode())

    bodies: list[bytes] = []

    def capture(request: Request) -> None:
        if request.post_data_buffer:
            bodies.append(request.post_data_buffer)

    async with serving(app) as base_url:
        context = await browser.new_context(locale="zh-CN", base_url=base_url)
        page = await context.new_page()
        page.on("request", capture)
        await page.goto("/login")
        await page.locator("input[name=username]").fill(account.username)
        await page.locator("input[name=password]").fill(PASSWORD)
        await page.locator("form#login-form button[type=submit]").click()
        await expect(page).to_have_url(re.compile(r"/dashboard$"))

        await page.goto(f"/evaluation/e/{world.evaluation_id}/report")
        await expect(page.locator("#signature-count")).to_have_text("1")
        form = page.locator("#sign-pdf-form")
        await expect(form).to_have_attribute("data-pki-ready", "true")
        picker = page.locator("#report-certificate")
        await picker.locator("[data-pki-file]").set_input_files(
            FilePayload(name="my-signing.p12", mimeType="application/x-pkcs12", buffer=p12)
        )
        await picker.locator("[data-pki-password]").fill(P12_PASSWORD)
        async with page.expect_navigation(url=re.compile(r"/report(#answers)?$")):
            await page.get_by_role("button", name="在本页签署评标报告").click()

        # The report records the signature: two on the current revision, the member's row signed.
        await expect(page.locator("#signature-count")).to_have_text("2")
        await expect(page.locator(f'#answer-table tr[data-member="{member.member_id}"]')).to_have_attribute(
            "data-state", "signed"
        )
        await expect(page.locator("#sign-pdf-form")).to_have_count(0)  # answered: no more signing forms
        await context.close()

    async with session_maker() as session:
        rows = (
            await session.scalars(
                sa.select(ReportSignature).where(ReportSignature.evaluation_id == world.evaluation_id)
            )
        ).all()
        assert {(row.member_id, row.signed) for row in rows} == {
            (world.signers[0].member_id, True),
            (member.member_id, True),
        }
    pdf = await current_pdf(session_maker, store, world)
    embedded = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_regular_signatures
    assert len(embedded) == 2
    async with session_maker() as session:
        context_ = await trust_context(session, settings, await clock.now(session))
        reports = await verify_pdf(pdf, context_.validator, usage=Usage.SEAL)  # the validator reads with the session
    assert [r.passed for r in reports] == [True, True]
    assert member.name in (reports[1].signer or "")

    # What left the page: the certificate and the signature, never the key or the password.
    pkcs8 = member.identity.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for body in bodies:
        for secret in (pkcs8, base64.b64encode(pkcs8), P12_PASSWORD.encode(), p12, base64.b64encode(p12)):
            assert secret not in body
