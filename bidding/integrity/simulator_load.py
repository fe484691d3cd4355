"""A simulated market (`simulator`) written into ggzy's own tables, so the platform's screeners
(`screeners.plug_screeners`: the opening's prices, hard evidence and documents, and the market
batch) read it unchanged, exactly as they read real opened tenders.

Per simulated tender (an ``ocid`` of ``simulator``; its lots are consecutive):

- ``parties_organisations``: every bidder (企业) and tenderee (采购单位) once, with a 统一社会信用代码
  derived from the seed and the simulator's party id (valid check character, prefix ``91``/``12``)
  and the simulator's Chinese name; ``parties_users``: one inactive user, ``ggzy-simulator``, who
  "created" the tenders and "submitted" the bids (no password can match it);
- ``bidding_tenders`` (``project_code`` = the ocid, title marked 【模拟】, status ``opening`` as a
  tender whose opening ran), ``bidding_lots`` (code ``"1"`` for a single lot, else the simulator's),
  ``bidding_documents`` (the tender document's text as a published .txt in the file store);
- ``bidding_bids`` and ``bidding_bid_versions``: one submitted version per bid, with the public
  manifest the client signs (its ``signals.deviceHash`` is the simulator's device hash) and the
  simulator's ``submit_ip``;
- ``bidding_opening_sessions`` (closed) and ``bidding_opening_bids``: every bid read out
  (``decrypted``), its price summary as the client builds it (`PriceSummary.to_dict`, salt removed as
  the opening removes it), its package opened with the files' digests and authoring metadata taken
  by the opening's own `authoring.package_files`; no ``decrypt_ip`` (the simulator has none);
- ``evaluation_evaluations`` (completed, one per lot, naming it in ``lot_ids``) and ``award_awards``
  (awarded to the simulator's winner): what `screeners.market_lots` reads the winners from.

**Rows written directly, not through the sealed-bid protocol**, because sealing, receipting,
opening and evaluating a few hundred lots with real certificates and key holders takes minutes per
tender and tests nothing the simulator is for. Therefore: the bid versions have no container in the
file store, and their receipt, manifest signature and the tender document's signature are empty
(``b""``: nothing was signed, nobody may take them for signed records); each opened package is
stored in the file store as the opening stores a package opened from the backup channel
(``backups/<sha256>``, ``package_content_key`` NULL), which is how `OpeningHall.opened_package`
(and so the documents screen) reads it back without the container. The evaluations have no panel
(no experts, no scores); the awards have no steps. Nothing is appended to the tenders' ledger
chains; one entry on the platform chain (``integrity.simulation_loaded``) says what was loaded.

Refused in production mode. Idempotent: a tender whose ``project_code`` exists is left alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.models import Award
from bidding.award.rules import Sector
from bidding.award.states import AwardState
from bidding.client import format as fmt
from bidding.client.price_summary import PriceSummary
from bidding.evaluation.methods.common import MethodCode
from bidding.evaluation.methods.common import Sector as EvaluationSector
from bidding.evaluation.methods.serialise import settings_to_data
from bidding.evaluation.methods.settings import MethodSettings
from bidding.evaluation.models import Evaluation, SessionState
from bidding.intake.base import BLOB_NAMESPACE
from bidding.integrity import jobs
from bidding.integrity.jobs import ScreeningReport
from bidding.integrity.screeners import plug_screeners
from bidding.integrity.simulator import LotKey, SimulatedLot, SimulatedMarket, simulate
from bidding.models import (
    Bid,
    BidStatus,
    BidVersion,
    DocumentKind,
    EvaluationMethod,
    Lot,
    Tender,
    TenderCategory,
    TenderDocument,
    TenderStatus,
    VersionKind,
)
from bidding.opening.authoring import INNER_MANIFEST, package_files
from bidding.opening.models import OpeningBid, OpeningSession, Outcome, PartStatus, Stage
from bidding.opening.remedy import BACKUP_NAMESPACE
from bidding.tenders.base import DOCUMENTS_NAMESPACE
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.types import uuid7
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Mode, Settings
from trading.kernel.storage import FileStore, Store, open_store
from trading.ledger.service import append_entry
from trading.parties.identifiers import USCC_CHARSET, uscc_check_char
from trading.parties.models import Organisation, OrganisationKind, User

__all__ = ["LoadReport", "LoadedMarket", "SimulationRefused", "load_simulated", "load_with_settings"]

LOADER_USERNAME: Final = "ggzy-simulator"
TITLE_MARK: Final = "【模拟】"
REGION: Final = "320100"
PROPOSAL_FILE: Final = "投标文件.txt"
# OCDS mainProcurementCategory → the tender's category and rule set, the award's sector, and the
# evaluation's lowest-price method (the simulator's lowest bid wins: "lowest" for the price screens)
_CATEGORIES: Final = {
    "works": (TenderCategory.ENGINEERING, "engineering", Sector.ENGINEERING, MethodCode.ENG_LOWEST_PRICE),
    "goods": (TenderCategory.GOODS, "goods", Sector.GOVERNMENT_PROCUREMENT, MethodCode.GP_LOWEST_PRICE),
    "services": (TenderCategory.SERVICES, "services", Sector.GOVERNMENT_PROCUREMENT, MethodCode.GP_LOWEST_PRICE),
}
_NO_PASSWORD: Final = "!"  # noqa: S105 - not a password: a value no password hash can equal
_DEVICE_IDENTIFIERS: Final = ["machine-id", "mac"]


@dataclass
class _Rows:
    """One tender's rows below its lots, in the order they are inserted (parents first)."""

    bids: list[Bid] = field(default_factory=list)
    versions: list[BidVersion] = field(default_factory=list)
    opened: list[OpeningBid | Evaluation] = field(default_factory=list)
    awards: list[Award] = field(default_factory=list)


