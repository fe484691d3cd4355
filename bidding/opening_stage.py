"""The opening's stages (签到 → 解密 → 唱标 → [抽取系数] → 确认 → 结束).

Named in bidding's core, not in `bidding.opening`, because core decides by them: who sees what
at the opening is a core rule (`bidding.visibility.OpeningPolicy`, by stage × relation). The
opening depends on core, never the reverse (import contract in pyproject.toml); its tables store
this enum (`bidding.opening.models`).
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    SIGN_IN = "sign-in"  # 签到
    DECRYPTION = "decryption"  # 解密
    PRICE_READING = "price-reading"  # 唱标
    COEFFICIENT_DRAW = "coefficient-draw"  # 抽取系数: only for tenders that need coefficients (`bidding.coefficients`)
    CONFIRMATION = "confirmation"  # 确认 and objections
    CLOSED = "closed"  # 结束


STAGE_ORDER = (Stage.SIGN_IN, Stage.DECRYPTION, Stage.PRICE_READING, Stage.CONFIRMATION, Stage.CLOSED)
"""The stages of a tender without random coefficients."""
STAGE_ORDER_WITH_COEFFICIENTS = (
    Stage.SIGN_IN,
    Stage.DECRYPTION,
    Stage.PRICE_READING,
    Stage.COEFFICIENT_DRAW,
    Stage.CONFIRMATION,
    Stage.CLOSED,
)
"""The stages of a tender whose evaluation needs random coefficients: drawn after the prices are
read out (so nobody can tune a price to the coefficient) and before the bidders confirm."""


def stage_order(*, coefficients: bool) -> tuple[Stage, ...]:
    return STAGE_ORDER_WITH_COEFFICIENTS if coefficients else STAGE_ORDER
