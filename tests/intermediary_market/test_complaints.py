"""Complaints: filed by the announcement's owner, answered by the intermediary, decided by a
regulator; every change in the ledger; only upheld complaints count for credit.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.complaints import ComplaintService
from intermediary_market.credit_records import CreditService
from intermediary_market.errors import ComplaintRefused
from intermediary_market.models import ComplaintStatus
from intermediary_market.schemas import ComplaintDecision
from tests.intermediary_market.factories import (
    actor_in_new_organisation,
    publish_item,
    qualified_intermediary,
    selected_announcement,
)
from trading.kernel.auth.roles import Role
from trading.kernel.errors import PermissionDenied
from trading.kernel.settings import Settings
from trading.ledger.models import LedgerEntry


async def _actions(session: AsyncSession, subject_id: object) -> list[str]:
    rows = await session.scalars(
        select(LedgerEntry.action).where(LedgerEntry.subject_id == str(subject_id)).order_by(LedgerEntry.seq)
    )
    return list(rows)


async def test_complaint_is_filed_answered_and_upheld(session: AsyncSession, settings: Settings) -> None:
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    other_owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    regulator = await actor_in_new_organisation(session, settings, Role.SUPERVISOR)
    winner = await qualified_intermediary(session, settings)
    bystander = await qualified_intermediary(session, settings)
    assert winner.organisation_id is not None
    announcement = await selected_announcement(session, owner, winner)
    complaints = ComplaintService(session)

    with pytest.raises(ComplaintRefused) as not_owner:
        await complaints.file(announcement.id, "迟迟不交付", actor=other_owner)
    assert (not_owner.value.field, not_owner.value.rule) == ("announcement_id", "complaint_not_owner")
    with pytest.raises(ComplaintRefused) as empty:
        await complaints.file(announcement.id, "  ", actor=owner)
    assert (empty.value.field, empty.value.rule) == ("text", "required")

    complaint = await complaints.file(announcement.id, "报告质量不合格", actor=owner)
    assert (complaint.status, complaint.organisation_id) == (ComplaintStatus.FILED, winner.organisation_id)
    assert [c.id for c in await complaints.pending()] == [complaint.id]

    with pytest.raises(PermissionDenied):
        await complaints.respond(complaint.id, "不是我们", actor=bystander)
    await complaints.respond(complaint.id, "已按规范编制", actor=winner)
    assert complaint.response == "已按规范编制"

    with pytest.raises(ComplaintRefused) as no_reason:
        await complaints.decide(complaint.id, ComplaintDecision(uphold=True, reason=""), actor=regulator)
    assert (no_reason.value.field, no_reason.value.rule) == ("reason", "required")
    decided = await complaints.decide(
        complaint.id, ComplaintDecision(uphold=True, reason="经核查报告存在重大遗漏"), actor=regulator
    )
    assert decided.status is ComplaintStatus.UPHELD
    assert decided.decided_by == regulator.user_id
    assert decided.decided_at is not None
    assert list(await complaints.pending()) == []

    for attempt in (
        complaints.decide(complaint.id, ComplaintDecision(uphold=False, reason="再议"), actor=regulator),
        complaints.respond(complaint.id, "补充说明", actor=winner),
    ):
        with pytest.raises(ComplaintRefused) as again:
            await attempt
        assert (again.value.field, again.value.rule) == ("status", "already_decided")

    assert await _actions(session, complaint.id) == [
        "intermediary_market.complaint_filed",
        "intermediary_market.complaint_answered",
        "intermediary_market.complaint_decided",
    ]
    # The decision recomputed the snapshot: unrated 16 − 2 for the upheld complaint = 14 → 94.
    snapshot = await CreditService(session).record(winner.organisation_id)
    assert snapshot is not None
    assert snapshot.components["upheld_complaints"] == 1
    assert snapshot.components["social"] == "14.00"
    assert snapshot.score == 94


async def test_dismissed_complaint_does_not_count(session: AsyncSession, settings: Settings) -> None:
    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    regulator = await actor_in_new_organisation(session, settings, Role.SUPERVISOR)
    winner = await qualified_intermediary(session, settings)
    assert winner.organisation_id is not None
    announcement = await selected_announcement(session, owner, winner)
    complaints = ComplaintService(session)
    complaint = await complaints.file(announcement.id, "收费过高", actor=owner)
    await complaints.decide(complaint.id, ComplaintDecision(uphold=False, reason="收费符合合同"), actor=regulator)
    snapshot = await CreditService(session).record(winner.organisation_id)
    assert snapshot is not None
    assert (snapshot.components["upheld_complaints"], snapshot.score) == (0, 96)


async def test_open_announcement_cannot_be_complained_about(session: AsyncSession, settings: Settings) -> None:
    from intermediary_market.selection import SelectionMethod
    from intermediary_market.service import MarketService
    from tests.intermediary_market.factories import announcement_form

    await publish_item(session)
    owner = await actor_in_new_organisation(session, settings, Role.TENDEREE)
    announcement = await MarketService(session).announce(
        await announcement_form(session, SelectionMethod.RANDOM), actor=owner
    )
    with pytest.raises(ComplaintRefused) as caught:
        await ComplaintService(session).file(announcement.id, "尚未选取", actor=owner)
    assert (caught.value.field, caught.value.rule) == ("announcement_id", "not_selected")
