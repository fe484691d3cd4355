"""The regulator's reports over the API: overdue deliveries, the credit report, complaints
awaiting a decision; the red list and credit snapshots are public; others are refused.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from intermediary_market.complaints import ComplaintService
from intermediary_market.delivery import DeliveryService
from intermediary_market.models import Complaint
from tests.intermediary_market.factories import (
    actor_in_new_organisation,
    publish_item,
    qualified_intermediary,
    selected_announcement,
)
from tests.trading.parties.factories import api_token, bearer, create_account
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.roles import Role
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.settings import Settings

BASE = "/api/v1/intermediary"
REPORTS = ("/reports/overdue", "/reports/credit", "/reports/complaints")


async def _deliveries_and_a_complaint(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> tuple[Actor, Actor, Actor, Complaint]:
    """An owner, two selected intermediaries with filed contracts and a complaint (committed)."""
    async with session_maker() as session:
        await publish_item(session)
        owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
        late = await qualified_intermediary(session, settings)
        soon = await qualified_intermediary(session, settings)
        late_deal = await selected_announcement(session, owner, late)
        soon_deal = await selected_announcement(session, owner, soon)
        # Contracts of 30 days filed 40 and 28 days ago: 10 days overdue, and due in 2 days
        # (inside the 3-day warning period).
        with use_clock(ShiftedClock(timedelta(days=-40))):
            await DeliveryService(session).file_contract(late_deal.id, "HT-LATE", actor=owner)
        with use_clock(ShiftedClock(timedelta(days=-28))):
            await DeliveryService(session).file_contract(soon_deal.id, "HT-SOON", actor=owner)
        complaint = await ComplaintService(session).file(late_deal.id, "逾期未交付", actor=owner)
        await session.commit()
    return owner, late, soon, complaint


async def test_supervisor_reports_and_refusals(
    client: httpx.AsyncClient, session_maker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    supervisor = bearer(await api_token(client, await create_account(session_maker, settings, Role.SUPERVISOR)))
    tenderee = bearer(await api_token(client, await create_account(session_maker, settings, Role.TENDEREE)))
    bidder = bearer(await api_token(client, await create_account(session_maker, settings, Role.BIDDER)))
    owner, late, soon, complaint = await _deliveries_and_a_complaint(session_maker, settings)
    assert late.organisation_id is not None

    for headers in (tenderee, bidder):
        for path in REPORTS:
            assert (await client.get(BASE + path, headers=headers)).status_code == 403, path
        decision = await client.post(
            f"{BASE}/complaints/{complaint.id}/decision", json={"uphold": True, "reason": "x"}, headers=headers
        )
        assert decision.status_code == 403
        assert (await client.post(f"{BASE}/credit/recompute", headers=headers)).status_code == 403

    overdue = await client.get(f"{BASE}/reports/overdue", headers=supervisor)
    assert overdue.status_code == 200, overdue.text
    lines = {line["contract_no"]: line for line in overdue.json()}
    assert (lines["HT-LATE"]["state"], lines["HT-LATE"]["days_overdue"]) == ("overdue", 10)
    assert lines["HT-LATE"]["owner_organisation_id"] == str(owner.organisation_id)
    assert lines["HT-LATE"]["owner_name"] == owner.organisation_name
    assert lines["HT-LATE"]["organisation_id"] == str(late.organisation_id)
    assert (lines["HT-SOON"]["state"], lines["HT-SOON"]["days_overdue"]) == ("warning", 0)

    pending = await client.get(f"{BASE}/reports/complaints", headers=supervisor)
    assert [row["id"] for row in pending.json()] == [str(complaint.id)]
    decided = await client.post(
        f"{BASE}/complaints/{complaint.id}/decision",
        json={"uphold": True, "reason": "逾期属实"},
        headers=supervisor,
    )
    assert (decided.status_code, decided.json()["status"]) == (200, "upheld")
    assert (await client.get(f"{BASE}/reports/complaints", headers=supervisor)).json() == []

    bad_input = await client.post(
        f"{BASE}/credit-inputs",
        json={
            "organisation_id": str(late.organisation_id),
            "year": 2026,
            "regulator_score": "71",
            "regulator_source": "考评",
        },
        headers=supervisor,
    )
    assert bad_input.status_code == 422
    error = bad_input.json()["errors"][0]
    assert (error["field"], error["rule"]) == ("regulator_score", "score_range")

    recomputed = await client.post(f"{BASE}/credit/recompute", headers=supervisor)
    assert recomputed.status_code == 200, recomputed.text
    assert recomputed.json()["recomputed"] >= 2
    report = await client.get(f"{BASE}/reports/credit", params={"sort": "grade"}, headers=supervisor)
    assert report.status_code == 200, report.text
    grades = [row["grade"] for row in report.json()]
    assert grades == sorted(grades)
    ours = {row["organisation_id"]: row for row in report.json()}
    # The late intermediary: 70 + 10 + 16 − 2 (upheld complaint); the overdue mark comes from the
    # sweep, not yet run, so no overdue deduction yet: 94 → A, off the red list (below 95).
    late_row = ours[str(late.organisation_id)]
    assert (late_row["score"], late_row["grade"], late_row["red_listed"]) == ("94.00", "A", False)
    # The other has nothing on record yet: no grade and, without a rating, no red-list place.
    assert (ours[str(soon.organisation_id)]["grade"], ours[str(soon.organisation_id)]["red_listed"]) == (
        "unrated",
        False,
    )
    bogus = await client.get(f"{BASE}/reports/credit", params={"sort": "bogus"}, headers=supervisor)
    assert (bogus.status_code, bogus.json()["errors"][0]["field"]) == (422, "sort")

    # Public: the red list and one intermediary's snapshot, without a login.
    red = await client.get(f"{BASE}/red-list")
    assert red.status_code == 200
    assert str(soon.organisation_id) not in {row["organisation_id"] for row in red.json()}
    snapshot = await client.get(f"{BASE}/credit", params={"organisation_id": str(late.organisation_id)})
    assert snapshot.status_code == 200
    assert snapshot.json()["components"]["upheld_complaints"] == 1
