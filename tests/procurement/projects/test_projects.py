"""Intentions, methods, the sweep's warning, and a project becoming a tender on the bidding engine
that takes a sealed bid, and refuses a supplier blacklisted from government procurement (PostgreSQL).
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.models import BidVersion, DocumentKind, TenderStatus
from bidding.tenders.service import TenderService
from certs.devpki.pki import DevPki
from procurement.projects.jobs import IntentionWarning
from procurement.projects.models import ItemCategory, ProcurementMethod, ProcurementProject, ProjectStatus
from procurement.projects.service import IntentionService, ProjectRefused, ProjectService
from tests.bidding.containers import bid_client, build
from tests.bidding.factories import TENDER_DOCUMENT, bidder_party, ledger_entries, sign_document
from tests.procurement.projects.factories import (
    approved_requirement,
    intention_days_ago,
    intention_input,
    project_input,
    purchaser_party,
    supervisor_party,
)
from tests.trading.credit.factories import record
from trading.credit.models import Activity
from trading.credit.service import DISPLAY_TZ
from trading.kernel import clock
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore
from trading.ledger.models import LedgerEntry
from trading.notifications.models import Notice

pytestmark = pytest.mark.usefixtures("dev_lists")
_CODES = itertools.count(1)


def _code(now: datetime) -> str:
    return f"ZFCG-{next(_CODES):03d}-{now:%H%M%S%f}"


def _rules(exc: pytest.ExceptionInfo[ProjectRefused]) -> set[tuple[str, str]]:
    return {(item["field"], item["rule"]) for item in exc.value.extra["errors"]}


async def test_an_intention_under_30_days_is_refused_without_exemption_and_accepted_with_it(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    purchaser = await purchaser_party(session_maker, settings, dev_pki)
    async with session_maker() as session:
        now = await clock.now(session)
        service = IntentionService(session)
        # The expected month starts in under 30 days (this month or the next one at most 30 days on).
        soon = now.strftime("%Y-%m")
        with pytest.raises(ProjectRefused) as refused:
            await service.publish(purchaser.actor(), intention_input(now, expected_month=soon))
        assert _rules(refused) == {("expectedMonth", "intention_30_days")}
        with pytest.raises(ProjectRefused) as unexplained:
            await service.publish(purchaser.actor(), intention_input(now, expected_month=soon, exemption="emergency"))
        assert _rules(unexplained) == {("exemptionText", "exemption_explained")}
        accepted = await service.publish(
            purchaser.actor(),
            intention_input(
                now, expected_month=soon, exemption="emergency", exemption_text="设备突发故障，影响急诊救治"
            ),
        )
        assert accepted.exemption == "emergency"
        early = await service.publish(purchaser.actor(), intention_input(now, days=70))
        assert early.exemption is None
        await session.commit()
        found = await service.search("超声")
        assert {row[0].id for row in found} >= {accepted.id, early.id}
        entries = await ledger_entries(session, "platform", "procurement.intention_published")
        assert {entry.subject_id for entry in entries} >= {str(accepted.id), str(early.id)}


async def test_the_intentions_api_and_public_page(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    purchaser = await purchaser_party(session_maker, settings, dev_pki)
    async with session_maker() as session:
        now = await clock.now(session)
    body = {
        "projectName": "区政务云服务采购意向测试",
        "budget": "800000.00",
        "itemCode": "C16000000",
        "category": "services",
        "summary": "政务云计算与存储服务一年。",
        "expectedMonth": now.strftime("%Y-%m"),
    }
    headers = await purchaser.headers(client)
    refused = await client.post("/api/v1/procurement/intentions", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert {(e["field"], e["rule"]) for e in refused.json()["errors"]} == {("expectedMonth", "intention_30_days")}
    body |= {"exemption": "small-scattered", "exemptionText": "零星服务，预算分散"}
    accepted = await client.post("/api/v1/procurement/intentions", json=body, headers=headers)
    assert accepted.status_code == 201, accepted.text
    listed = await client.get("/api/v1/procurement/intentions", params={"q": "政务云服务采购意向测试"})
    assert listed.status_code == 200
    assert [item["projectName"] for item in listed.json()] == ["区政务云服务采购意向测试"]
    page = await client.get("/procurement/intentions", params={"q": "政务云服务采购意向测试"})
    assert page.status_code == 200
    assert "区政务云服务采购意向测试" in page.text
    assert "采购意向" in page.text


async def test_method_conditions_name_field_and_rule(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    purchaser = await purchaser_party(session_maker, settings, dev_pki)
    async with session_maker() as session:
        now = await clock.now(session)
        service = ProjectService(session)
        exempt: dict[str, Any] = {"exemption": "emergency", "exemption_text": "急需"}
        cases: list[tuple[dict[str, Any], set[tuple[str, str]]]] = [
            (
                {"method": ProcurementMethod.SINGLE_SOURCE, "evaluation_method": "lowest-evaluated-price"},
                {
                    ("methodReason", "method_reason_required"),
                    ("justification", "justification_required"),
                    ("supplierName", "single_source_supplier"),
                },
            ),
            (
                {"method": ProcurementMethod.INVITATION},
                {("methodReason", "method_reason_required"), ("justification", "justification_required")},
            ),
            (
                {
                    "method": ProcurementMethod.INQUIRY,
                    "category": ItemCategory.SERVICES,
                    "item_code": "C16000000",
                    "method_reason": "uniform-goods",
                    "justification": "规格统一",
                },
                {("method", "inquiry_goods_only"), ("evaluationMethod", "method_fixed")},
            ),
            (
                {
                    "method": ProcurementMethod.NEGOTIATION,
                    "budget": Decimal("3000000.00"),
                    "method_reason": "urgent",
                    "justification": "时间紧",
                    "evaluation_method": "lowest-evaluated-price",
                },
                {("approvalRef", "above_threshold_needs_approval")},
            ),
            (
                {"criteria": [{"name": "价格", "weight": 20}, {"name": "技术", "weight": 80}], "price_weight": 20},
                {("criteria", "price_weight_min")},
            ),
            ({"sme_deduction_percent": 5}, {("smeDeductionPercent", "sme_deduction_range")}),
            ({"bid_security_amount": Decimal("30000.01")}, {("bidSecurityAmount", "security_amount_over_cap")}),
            ({"notice_at": now + timedelta(days=5), "exemption": None}, {("intentionId", "intention_30_days")}),
        ]
        for overrides, expected in cases:
            fields = {**exempt, **overrides}
            with pytest.raises(ProjectRefused) as refused:
                await service.create(purchaser.actor(), project_input(now, _code(now), **fields))
            assert _rules(refused) == expected, overrides
        # Single source with its ground, justification and supplier: in publicity for 5 working days.
        single = await service.create(
            purchaser.actor(),
            project_input(
                now,
                _code(now),
                method=ProcurementMethod.SINGLE_SOURCE,
                method_reason="sole-supplier",
                justification="该专用配件仅原厂生产，已组织专家论证。",
                supplier_name="某医疗设备有限公司",
                evaluation_method="lowest-evaluated-price",
                notice_at=now + timedelta(days=20),
                **exempt,
            ),
        )
        assert single.status is ProjectStatus.PUBLICITY
        assert single.publicity_until is not None
        assert single.publicity_until - now >= timedelta(days=5)
        with pytest.raises(ProjectRefused) as early:
            await service.proceed(purchaser.actor(), single.id)
        assert _rules(early) == {("publicityUntil", "single_source_publicity")}
        with clock.use_clock(clock.ShiftedClock(single.publicity_until - now + timedelta(minutes=1))):
            proceeding = await service.proceed(purchaser.actor(), single.id)
        assert proceeding.status is ProjectStatus.PROCEEDING
        with pytest.raises(ProjectRefused) as not_tendered:
            await service.to_tender(
                purchaser.actor(), single.id, TenderService(session, settings, FileStore(settings.storage_dir))
            )
        assert ("method", "single_source_not_tendered") in _rules(not_tendered)


async def test_the_sweep_warns_purchaser_and_supervisor_of_a_project_without_intention(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, dev_pki: DevPki
) -> None:
    purchaser = await purchaser_party(session_maker, settings, dev_pki)
    supervisor = await supervisor_party(session_maker, settings, dev_pki)
    async with session_maker() as session:
        now = await clock.now(session)
        project = await ProjectService(session).create(
            purchaser.actor(), project_input(now, _code(now), notice_at=now + timedelta(days=40))
        )
        await session.commit()
    assert project.next_check == project.notice_at - timedelta(days=7)
    handler = IntentionWarning()
    async with session_maker() as session:
        assert project.id not in await handler.due(session, await clock.now(session), 100)
    with clock.use_clock(clock.ShiftedClock(timedelta(days=34))):
        async with session_maker() as session:
            later = await clock.now(session)
            assert project.id in await handler.due(session, later, 100)
            assert await handler.run(session, project.id, later)
            assert not await handler.run(session, project.id, later)  # once
            await session.commit()
    async with session_maker() as session:
        stored = await session.get_one(ProcurementProject, project.id)
        assert stored.warned_at is not None
        notices = (
            await session.scalars(
                sa.select(Notice).where(Notice.event_key == f"procurement.intention_missing:{project.id}")
            )
        ).all()
        assert {notice.recipient_id for notice in notices} >= {purchaser.organisation_id, supervisor.organisation_id}
        entries = (
            await session.scalars(
                sa.select(LedgerEntry).where(
                    LedgerEntry.action == "procurement.intention_missing", LedgerEntry.subject_id == str(project.id)
                )
            )
        ).all()
        assert len(entries) == 1


async def test_a_project_becomes_a_gp_tender_that_takes_a_sealed_bid_and_refuses_a_blacklisted_supplier(  # noqa: PLR0915
    *,
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    store: FileStore,
    dev_pki: DevPki,
    tmp_path: Path,
) -> None:
    purchaser = await purchaser_party(session_maker, settings, dev_pki)
    async with session_maker() as session:
        now = await clock.now(session)
    young = await intention_days_ago(session_maker, purchaser, now, 10)
    old = await intention_days_ago(session_maker, purchaser, now, 31)
    requirement = await approved_requirement(session_maker, settings, purchaser)
    async with session_maker() as session:
        service = ProjectService(session)
        tenders = TenderService(session, settings, store)
        code = _code(now)
        # A project whose intention is only 10 days old does not start before 30 days have passed, and
        # none becomes a tender without an approved requirement.
        early = await service.create(
            purchaser.actor(),
            project_input(
                now,
                code + "-A",
                intention_id=young.id,
                notice_at=now + timedelta(days=25),
                exemption="other",
                exemption_text="测试",
            ),
        )
        early.exemption = None  # as if created without: the tender's own check must refuse
        with pytest.raises(ProjectRefused) as refused:
            await service.to_tender(purchaser.actor(), early.id, tenders)
        assert _rules(refused) == {("intentionId", "intention_30_days"), ("requirementId", "requirement_required")}
        await session.rollback()
    async with session_maker() as session:
        service = ProjectService(session)
        tenders = TenderService(session, settings, store)
        project = await service.create(
            purchaser.actor(),
            project_input(
                now, code, intention_id=old.id, notice_at=now + timedelta(minutes=5), requirement_id=requirement
            ),
        )
        assert project.next_check is None  # its intention is 31 days old: nothing to warn about
        tender = await service.to_tender(purchaser.actor(), project.id, tenders)
        assert tender.tender_type == "goods"
        assert tender.bid_security_forms["forms"] == ["cash", "guarantee"]
        assert tender.evaluation_criteria["procurement"]["smePriceDeduction"] == 10
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
    assert published.rules["document_working_days_min"] == 5
    assert published.deadline is not None
    async with session_maker() as session:
        stored = await session.get_one(ProcurementProject, project.id)
        assert stored.status is ProjectStatus.TENDERED
        assert stored.tender_id == published.id

    # The project page links to the tender; the public notices page lists it.
    headers = await purchaser.headers(client)
    detail = await client.get(f"/api/v1/procurement/projects/{project.id}", headers=headers)
    assert detail.status_code == 200, detail.text
    assert detail.json()["tenderCode"] == published.project_code
    notices = await client.get("/procurement/notices")
    assert f"/bidding/tenders/{published.project_code}" in notices.text

    # A supplier submits a sealed bid: accepted with a receipt.
    supplier = await bidder_party(session_maker, settings, dev_pki)
    built = await build(tmp_path / "b", supplier, tender=published.project_code, lot="L1", deadline=published.deadline)
    receipt = await (await bid_client(client, supplier)).upload(published.project_code, "L1", built.path)
    assert receipt.record["bidder"] == supplier.uscc
    async with session_maker() as session:
        versions = (
            await session.scalars(sa.select(BidVersion).where(BidVersion.container_sha256 == built.sha256))
        ).all()
        assert len(versions) == 1

    # A supplier blacklisted from government procurement (only) is refused, with reason and period.
    barred = await bidder_party(session_maker, settings, dev_pki)
    async with session_maker() as session:
        row = await record(
            session,
            barred.organisation_id,
            now - timedelta(days=3),
            scope=(Activity.GOVERNMENT_PROCUREMENT,),
            reason="提供虚假材料谋取中标、成交",
        )
        await session.commit()
    assert row.valid_until is not None
    response = await client.post(
        f"/api/v1/bidding/tenders/{published.project_code}/lots/L1/uploads",
        json={"size": 1024, "sha256": hashlib.sha256(b"x").hexdigest()},
        headers=await barred.headers(client),
    )
    assert response.status_code == 403, response.text
    problem = response.json()
    assert problem["errors"][0]["rule"] == "credit-blacklisted"
    assert problem["records"][0]["reason"] == "提供虚假材料谋取中标、成交"
    start = row.valid_from.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
    until = row.valid_until.astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M")
    assert f"from {start} until {until} UTC+08:00" in problem["detail"]
