"""``ggzy bid complain``'s path through the API: the client reads our objections with their complaint
windows, signs the statement locally with the bidder's PKCS#12 and files it; the platform stores it
(signature verified over the same statement) and ``mine`` shows it with its progress; a non-bidder
is refused with the rule; with no objection to complain after, the client refuses before sending.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award.models import Complaint
from bidding.award.states import ComplaintState
from bidding.client import format as fmt
from bidding.client.cli import bid
from bidding.client.cli_complaints import file_signed_complaint
from bidding.client.cli_inputs import load_signer
from bidding.client.problems import BidRejected, LocalRefusal
from bidding.client.transport import BidClient
from bidding.models import Tender
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_complaints import COMPLAINT, late_answered_world
from tests.bidding.factories import bidder_party
from tests.trading.parties.factories import api_token
from trading.kernel.clock import use_clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore

pytestmark = pytest.mark.usefixtures("dev_lists")
PASSWORD = "p12-password"


async def test_the_client_files_a_signed_complaint_through_the_api(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    _, bidder, _, award, objection, shift = await late_answered_world(session_maker, settings, store, dev_tsa, dev_pki)
    outsider = await bidder_party(session_maker, settings, dev_pki)
    p12 = tmp_path / "sign.p12"
    p12.write_bytes(bidder.sign.pkcs12(PASSWORD.encode(), "sign"))
    signer = load_signer(p12, PASSWORD)
    base = str(client.base_url).rstrip("/")
    with use_clock(shift):
        token = await api_token(client, bidder.account)
        async with BidClient(base, token, http=client) as bid_client:
            code = await _code(session_maker, award.tender_id)
            [before] = await bid_client.complaint_objections(code)
            assert before["objection"] == str(objection.id)
            assert before["complaintDeadline"] is not None
            assert before["complaints"] == []
            # An objection id that is not ours: refused here, nothing sent.
            with pytest.raises(LocalRefusal) as unknown:
                await file_signed_complaint(bid_client, code, bidder.uscc, COMPLAINT, signer, objection="x")
            assert unknown.value.rule == "complaint_after_objection"
            answer = await file_signed_complaint(bid_client, code, bidder.uscc, COMPLAINT, signer)
            statement = fmt.award_complaint_statement(
                code, before["lotGroup"], bidder.uscc, str(objection.id), COMPLAINT
            )
            assert answer["statementSha256"] == hashlib.sha256(statement).hexdigest()
            assert answer["state"] == "filed"
            [after] = await bid_client.complaint_objections(code)
            assert [c["id"] for c in after["complaints"]] == [answer["id"]]
            # A second complaint while the first is open: the server's rule.
            with pytest.raises(BidRejected) as again:
                await file_signed_complaint(bid_client, code, bidder.uscc, COMPLAINT, signer)
            assert again.value.rule == "complaint_once"

        outsider_token = await api_token(client, outsider.account)
        async with BidClient(base, outsider_token, http=client) as other:
            # The outsider has no objection: the client refuses before sending.
            with pytest.raises(LocalRefusal) as none:
                await file_signed_complaint(other, code, outsider.uscc, COMPLAINT, signer)
            assert none.value.rule == "complaint_after_objection"
            # Sent anyway (a hand-made request): the server refuses the non-bidder.
            with pytest.raises(BidRejected) as stranger:
                await other.file_complaint(code, str(award.id), str(objection.id), COMPLAINT, b"\x30\x03\x02\x01\x00")
            assert stranger.value.rule == "complaint_by_bidder"
    async with session_maker() as session:
        stored = await session.get_one(Complaint, uuid.UUID(answer["id"]))
        assert stored.text == COMPLAINT
        assert stored.state is ComplaintState.FILED


async def _code(session_maker: async_sessionmaker[AsyncSession], tender_id: uuid.UUID) -> str:
    async with session_maker() as session:
        return (await session.get_one(Tender, tender_id)).project_code


def test_the_complain_command_is_registered_with_its_options() -> None:
    result = CliRunner().invoke(bid, ["complain", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--tender", "--objection", "--text-file", "--p12"):
        assert option in result.output
