"""Complaints through the pages, the third story's end: after an objection answered late, the bidder
reaches 我的投诉 from 我的异议, gets the exact statement and files its signed complaint (a forged one
refused with the rule, 422, nothing stored); the supervisor finds it in its queue (linked from its
navigation), accepts it and upholds it signed in its page; the bidder sees the progress; the
public and the owners' publicity pages show the award void and its earlier acts struck out.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import complaints
from bidding.award.models import Award
from bidding.award.states import AwardState, ComplaintState
from bidding.models import Tender
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_complaints import COMPLAINT, late_answered_world
from tests.bidding.factories import sign_document
from tests.bidding.test_web import log_in
from tests.trading.parties.factories import csrf_token
from trading.kernel.clock import use_clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")

Browser = Callable[[], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def browser(app: Litestar) -> Browser:
    @asynccontextmanager
    async def opened() -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
            yield http

    return opened


async def _signed(http: httpx.AsyncClient, url: str, form: dict[str, str], signer: object) -> str:
    got = await http.post(url, data=form)
    assert got.status_code == 200, got.text
    return base64.b64encode(await sign_document(signer, got.content)).decode()  # type: ignore[arg-type]


async def test_a_complaint_filed_accepted_and_upheld_in_the_pages_voids_the_award_visibly(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    browser: Browser,
) -> None:
    owner, bidder, supervisor, award, objection, shift = await late_answered_world(
        session_maker, settings, store, dev_tsa, dev_pki
    )
    async with session_maker() as session:
        code = (await session.get_one(Tender, (await session.get_one(Award, award.id)).tender_id)).project_code
    mine = f"/bidding/tenders/{code}/publicity/complaints"
    supervise = f"/bidding/supervision/tenders/{code}/complaints"
    with use_clock(shift):
        async with browser() as bidder_http, browser() as supervisor_http, browser() as owner_http:
            await log_in(bidder_http, bidder)
            objections_page = await bidder_http.get(f"/bidding/tenders/{code}/publicity/objections")
            assert 'id="my-complaints-link"' in objections_page.text
            page = await bidder_http.get(mine)
            assert page.status_code == 200, page.text
            assert "data-complaint-form" in page.text
            form = {
                "_csrf_token": csrf_token(page.text),
                "award": str(award.id),
                "objection": str(objection.id),
                "complaint": COMPLAINT,
            }
            url = f"/bidding/tenders/{code}/publicity/complaint-statement"
            # Signed with the tenderee's certificate: refused with the rule, nothing stored.
            forged = await _signed(bidder_http, url, form, owner.sign)
            refused = await bidder_http.post(mine, data={**form, "signature": forged})
            assert refused.status_code == 422, refused.text
            assert "complaint_signer" in refused.text
            async with session_maker() as session:
                assert await complaints.complaints_of(session, award.id) == []
            signature = await _signed(bidder_http, url, form, bidder.sign)
            filed = await bidder_http.post(mine, data={**form, "signature": signature})
            assert filed.status_code == 303, filed.text
            page = await bidder_http.get(mine)
            assert COMPLAINT in page.text
            assert 'data-state="filed"' in page.text
            # The bidder is not the supervisor.
            assert (await bidder_http.get(supervise)).status_code == 403
            assert (await bidder_http.get("/bidding/supervision/complaints")).status_code == 403

            # The supervisor: its navigation links the queue, the complaint waits for acceptance.
            await log_in(supervisor_http, supervisor)
            dashboard = await supervisor_http.get("/dashboard")
            assert "/bidding/supervision/complaints" in dashboard.text
            queue = await supervisor_http.get("/bidding/supervision/complaints")
            assert queue.status_code == 200, queue.text
            assert supervise in queue.text
            page = await supervisor_http.get(supervise)
            assert page.status_code == 200, page.text
            assert COMPLAINT in page.text
            assert 'data-act-form="accept"' in page.text
            assert 'data-act-form="uphold_reevaluate"' not in page.text
            [complaint] = await _complaints(session_maker, award)
            for act in ("accept", "uphold_reevaluate"):
                act_form = {
                    "_csrf_token": csrf_token(page.text),
                    "complaint": str(complaint),
                    "act": act,
                    "text": "经调查，投诉事项属实。",
                }
                statement_url = f"{supervise}/statement"
                # With the bidder's certificate: refused, 422 with the rule.
                foreign = await _signed(supervisor_http, statement_url, act_form, bidder.sign)
                refused = await supervisor_http.post(f"{supervise}/act", data={**act_form, "signature": foreign})
                assert refused.status_code == 422, refused.text
                assert "complaint_act_signer" in refused.text
                signed = await _signed(supervisor_http, statement_url, act_form, supervisor.sign)
                done = await supervisor_http.post(f"{supervise}/act", data={**act_form, "signature": signed})
                assert done.status_code == 303, done.text
                page = await supervisor_http.get(supervise)
            assert 'data-award-state="voided"' in page.text
            assert "data-voided" in page.text

            page = await bidder_http.get(mine)
            assert 'data-state="upheld"' in page.text
            assert "data-award-voided" in page.text

            # Public and owners' pages: the award void, its earlier acts struck out.
            public = await owner_http.get(f"/bidding/tenders/{code}/publicity")
            assert public.status_code == 200, public.text
            assert 'data-award-voided="voided"' in public.text
            assert '<li data-step="open_publicity" data-voided>' in public.text
            assert '<li data-step="confirm_award" data-voided>' in public.text
            assert '<li data-step="accept_complaint">' in public.text
            await log_in(owner_http, owner)
            manage = await owner_http.get(f"/bidding/manage/tenders/{code}/publicity")
            assert manage.status_code == 200, manage.text
            assert 'data-award-voided="voided"' in manage.text
            assert '<li data-step="confirm_award" data-voided>' in manage.text
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state is AwardState.VOIDED
        [stored] = await complaints.complaints_of(session, award.id)
        assert stored.state is ComplaintState.UPHELD


async def _complaints(session_maker: async_sessionmaker[AsyncSession], award: Award) -> list[object]:
    async with session_maker() as session:
        return [c.id for c in await complaints.complaints_of(session, award.id)]
