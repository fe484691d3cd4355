"""What integrity's tests share: two rules of their own (the areas' catalogues grow in parallel),
findings that name them, and a screener defined here (the real ones are plugged by the integrator).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.integrity import service
from bidding.integrity.screening import LotContext, LotScore, ScreenResult
from bidding.integrity.screens.model import Finding, Scope, Severity
from bidding.integrity.screens.rules import Rule, RuleSet

PRICE_RULE = Rule(
    id="TEST-PRICE-CV",
    version=1,
    name="测试：报价变异系数过低",
    basis="测试依据：围标串标的价格特征",
    scope=Scope.LOT_PRICES,
    severity=Severity.AMBER,
    thresholds={"cv_max": 0.02, "min_bids": 3.0},
    description="报价过于接近",
)
DEVICE_RULE = Rule(
    id="TEST-EVIDENCE-DEVICE",
    version=1,
    name="测试：设备指纹相同",
    basis="《招标投标法实施条例》第四十条",
    scope=Scope.LOT_EVIDENCE,
    severity=Severity.RED,
    hard=True,
)
TEST_RULES = RuleSet([PRICE_RULE, DEVICE_RULE])


async def seed(session: AsyncSession) -> None:
    await service.ensure_rules_seeded(session, TEST_RULES)


def price_finding(*, version: int = 1, subjects: Sequence[str] = ("b1", "b2", "b3")) -> Finding:
    return Finding(
        rule=PRICE_RULE.id,
        rule_version=version,
        severity=Severity.AMBER,
        summary="三家投标报价的变异系数为 0.5%，低于阈值 2%",
        evidence={"numbers": {"cv": 0.005, "threshold": 0.02}, "prices": {"b1": 100.0, "b2": 100.5, "b3": 101.0}},
        subjects=tuple(subjects),
        score=2.0,
    )


def device_finding() -> Finding:
    return Finding(
        rule=DEVICE_RULE.id,
        rule_version=1,
        severity=Severity.RED,
        summary="两家投标人的投标文件由同一台设备制作",
        evidence={
            "matches": [{"kind": "device_hash", "value": "ab12cd", "bidders": ["b1", "b2"]}],
            "paragraphs": [
                {"left": "甲公司施工组织设计第一段", "right": "乙公司施工组织设计第一段", "similarity": 0.97}
            ],
            "network": {
                "nodes": [{"id": "b1", "name": "甲公司", "category": 0}, {"id": "b2", "name": "乙公司", "category": 0}],
                "edges": [{"source": "b1", "target": "b2", "value": 3}],
                "categories": [{"name": "疑似同一团伙"}],
            },
        },
        subjects=("b1", "b2"),
        hard=True,
    )


class PriceScreener:
    """A screener of the test's own: one price finding per lot, and the lot's score."""

    def __init__(self) -> None:
        self.seen: list[LotContext] = []

    async def __call__(self, session: AsyncSession, lot: LotContext, /) -> ScreenResult:
        del session
        self.seen.append(lot)
        return ScreenResult(
            findings=(price_finding(version=lot.rules[PRICE_RULE.id].version),),
            lot_score=LotScore(score=4.5, flagged=True, values={"cv": 0.005}),
        )
