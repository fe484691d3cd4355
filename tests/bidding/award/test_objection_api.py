"""``ggzy bid object --stage publicity``'s path through the API: the client fetches the open
publicity, signs the statement locally with the bidder's PKCS#12 and files it; the platform stores
it (signature verified over the same statement) and lists it under ``mine``; a non-bidder is
refused with the rule; with no publicity open the client refuses before sending anything.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award.models import Award, AwardObjection
from bidding.client import format as fmt
from bidding.client.cli_inputs import load_signer
from bidding.client.hall import file_signed_publicity_objection
from bidding.client.problems import BidRejected, LocalRefusal
from bidding.client.transport import BidClient
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.world import GROUNDS, award_of, make_bidder, open_publicity, signed_report
from tests.bidding.factories import bidder_party, tenderee_party
from tests.trading.parties.factories import api_token
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")
PASSWORD = "p12-password"


async def test_the_client_files_a_signed_objection_through_the_api(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    owner = await tenderee_party(session_maker, settings, dev_pki)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    outsider = await bidder_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await award_of(session_maker, world)
    code = world.project_code
    p12 = tmp_path / "sign.p12"
    p12.write_bytes(bidder.sign.pkcs12(PASSWORD.encode(), "sign"))
    signer = load_signer(p12, PASSWORD)
    base = str(client.base_url).rstrip("/")
    token = await api_token(client, bidder.account)

    async with BidClient(base, token, http=client) as bid_client:
        # No publicity yet: the client refuses before sending anything.
        with pytest.raises(LocalRefusal) as early:
            await file_signed_publicity_objection(bid_client, code, bidder.uscc, GROUNDS, signer)
        assert early.value.rule == "objection_period"
        await open_publicity(session_maker, settings, award, owner, owner)
        answer = await file_signed_publicity_objection(bid_client, code, bidder.uscc, GROUNDS, signer)
        [shown] = await bid_client.publicities(code)
        statement = fmt.award_objection_statement(code, shown["lotGroup"], bidder.uscc, shown["contentSha256"], GROUNDS)
        assert answer["statementSha256"] == hashlib.sha256(statement).hexdigest()
        assert answer["text"] == GROUNDS
        mine = (await client.get(f"/api/v1/award/tenders/{code}/objections/mine", headers=bid_client._auth)).json()
        assert [o["id"] for o in mine] == [answer["id"]]

    outsider_token = await api_token(client, outsider.account)
    async with BidClient(base, outsider_token, http=client) as other:
        with pytest.raises(BidRejected) as stranger:
            await file_signed_publicity_objection(other, code, outsider.uscc, GROUNDS, signer)
        assert stranger.value.rule == "objection_by_bidder"
    async with session_maker() as session:
        assert (await session.get_one(Award, award.id)).objections_pending == 1
        row = await session.get_one(AwardObjection, uuid.UUID(answer["id"]))
        assert row.text == GROUNDS