class SimulationRefused(RuntimeError):
    """Simulated data is not loaded into a production platform."""


@dataclass
class LoadedMarket:
    """What the loader wrote, and how the simulator's names map to the platform's rows."""

    organisations: dict[str, uuid.UUID] = field(default_factory=dict)  # simulator party id → organisation
    lots: dict[LotKey, tuple[uuid.UUID, uuid.UUID]] = field(default_factory=dict)  # → (tender id, lot id)
    codes: list[str] = field(default_factory=list)  # project codes, in the simulator's order
    skipped: list[str] = field(default_factory=list)  # tenders already there (left alone)
    bids: int = 0

    def party_of(self) -> dict[str, str]:
        """Organisation id (as the screens name bidders) → the simulator's party id."""
        return {str(org): party for party, org in self.organisations.items()}


def simulated_uscc(seed: int, party: str) -> str:
    """A valid 统一社会信用代码 for a simulated party, the same for the same seed and party."""
    digest = hashlib.sha256(f"ggzy-simulator:{seed}:{party}".encode()).digest()
    body = "".join(USCC_CHARSET[byte % len(USCC_CHARSET)] for byte in digest[:9])
    first17 = ("12" if party.startswith("SIM-T") else "91") + REGION + body
    return first17 + uscc_check_char(first17)


async def load_simulated(
    session: AsyncSession,
    market: SimulatedMarket,
    *,
    settings: Settings,
    store: Store,
) -> LoadedMarket:
    """Write ``market`` into the platform's tables (flushes; the caller's unit of work commits)."""
    if settings.mode is Mode.PRODUCTION:
        raise SimulationRefused("simulated markets are not loaded into a production platform")
    loaded = LoadedMarket()
    user = await _loader_user(session)
    loaded.organisations = await _organisations(session, market.seed, market.names)
    group: list[SimulatedLot] = []
    for item in market.simulated_lots():
        if group and group[0].bids.ocid != item.bids.ocid:
            await _tender(session, seed=market.seed, group=group, user=user, loaded=loaded, store=store)
            group = []
        group.append(item)
    if group:
        await _tender(session, seed=market.seed, group=group, user=user, loaded=loaded, store=store)
    await append_entry(
        session,
        actor=Actor.system(),
        action="integrity.simulation_loaded",
        subject_type="integrity.simulation",
        subject_id=f"seed-{market.seed}",
        summary={"seed": market.seed, "tenders": len(loaded.codes) - len(loaded.skipped), "bids": loaded.bids},
    )
    await session.flush()
    return loaded


async def _loader_user(session: AsyncSession) -> uuid.UUID:
    found = await session.scalar(sa.select(User.id).where(User.username == LOADER_USERNAME))
    if found is not None:
        return found
    # Inactive, and "!" is no hash any password verifies against: nobody can log in as it.
    user = User(username=LOADER_USERNAME, display_name="模拟市场", password_hash=_NO_PASSWORD, active=False)
    session.add(user)
    await session.flush()
    return user.id


