"""Shared by the guarantee services: constants, the collector of broken rules, amount checks,
verification codes, the ledger helper and the locked row lookup. No state changes here.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees.errors import GuaranteeRefused
from trading.guarantees.repository import GuaranteesRepository
from trading.kernel.auth.identity import Actor
from trading.kernel.errors import NotFound
from trading.ledger.service import append_entry
from trading.parties.models import OrganisationKind

CHINA = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")
CURRENCY = "CNY"
GUARANTOR_KINDS = frozenset({OrganisationKind.BANK, OrganisationKind.INSURER, OrganisationKind.GUARANTEE_COMPANY})
MAX_AMOUNT = Decimal("9999999999999999.99")  # Numeric(18, 2)
STORE_NAMESPACE = "guarantees"

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base 32: no I, L, O or U, so a code read aloud or typed from paper survives."""
CODE_LENGTH = 16  # 80 random bits: not guessable by trying codes at the verification page's rate limit


# --- small helpers ------------------------------------------------------------------------------------


class Problems:
    """Collects every broken rule before refusing, so a form or API caller fixes them all at once."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, field: str, rule: str, message: str) -> None:
        self.items.append({"field": field, "rule": rule, "message": message})

    def raise_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise GuaranteeRefused(
                first["message"], field=first["field"], rule=first["rule"], extra={"errors": self.items}
            )


def check_amount(problems: Problems, field: str, amount: Decimal, *, allow_zero: bool = False) -> None:
    """Yuan with at most two decimals (DB3401/T 308), positive unless ``allow_zero``, within Numeric(18, 2)."""
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        problems.add(field, "amount_positive", f"{field} must be greater than 0")
    elif amount != amount.quantize(CENT):
        problems.add(field, "amount_decimals", f"{field} has at most 2 decimals")
    elif amount > MAX_AMOUNT:
        problems.add(field, "amount_too_large", f"{field} is too large")


def end_of_day(day: date) -> datetime:
    """24:00 Beijing time of ``day``: when a validity whose last day is ``day`` ends."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=CHINA)


def normalise_code(raw: str) -> str:
    """A verification code as stored (``XXXX-XXXX-XXXX-XXXX``) from what a person typed: case,
    spaces and dashes ignored, O read as 0 and I/L as 1 (Crockford). Unusable input gives ``""``.
    """
    cleaned = raw.strip().upper().replace("-", "").replace(" ", "")
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    if len(cleaned) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in cleaned):
        return ""
    return "-".join(cleaned[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def new_verification_code() -> str:
    return normalise_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


def verification_code_for(secret: bytes, application_no: str) -> str:
    """The verification code of an application's guarantee: a keyed hash of its number (80 bits of
    Crockford base 32), so the platform chooses it, tells the guarantor before issue without storing
    it (the guarantor API's application read, the console), and nobody without the platform's key
    can predict another application's code. The guarantee must print exactly this code.
    """
    digest = hmac.new(secret, f"guarantee-code|{application_no}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:10], "big")
    return normalise_code("".join(CODE_ALPHABET[(number >> (5 * i)) & 31] for i in range(CODE_LENGTH)))


async def ledger_entry(  # noqa: PLR0917 - the entry's parts, in append_entry's order
    session: AsyncSession,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: uuid.UUID,
    summary: dict[str, Any],
    *,
    project_code: str | None = None,
    sealed: bool = False,
) -> None:
    await append_entry(
        session,
        actor=actor,
        action=f"guarantees.{action}",
        subject_type=f"guarantees.{subject_type}",
        subject_id=str(subject_id),
        data=summary,
        summary=summary,
        project_code=project_code,
        sealed=sealed and project_code is not None,
    )


async def required_row(
    repo: GuaranteesRepository, model: Any, row_id: uuid.UUID, field: str, *, lock: bool = True
) -> Any:
    row = await repo.get(model, row_id, lock=lock)
    if row is None:
        raise NotFound(f"no such {field}", field=field, rule="exists")
    return row
