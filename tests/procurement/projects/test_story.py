"""Issue 18's end-to-end story on PostgreSQL: requirement → finding → fix → review → intention →
project → a government-procurement tender on the bidding engine that takes a sealed bid.

Each actor acts through what they would use: the purchaser and the reviewer through the requirements
API, the purchaser's project through the projects service and API, the supplier through the bid
client. The intention stands 31 days old by moving its publication back in the database (only the
2026 working-day calendar ships, so the clock cannot be moved into 2027).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.models import BidVersion, DocumentKind, TenderStatus
from bidding.tenders.service import TenderService
from certs.devpki.pki import DevPki
from procurement.projects.service import ProjectRefused, ProjectService
from tests.bidding.containers import bid_client, build
from tests.bidding.factories import TENDER_DOCUMENT, bidder_party, sign_document
from tests.procurement.projects.factories import intention_days_ago, project_input, purchaser_party
from tests.procurement.requirements.factories import (
    API,
    CLEAN_QUALIFICATIONS,
    OVERVIEW,
    PACKAGE,
    PLAN,
)
from tests.trading.parties.factories import PASSWORD, Account, api_token, bearer, new_username
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.ledger.models import LedgerEntry
from trading.parties.schemas import UserCreate
from trading.parties.service import PartiesService

pytestmark = pytest.mark.usefixtures("dev_lists")
_CODES = itertools.count(1)


def _code(now: datetime) -> str:
    return f"ZFCG-S{next(_CODES):02d}-{now:%H%M%S%f}"


async def _reviewer_of(session_maker: async_sessionmaker[AsyncSession], settings: Settings, unit: Account) -> Account:
    """A second purchaser of the same unit: the internal reviewer (never the author)."""
    async with session_maker() as session:
        user, membership = await PartiesService(session, settings).create_user(
            UserCreate(
                username=new_username("reviewer"),
                display_name="采购审查人",
                password=PASSWORD,
                organisation_id=unit.organisation_id,
                role=Role.TENDEREE,
            ),
            actor=Actor.system(),
        )
        await session.commit()
    return Account(user.id, unit.organisation_id, membership.id, user.username)


async def test_a_requirement_fixed_and_approved_becomes_a_tender_that_takes_a_sealed_bid(  # noqa: PLR0915
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    purchaser = await purchaser_party(session_maker, settings, dev_pki)
    reviewer = await _reviewer_of(session_maker, settings, purchaser.account)
    author = await purchaser.headers(client)
    review = bearer(await api_token(client, reviewer))

    # 1. The purchaser fills the goods template; the checker finds the registered-place condition.
    created = await client.post(API, json={"category": "goods", "title": OVERVIEW["project_name"]}, headers=author)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    for part, fields, index in (("overview", OVERVIEW, None), ("plan", PLAN, None), ("package", PACKAGE, 0)):
        saved = await client.put(f"{API}/{rid}/parts/{part}", json={"fields": fields, "package": index}, headers=author)
        assert saved.status_code == 200, saved.text
    body = (await client.get(f"{API}/{rid}", headers=author)).json()
    [finding] = [f for f in body["findings"] if f["severity"] == "blocking"]
    assert (finding["rule"], finding["field"]) == ("NL-QUAL-REGION", "packages[0].qualifications")

    # 2. Blocked: it cannot be submitted while the finding stands.
    blocked = await client.post(f"{API}/{rid}/submission", headers=author)
    assert blocked.status_code == 409, blocked.text
    assert "NL-QUAL-REGION" in blocked.text

    # 3. The purchaser fixes the text; the finding is gone; submitted for the internal review.
    fixed = await client.put(
        f"{API}/{rid}/parts/package",
        json={"fields": {**PACKAGE, "qualifications": CLEAN_QUALIFICATIONS}, "package": 0},
        headers=author,
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["blocking"] == []
    submitted = await client.post(f"{API}/{rid}/submission", headers=author)
    assert submitted.json()["state"] == "submitted", submitted.text

    # 4. The author cannot approve their own; the unit's reviewer does.
    own = await client.post(f"{API}/{rid}/reviews", json={"approve": True, "note": ""}, headers=author)
    assert own.status_code == 403, own.text
    approved = await client.post(f"{API}/{rid}/reviews", json={"approve": True, "note": "符合要求"}, headers=review)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "approved"

    # 5. The intention, published 31 days ahead of the project's notice.
    async with session_maker() as session:
        now = await clock.now(session)
    intention = await intention_days_ago(session_maker, purchaser, now, 31)

    # 6. The project names the approved requirement and becomes a GP tender; the purchaser signs the
    #    tender document and publishes it on the bidding engine.
    async with session_maker() as session:
        service = ProjectService(session)
        tenders = TenderService(session, settings, store)
        unnamed = await service.create(
            purchaser.actor(),
            project_input(now, _code(now), intention_id=intention.id, notice_at=now + timedelta(minutes=5)),
        )
        with pytest.raises(ProjectRefused) as refused:
            await service.to_tender(purchaser.actor(), unnamed.id, tenders)
        assert ("requirementId", "requirement_required") in {
            (e["field"], e["rule"]) for e in refused.value.extra["errors"]
        }
        await session.rollback()
    async with session_maker() as session:
        service = ProjectService(session)
        tenders = TenderService(session, settings, store)
        project = await service.create(
            purchaser.actor(),
            project_input(
                now, _code(now), intention_id=intention.id, notice_at=now + timedelta(minutes=5), requirement_id=rid
            ),
        )
        tender = await service.to_tender(purchaser.actor(), project.id, tenders)
        await tenders.add_document(
            purchaser.actor(),
            tender,
            DocumentKind.TENDER_DOCUMENT,
            "招标文件",
            "tender.pdf",
            "application/pdf",
            TENDER_DOCUMENT,
            await sign_document(purchaser.sign, TENDER_DOCUMENT),
        )
        published = await tenders.publish(purchaser.actor(), tender)
        await session.commit()
    assert published.status is TenderStatus.PUBLISHED
    assert published.rules is not None
    assert published.rules["non_cash_security_required"] is True
    shown = await client.get(f"/api/v1/procurement/projects/{project.id}", headers=author)
    assert shown.json()["tenderCode"] == published.project_code, shown.text

    # 7. A supplier submits a sealed bid: accepted with a signed receipt.
    supplier = await bidder_party(session_maker, settings, dev_pki)
    assert published.deadline is not None
    built = await build(
        tmp_path / "bid", supplier, tender=published.project_code, lot="L1", deadline=published.deadline
    )
    receipt = await (await bid_client(client, supplier)).upload(published.project_code, "L1", built.path)
    assert receipt.record["bidder"] == supplier.uscc
    async with session_maker() as session:
        stored = (await session.scalars(sa.select(BidVersion).where(BidVersion.container_sha256 == built.sha256))).all()
        assert len(stored) == 1

        # Every step is in the ledger.
        actions = set(
            (
                await session.scalars(
                    sa.select(LedgerEntry.action).where(
                        LedgerEntry.action.in_(
                            [
                                "procurement.requirement_submitted",
                                "procurement.requirement_approved",
                                "procurement.project_created",
                                "procurement.project_tendered",
                            ]
                        )
                    )
                )
            ).all()
        )
    assert actions == {
        "procurement.requirement_submitted",
        "procurement.requirement_approved",
        "procurement.project_created",
        "procurement.project_tendered",
    }
