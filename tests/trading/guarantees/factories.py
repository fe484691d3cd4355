"""Helpers for guarantee tests: organisations, a guarantor with a real certificate, an issued guarantee."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from sqlalchemy.ext.asyncio import AsyncSession

from tests.trading.parties.factories import new_uscc
from trading.guarantees import service
from trading.guarantees.models import Guarantee, GuaranteeApplication, GuaranteeKind, GuaranteeProduct, Guarantor
from trading.kernel.auth.identity import Actor
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.parties.models import Organisation, OrganisationKind
from trading.parties.schemas import OrganisationCreate
from trading.parties.service import PartiesService

SYSTEM = Actor.system()


def certificate_pem(name: str = "测试银行保函签章") -> bytes:
    """A fresh self-signed certificate (the trust decision is the verifier's, not onboarding's)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.PEM)


def sha256_of_pem(pem: bytes) -> str:
    return hashlib.sha256(x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)).hexdigest()


async def organisation(
    session: AsyncSession, settings: Settings, kind: OrganisationKind = OrganisationKind.ENTERPRISE
) -> Organisation:
    return await PartiesService(session, settings).create_organisation(
        OrganisationCreate(uscc=new_uscc(), name=f"测试单位 {uuid.uuid4().hex[:6]}", kind=kind), actor=SYSTEM
    )


async def guarantor(session: AsyncSession, settings: Settings) -> tuple[Guarantor, bytes]:
    bank = await organisation(session, settings, OrganisationKind.BANK)
    pem = certificate_pem()
    row = await service.onboard_guarantor(
        session,
        SYSTEM,
        organisation_id=bank.id,
        issuing_certificate=pem,
        branch="南京分行",
        callback_url="https://bank.example/cb",
    )
    return row, pem


async def bid_product(session: AsyncSession, guarantor_row: Guarantor) -> GuaranteeProduct:
    return await service.add_product(
        session,
        SYSTEM,
        guarantor_row.id,
        kind=GuaranteeKind.BID,
        name="投标保函",
        fee_rate_percent=Decimal("0.5"),
        minimum_fee=Decimal("200.00"),
    )


def request(
    product: GuaranteeProduct, applicant: Organisation, beneficiary: Organisation, **changes: object
) -> service.ApplicationRequest:
    values: dict[str, object] = {
        "product_id": product.id,
        "applicant_organisation_id": applicant.id,
        "beneficiary_name": beneficiary.name,
        "beneficiary_uscc": beneficiary.uscc,
        "project_code": f"G-{uuid.uuid4().hex[:8]}",
        "lot_code": "001",
        "lot_name": "第一标段",
        "amount": Decimal("80000.00"),
        "valid_from": date(2026, 12, 1),
        "valid_until": date(2027, 3, 31),
    }
    values.update(changes)
    return service.ApplicationRequest(**values)  # type: ignore[arg-type]


async def issued(
    session: AsyncSession, settings: Settings, tmp_path: Path, **changes: object
) -> tuple[Guarantee, GuaranteeApplication, Organisation, Organisation]:
    """A guarantee issued for a fresh bidder to a fresh tenderee; returns it, its application, bidder, tenderee."""
    row, pem = await guarantor(session, settings)
    product = await bid_product(session, row)
    bidder = await organisation(session, settings)
    tenderee = await organisation(session, settings, OrganisationKind.PURCHASER_UNIT)
    application = await service.apply(session, SYSTEM, request(product, bidder, tenderee, **changes))
    await service.mark_paid(session, SYSTEM, application.id)
    guarantee = await service.record_issuance(
        session,
        SYSTEM,
        application.id,
        guarantee_no=f"BH{uuid.uuid4().hex[:12].upper()}",
        json_bytes=b'{"guarantee":"json"}',
        cades_bytes=b"cades-bytes",
        pdf_bytes=b"%PDF-1.7 pdf",
        signer_cert_sha256=sha256_of_pem(pem),
        claim_conditions="投标人在投标有效期内撤销投标文件的",
        issued_at=datetime.now(UTC),
        store=FileStore(tmp_path),
    )
    return guarantee, application, bidder, tenderee
