"""The first end-to-end story of issue 16's acceptance, on PostgreSQL, service level, real signatures:
from a signed evaluation report, the tenderee opens the candidates' publicity; a bidder files one
objection, the tenderee answers it in time; the sweep closes the publicity with a moved clock; the
award is confirmed; the notices are drafted, signed by the tenderee and issued (`notices`); the
contract is drafted and signed by the winner, then the tenderee (`contract`); the sweep closes the
award into the archive (`jobs.AwardCloseDue`). ``pdfsig`` and pyHanko verify both signatures on the
contract and the tenderee's on every notice; the offline verifier passes on the archive, which
holds the notices and the contract.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.award import closing, notices, publicity
from bidding.award import contract as contracts
from bidding.award.archive import format as fmt
from bidding.award.archive.checks import verify_archive
from bidding.award.jobs import AwardCloseDue, AwardDue
from bidding.award.models import Award
from bidding.award.states import AwardEvent, AwardState
from bidding.client.sdk import sign_contract as client_sign_contract
from bidding.client.sdk import sign_notice as client_sign_notice
from certs.devpki.pki import DevPki
from certs.tsa.client import LocalTsa
from tests.bidding.award.test_closing import _receipts_signed
from tests.bidding.award.test_contract import winner_party
from tests.bidding.award.test_notices import bind_certificate
from tests.bidding.award.world import (
    answer_objection,
    award_hook,
    award_of,
    confirm_winner,
    db_now,
    dev_ca,
    dev_lists,
    dev_pki,
    dev_tsa,
    file_objection,
    make_bidder,
    open_publicity,
    settings,
    signed_report,
    store,
)
from tests.bidding.evaluation.report.test_report_signing import pdfsig
from tests.bidding.factories import bidder_party, tenderee_party
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep

__all__ = ["award_hook", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]


async def _pyhanko(pdf: bytes, pki: DevPki) -> list[bool]:
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


def _pdfsig_valid(pdf: bytes, folder: Path, pki: DevPki) -> int:
    folder.mkdir()
    out = pdfsig(pdf, folder, pki)
    assert out.count("Signature Validation: Signature is Valid.") == out.count(
        "Certificate Validation: Certificate is Trusted."
    ), out
    return out.count("Signature Validation: Signature is Valid.")


async def test_from_the_signed_report_to_the_signed_contract_and_the_closed_archive(  # noqa: PLR0915, PLR0917 - one story
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    dev_lists: None,
    tmp_path: Path,
) -> None:
    del dev_lists
    owner = await tenderee_party(session_maker, settings, dev_pki)
    await bind_certificate(session_maker, owner)
    bidder = await bidder_party(session_maker, settings, dev_pki)
    world = await signed_report(session_maker, settings, store, dev_tsa, dev_pki, owner)
    await _receipts_signed(session_maker, settings, world)
    await make_bidder(session_maker, world.tender_id, bidder)
    award = await award_of(session_maker, world)

    # The publicity opened; one objection on its second day, answered in time.
    opened = await open_publicity(session_maker, settings, award, owner, owner)
    now = await db_now(session_maker)
    with use_clock(ShiftedClock(timedelta(days=1))):
        filed = await file_objection(session_maker, settings, award, bidder)
        answered = await answer_objection(session_maker, settings, award, filed, owner)
    assert answered.late is False
    # The sweep closes the publicity at its end (moved clock); the first candidate is confirmed.
    with use_clock(ShiftedClock(opened.closes_at - now + timedelta(seconds=1))):
        assert (await run_sweep(session_maker, [AwardDue()])).total_changed == 1
        award = await confirm_winner(session_maker, settings, award, owner, str(world.bids[0]))
    assert award.state is AwardState.AWARDED

    # The notices: drafted, signed by the tenderee (client code, e-seal), issued by the last one.
    async with transaction(session_maker, lock=True) as session:
        draft_ids = [d.id for d in await notices.prepare_drafts(session, store, owner.actor(), award.id)]
    assert len(draft_ids) == 3
    for draft_id in draft_ids:
        async with session_maker() as session:
            draft = await notices.draft_pdf(session, store, owner.actor(), draft_id)
        signed = await client_sign_notice(draft, owner.sign.signing(), tsa=dev_tsa)
        async with transaction(session_maker, lock=True) as session:
            await notices.sign_notice(session, settings, store, owner.actor(), draft_id, signed)

    # The contract: drafted, signed by the winner, then by the tenderee.
    async with transaction(session_maker, lock=True) as session:
        await contracts.draft_contract(session, store, owner.actor(), award.id)
    winner = await winner_party(session_maker, settings, dev_pki, award)
    for party in (winner, owner):
        async with session_maker() as session:
            current = await contracts.contract_pdf(session, store, party.actor(), award.id)
        signed = await client_sign_contract(current, party.sign.signing(), tsa=dev_tsa)
        async with transaction(session_maker, lock=True) as session:
            await contracts.sign_contract(
                session, settings, store=store, actor=party.actor(), award_id=award.id, pdf=signed
            )

    # The sweep closes the award into the archive, once.
    closer = AwardCloseDue(settings)
    assert (await run_sweep(session_maker, [closer])).total_changed == 1
    assert (await run_sweep(session_maker, [closer])).total_changed == 0
    async with session_maker() as session:
        row = await session.get_one(Award, award.id)
        assert row.state is AwardState.CLOSED
        events = [s.event for s in await publicity.steps_of(session, award.id)]
        issued = list(await notices.notices_of(session, award.id))
        final = await contracts.contract_pdf(session, store, owner.actor(), award.id)
        [version] = await closing.archives_of(session, world.project_code)
    assert events == [
        AwardEvent.OPEN_PUBLICITY,
        AwardEvent.FILE_OBJECTION,
        AwardEvent.ANSWER_OBJECTION,
        AwardEvent.CLOSE_PUBLICITY,
        AwardEvent.CONFIRM_AWARD,
        AwardEvent.ISSUE_NOTICES,
        AwardEvent.SIGN_CONTRACT,
        AwardEvent.CLOSE,
    ]

    # pdfsig and pyHanko: both signatures on the contract, the tenderee's on every notice.
    assert await _pyhanko(final, dev_pki) == [True, True]
    assert _pdfsig_valid(final, tmp_path / "contract", dev_pki) == 2
    assert len(issued) == 3
    for notice in issued:
        pdf = await notices.notice_pdf(store, notice)
        assert await _pyhanko(pdf, dev_pki) == [True]
        assert _pdfsig_valid(pdf, tmp_path / str(notice.id), dev_pki) == 1

    # The archive verifies offline and holds the notices and the contract.
    archive = store.path(FileStore.key_for("archives", version.sha256)).read_bytes()
    report = verify_archive(archive)
    assert report.ok, report.text()
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        manifest = json.loads(bundle.read(fmt.MANIFEST))
    kinds = [entry["kind"] for entry in manifest["files"]]
    assert kinds.count("award-notice") == 3, kinds
    assert kinds.count("contract") == 1, kinds
