"""The contract's pages through the application: the two parties review the drafted contract
(nobody else sees it before it is signed); the tenderee's upload before the winner's is refused
in the page (422, the rule named, nothing stored); the winner and then the tenderee upload their
signed revisions (the winner's made with ``ggzy bid sign-contract``); everyone then sees the
contract and its signing date; the supervisor's page lists overdue contracts, only for supervisors.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import cli_hall
from bidding.client.cli import bid
from bidding.client.sdk import sign_contract as client_sign
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_contract import _draft, awarded, issue_notices, winner_party
from tests.bidding.factories import party, tenderee_party
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import csrf_token
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.models import OrganisationKind

pytestmark = pytest.mark.usefixtures("dev_lists")


@pytest.fixture
async def other_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def test_the_parties_review_and_sign_in_the_pages_and_the_public_then_sees_it(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    world, award = await awarded(session_maker, settings, store, dev_tsa, dev_pki, owner)
    winner = await winner_party(session_maker, settings, dev_pki, award)
    await issue_notices(session_maker, settings, store, dev_tsa, award, owner)
    await _draft(session_maker, settings, store, owner, award, special_terms="第十条 工程质量标准：合格。")
    url = f"/bidding/tenders/{world.project_code}/contract"

    # Nobody but the parties before it is signed.
    assert (await other_browser.get(url)).status_code == 404
    assert (await other_browser.get(f"{url}.pdf")).status_code in {401, 403}

    await log_in(client, winner)
    page = await client.get(url)
    assert page.status_code == 200, page.text
    assert 'id="sign-form"' in page.text
    assert "1,180,000.00" in page.text
    assert winner.uscc in page.text
    assert owner.uscc in page.text
    downloaded = await client.get(f"{url}.pdf")
    assert downloaded.status_code == 200
    assert downloaded.content.startswith(b"%PDF-")

    # The tenderee may not sign first: 422 in the page, the rule named, nothing stored.
    await log_in(other_browser, owner)
    owner_page = await other_browser.get(url)
    assert 'id="sign-form"' not in owner_page.text  # not its turn
    early = await client_sign(downloaded.content, owner.sign.signing(), tsa=dev_tsa)
    refused = await other_browser.post(
        f"/bidding/manage/tenders/{world.project_code}/contract/signatures",
        data={"_csrf_token": csrf_token(owner_page.text)},
        files={"pdf": ("contract-signed.pdf", early, "application/pdf")},
    )
    assert refused.status_code == 422, refused.text
    assert 'data-rule="winner_signs_first"' in refused.text
    assert "中标人先签署合同" in refused.text or "中标人" in refused.text

    # The winner signs with ``ggzy bid sign-contract`` (its PKCS#12 file), then the tenderee.
    monkeypatch.setattr(cli_hall, "HttpTsa", lambda _url: dev_tsa)
    (tmp_path / "winner.p12").write_bytes(winner.sign.pkcs12(b"winner-p12"))
    (tmp_path / "contract.pdf").write_bytes(downloaded.content)
    args = [
        "sign-contract", "--p12", str(tmp_path / "winner.p12"), "--password", "winner-p12",
        "--in", str(tmp_path / "contract.pdf"), "--out", str(tmp_path / "signed.pdf"),
        "--tsa", "https://ggzy.invalid/api/v1/tsa",
    ]  # fmt: skip
    result = await asyncio.to_thread(CliRunner().invoke, bid, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    signed = (tmp_path / "signed.pdf").read_bytes()
    accepted = await client.post(
        f"{url}/signatures",
        data={"_csrf_token": csrf_token(page.text)},
        files={"pdf": ("contract-signed.pdf", signed, "application/pdf")},
    )
    assert accepted.status_code == 303, accepted.text
    owner_page = await other_browser.get(url)
    assert 'id="sign-form"' in owner_page.text
    current = (await other_browser.get(f"{url}.pdf")).content
    assert current == signed
    final = await client_sign(current, owner.sign.signing(), tsa=dev_tsa)
    done = await other_browser.post(
        f"/bidding/manage/tenders/{world.project_code}/contract/signatures",
        data={"_csrf_token": csrf_token(owner_page.text)},
        files={"pdf": ("contract-signed.pdf", final, "application/pdf")},
    )
    assert done.status_code == 303, done.text

    # Published: anyone sees the contract and its signing date.
    transport = httpx.ASGITransport(app=client._transport.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as anonymous:
        public = await anonymous.get(url)
        assert public.status_code == 200, public.text
        assert "data-signed-at" in public.text
        assert 'id="sign-form"' not in public.text
        assert (await anonymous.get(f"{url}.pdf")).content == final

    # The supervisor's list: not for the parties; a supervisor sees it (nothing overdue here).
    assert (await client.get("/bidding/supervision/contracts/overdue")).status_code == 403
    department = OrganisationKind.SUPERVISORY_DEPARTMENT
    supervisor = await party(session_maker, settings, dev_pki, Role.SUPERVISOR, kind=department, name="测试监督局")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as supervising:
        await log_in(supervising, supervisor)
        listed = await supervising.get("/bidding/supervision/contracts/overdue")
    assert listed.status_code == 200, listed.text
    assert 'id="none-overdue"' in listed.text
