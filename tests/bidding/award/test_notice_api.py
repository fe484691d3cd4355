"""The notices' JSON API through the application on PostgreSQL: the tenderee drafts the notices,
lists them, downloads each draft and uploads it signed (raw ``application/pdf``); the last one
issues them; the winner's user lists 我的通知 and downloads its notice (the first download records
the read receipt, once). Refusals name the field and the rule and store nothing: a non-owner
uploading (403), an altered draft (422 ``incremental-update-only``), another organisation's notice
(404).
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award.models import AwardNotice, AwardNoticeDraft, NoticeKind
from bidding.client.sdk import sign_notice
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_notice_pages import bidder_user
from tests.bidding.award.test_notices import awarded, bind_certificate
from tests.bidding.factories import tenderee_party
from tests.trading.parties.factories import PASSWORD, api_token, bearer, ledger_entries
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")
PDF = {"Content-Type": "application/pdf"}


async def _token(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post("/api/v1/auth/tokens", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return bearer(str(response.json()["token"]))


def _refusal(response: httpx.Response) -> tuple[str, str]:
    (error,) = response.json()["errors"]
    return error["field"], error["rule"]


async def _signed_at(session_maker: async_sessionmaker[AsyncSession], draft_id: str) -> object:
    async with session_maker() as session:
        return (await session.get_one(AwardNoticeDraft, uuid.UUID(draft_id))).signed_at


async def test_the_tenderee_issues_notices_and_the_winner_downloads_its_own_through_the_api(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
) -> None:
    case = await awarded(session_maker, settings, store, dev_tsa, dev_pki)
    code = case.world.project_code
    owner = bearer(await api_token(client, case.owner.account))
    base = f"/api/v1/award/tenders/{code}/notices"

    drafted = await client.post(f"{base}/drafts", json={"award": str(case.award.id)}, headers=owner)
    assert drafted.status_code == 201, drafted.text
    drafts = drafted.json()
    assert [d["kind"] for d in drafts] == ["award", "result", "result"]
    assert all(d["signedAt"] is None for d in drafts)
    listed = (await client.get(base, headers=owner)).json()
    assert [d["id"] for d in listed[0]["drafts"]] == [d["id"] for d in drafts]
    assert listed[0]["notices"] == []

    first = drafts[0]["id"]
    url = f"{base}/drafts/{first}"
    draft = await client.get(f"{url}/draft.pdf", headers=owner)
    assert draft.status_code == 200, draft.text
    assert draft.headers["content-type"] == "application/pdf"

    # A bidder may not upload (the guard), nor another tenderee (the service): 403, nothing stored.
    username = await bidder_user(session_maker, settings, case.award.chosen_organisation_id)
    winner = await _token(client, username)
    signed = await sign_notice(draft.content, case.owner.sign.signing(), tsa=dev_tsa)
    assert (await client.post(f"{url}/signature", content=signed, headers=winner | PDF)).status_code == 403
    foreign = await tenderee_party(session_maker, settings, dev_pki)
    await bind_certificate(session_maker, foreign)
    stranger = bearer(await api_token(client, foreign.account))
    refused = await client.post(f"{url}/signature", content=signed, headers=stranger | PDF)
    assert refused.status_code == 403, refused.text
    assert _refusal(refused) == ("actor", "owner")
    assert await _signed_at(session_maker, first) is None

    # An altered draft, signed: 422 naming the rule, nothing stored.
    comment = draft.content.index(b"\n%") + 2
    altered = draft.content[:comment] + bytes([draft.content[comment] ^ 0x01]) + draft.content[comment + 1 :]
    forged = await sign_notice(altered, case.owner.sign.signing(), tsa=dev_tsa)
    changed = await client.post(f"{url}/signature", content=forged, headers=owner | PDF)
    assert changed.status_code == 422, changed.text
    assert _refusal(changed) == ("pdf", "incremental-update-only")
    assert await _signed_at(session_maker, first) is None

    # Each draft signed by the tenderee: the last one issues the notices.
    answers = []
    for shown in drafts:
        pdf = (await client.get(f"{base}/drafts/{shown['id']}/draft.pdf", headers=owner)).content
        mine = pdf if shown["id"] != first else draft.content
        accepted = await client.post(
            f"{base}/drafts/{shown['id']}/signature",
            content=await sign_notice(mine, case.owner.sign.signing(), tsa=dev_tsa),
            headers=owner | PDF,
        )
        assert accepted.status_code == 201, accepted.text
        answers.append(accepted.json())
    assert [a["issued"] for a in answers] == [False, False, True]
    assert answers[-1]["awardState"] == "notices_issued"
    issued = (await client.get(base, headers=owner)).json()[0]["notices"]
    assert len(issued) == 3
    assert [n["read"] for n in issued] == [False, False, False]
    award_notice = next(n for n in issued if n["kind"] == NoticeKind.AWARD.value)
    other = next(n for n in issued if n["kind"] == NoticeKind.RESULT.value)

    # 我的通知: the winner's organisation sees its notice only; another's is not found.
    mine_listed = await client.get("/api/v1/award/notices", headers=winner)
    assert mine_listed.status_code == 200, mine_listed.text
    assert [n["id"] for n in mine_listed.json()] == [award_notice["id"]]
    assert mine_listed.json()[0]["tender"] == code
    hidden = await client.get(f"/api/v1/award/notices/{other['id']}/notice.pdf", headers=winner)
    assert hidden.status_code == 404, hidden.text
    assert _refusal(hidden) == ("notice", "exists")
    async with session_maker() as session:
        assert (await session.get_one(AwardNotice, uuid.UUID(other["id"]))).read_at is None

    # The first download records the read receipt, once; the tenderee's list shows it read.
    for _ in range(2):
        opened = await client.get(f"/api/v1/award/notices/{award_notice['id']}/notice.pdf", headers=winner)
        assert opened.status_code == 200, opened.text
        assert opened.headers["content-type"] == "application/pdf"
        assert opened.content.startswith(b"%PDF-")
    receipts = await ledger_entries(session_maker, action="award.notice_read", subject_id=award_notice["id"])
    assert len(receipts) == 1
    after = {n["id"]: n["read"] for n in (await client.get(base, headers=owner)).json()[0]["notices"]}
    assert after == {award_notice["id"]: True, other["id"]: False, issued[2]["id"]: False}
