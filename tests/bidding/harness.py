"""A real server ready for sealed-bid submissions, for the crash test and ``bench/submission.py``.

`prepare` takes a migrated PostgreSQL database and a var directory and leaves them as an operator
would: the development PKI written to ``<var>/dev-ca`` as ``ggzy certs dev-ca`` writes it (so the
server's embedded defaults find the trust list, the TSA key and the receipt key), the trust lists
loaded and the CRLs cached, N bidder organisations each with a user holding the bidder role, a
bearer token (an API session opened directly, not through the rate-limited login endpoint), a
signing and an encryption certificate naming the organisation's USCC, and a published tender with
lots inserted with the ORM. `ServerProcess` runs ``ggzy serve`` on them as a subprocess, and
`submit_bid` uploads a prebuilt container through the API contract of ``bidding/AGENTS.md``
(POST, PATCH chunks with ``Upload-Offset``, submission), recording how far it got (both in
`tests.bidding.live_server`, re-exported here).

The server runs in test mode with the setup's clock file (`SubmissionSetup.clock`): a test reaches
the tender's deadline by moving that clock, in its own process and the server's, never by sleeping.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.client import format as fmt
from bidding.client.sdk import BuiltBid, PriceSummary, build_container, sign_statement_async
from bidding.intake.service import IntakeService
from bidding.models import EvaluationMethod, Lot, Tender, TenderCategory, TenderStatus
from bidding.opening.jobs import OpeningClock, TenderDeadline
from bidding.policies import BiddingPermission
from certs.devpki.pki import DevPki, Identity, Profile, build_dev_pki, make_uscc, organisation_code_extension
from certs.devpki.pki import organisation_name as subject_name
from certs.tools.dev_ca import build_dev_ca, write_files

# The live side, re-exported: tests and benches call ``harness.ServerProcess``, ``harness.submit_bid``.
from tests.bidding.live_server import (  # noqa: F401
    GGZY,
    HTTP_ERROR,
    Attempt,
    ServerProcess,
    bearer,
    running_server,
    send_from,
    submit_bid,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.kernel.sweep import run_sweep
from trading.ledger.service import append_entry
from trading.parties.authentication import AuthenticationService
from trading.parties.certificates.trust import TrustListService, cache_crl
from trading.parties.models import OrganisationKind, SessionKind
from trading.parties.schemas import OrganisationCreate, UserCreate
from trading.parties.service import PartiesService
from trading.server.demo_pki import write_pinned_operator

PASSWORD = "correct horse battery"
GUARANTEE = {"form": "cash", "reference": ""}


@dataclass(frozen=True)
class BidderAccount:
    """A bidder organisation, its user's bearer token and its two certificates."""

    index: int
    uscc: str
    name: str
    organisation_id: uuid.UUID
    user_id: uuid.UUID
    token: str
    sign: Identity
    enc: Identity


@dataclass(frozen=True)
class PublishedTender:
    id: uuid.UUID
    code: str
    deadline: datetime
    lots: tuple[str, ...]


@dataclass(frozen=True)
class SubmissionSetup:
    """What `prepare` made: where everything is, and who may bid on what."""

    db_url: str
    var: Path
    pki: DevPki
    bidders: list[BidderAccount]
    tender: PublishedTender
    test_clock: bool = True

    @property
    def dev_ca_dir(self) -> Path:
        return self.var / "dev-ca"

    @property
    def storage_dir(self) -> Path:
        return self.var / "files"

    @property
    def clock(self) -> clock.OffsetFileClock:
        """The platform clock of the setup's servers (test mode): `advance` moves their time."""
        return clock.OffsetFileClock(self.var / "clock-offset")

    def env_with(self, **extra: str) -> dict[str, str]:
        """`env` plus more ``GGZY_*`` variables (e.g. ``GGZY_REDIS_URL`` for several web processes)."""
        return self.env | extra

    @property
    def env(self) -> dict[str, str]:
        """The server's (and ``ggzy``'s) environment: only the database and var directory differ
        from the embedded defaults; no Redis, no revocation fetching (the CRLs are cached). Test
        mode with the setup's clock file unless `prepare` was told otherwise (benches)."""
        inherited = {key: value for key, value in os.environ.items() if not key.startswith("GGZY_")}
        shifted = {"GGZY_TESTING_ENABLED": "true", "GGZY_TESTING_CLOCK_OFFSET_FILE": str(self.clock.path)}
        return (
            inherited
            | (shifted if self.test_clock else {})
            | {
                "GGZY_DB_URL": self.db_url,
                "GGZY_VAR_DIR": str(self.var),
                "GGZY_LOG_LEVEL": "WARNING",
                "GGZY_CERTS_FETCH_REVOCATION": "false",
            }
        )

    @property
    def trust_roots(self) -> list[Any]:
        return [self.pki.platform_root.certificate]