async def _organisations(session: AsyncSession, seed: int, names: Mapping[str, str]) -> dict[str, uuid.UUID]:
    """Every simulated party's organisation, created once (found again by its USCC)."""
    usccs = {party: simulated_uscc(seed, party) for party in sorted(names)}
    query = sa.select(Organisation.uscc, Organisation.id).where(Organisation.uscc.in_(list(usccs.values())))
    found: dict[str, uuid.UUID] = {row.uscc: row.id for row in (await session.execute(query)).all()}
    for party, uscc in usccs.items():
        if uscc not in found:
            kind = OrganisationKind.PURCHASER_UNIT if party.startswith("SIM-T") else OrganisationKind.ENTERPRISE
            organisation = Organisation(id=uuid7(), uscc=uscc, name=names[party], kind=kind, region_code=REGION)
            session.add(organisation)
            found[uscc] = organisation.id
    await session.flush()
    return {party: found[uscc] for party, uscc in usccs.items()}


def _package(text: str) -> bytes:
    """The opened inner package: the bid's text as one file, listed in the inner manifest."""
    data = text.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        listing = {"files": [{"name": PROPOSAL_FILE, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}]}
        archive.writestr(INNER_MANIFEST, json.dumps(listing, ensure_ascii=False))
        archive.writestr(PROPOSAL_FILE, data)
    return buffer.getvalue()


def _manifest(code: str, lot: str, uscc: str, deadline: datetime, device_hash: str | None) -> bytes:
    """The public manifest as the client writes it (`format.parse_manifest` accepts it)."""
    empty = hashlib.sha256(b"").hexdigest()
    manifest: dict[str, Any] = {
        "format": fmt.FORMAT,
        "tender": code,
        "lot": lot,
        "bidder": uscc,
        "deadline": deadline.isoformat(),
        "parts": {kind: {"name": name, "size": 0, "sha256": empty} for kind, name in fmt.PART_NAMES.items()},
        "contentSha256": dict.fromkeys(fmt.PART_NAMES, empty),
        "guarantee": None,
    }
    if device_hash:
        manifest["signals"] = {"deviceHash": device_hash, "deviceIdentifiers": _DEVICE_IDENTIFIERS}
    data = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode()
    fmt.parse_manifest(data)
    return data


