"""The opening's stages (签到 → 解密 → 唱标 → 确认 → 结束).

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
    CONFIRMATION = "confirmation"  # 确认 and objections
    CLOSED = "closed"  # 结束
