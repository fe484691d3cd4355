"""The notices' pages through the application: the owners reach them from the publicity page, draft
the notices, download each draft, upload it signed (another organisation's certificate: 422 naming
the rule, nothing stored); once all are signed the notices are issued; the winner's user finds it
under 我的通知 (linked from the dashboard), opens the PDF (the owners' page then shows it read) and
cannot open another organisation's notice.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import notices
from bidding.award.models import Award, AwardNoticeDraft, NoticeKind
from bidding.award.states import AwardState
from bidding.client.sdk import sign_notice
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_notices import awarded, bind_certificate
from tests.bidding.factories import tenderee_party
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import PASSWORD, csrf_token
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.schemas import UserCreate
from trading.parties.service import PartiesService

pytestmark = pytest.mark.usefixtures("dev_lists")

DRAFT_LINK = re.compile(r'href="(/bidding/manage/tenders/[^"]+/notices/drafts/([0-9a-f-]+))" data-draft-pdf')
MY_LINK = re.compile(r'href="(/bidding/notices/([0-9a-f-]+))" data-notice-pdf')


@pytest.fixture
async def other_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def bidder_user(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, organisation_id: uuid.UUID
) -> str:
    """A bidder user (with the test password) of an existing organisation; its username."""
    username = f"bidder-{uuid.uuid4().hex[:8]}"
    async with session_maker() as session:
        await PartiesService(session, settings).create_user(
            UserCreate(
                username=username,
                display_name="中标人用户",
                password=PASSWORD,
                organisation_id=organisation_id,
                role=Role.BIDDER,
            ),
            actor=Actor.system(),
        )
        await session.commit()
    return username


async def log_in_as(client: httpx.AsyncClient, username: str) -> None:
    form = await client.get("/login")
    response = await client.post(
        "/login", data={"_csrf_token": csrf_token(form.text), "username": username, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text


async def test_the_tenderee_issues_signed_notices_in_the_pages_and_the_winner_reads_it(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    other_browser: httpx.AsyncClient,
) -> None:
    case = await awarded(session_maker, settings, store, dev_tsa, dev_pki)
    code = case.world.project_code
    await log_in(client, case.owner)
    publicity_page = await client.get(f"/bidding/manage/tenders/{code}/publicity")
    assert f'href="/bidding/manage/tenders/{code}/notices" id="notices-link"' in publicity_page.text
    manage = f"/bidding/manage/tenders/{code}/notices"
    page = await client.get(manage)
    assert page.status_code == 200, page.text
    assert "data-draft-form" in page.text
    drafted = await client.post(manage, data={"_csrf_token": csrf_token(page.text), "award": str(case.award.id)})
    assert drafted.status_code == 303, drafted.text

    page = await client.get(manage)
    links = DRAFT_LINK.findall(page.text)
    assert len(links) == 3, page.text
    assert "ggzy bid sign-notice" in page.text

    # Another organisation's certificate: 422 naming the rule, nothing stored.
    foreign = await tenderee_party(session_maker, settings, dev_pki)
    await bind_certificate(session_maker, foreign)
    first_url, first_id = links[0]
    draft = await client.get(first_url)
    assert draft.status_code == 200
    assert draft.headers["content-type"] == "application/pdf"
    forged = await sign_notice(draft.content, foreign.sign.signing(), tsa=dev_tsa)
    refused = await client.post(
        first_url,
        data={"_csrf_token": csrf_token(page.text)},
        files={"pdf": ("notice-signed.pdf", forged, "application/pdf")},
    )
    assert refused.status_code == 422, refused.text
    assert "notice_signer" in refused.text
    async with session_maker() as session:
        assert (await session.get_one(AwardNoticeDraft, uuid.UUID(first_id))).signed_at is None

    for url, _ in links:
        downloaded = await client.get(url)
        signed = await sign_notice(downloaded.content, case.owner.sign.signing(), tsa=dev_tsa)
        accepted = await client.post(
            url,
            data={"_csrf_token": csrf_token(page.text)},
            files={"pdf": ("notice-signed.pdf", signed, "application/pdf")},
        )
        assert accepted.status_code == 303, accepted.text

    async with session_maker() as session:
        assert (await session.get_one(Award, case.award.id)).state is AwardState.NOTICES_ISSUED
        issued = list(await notices.notices_of(session, case.award.id))
    award_notice = next(n for n in issued if n.kind is NoticeKind.AWARD)
    other = next(n for n in issued if n.kind is NoticeKind.RESULT)
    page = await client.get(manage)
    assert page.text.count('data-read="no"') == 3, page.text

    # The winner's user: the dashboard links 我的通知; the list opens the PDF; the receipt shows.
    username = await bidder_user(session_maker, settings, award_notice.recipient_organisation_id)
    await log_in_as(other_browser, username)
    dashboard = await other_browser.get("/dashboard")
    assert 'href="/bidding/notices"' in dashboard.text
    mine = await other_browser.get("/bidding/notices")
    assert mine.status_code == 200, mine.text
    assert [m[1] for m in MY_LINK.findall(mine.text)] == [str(award_notice.id)]
    assert "我的通知" in mine.text or "My notices" in mine.text
    # The award notice leads the winner to the contract it is to sign.
    assert 'href="/bidding/tenders/' in mine.text
    assert mine.text.count("data-contract-link") == 1
    opened = await other_browser.get(f"/bidding/notices/{award_notice.id}")
    assert opened.status_code == 200
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.content == await notices.notice_pdf(store, award_notice)
    page = await client.get(manage)
    assert page.text.count('data-read="yes"') == 1
    assert "中标人用户" in page.text
    # Another organisation's notice: not found.
    assert (await other_browser.get(f"/bidding/notices/{other.id}")).status_code == 404
    # A bidder may not use the owners' page.
    assert (await other_browser.get(manage)).status_code == 403
