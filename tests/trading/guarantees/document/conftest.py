"""Fixtures for the guarantee document tests: the development PKI, its trust list and TSA, no database.

The guarantee module is pure, so these tests are too: a development PKI (with one more guarantor
certificate, revoked), the platform's own trust list as the server loads it (the guarantor CA is
recognised for the usage ``guarantee``), a `PathValidator` that fetches CRLs from the PKI in memory,
and the platform TSA in-process. ``openssl`` and ``pdfsig`` run as subprocesses on files under
``tmp_path``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from cryptography.x509.oid import NameOID

from certs.devpki.devlist import dev_trust_list
from certs.devpki.pki import (
    DEMO_TENDEREE_NAME,
    DEMO_TENDEREE_USCC,
    DevPki,
    Identity,
    PkiFetcher,
    Profile,
    build_dev_pki,
    make_uscc,
    organisation_name,
)
from certs.pathval.revocation import RevocationChecker
from certs.pathval.validate import PathValidator
from certs.trustlist.registry import TrustRegistry
from certs.trustlist.sign import publish
from certs.trustlist.verify import MemorySequenceStore, load_trust_list
from certs.tsa.client import LocalTsa
from certs.tsa.server import TimeStampAuthority
from trading.guarantees.document import Guarantee, GuaranteeKind, Issuer, IssuerType, Organisation
from trading.guarantees.verify import Expectation


@dataclass(frozen=True)
class World:
    """The PKI and what the tests sign with: the recognised guarantor and a revoked one."""

    pki: DevPki
    guarantor_uscc: str
    revoked_guarantor: Identity
    revoked_uscc: str


def uscc_of(identity: Identity) -> str:
    """The USCC the guarantor CA puts in the subject's serialNumber."""
    return str(identity.certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value)


@pytest.fixture(scope="session")
def world() -> World:
    pki = build_dev_pki()
    revoked_uscc = make_uscc(30, "320500")
    revoked = pki.guarantor_ca.issue(
        organisation_name("苏州已吊销担保有限公司(开发)", revoked_uscc, "江苏省", uscc_in_subject=True),
        profile=Profile.DOCUMENT_SIGN,
        not_before=pki.now - timedelta(days=30),
        not_after=pki.now + timedelta(days=365),
    )
    pki.guarantor_ca.revoke(revoked.certificate, pki.now - timedelta(days=1))
    return World(pki, uscc_of(pki.guarantor), revoked, revoked_uscc)


@pytest.fixture(scope="session")
def tsa(world: World) -> LocalTsa:
    serials = itertools.count(1)
    return LocalTsa(
        TimeStampAuthority(
            identity=world.pki.tsa.signing(),
            clock=lambda: datetime.now(UTC).replace(microsecond=0),
            serials=lambda: next(serials),
        )
    )


@pytest.fixture(scope="session")
async def registry(world: World, tsa: LocalTsa) -> TrustRegistry:
    pki = world.pki
    published = await publish(dev_trust_list(pki), pki.operator.signing(), tsa=tsa)
    own = load_trust_list(
        published.document,
        published.signature,
        pinned=[pki.operator.certificate],
        now=pki.now,
        store=MemorySequenceStore(),
    )
    return TrustRegistry(own)


@pytest.fixture
def validator(registry: TrustRegistry, world: World) -> PathValidator:
    # The PKI's clock is "now" at its build; CRLs are fetched fresh from it in memory.
    return PathValidator(registry, RevocationChecker(PkiFetcher(world.pki), clock=lambda: datetime.now(UTC)))


DEADLINE = datetime(2026, 12, 20, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
BID_VALIDITY_END = DEADLINE + timedelta(days=90)
REQUIRED = Decimal("200000.00")


def guarantee_for(world: World, **changes: object) -> Guarantee:
    """A bid guarantee that meets `expectation_for`, with ``changes`` applied."""
    pki = world.pki
    values: dict[str, object] = {
        "guarantee_no": "JSBK-2026-000123",
        "kind": GuaranteeKind.BID,
        "issuer": Issuer("江苏银行股份有限公司(开发)", world.guarantor_uscc, IssuerType.BANK, "南京分行营业部"),
        "applicant": Organisation("南京示例建设工程有限公司", pki.org_uscc),
        "beneficiary": Organisation(DEMO_TENDEREE_NAME, DEMO_TENDEREE_USCC),
        "project_code": "3201002026120001",
        "lot_code": "3201002026120001001",
        "lot_name": "教学楼改造工程施工",
        "amount": Decimal("200000.00"),
        "currency": "CNY",
        "valid_from": datetime(2026, 12, 10, tzinfo=UTC),
        "valid_until": BID_VALIDITY_END + timedelta(days=30),
        "claim_conditions": "投标人在投标有效期内撤销投标文件的；\n中标人无正当理由拒签合同或未按规定提交履约担保的。",
        "issued_at": datetime(2026, 12, 6, 10, 0, tzinfo=UTC),
        "verification_url": "https://ggzy.js.invalid/guarantees/verify",
        "verification_code": "K7Q2-9XPM",
    }
    values.update(changes)
    return Guarantee(**values)  # type: ignore[arg-type]


def expectation_for(world: World, **changes: object) -> Expectation:
    values: dict[str, object] = {
        "beneficiary_uscc": DEMO_TENDEREE_USCC,
        "project_code": "3201002026120001",
        "lot_code": "3201002026120001001",
        "applicant_uscc": world.pki.org_uscc,
        "minimum_amount": REQUIRED,
        "bid_deadline": DEADLINE,
        "bid_validity_end": BID_VALIDITY_END,
    }
    values.update(changes)
    return Expectation(**values)  # type: ignore[arg-type]
