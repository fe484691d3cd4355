"""The evaluation report signed in the page (`trading.parties.pdf_signing` through
`bidding.evaluation.report.page_signing`), on PostgreSQL with the development PKI and TSA.

The page's signature is made here as ``cades.js`` makes it: a detached CAdES over exactly the bytes
the prepare step hands out (`certs.sign.cades.sign_detached`, the structure the page reproduces byte
for byte apart from the signature value; ``tests/e2e/test_browser_signing.py`` proves that, and
``tests/e2e/test_report_page_signing.py`` runs this flow in Chromium).
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.evaluation.models import ReportSignature
from bidding.evaluation.report.page_signing import finish_report_signature, prepare_report_signature
from certs import cms
from certs.devpki.pki import DevPki
from certs.sign.cades import sign_detached
from certs.sign.pades import verify_pdf
from certs.trustlist.model import Usage
from certs.tsa.client import LocalTsa
from tests.bidding.evaluation.report.test_report_signing import current_pdf, pdfsig, sign_as
from tests.bidding.evaluation.report.world import Signer, World
from trading.kernel import clock
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.certificates.trust import trust_context
from trading.parties.pdf_signing import PdfSigningRefused, PdfSigningRequest, PreparedSignature


async def prepare(
    session_maker: async_sessionmaker[AsyncSession],
    store: FileStore,
    world: World,
    member: Signer,
    *,
    as_cert: Signer | None = None,
) -> PreparedSignature:
    async with transaction(session_maker, lock=True) as session:
        return await prepare_report_signature(
            session,
            store,
            actor=member.actor,
            evaluation_id=world.evaluation_id,
            certificate=(as_cert or member).identity.certificate,
        )


async def finish(  # noqa: PLR0917 - who finishes what with which CMS
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    world: World,
    member: Signer,
    prepared: PreparedSignature,
    cms: bytes,
) -> dict[str, object]:
    async with transaction(session_maker, lock=True) as session:
        return await finish_report_signature(
            session,
            settings,
            store,
            actor=member.actor,
            evaluation_id=world.evaluation_id,
            prepared_id=str(prepared.id),
            signature_cms=cms,
        )


async def sign_in_page(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    world: World,
    member: Signer,
    *,
    key_of: Signer | None = None,
) -> dict[str, object]:
    prepared = await prepare(session_maker, store, world, member)
    cms = await sign_detached(prepared.to_sign, (key_of or member).identity.signing())
    return await finish(session_maker, settings, store, world, member, prepared, cms)


async def signature_rows(session_maker: async_sessionmaker[AsyncSession], world: World) -> int:
    async with session_maker() as session:
        return len(
            (
                await session.scalars(
                    sa.select(ReportSignature).where(ReportSignature.evaluation_id == world.evaluation_id)
                )
            ).all()
        )


async def test_members_sign_in_the_page_after_an_upload_and_every_signature_stays_valid(  # noqa: PLR0917
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_tsa: LocalTsa,
    dev_pki: DevPki,
    world: World,
    tmp_path: Path,
) -> None:
    # The first member signs offline (the CLI path stays), the next two in the page.
    await sign_as(session_maker, settings, store, dev_tsa, world, world.signers[0])
    first = await sign_in_page(session_maker, settings, store, world, world.signers[1])
    assert first["signatures"] == 2
    assert first["inPage"] is True
    second = await sign_in_page(session_maker, settings, store, world, world.signers[2])
    assert second["signatures"] == 3
    pdf = await current_pdf(session_maker, store, world)

    # poppler: three signatures, each valid, the last covering the whole file.
    report = pdfsig(pdf, tmp_path, dev_pki)
    assert report.count("Signature Validation: Signature is Valid.") == 3
    assert report.count("Signature Type: ETSI.CAdES.detached") == 3
    assert report.count("Certificate Validation: Certificate is Trusted.") == 3
    assert "Total document signed" in report.split("Signature #3")[1]

    # pyHanko: intact, valid, no modification after each, and each carries a signature timestamp.
    embedded = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_regular_signatures
    assert [e.field_name.startswith("Member-") for e in embedded] == [True, True, True]
    roots = ValidationContext(
        trust_roots=[cms.to_asn1(dev_pki.jiangsu_root.certificate), cms.to_asn1(dev_pki.platform_root.certificate)],
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    for signature in embedded:
        status = await async_validate_pdf_signature(signature, signer_validation_context=roots)
        assert status.intact
        assert status.timestamp_validity is not None
        assert status.timestamp_validity.intact
    # The platform's verifier under the trust list: every signature passes, the last is member 3's.
    async with session_maker() as session:
        context = await trust_context(session, settings, await clock.now(session))
        reports = await verify_pdf(pdf, context.validator, usage=Usage.SEAL)  # the validator reads with the session
    assert [r.passed for r in reports] == [True, True, True]
    assert "CN=" + world.signers[2].name in (reports[-1].signer or "")


async def test_a_tampered_signature_is_refused_and_nothing_is_stored(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore, world: World
) -> None:
    member = world.signers[0]
    prepared = await prepare(session_maker, store, world, member)
    cms = bytearray(await sign_detached(prepared.to_sign, member.identity.signing()))
    cms[-10] ^= 0x01  # inside the signature value (the last field of the SignerInfo)
    with pytest.raises(PdfSigningRefused) as refused:
        await finish(session_maker, settings, store, world, member, prepared, bytes(cms))
    assert (refused.value.field, refused.value.rule) == ("signature", "bad-signature")
    # A CMS over other bytes (the PDF without the placeholder is what counts) is refused too.
    other = await sign_detached(prepared.to_sign + b"%", member.identity.signing())
    with pytest.raises(PdfSigningRefused) as refused:
        await finish(session_maker, settings, store, world, member, prepared, other)
    assert (refused.value.field, refused.value.rule) == ("signature", "digest-mismatch")
    assert await signature_rows(session_maker, world) == 0
    # The prepared request is still usable: a correct signature after the refusals goes through.
    good = await sign_detached(prepared.to_sign, member.identity.signing())
    assert (await finish(session_maker, settings, store, world, member, prepared, good))["signatures"] == 1


async def test_a_signature_by_another_certificate_than_the_prepared_one_is_refused(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore, world: World
) -> None:
    member, other = world.signers[0], world.signers[1]
    prepared = await prepare(session_maker, store, world, member)
    cms = await sign_detached(prepared.to_sign, other.identity.signing())
    with pytest.raises(PdfSigningRefused) as refused:
        await finish(session_maker, settings, store, world, member, prepared, cms)
    assert (refused.value.field, refused.value.rule) == ("signature", "binding-mismatch")
    # Prepared for another member's certificate: the report's own check names the rule.
    prepared = await prepare(session_maker, store, world, member, as_cert=other)
    cms = await sign_detached(prepared.to_sign, other.identity.signing())
    with pytest.raises(Exception, match="another member") as caught:
        await finish(session_maker, settings, store, world, member, prepared, cms)
    assert getattr(caught.value, "rule", None) == "signer-is-uploader"
    assert await signature_rows(session_maker, world) == 0


async def test_an_expired_prepared_signature_is_refused(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore, world: World
) -> None:
    member = world.signers[0]
    prepared = await prepare(session_maker, store, world, member)
    cms = await sign_detached(prepared.to_sign, member.identity.signing())
    async with transaction(session_maker) as session:
        row = await session.get_one(PdfSigningRequest, prepared.id)
        row.expires_at = row.created_at - timedelta(seconds=1)
    with pytest.raises(PdfSigningRefused) as refused:
        await finish(session_maker, settings, store, world, member, prepared, cms)
    assert (refused.value.field, refused.value.rule) == ("prepared", "pdf-signing-expired")
    assert await signature_rows(session_maker, world) == 0


async def test_a_prepared_signature_is_used_once_and_only_by_its_user_for_its_subject(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: FileStore, world: World
) -> None:
    member, other = world.signers[0], world.signers[1]
    prepared = await prepare(session_maker, store, world, member)
    cms = await sign_detached(prepared.to_sign, member.identity.signing())
    # Another member cannot finish it.
    with pytest.raises(PdfSigningRefused) as refused:
        await finish(session_maker, settings, store, world, other, prepared, cms)
    assert (refused.value.field, refused.value.rule) == ("prepared", "pdf-signing-unknown")
    # Nor can it finish another evaluation's signature.
    stranger = World(uuid.uuid4(), world.tender_id, world.project_code, world.signers, world.bids, world.outsider)
    with pytest.raises(PdfSigningRefused) as refused:
        await finish(session_maker, settings, store, stranger, member, prepared, cms)
    assert refused.value.rule == "pdf-signing-unknown"
    assert (await finish(session_maker, settings, store, world, member, prepared, cms))["signatures"] == 1
    with pytest.raises(PdfSigningRefused) as refused:
        await finish(session_maker, settings, store, world, member, prepared, cms)
    assert (refused.value.field, refused.value.rule) == ("prepared", "pdf-signing-reused")
    async with session_maker() as session:
        row = await session.get_one(PdfSigningRequest, prepared.id)
        assert row.finished_at is not None
        assert row.prepared_pdf == b""
    assert re.fullmatch(r"[0-9a-f]{64}", row.source_sha256)
    assert await signature_rows(session_maker, world) == 1
