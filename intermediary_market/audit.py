"""The marketplace's ledger entries: one helper, and what their public summary may show."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.auth.identity import Actor
from trading.ledger.service import append_entry

_PUBLIC_KEYS = frozenset(
    {
        "code",
        "version",
        "organisation_id",
        "item_code",
        "level",
        "method",
        "seed_sha256",
        "closed_list_sha256",
        "status",
        "rule",
        "months",
    }
)
"""What the ledger summary may show; prices, responses and reasons stay in the digested ``data``."""


async def record(  # noqa: PLR0917 - private shorthand for append_entry
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID,
    data: dict[str, Any],
) -> None:
    await append_entry(
        session,
        actor=actor,
        action=f"intermediary_market.{action}",
        subject_type=subject_type,
        subject_id=str(subject_id),
        data=data,
        summary={key: value for key, value in data.items() if key in _PUBLIC_KEYS},
    )