def harness_settings(db_url: str, var: Path) -> Settings:
    return Settings(db={"url": db_url}, var_dir=var, certs={"fetch_revocation": False})  # type: ignore[arg-type]


def bidder_uscc(index: int) -> str:
    """USCCs that `build_dev_pki` does not use (it takes seeds below 20)."""
    return make_uscc(1000 + index, "320100")


def _issue(pki: DevPki, name: str, uscc: str, profile: Profile) -> Identity:
    return pki.jiangsu_ca.issue(
        subject_name(name, uscc, "江苏省", uscc_in_subject=False),
        profile=profile,
        not_before=pki.now - timedelta(days=30),
        not_after=pki.now + timedelta(days=365),
        extensions=[organisation_code_extension(uscc)],
    )


async def _write_dev_ca(pki: DevPki, out: Path) -> dict[str, Any]:
    files, manifest = await build_dev_ca(pki=pki)
    write_files(out, files)
    write_pinned_operator(out, manifest)
    return manifest


async def prepare(
    db_url: str,
    var: Path,
    *,
    bidders: int,
    lots: Sequence[str] = ("001",),
    max_package_bytes: int = 256 * 1024 * 1024,
    pki: DevPki | None = None,
    deadline_in: timedelta = timedelta(days=1),
    rules: dict[str, Any] | None = None,
    test_clock: bool = True,
) -> SubmissionSetup:
    """Make ``db_url`` (migrated, empty) and ``var`` ready for ``ggzy serve`` and bidders; the
    tender's deadline is ``deadline_in`` from now by the database clock. With ``test_clock`` the
    servers run in test mode on `SubmissionSetup.clock` (benches measure without it)."""
    pki = pki or build_dev_pki()
    var.mkdir(parents=True, exist_ok=True)
    settings = harness_settings(db_url, var)
    assert settings.certs.dev_ca_dir == var / "dev-ca"
    manifest = await _write_dev_ca(pki, var / "dev-ca")
    out = var / "dev-ca"
    engine = create_engine(db_url)
    session_maker = create_session_maker(engine)
    try:
        async with session_maker() as session:
            lists = TrustListService(session, settings)
            for name, peer in (("own", False), ("peer", True)):
                document, signature = manifest["trustLists"][name]
                outcome = await lists.load(
                    (out / document).read_bytes(), (out / signature).read_bytes(), actor=Actor.system(), peer=peer
                )
                assert outcome.refusal is None, outcome.refusal
            for ca in manifest["cas"].values():
                await cache_crl(session, settings, ca["crlUrl"], (out / ca["crl"]).read_bytes())
            await session.commit()

        tag = uuid.uuid4().hex[:6]
        async with session_maker() as session:
            parties = PartiesService(session, settings)
            tenderee = await parties.create_organisation(
                OrganisationCreate(
                    uscc=make_uscc(999, "320100"), name="南京市某招标人(压测)", kind=OrganisationKind.PURCHASER_UNIT
                ),
                actor=Actor.system(),
            )
            tenderee_user, _ = await parties.create_user(
                UserCreate(
                    username=f"tenderee-{tag}",
                    display_name="招标人",
                    password=PASSWORD,
                    organisation_id=tenderee.id,
                    role=Role.TENDEREE,
                ),
                actor=Actor.system(),
            )
            now = await clock.now(session)
            deadline = (now + deadline_in).replace(microsecond=0)
            code = f"E3201000001{secrets.randbelow(10**9):09d}"
            tender = Tender(
                project_code=code,
                title="压测项目:沉默投标",
                category=TenderCategory.ENGINEERING,
                tender_type="engineering-mandatory",
                status=TenderStatus.PUBLISHED,
                tenderee_organisation_id=tenderee.id,
                agency_organisation_id=None,
                created_by=tenderee_user.id,
                estimate=Decimal("10000000.00"),
                bid_security_amount=Decimal("100000.00"),
                bid_security_forms={"forms": ["cash", "guarantee"]},
                evaluation_method=EvaluationMethod.COMPREHENSIVE,
                evaluation_criteria={"criteria": [{"name": "价格", "weight": 100}]},
                documents_from=now - timedelta(days=20),
                documents_until=deadline,
                deadline=deadline,
                decryption_window_minutes=60,
                bid_validity_days=90,
                max_package_bytes=max_package_bytes,
                key_holders={},
                rules=rules,
                published_at=now - timedelta(days=20),
                closed_at=None,
                extensions=0,
                next_check=deadline,
                created_at=now,
                updated_at=now,
            )
            session.add(tender)
            await session.flush()
            for position, lot_code in enumerate(lots):
                session.add(
                    Lot(
                        tender_id=tender.id,
                        code=lot_code,
                        name=f"第{lot_code}标段",
                        estimate=Decimal("1000000.00"),
                        position=position,
                    )
                )
            await append_entry(
                session,
                actor=Actor.system(),
                action="bidding.tender_published",
                subject_type="bidding.tender",
                subject_id=str(tender.id),
                summary={"harness": True},
                project_code=code,
            )
            published = PublishedTender(tender.id, code, deadline, tuple(lots))
            await session.commit()

        accounts = [await _bidder(session_maker, settings, pki, index, tag) for index in range(bidders)]
    finally:
        await engine.dispose()
    return SubmissionSetup(db_url=db_url, var=var, pki=pki, bidders=accounts, tender=published, test_clock=test_clock)


