"""The bidder client against the real application (ASGI, PostgreSQL): resumable upload through a
lost connection, submission, a receipt that verifies under the platform root, withdrawal, and
refusals that name field and rule.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client.sdk import BuiltBid, PriceSummary, build_container_async
from bidding.client.transport import BidClient, BidRejected, login
from bidding.models import EvaluationMethod, Lot, Tender, TenderCategory, TenderStatus
from certs.devpki.pki import DevPki, build_dev_pki
from certs.tools.dev_ca import build_dev_ca, write_files
from tests.trading.parties.certificates.helpers import load_dev_lists
from tests.trading.parties.factories import PASSWORD, Account, create_account, new_username
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.parties.policies import ROLE_ORGANISATION_KINDS
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService
from trading.server.demo_pki import write_pinned_operator

LOT = "001"


@pytest.fixture(scope="module")
def dev_pki() -> DevPki:
    return build_dev_pki()


@pytest.fixture(scope="module")
async def dev_ca(dev_pki: DevPki, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("dev-ca")
    files, manifest = await build_dev_ca(pki=dev_pki)
    write_files(out, files)
    write_pinned_operator(out, manifest)
    return out, manifest


@pytest.fixture
def settings(settings: Settings, dev_ca: tuple[Path, dict[str, Any]]) -> Settings:
    out, _ = dev_ca
    return Settings(
        db={"url": settings.db.url},  # type: ignore[arg-type]
        var_dir=settings.var_dir,
        certs={  # type: ignore[arg-type]
            "dev_ca_dir": out,
            "trust_list": str(out / "trust-list.json"),
            "operator_certificates": out / "pinned-operators.pem",
            "tsa_p12": out / "p12" / "tsa.p12",
            "tsa_p12_password": "dev",
            "fetch_revocation": False,
        },
    )


async def bidder_account(session_maker: async_sessionmaker[AsyncSession], settings: Settings, uscc: str) -> Account:
    """A bidder organisation with the USCC of the development signing certificate."""
    async with session_maker() as session:
        service = PartiesService(session, settings)
        organisation = await service.create_organisation(
            OrganisationCreate(
                uscc=uscc, name="南京示例建设工程有限公司", kind=min(ROLE_ORGANISATION_KINDS[Role.BIDDER])
            ),
            actor=Actor.system(),
        )
        user, membership = await service.create_user(
            UserCreate(
                username=new_username("bidder"),
                display_name="投标人",
                password=PASSWORD,
                organisation_id=organisation.id,
                role=Role.BIDDER,
            ),
            actor=Actor.system(),
        )
        await session.commit()
    return Account(user.id, organisation.id, membership.id, user.username)


async def published_tender(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, deadline: datetime
) -> str:
    tenderee = await create_account(session_maker, settings, Role.TENDEREE)
    code = f"E320100{uuid.uuid4().hex[:13].upper()}"
    now = datetime.now(UTC)
    async with session_maker() as session:
        tender = Tender(
            project_code=code,
            title="示例道路工程",
            category=TenderCategory.ENGINEERING,
            tender_type="engineering",
            status=TenderStatus.PUBLISHED,
            tenderee_organisation_id=tenderee.organisation_id,
            agency_organisation_id=None,
            created_by=tenderee.user_id,
            estimate=Decimal(20000000),
            bid_security_amount=Decimal(400000),
            bid_security_forms={"forms": ["cash", "guarantee"]},
            evaluation_method=EvaluationMethod.COMPREHENSIVE,
            evaluation_criteria={"criteria": [{"name": "价格", "weight": 100}]},
            documents_from=now - timedelta(days=20),
            documents_until=deadline,
            deadline=deadline,
            decryption_window_minutes=30,
            bid_validity_days=90,
            max_package_bytes=16 * 1024 * 1024,
            key_holders={},
            rules=None,
            published_at=now - timedelta(days=20),
            closed_at=None,
            next_check=deadline,
            created_at=now - timedelta(days=21),
            updated_at=now - timedelta(days=20),
        )
        session.add(tender)
        await session.flush()
        session.add(Lot(tender_id=tender.id, code=LOT, name="第一标段", estimate=Decimal(20000000), position=1))
        await session.commit()
    return code


@dataclass(frozen=True)
class OpenTender:
    """A published tender with one lot, open for two more days, and a bidder whose USCC is the
    development signing certificate's (the trust list loaded, so the manifest signer validates).
    """

    code: str
    deadline: datetime
    bidder: Account


@pytest.fixture
async def open_tender(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_ca: tuple[Path, dict[str, Any]],
    dev_pki: DevPki,
) -> OpenTender:
    await load_dev_lists(session_maker, settings, *dev_ca)
    account = await bidder_account(session_maker, settings, dev_pki.org_uscc)
    deadline = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    return OpenTender(await published_tender(session_maker, settings, deadline), deadline, account)


class DropsSecondChunkAnswer(httpx.AsyncBaseTransport):
    """Forwards every request to the app, but loses the answer to the second PATCH: the server
    holds the chunk, the client sees a broken connection and must ask where to resume.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.patches = 0
        self.status_checks = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "GET" and "/uploads/" in request.url.path:
            self.status_checks += 1
        if request.method == "PATCH":
            self.patches += 1
            if self.patches == 2:
                await response.aread()
                raise httpx.ReadError("connection reset", request=request)
        return response


