"""The evaluation report (评标报告): rendered in Chinese, signed by every current member in turn
(one incremental PAdES signature each, verified by pyHanko and poppler's ``pdfsig``), refusals
with and without dissent, completion and the result handed to the award stage."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.sdk import sign_report as client_sign
from bidding.evaluation.models import CommitteeDraw, Evaluation, ReportSignature, SessionState
from bidding.evaluation.report.service import (
    RENDER_TASK,
    ReportRefused,
    publish_report,
    refuse_report,
    report_pdf,
    sign_report,
)
from bidding.evaluation.results import evaluation_result
from certs.devpki.pki import DevPki
from certs.sign.pades import verify_pdf
from certs.trustlist.model import Usage
from certs.tsa.client import LocalTsa
from tests.bidding.evaluation.report.world import Signer, World
from tests.bidding.factories import ledger_entries
from trading.kernel import clock
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.tasks import RecordingPublisher
from trading.ledger.service import chain_for
from trading.parties.certificates.trust import trust_context


async def current_pdf(session_maker: async_sessionmaker[AsyncSession], store: FileStore, world: World) -> bytes:
    async with session_maker() as session:
        return await report_pdf(session, store, world.signers[-1].actor, world.evaluation_id)


async def sign_as(  # noqa: PLR0917 - who signs, with which certificate, on what
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    tsa: LocalTsa,
    world: World,
    uploader: Signer,
    *,
    certificate_of: Signer | None = None,
) -> dict[str, object]:
    """Download the current revision, sign it as ``ggzy bid sign-report`` does, upload it."""
    pdf = await current_pdf(session_maker, store, world)
    signed = await client_sign(pdf, (certificate_of or uploader).identity.signing(), tsa=tsa)
    async with transaction(session_maker, lock=True) as session:
        return await sign_report(
            session, settings, store=store, actor=uploader.actor, evaluation_id=world.evaluation_id, pdf=signed
        )


async def evaluation(session_maker: async_sessionmaker[AsyncSession], world: World) -> Evaluation:
    async with session_maker() as session:
        return await session.get_one(Evaluation, world.evaluation_id)


def pdfsig(pdf: bytes, tmp_path: Path, pki: DevPki) -> str:
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    for name, root in (("jiangsu", pki.jiangsu_root.certificate), ("platform", pki.platform_root.certificate)):
        pem = tmp_path / f"{name}.pem"
        pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{nss}", "-n", name, "-t", "CT,C,C", "-i", str(pem)],
            check=True,
            capture_output=True,
        )
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdfsig", "-nssdir", f"sql:{nss}", "-no-ocsp", str(path)], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return "".join(text.split())  # table cells wrap: compare without line breaks


async def test_the_report_is_rendered_in_chinese_with_the_committee_scores_and_result(
    session_maker: async_sessionmaker[AsyncSession], store: FileStore, world: World, tmp_path: Path
) -> None:
    text = pdf_text(await current_pdf(session_maker, store, world), tmp_path)
    for expected in (
        "评标报告",
        "综合评分法",
        "主场",
        "副场",
        "王建国",
        "01号席",
        "施工组织设计",
        "南京甲建设工程有限公司",
        "该投标人施工组织设计确有突出之处",
        "请澄清项目经理的在建工程情况",
        "副场网络中断3分钟后恢复",
        "第1名",
    ):
        assert expected in text, expected


async def test_seven_members_sign_in_turn_and_every_signature_verifies(  # noqa: PLR0917 - the fixtures it needs
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    world: World,
    tmp_path: Path,
) -> None:
    async with session_maker() as session:
        assert await evaluation_result(session, world.tender_id) is None  # nothing before completion
    for index, signer in enumerate(world.signers, start=1):
        answer = await sign_as(session_maker, settings, store, dev_tsa, world, signer)
        assert answer["signatures"] == index
        assert answer["completed"] is (index == len(world.signers))
        if index < len(world.signers):
            async with session_maker() as session:
                assert await evaluation_result(session, world.tender_id) is None

    final = await current_pdf(session_maker, store, world)
    assert len(PdfFileReader(io.BytesIO(final)).embedded_regular_signatures) == 7
    async with session_maker() as session:
        context = await trust_context(session, settings, await clock.now(session))
        reports = await verify_pdf(final, context.validator, usage=Usage.SEAL)
    assert [r.passed for r in reports] == [True] * 7
    fingerprints = [s.identity.certificate.fingerprint(hashes.SHA256()).hex() for s in world.signers]
    assert [r.signer_certificate_sha256 for r in reports] == fingerprints
    out = pdfsig(final, tmp_path, dev_pki)
    assert out.count("Signature Validation: Signature is Valid.") == 7, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 7, out
    assert "Signature #8" not in out

    done = await evaluation(session_maker, world)
    assert done.state is SessionState.COMPLETED
    assert done.results_published_at is not None
    async with session_maker() as session:
        draws = (
            (await session.execute(sa.select(CommitteeDraw).where(CommitteeDraw.evaluation_id == done.id)))
            .scalars()
            .all()
        )
        assert draws
        assert all(d.published_at == done.results_published_at for d in draws)
        result = await evaluation_result(session, world.tender_id)
        assert result is not None
        assert [c.opening_bid_id for c in result.candidates] == list(world.bids)
        assert [c.rank for c in result.candidates] == [1, 2, 3]
        assert result.candidates[0].bidder_name == "南京甲建设工程有限公司"
        assert str(result.candidates[0].total) == "90.50"
        assert result.report_sha256 == done.report_sha256
        assert [m.name for m in result.committee] == [s.name for s in world.signers]
        assert result.published_at == done.results_published_at
        signed = await ledger_entries(session, chain_for(world.project_code), "evaluation.report_signed")
        assert len(signed) == 7
        published = await ledger_entries(session, chain_for(world.project_code), "evaluation.results_published")
        assert len(published) == 1


async def test_a_signature_by_someone_outside_the_committee_is_refused_and_nothing_stored(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    world: World,
) -> None:
    before = (await evaluation(session_maker, world)).report_sha256
    with pytest.raises(ReportRefused) as refused:
        await sign_as(session_maker, settings, store, dev_tsa, world, world.signers[0], certificate_of=world.outsider)
    assert refused.value.rule == "signer-not-member"
    # Another member's certificate uploaded by someone else is refused too.
    with pytest.raises(ReportRefused) as other:
        await sign_as(session_maker, settings, store, dev_tsa, world, world.signers[0], certificate_of=world.signers[1])
    assert other.value.rule == "signer-is-uploader"
    assert (await evaluation(session_maker, world)).report_sha256 == before
    async with session_maker() as session:
        rows = (
            (
                await session.execute(
                    sa.select(ReportSignature).where(ReportSignature.evaluation_id == world.evaluation_id)
                )
            )
            .scalars()
            .all()
        )
        assert rows == []
        assert await ledger_entries(session, chain_for(world.project_code), "evaluation.report_signed") == []


async def test_a_tampered_or_non_incremental_upload_is_refused(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    world: World,
) -> None:
    signer = world.signers[0]
    pdf = await current_pdf(session_maker, store, world)
    changed = b"%PDF-1.4" + pdf[len(b"%PDF-1.x") :]  # the header of the platform's revision rewritten
    assert changed != pdf
    signed = await client_sign(changed, signer.identity.signing(), tsa=dev_tsa)
    with pytest.raises(ReportRefused) as refused:
        async with transaction(session_maker, lock=True) as session:
            await sign_report(
                session, settings, store=store, actor=signer.actor, evaluation_id=world.evaluation_id, pdf=signed
            )
    assert refused.value.rule == "incremental-update-only"
    twice = await client_sign(
        await client_sign(pdf, signer.identity.signing(), tsa=dev_tsa), world.signers[1].identity.signing(), tsa=dev_tsa
    )
    with pytest.raises(ReportRefused) as two:
        async with transaction(session_maker, lock=True) as session:
            await sign_report(
                session, settings, store=store, actor=signer.actor, evaluation_id=world.evaluation_id, pdf=twice
            )
    assert two.value.rule == "one-new-signature"


async def test_a_refusal_with_dissent_is_printed_and_the_earlier_signatures_are_given_again(  # noqa: PLR0917 - the fixtures it needs
    publisher: RecordingPublisher,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    world: World,
    tmp_path: Path,
) -> None:
    first, dissenter, *rest = world.signers
    await sign_as(session_maker, settings, store, dev_tsa, world, first)
    dissent = "本人认为第二名投标人的项目管理机构评分偏高，不同意排序结果。"
    async with transaction(session_maker, lock=True) as session:
        answer = await refuse_report(session, dissenter.actor, world.evaluation_id, dissent)
    assert answer["dissent"] is True
    assert answer["voided"] == [str(first.member_id)]
    assert (await evaluation(session_maker, world)).report_storage_key is None
    # The new revision is rendered by the task, enqueued for after the commit.
    assert [(m.name, m.kwargs) for m in publisher.published] == [
        (RENDER_TASK, {"evaluation_id": str(world.evaluation_id)})
    ]
    with pytest.raises(Conflict) as not_ready:  # nothing to sign until it is rendered
        async with transaction(session_maker, lock=True) as session:
            await sign_report(
                session,
                settings,
                store=store,
                actor=rest[0].actor,
                evaluation_id=world.evaluation_id,
                pdf=b"%PDF-1.7\n%%EOF\n",
            )
    assert not_ready.value.rule == "report-ready"
    assert await publish_report(session_maker, settings, store, world.evaluation_id) is not None
    text = pdf_text(await current_pdf(session_maker, store, world), tmp_path)
    assert dissent[:20] in text
    assert "拒绝签字" in text
    assert dissenter.name in text
    # The dissenter cannot answer twice; everyone else (the first signer again) signs the new revision.
    with pytest.raises(Exception) as twice:  # noqa: PT011 - Conflict
        async with transaction(session_maker, lock=True) as session:
            await refuse_report(session, dissenter.actor, world.evaluation_id, "")
    assert getattr(twice.value, "rule", None) == "answers-once"
    for signer in (first, *rest):
        answer = await sign_as(session_maker, settings, store, dev_tsa, world, signer)
    assert answer["completed"] is True
    assert answer["signatures"] == 6
    async with session_maker() as session:
        result = await evaluation_result(session, world.tender_id)
        assert result is not None
        voided = await ledger_entries(session, chain_for(world.project_code), "evaluation.report_signatures_voided")
        assert len(voided) == 1


async def test_a_refusal_without_reasons_counts_as_agreement(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    world: World,
) -> None:
    silent, *rest = world.signers
    before = (await evaluation(session_maker, world)).report_sha256
    async with transaction(session_maker, lock=True) as session:
        answer = await refuse_report(session, silent.actor, world.evaluation_id, "   ")
    assert answer == {**answer, "dissent": False, "voided": [], "completed": False}
    assert (await evaluation(session_maker, world)).report_sha256 == before  # not rendered again
    async with session_maker() as session:
        entries = await ledger_entries(session, chain_for(world.project_code), "evaluation.report_refused")
        assert entries[0].summary == {"withDissent": False, "countedAsAgreement": True}
    for signer in rest:
        answer = await sign_as(session_maker, settings, store, dev_tsa, world, signer)
    assert answer["completed"] is True
    done = await evaluation(session_maker, world)
    assert done.state is SessionState.COMPLETED
    async with session_maker() as session:
        assert await evaluation_result(session, world.tender_id) is not None


async def test_two_members_signing_the_same_revision_the_second_must_sign_again(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    world: World,
) -> None:
    first, second, *_ = world.signers
    revision = await current_pdf(session_maker, store, world)
    by_first = await client_sign(revision, first.identity.signing(), tsa=dev_tsa)
    by_second = await client_sign(revision, second.identity.signing(), tsa=dev_tsa)
    async with transaction(session_maker, lock=True) as session:
        await sign_report(
            session, settings, store=store, actor=first.actor, evaluation_id=world.evaluation_id, pdf=by_first
        )
    with pytest.raises(ReportRefused) as stale:
        async with transaction(session_maker, lock=True) as session:
            await sign_report(
                session, settings, store=store, actor=second.actor, evaluation_id=world.evaluation_id, pdf=by_second
            )
    assert stale.value.rule == "incremental-update-only"
    answer = await sign_as(session_maker, settings, store, dev_tsa, world, second)  # on the new revision
    assert answer["signatures"] == 2