async def _tender(
    session: AsyncSession,
    *,
    seed: int,
    group: list[SimulatedLot],
    user: uuid.UUID,
    loaded: LoadedMarket,
    store: Store,
) -> None:
    first = group[0].bids
    code = first.ocid
    loaded.codes.append(code)
    existing = await session.scalar(sa.select(Tender).where(Tender.project_code == code))
    if existing is not None:
        loaded.skipped.append(code)
        lots = {row.code: row.id for row in await session.scalars(sa.select(Lot).where(Lot.tender_id == existing.id))}
        for item in group:
            loaded.lots[(code, item.bids.lot)] = (existing.id, lots[item.bids.lot or "1"])
        return
    category, tender_type, sector, method = _CATEGORIES[(first.market or "works").split("|")[0]]
    # the simulator's tenders close on their date at 09:30 UTC (as `simulator._release` writes them)
    close = datetime.combine(first.date or date(2025, 1, 6), time(9, 30), tzinfo=UTC)
    opened = close + timedelta(minutes=40)
    tenderee = loaded.organisations[first.buyer or ""]
    estimate = sum(Decimal(str(item.bids.estimate or 0)) for item in group)
    tender = Tender(
        id=uuid7(),
        project_code=code,
        title=f"{TITLE_MARK}{code}",
        category=category,
        tender_type=tender_type,
        status=TenderStatus.OPENING,
        tenderee_organisation_id=tenderee,
        created_by=user,
        estimate=estimate,
        bid_security_amount=Decimal(0),
        bid_security_forms={"forms": []},
        evaluation_method=EvaluationMethod.LOWEST_EVALUATED_PRICE,
        evaluation_criteria={"criteria": []},
        documents_from=close - timedelta(days=25),
        documents_until=close - timedelta(days=5),
        deadline=close,
        decryption_window_minutes=30,
        bid_validity_days=90,
        max_package_bytes=50 * 1024 * 1024,
        key_holders={"holders": [], "threshold": 0, "remedy": False},
        rules={"simulated": True, "seed": seed},
        published_at=close - timedelta(days=25),
        closed_at=close,
        created_at=close - timedelta(days=26),
        updated_at=opened,
    )
    session.add(tender)
    await session.flush()  # inserted in the order flushed: the unit of work sorts by relationships, and there are none
    text = group[0].tender_text.encode()
    if text:
        digest = hashlib.sha256(text).hexdigest()
        session.add(
            TenderDocument(
                tender_id=tender.id,
                kind=DocumentKind.TENDER_DOCUMENT,
                title="招标文件",
                filename="招标文件.txt",
                media_type="text/plain",
                size=len(text),
                sha256=digest,
                storage_key=store.put(DOCUMENTS_NAMESPACE, digest, text),
                signature=b"",
                signer_sha256=hashlib.sha256(b"").hexdigest(),
                signer_organisation_id=tenderee,
                uploaded_by=user,
                published_at=close - timedelta(days=25),
                created_at=close - timedelta(days=25),
            )
        )
    lot_rows: list[tuple[SimulatedLot, Lot]] = []
    for position, item in enumerate(group, start=1):
        lot = Lot(
            id=uuid7(),
            tender_id=tender.id,
            code=item.bids.lot or "1",
            name=f"第{item.bids.lot or 1}标段",
            estimate=Decimal(str(item.bids.estimate or 0)),
            position=position,
        )
        session.add(lot)
        lot_rows.append((item, lot))
    opening = OpeningSession(
        id=uuid7(),
        tender_id=tender.id,
        host_organisation_id=tenderee,
        stage=Stage.CLOSED,
        stage_started_at=opened,
        decryption_closed_at=close + timedelta(minutes=30),
        lots={lot.code: {"bids": len(item.bids.bids), "status": "opening"} for item, lot in lot_rows},
        timeline={"events": [{"event": "simulated", "stage": Stage.CLOSED.value, "at": opened.isoformat()}]},
        created_at=close,
        updated_at=opened,
        closed_at=opened,
    )
    session.add(opening)
    await session.flush()
    rows = _Rows()
    for item, lot in lot_rows:
        bid_ids = _bids(rows, item=item, lot=lot, tender=tender, opening=opening, user=user, loaded=loaded, store=store)
        loaded.lots[(code, item.bids.lot)] = (tender.id, lot.id)
        if item.bids.winner is not None:
            _award(
                rows,
                lot=lot,
                tender=tender,
                how=(sector, method),
                user=user,
                chosen=(loaded.organisations[item.bids.winner], bid_ids[item.bids.winner]),
                opened=opened,
            )
    # The ids are the application's (uuid7): one insert per table and tender, parents first.
    for phase in (rows.bids, rows.versions, rows.opened, rows.awards):
        session.add_all(phase)
        await session.flush()


def _bids(
    rows: _Rows,
    *,
    item: SimulatedLot,
    lot: Lot,
    tender: Tender,
    opening: OpeningSession,
    user: uuid.UUID,
    loaded: LoadedMarket,
    store: Store,
) -> dict[str, uuid.UUID]:
    """The lot's bids, read out at the opening; their ids by the simulator's bidder."""
    assert tender.deadline is not None  # noqa: S101 - set just above
    signals = {signal.bidder: signal for signal in item.signals}
    seed = int(tender.rules["seed"]) if tender.rules else 0
    ids: dict[str, uuid.UUID] = {}
    for bid in item.bids.bids:
        signal = signals[bid.bidder]
        organisation = loaded.organisations[bid.bidder]
        uscc = simulated_uscc(seed, bid.bidder)
        latest = tender.deadline - timedelta(minutes=1)
        received = min(bid.submitted_at, latest) if bid.submitted_at else latest
        version_id = uuid7()
        row = Bid(
            id=uuid7(),
            tender_id=tender.id,
            lot_id=lot.id,
            organisation_id=organisation,
            status=BidStatus.SUBMITTED,
            versions=1,
            current_version_id=version_id,
            created_at=received,
            updated_at=received,
        )
        rows.bids.append(row)
        ids[bid.bidder] = row.id
        receipt_no = "SIM" + hashlib.sha256(f"{tender.project_code}:{lot.code}:{uscc}".encode()).hexdigest()[:32]
        version = BidVersion(
            id=version_id,
            bid_id=row.id,
            number=1,
            kind=VersionKind.SUBMISSION,
            receipt_no=receipt_no,
            received_at=received,
            submitted_by=user,
            # where the intake would keep the container; nothing is stored there (module docstring)
            storage_key=FileStore.key_for(BLOB_NAMESPACE, hashlib.sha256(receipt_no.encode()).hexdigest()),
            manifest=_manifest(tender.project_code, lot.code, uscc, tender.deadline, signal.device_hash),
            manifest_signature=b"",
            parts={},
            receipt=json.dumps(
                {"receiptNo": receipt_no, "deadline": tender.deadline.isoformat(), "simulated": True}
            ).encode(),
            receipt_signature=b"",
            submit_ip=signal.submit_ip,
        )
        rows.versions.append(version)
        package = _package("\n".join(signal.texts))
        digest = hashlib.sha256(package).hexdigest()
        store.put(BACKUP_NAMESPACE, digest, package)
        summary = PriceSummary(
            tender=tender.project_code,
            lot=lot.code,
            bidder=uscc,
            total_price=Decimal(str(bid.amount)),
            duration_days=180,
        ).to_dict()
        summary.pop("salt")
        opened_at = tender.deadline + timedelta(minutes=35)
        rows.opened.append(
            OpeningBid(
                session_id=opening.id,
                bid_id=row.id,
                version_id=version.id,
                lot_id=lot.id,
                organisation_id=organisation,
                bidder_uscc=uscc,
                bidder_name=signal.bidder_name,
                signed_in_at=tender.deadline,
                price_status=PartStatus.OPENED,
                price_summary=summary,
                price_opened_at=opened_at,
                package_status=PartStatus.OPENED,
                package_sha256=digest,
                package_opened_at=opened_at,
                outcome=Outcome.DECRYPTED,
                updated_at=opened_at,
                decrypt_ip=signal.decrypt_ip,
                package_files=package_files(package),
            )
        )
        loaded.bids += 1
    return ids