@pytest.fixture
async def lossy_client(client: httpx.AsyncClient) -> AsyncIterator[tuple[httpx.AsyncClient, DropsSecondChunkAnswer]]:
    transport = DropsSecondChunkAnswer(client._transport)
    async with httpx.AsyncClient(transport=transport, base_url=client.base_url) as lossy:
        yield lossy, transport


async def build_bid(pki: DevPki, tmp_path: Path, code: str, deadline: datetime) -> BuiltBid:
    document = tmp_path / "技术标.pdf"
    document.write_bytes(b"%PDF-1.7 " + os.urandom(300_000))  # incompressible: several chunks
    return await build_container_async(
        tmp_path / "bid.ggzy",
        tender=code,
        lot=LOT,
        bidder_uscc=pki.org_uscc,
        deadline=deadline,
        files=[document],
        price_summary=PriceSummary(
            tender=code, lot=LOT, bidder=pki.org_uscc, total_price=Decimal(19800000), duration_days=365
        ),
        guarantee={"form": "cash", "reference": ""},
        signer=pki.org_sign.signing(),
        bidder_encryption=pki.org_enc.certificate,
    )


async def test_upload_survives_a_lost_answer_and_the_receipt_verifies(
    open_tender: OpenTender,
    dev_pki: DevPki,
    lossy_client: tuple[httpx.AsyncClient, DropsSecondChunkAnswer],
    tmp_path: Path,
) -> None:
    http, transport = lossy_client
    code = open_tender.code
    built = await build_bid(dev_pki, tmp_path, code, open_tender.deadline)

    token = await login("", open_tender.bidder.username, PASSWORD, http=http)
    bidder = BidClient("", token, http=http, retry_delay=0)
    progress: list[int] = []
    receipt = await bidder.upload(
        code, LOT, built.path, chunk_size=64 * 1024, on_progress=lambda done, _total: progress.append(done)
    )

    assert transport.patches > 2
    assert transport.status_checks >= 1  # the client asked where to resume after the lost answer
    assert progress[-1] == built.size
    record = receipt.verify(
        [dev_pki.platform_root.certificate],
        expected={"containerSha256": built.sha256, "manifestSha256": built.manifest_sha256},
    )
    assert record["receiptNo"] == receipt.receipt_no
    json_path, p7s_path = receipt.save(tmp_path / "receipts")
    assert json_path.read_bytes() == receipt.receipt
    assert p7s_path.read_bytes() == receipt.signature

    signer_pem = await bidder.receipt_signer_pem()
    assert b"BEGIN CERTIFICATE" in signer_pem

    mine = await bidder.my_bids(code)
    assert [(b["tender"], b["lot"]) for b in mine] == [(code, LOT)]

    withdrawal = await bidder.withdraw(code, LOT, dev_pki.org_sign.signing())
    assert withdrawal.verify([dev_pki.platform_root.certificate])["receiptNo"] == withdrawal.receipt_no


