"""The database side of integrity on PostgreSQL: recording is idempotent, the lifecycle needs a
reason to decide and writes the ledger, a rule change is a new version and old alerts keep theirs,
the list filters and pages.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.integrity import service
from bidding.integrity.models import IntegrityAlert, IntegrityLotScreening
from bidding.integrity.screens.model import Scope
from tests.bidding.integrity.support import DEVICE_RULE, PRICE_RULE, device_finding, price_finding, seed
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import Conflict, ValidationFailed
from trading.ledger.models import LedgerEntry


async def _record(session: AsyncSession, ocid: str = "GGZY-T-1", lot: str | None = "L1") -> list[IntegrityAlert]:
    return await service.record_findings(
        session,
        tender_id=None,
        ocid=ocid,
        lot=lot,
        scope=Scope.LOT_PRICES,
        findings=[price_finding(), device_finding()],
    )


async def _actions(session: AsyncSession, prefix: str = "integrity.") -> list[str]:
    rows = (await session.scalars(select(LedgerEntry.action).order_by(LedgerEntry.id))).all()
    return [action for action in rows if action.startswith(prefix)]


async def test_recording_the_same_findings_twice_keeps_one_alert_each(session: AsyncSession) -> None:
    await seed(session)
    first = await _record(session)
    again = await _record(session)
    assert [a.id for a in again] == [a.id for a in first]
    assert len(list((await session.scalars(select(IntegrityAlert))).all())) == 2
    assert (await _actions(session)).count("integrity.alerts_raised") == 1
    other_lot = await _record(session, lot="L2")  # another lot is another finding
    assert {a.id for a in other_lot}.isdisjoint({a.id for a in first})
    price, device = first
    assert (price.rule_id, price.rule_version, price.status, price.lot) == (PRICE_RULE.id, 1, "open", "L1")
    assert (device.hard, device.severity, device.subjects) == (True, "red", ["b1", "b2"])
    assert device.evidence["network"]["edges"][0]["value"] == 3


async def test_the_lifecycle_needs_a_reason_to_decide_and_is_in_the_ledger(session: AsyncSession) -> None:
    await seed(session)
    alert = (await _record(session))[0]
    actor = Actor.system()
    with pytest.raises(Conflict) as skipped:  # open → dismissed skips the review
        await service.review_alert(session, alert.id, to_status="dismissed", reason="无", actor=actor)
    assert (skipped.value.field, skipped.value.rule) == ("status", "integrity_alert_transition")
    await service.review_alert(session, alert.id, to_status="reviewing", reason="", actor=actor)
    with pytest.raises(ValidationFailed) as no_reason:
        await service.review_alert(session, alert.id, to_status="dismissed", reason="   ", actor=actor)
    assert (no_reason.value.field, no_reason.value.rule) == ("reason", "required")
    with pytest.raises(ValidationFailed) as bad_status:
        await service.review_alert(session, alert.id, to_status="closed", reason="x", actor=actor)
    assert bad_status.value.field == "status"
    decided = await service.review_alert(
        session, alert.id, to_status="dismissed", reason="报价接近系市场价透明所致", actor=actor
    )
    assert decided.status == "dismissed"
    _, reviews = await service.get_alert(session, alert.id)
    assert [(r.from_status, r.to_status, r.reason) for r in reviews] == [
        ("open", "reviewing", ""),
        ("reviewing", "dismissed", "报价接近系市场价透明所致"),
    ]
    actions = await _actions(session)
    assert actions[0] == "integrity.rules_seeded"  # the test's rules, then the catalogue's others
    assert [action for action in actions if action != "integrity.rules_seeded"] == [
        "integrity.alerts_raised",
        "integrity.alert_taken_up",
        "integrity.alert_dismissed",
    ]
    with pytest.raises(Conflict):  # a decision is final
        await service.review_alert(session, alert.id, to_status="confirmed", reason="改判", actor=actor)


async def test_a_rule_change_is_a_new_version_and_old_alerts_keep_theirs(session: AsyncSession) -> None:
    await seed(session)
    old = (await _record(session))[0]
    edit = service.RuleEdit(
        rule_id=PRICE_RULE.id,
        base_version=1,
        reason="误报较多，收紧阈值",
        thresholds={"cv_max": "0.01", "min_bids": "3"},
        severity="amber",
        name=PRICE_RULE.name,
        basis=PRICE_RULE.basis,
        description=PRICE_RULE.description,
    )
    row = await service.new_rule_version(session, edit, actor=Actor.system())
    assert row.version == 2
    rules = await service.current_rules(session)
    assert (rules[PRICE_RULE.id].version, rules[PRICE_RULE.id].thresholds["cv_max"]) == (2, 0.01)
    assert [r.version for r in await service.rule_history(session, PRICE_RULE.id)] == [2, 1]
    new = await service.record_findings(
        session, tender_id=None, ocid="GGZY-T-1", lot="L1", scope=Scope.LOT_PRICES, findings=[price_finding(version=2)]
    )
    assert new[0].id != old.id  # the same lot screened with the new version: a new alert
    await session.refresh(old)
    assert old.rule_version == 1
    with pytest.raises(ValidationFailed) as stale:
        await service.new_rule_version(session, edit, actor=Actor.system())  # edited from version 1 again
    assert stale.value.field == "base_version"


@pytest.mark.parametrize(
    ("thresholds", "field", "rule"),
    [
        ({"cv_max": "abc", "min_bids": "3"}, "thresholds.cv_max", "threshold_number"),
        ({"cv_max": "nan", "min_bids": "3"}, "thresholds.cv_max", "threshold_number"),
        ({"cv_max": "0.01", "min_bids": "inf"}, "thresholds.min_bids", "threshold_number"),
        ({"cv_max": "0.01", "min_bids": "3", "extra": "1"}, "thresholds.extra", "threshold_unknown"),
        ({"cv_max": "0.02", "min_bids": "3"}, "form", "integrity_rule_unchanged"),
    ],
)
async def test_a_bad_threshold_is_refused_by_name(
    session: AsyncSession, thresholds: dict[str, str], field: str, rule: str
) -> None:
    await seed(session)
    edit = service.RuleEdit(
        rule_id=PRICE_RULE.id,
        base_version=1,
        reason="调整",
        thresholds=thresholds,
        severity="amber",
        name=PRICE_RULE.name,
        basis=PRICE_RULE.basis,
        description=PRICE_RULE.description,
    )
    with pytest.raises(ValidationFailed) as refused:
        await service.new_rule_version(session, edit, actor=Actor.system())
    assert (refused.value.field, refused.value.rule) == (field, rule)
    assert [r.version for r in await service.rule_history(session, PRICE_RULE.id)] == [1]


async def test_the_list_filters_and_pages(session: AsyncSession) -> None:
    await seed(session)
    await _record(session, ocid="GGZY-A")
    await _record(session, ocid="GGZY-B")
    everything, total = await service.list_alerts(session, service.AlertFilter())
    assert (len(everything), total) == (4, 4)
    cases = [
        (service.AlertFilter(severity="red"), 2),
        (service.AlertFilter(rule=PRICE_RULE.id), 2),
        (service.AlertFilter(tender="GGZY-A"), 2),
        (service.AlertFilter(tender="GGZY-A", rule=DEVICE_RULE.id), 1),
        (service.AlertFilter(status="dismissed"), 0),
        (service.AlertFilter(scope="lot-prices"), 4),
        (service.AlertFilter(scope="market"), 0),
    ]
    for filters, expected in cases:
        assert (await service.list_alerts(session, filters))[1] == expected, filters
    now = await clock.now(session)
    assert (await service.list_alerts(session, service.AlertFilter(since=now + timedelta(hours=1))))[1] == 0
    page, total = await service.list_alerts(session, service.AlertFilter(), offset=3, limit=2)
    assert (len(page), total) == (1, 4)


async def test_a_lot_screening_is_replaced_not_added(session: AsyncSession) -> None:
    for score in (1.0, 3.5):
        await service.record_lot_screening(
            session,
            tender_id=None,
            ocid="X",
            lot=None,
            scope=Scope.LOT_PRICES,
            score=score,
            flagged=score > 2,
            values={"cv": 0.1},
        )
    rows = (await session.scalars(select(IntegrityLotScreening).where(IntegrityLotScreening.ocid == "X"))).all()
    assert [(r.score, r.flagged, r.lot) for r in rows] == [(3.5, True, "")]
    with pytest.raises(ValidationFailed) as refused:
        await service.record_lot_screening(
            session,
            tender_id=None,
            ocid="X",
            lot=None,
            scope=Scope.LOT_PRICES,
            score=float("nan"),
            flagged=False,
            values={},
        )
    assert refused.value.field == "score"