def _award(
    rows: _Rows,
    *,
    lot: Lot,
    tender: Tender,
    how: tuple[Sector, MethodCode],
    user: uuid.UUID,
    chosen: tuple[uuid.UUID, uuid.UUID],
    opened: datetime,
) -> None:
    """A completed evaluation of the lot and its award to the simulator's winner (no panel)."""
    sector, method = how
    winner, chosen_bid = chosen
    evaluated_as = MethodSettings(method, EvaluationSector(tender.category.value))
    done = opened + timedelta(days=1)
    evaluation = Evaluation(
        id=uuid7(),
        tender_id=tender.id,
        lot_group=lot.code,
        lot_ids={"ids": [str(lot.id)]},
        host_organisation_id=tender.tenderee_organisation_id,
        method=method.value,
        method_version="simulated",
        settings=settings_to_data(evaluated_as),
        committee_spec={},
        state=SessionState.COMPLETED,
        state_entered_at=done,
        result={"simulated": True, "winner": str(winner)},
        created_by=user,
        created_at=opened,
        updated_at=done,
        completed_at=done,
    )
    rows.opened.append(evaluation)
    rows.awards.append(
        Award(
            tender_id=tender.id,
            evaluation_id=evaluation.id,
            lot_group=lot.code,
            sector=sector,
            rules_version="simulated",
            rules={},
            state=AwardState.AWARDED,
            report_sha256=hashlib.sha256(b"").hexdigest(),
            report_published_at=done,
            chosen_bid_id=chosen_bid,
            chosen_organisation_id=winner,
            awarded_at=done + timedelta(days=3),
            created_at=done,
            updated_at=done + timedelta(days=3),
        )
    )


@dataclass(frozen=True, slots=True)
class LoadReport:
    loaded: LoadedMarket
    screened: ScreeningReport | None  # None when not screened


async def load_with_settings(seed: int, lots: int, settings: Settings, *, screen: bool = True) -> LoadReport:
    """``ggzy alerts simulate --seed N --load``: simulate, load into the configured database in one
    unit of work and, with ``screen``, run what the platform runs on it — each tender's opening
    screening (`jobs.screen_opening`), each award's (`jobs.screen_tender_awards`), then the market
    batch (`jobs.recompute_market`).
    """
    engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
    try:
        maker = create_session_maker(engine)
        market = simulate(seed, lots)
        async with transaction(maker, lock=True) as session:
            loaded = await load_simulated(session, market, settings=settings, store=open_store(settings))
        if not screen:
            return LoadReport(loaded, None)
        plug_screeners(settings)
        report = ScreeningReport()
        for code in loaded.codes:
            report += await jobs.screen_opening(maker, code)
        for code in loaded.codes:  # the awards name the winners: the prices that need one
            report += await jobs.screen_tender_awards(maker, code)
        report += await jobs.recompute_market(maker)
        return LoadReport(loaded, report)
    finally:
        await engine.dispose()