async def test_resume_continues_from_the_server_offset(
    open_tender: OpenTender, dev_pki: DevPki, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    built = await build_bid(dev_pki, tmp_path, open_tender.code, open_tender.deadline)
    token = await login("", open_tender.bidder.username, PASSWORD, http=client)
    bidder = BidClient("", token, http=client, retry_delay=0)

    started = await bidder.start_upload(open_tender.code, LOT, size=built.size, sha256=built.sha256)
    head = built.path.read_bytes()[:1000]
    first = await client.patch(
        f"/api/v1/bidding/uploads/{started.id}",
        content=head,
        headers={"Authorization": f"Bearer {bidder.token}", "Upload-Offset": "0"},
    )
    assert first.status_code == 204, first.text
    assert (await bidder.upload_state(started.id)).offset == 1000

    receipt = await bidder.resume(started.id, built.path, chunk_size=256 * 1024)
    assert receipt.verify([dev_pki.platform_root.certificate], expected={"containerSha256": built.sha256})


async def test_refusals_carry_field_and_rule(
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    dev_pki: DevPki,
    client: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    account = await bidder_account(session_maker, settings, dev_pki.org_uscc)
    deadline = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    code = await published_tender(session_maker, settings, deadline)
    bidder = BidClient("", await login("", account.username, PASSWORD, http=client), http=client)
    container = tmp_path / "x.ggzy"
    container.write_bytes(b"x" * 100)

    with pytest.raises(BidRejected) as missing_lot:
        await bidder.upload(code, "999", container)
    assert (missing_lot.value.status, missing_lot.value.field, missing_lot.value.rule) == (404, "lot", "exists")

    with pytest.raises(BidRejected) as too_large:
        await bidder.start_upload(code, LOT, size=17 * 1024 * 1024, sha256="00" * 32)
    assert too_large.value.status == 413
    assert (too_large.value.field, too_large.value.rule) == ("size", "max-package-bytes")

    with pytest.raises(BidRejected) as not_a_container:
        await bidder.upload(code, LOT, container)
    assert not_a_container.value.status == 422
    assert not_a_container.value.field == "package"

    with pytest.raises(BidRejected) as bad_login:
        await login("", account.username, "wrong password", http=client)
    assert bad_login.value.status in {400, 401, 422}


class DropsFirstBidAnswer(httpx.AsyncBaseTransport):
    """Loses the answer to the first one-request bid: the server made the bid, the client saw a
    broken connection and sends the same request again."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.posts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and request.url.path.endswith("/bids"):
            self.posts.append(request.headers["Idempotency-Key"])
            if len(self.posts) == 1:
                await response.aread()
                raise httpx.ReadError("connection reset", request=request)
        return response


async def test_a_one_request_bid_whose_answer_was_lost_is_retried_into_the_same_bid(
    open_tender: OpenTender, dev_pki: DevPki, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Issue 20: the package fits one chunk, so the client sends it in one request; the retry after a
    lost answer carries the same Idempotency-Key and gets the receipt of the bid already made."""
    built = await build_bid(dev_pki, tmp_path, open_tender.code, open_tender.deadline)
    transport = DropsFirstBidAnswer(client._transport)
    async with httpx.AsyncClient(transport=transport, base_url=client.base_url) as http:
        token = await login("", open_tender.bidder.username, PASSWORD, http=http)
        bidder = BidClient("", token, http=http, retry_delay=0)
        receipt = await bidder.upload(open_tender.code, LOT, built.path)
        assert len(transport.posts) == 2
        assert transport.posts[0] == transport.posts[1]
        assert receipt.verify([dev_pki.platform_root.certificate], expected={"containerSha256": built.sha256})
        mine = await bidder.my_bids(open_tender.code)
    assert len(mine) == 1
    assert [v["receiptNo"] for v in mine[0]["versions"]] == [receipt.receipt_no]  # one version, not two