async def _bidder(session_maker: Any, settings: Settings, pki: DevPki, index: int, tag: str) -> BidderAccount:
    uscc = bidder_uscc(index)
    name = f"江苏压测建设工程有限公司{index:03d}"
    async with session_maker() as session:
        parties = PartiesService(session, settings)
        organisation = await parties.create_organisation(
            OrganisationCreate(uscc=uscc, name=name, kind=OrganisationKind.ENTERPRISE), actor=Actor.system()
        )
        user, _ = await parties.create_user(
            UserCreate(
                username=f"bidder-{tag}-{index:03d}",
                display_name="投标人",
                password=PASSWORD,
                organisation_id=organisation.id,
                role=Role.BIDDER,
            ),
            actor=Actor.system(),
        )
        now = await clock.now(session)
        token, _ = await AuthenticationService(session, settings).open_session(
            user, SessionKind.API, Actor.system(), organisation.id, now
        )
        await session.commit()
    return BidderAccount(
        index=index,
        uscc=uscc,
        name=name,
        organisation_id=organisation.id,
        user_id=user.id,
        token=token,
        sign=_issue(pki, name, uscc, Profile.SIGN),
        enc=_issue(pki, name, uscc, Profile.ENCRYPT),
    )


async def host_token(setup: SubmissionSetup) -> str:
    """A bearer token of the tender's creator (the tenderee's user, the opening's host)."""
    from trading.parties.models import User

    settings = harness_settings(setup.db_url, setup.var)
    engine = create_engine(setup.db_url)
    try:
        async with create_session_maker(engine)() as session:
            tender = await session.get_one(Tender, setup.tender.id)
            user = await session.get_one(User, tender.created_by)
            now = await clock.now(session)
            token, _ = await AuthenticationService(session, settings).open_session(
                user, SessionKind.API, Actor.system(), tender.tenderee_organisation_id, now
            )
            await session.commit()
    finally:
        await engine.dispose()
    return token


async def deadline_soon(setup: SubmissionSetup, seconds: int) -> SubmissionSetup:
    """Move the tender's deadline to ``seconds`` from the servers' now (`SubmissionSetup.clock`),
    so bids submitted next are in time and `open_at_deadline` has little to move (bids must be
    sealed for the new deadline: build them after this).
    """
    engine = create_engine(setup.db_url)
    try:
        async with create_session_maker(engine)() as session:
            tender = await session.get_one(Tender, setup.tender.id, with_for_update=True)
            deadline = (await setup.clock.now(session) + timedelta(seconds=seconds)).replace(microsecond=0)
            tender.deadline = tender.documents_until = tender.next_check = deadline
            await session.commit()
    finally:
        await engine.dispose()
    return dataclasses.replace(setup, tender=dataclasses.replace(setup.tender, deadline=deadline))


