"""The contract's JSON API through the application on PostgreSQL: the tenderee drafts it, the
winner reads its state and the current revision, records the performance security and uploads its
signed revision (raw ``application/pdf``), then the tenderee: both signatures on the same PDF,
published. Refusals name the field and the rule and store nothing: an outsider (404 for the state,
403 for the PDF), the tenderee signing before the winner (422 ``winner_signs_first``), the winner
uploading on the tenderee's route (403).
"""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import contract as contracts
from bidding.award import notices
from bidding.award.models import Award, Contract
from bidding.client.sdk import sign_contract as client_sign
from bidding.client.sdk import sign_notice
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_contract import awarded, winner_party
from tests.bidding.award.test_notices import bind_certificate
from tests.bidding.factories import Party, bidder_party, tenderee_party
from tests.trading.parties.factories import api_token, bearer
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.tasks import RecordingPublisher

pytestmark = pytest.mark.usefixtures("dev_lists")
PDF = {"Content-Type": "application/pdf"}


@pytest.fixture
def app(settings: Settings, session_maker: async_sessionmaker[AsyncSession], publisher: RecordingPublisher) -> Litestar:
    """The application with the 2027 working-day calendar loaded (the contract's due date)."""
    from trading.server.app import create_app

    return create_app(settings, session_maker=session_maker, publisher=publisher)


def _refusal(response: httpx.Response) -> tuple[str, str]:
    (error,) = response.json()["errors"]
    return error["field"], error["rule"]


async def _row(session_maker: async_sessionmaker[AsyncSession], award: Award) -> Contract | None:
    async with session_maker() as session:
        return await contracts.contract_of(session, award.id)


async def _issue_notices(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    tsa: LocalTsa,
    award: Award,
    owner: Party,
) -> None:
    """The real notices: drafted, each signed by the tenderee's bound certificate; the last issues."""
    await bind_certificate(session_maker, owner)
    async with transaction(session_maker, lock=True) as session:
        draft_ids = [d.id for d in await notices.prepare_drafts(session, store, owner.actor(), award.id)]
    for draft_id in draft_ids:
        async with session_maker() as session:
            draft = await notices.draft_pdf(session, store, owner.actor(), draft_id)
        signed = await sign_notice(draft, owner.sign.signing(), tsa=tsa)
        async with transaction(session_maker, lock=True) as session:
            await notices.sign_notice(session, settings, store, owner.actor(), draft_id, signed)


async def test_the_parties_draft_secure_and_sign_the_contract_through_the_api(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    world, award = await awarded(session_maker, settings, store, dev_tsa, dev_pki, owner)
    winner = await winner_party(session_maker, settings, dev_pki, award)
    outsider = await bidder_party(session_maker, settings, dev_pki)
    await _issue_notices(session_maker, settings, store, dev_tsa, award, owner)
    tenderee = bearer(await api_token(client, owner.account))
    won = bearer(await api_token(client, winner.account))
    stranger = bearer(await api_token(client, outsider.account))
    url = f"/api/v1/award/tenders/{world.project_code}/contract"

    before = await client.get(url, headers=won)
    assert before.status_code == 200, before.text
    assert before.json() == {"award": str(award.id), "drafted": False, "party": "winner"}
    assert (await client.post(url, json={}, headers=won)).status_code == 403  # the winner does not draft
    drafted = await client.post(
        url, json={"specialTerms": "第十条 工程质量标准：合格。", "performanceSecurity": "50000"}, headers=tenderee
    )
    assert drafted.status_code == 201, drafted.text
    assert drafted.json()["performanceSecurity"] == {"required": "50000", "recorded": None}

    state = (await client.get(url, headers=won)).json()
    assert state["drafted"] is True
    assert state["party"] == "winner"
    assert state["maySign"] is True
    assert state["price"] == "1180000.00"
    assert (state["tenderee"]["uscc"], state["winner"]["uscc"]) == (owner.uscc, winner.uscc)
    assert state["signatures"]["winner"]["signedAt"] is None
    assert state["dueAt"]

    # An outsider: no state before publication, no PDF.
    hidden = await client.get(url, headers=stranger)
    assert hidden.status_code == 404, hidden.text
    assert _refusal(hidden) == ("code", "exists")
    forbidden = await client.get(f"{url}.pdf", headers=stranger)
    assert forbidden.status_code == 403, forbidden.text
    assert _refusal(forbidden) == ("actor", "contract_party")

    draft = await client.get(f"{url}.pdf", headers=won)
    assert draft.status_code == 200, draft.text
    assert draft.headers["content-type"] == "application/pdf"
    secured = await client.post(
        f"{url}/security", json={"amount": "50000", "form": "bank_guarantee", "reference": "BG-2026-001"}, headers=won
    )
    assert secured.status_code == 201, secured.text
    assert secured.json()["performanceSecurity"]["recorded"]["form"] == "bank_guarantee"

    # The tenderee may not sign first; the winner may not use the tenderee's route: nothing stored.
    early = await client_sign(draft.content, owner.sign.signing(), tsa=dev_tsa)
    refused = await client.post(f"{url}/signatures/tenderee", content=early, headers=tenderee | PDF)
    assert refused.status_code == 422, refused.text
    first_error = refused.json()["errors"][0]
    assert (first_error["field"], first_error["rule"]) == ("signer", "winner_signs_first")
    signed = await client_sign(draft.content, winner.sign.signing(), tsa=dev_tsa)
    assert (await client.post(f"{url}/signatures/tenderee", content=signed, headers=won | PDF)).status_code == 403
    row = await _row(session_maker, award)
    assert row is not None
    assert (row.winner_signed_at, row.tenderee_signed_at) == (None, None)
    assert (await client.get(f"{url}.pdf", headers=won)).content == draft.content

    # The winner, then the tenderee: signed and published.
    first = await client.post(f"{url}/signatures/winner", content=signed, headers=won | PDF)
    assert first.status_code == 201, first.text
    assert first.json()["signatures"]["winner"]["signedAt"] is not None
    current = (await client.get(f"{url}.pdf", headers=tenderee)).content
    assert current == signed
    final = await client_sign(current, owner.sign.signing(), tsa=dev_tsa)
    done = await client.post(f"{url}/signatures/tenderee", content=final, headers=tenderee | PDF)
    assert done.status_code == 201, done.text
    assert done.json()["publishedAt"] is not None
    assert done.json()["signatures"]["tenderee"]["signedAt"] is not None

    # Published: anyone reads the state and the signed contract.
    public = await client.get(url)
    assert public.status_code == 200, public.text
    assert public.json()["party"] is None
    assert public.json()["maySign"] is False
    assert (await client.get(f"{url}.pdf")).content == final