async def open_at_deadline(setup: SubmissionSetup) -> None:
    """Move the servers' clock just past the tender's deadline (instead of waiting for it), then run
    the sweep that opens the hall on that clock."""
    engine = create_engine(setup.db_url)
    try:
        session_maker = create_session_maker(engine)
        shifted = setup.clock
        async with session_maker() as session:
            remaining = setup.tender.deadline - await shifted.now(session)
        shifted.advance(max(remaining, timedelta(0)) + timedelta(seconds=0.5))
        with clock.use_clock(shifted):
            report = await run_sweep(session_maker, [TenderDeadline(FileStore(setup.storage_dir)), OpeningClock()])
        assert report.changed == {"bidding.tender_deadline": 1}, report
    finally:
        await engine.dispose()


# --- in-process actors (services called directly, as bench/opening does) ----------------------------


async def sign_in_signature(bidder: BidderAccount, code: str) -> str:
    """The bidder's CAdES signature (base64) over the hall's sign-in statement (签到 is signed)."""
    signature = await sign_statement_async(fmt.sign_in_statement(code, bidder.uscc), bidder.sign.signing())
    return base64.b64encode(signature).decode()


async def sign_in_over_http(http: httpx.AsyncClient, base_url: str, bidder: BidderAccount, code: str) -> None:
    """签到 through the API with the bidder's signature (decryption needs it)."""
    response = await http.post(
        f"{base_url}/api/v1/bidding/opening/{code}/sign-in",
        json={"signature": await sign_in_signature(bidder, code)},
        headers=bearer(bidder.token),
    )
    if response.status_code >= HTTP_ERROR:
        raise AssertionError(f"sign-in refused: {response.status_code} {response.text}")


def bidder_actor(bidder: BidderAccount) -> Actor:
    """The actor a bidder's request would carry (bid and opening permissions)."""
    return Actor(
        kind=ActorKind.USER,
        user_id=bidder.user_id,
        username=f"bidder-{bidder.index}",
        organisation_id=bidder.organisation_id,
        organisation_name=bidder.name,
        roles=frozenset({Role.BIDDER}),
        permissions=frozenset(
            {BiddingPermission.BID_SUBMIT, BiddingPermission.OPENING_ATTEND, BiddingPermission.OPENING_READ}
        ),
    )


async def host_actor(session_maker: async_sessionmaker[AsyncSession], setup: SubmissionSetup) -> Actor:
    """The actor of the tender's creator, the opening's host (the tenderee)."""
    from trading.parties.models import User

    async with session_maker() as session:
        tender = await session.get_one(Tender, setup.tender.id)
        user = await session.get_one(User, tender.created_by)
        return Actor(
            kind=ActorKind.USER,
            user_id=user.id,
            username=user.username,
            organisation_id=tender.tenderee_organisation_id,
            roles=frozenset({Role.TENDEREE}),
            permissions=frozenset({BiddingPermission.OPENING_READ, BiddingPermission.OPENING_HOST}),
        )


async def submit_in_process(intake: IntakeService, actor: Actor, code: str, lot: str, built: BuiltBid) -> None:
    """Upload and submit a built container through `IntakeService` (no HTTP)."""
    upload = await intake.start_upload(actor, code, lot, size=built.size, sha256=built.sha256)

    async def chunks() -> AsyncIterator[bytes]:
        with built.path.open("rb") as stream:
            while chunk := stream.read(8 * 1024 * 1024):
                yield chunk

    await intake.receive(actor, upload.id, 0, chunks())
    await intake.submit(actor, upload.id)


# --- containers ----------------------------------------------------------------------------------


def build_bid(
    setup: SubmissionSetup, bidder: BidderAccount, lot: str, out_dir: Path, *, size_bytes: int, label: str = ""
) -> BuiltBid:
    """A sealed container for ``bidder`` on ``lot`` holding one file of ``size_bytes`` random bytes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{bidder.uscc}-{lot}{label}-{uuid.uuid4().hex[:6]}"
    source = out_dir / f"{stem}.bin"
    with source.open("wb") as stream:
        remaining = size_bytes
        while remaining > 0:
            piece = min(remaining, 4 * 1024 * 1024)
            stream.write(os.urandom(piece))
            remaining -= piece
    try:
        return build_container(
            out_dir / f"{stem}.ggzy",
            tender=setup.tender.code,
            lot=lot,
            bidder_uscc=bidder.uscc,
            deadline=setup.tender.deadline,
            files=[source],
            price_summary=PriceSummary(
                tender=setup.tender.code,
                lot=lot,
                bidder=bidder.uscc,
                total_price=Decimal(980000 + bidder.index),
                duration_days=180,
            ),
            guarantee=GUARANTEE,
            signer=bidder.sign.signing(),
            bidder_encryption=bidder.enc.certificate,
        )
    finally:
        source.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
