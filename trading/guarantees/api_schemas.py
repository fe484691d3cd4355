"""The guarantor API's request and response bodies (`trading.guarantees.api_guarantor`), with an example."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import msgspec

from trading.guarantees.models import ApplicationStatus, ClaimStatus, GuaranteeKind


class ApplicationSummary(msgspec.Struct):
    """One application in the guarantor's queue."""

    application_no: str
    status: ApplicationStatus
    kind: GuaranteeKind
    applicant_name: str
    project_code: str
    lot_code: str
    amount: Decimal
    currency: str
    applied_at: datetime


class Party(msgspec.Struct):
    name: str
    uscc: str


class ApplicationDetail(msgspec.Struct):
    """What the guarantor needs to decide and to issue: the guarantee states exactly these facts.

    ``valid_from``/``valid_until`` are Beijing dates, the last day inclusive: a guarantee valid from
    00:00 Beijing of ``valid_from`` to 24:00 Beijing of ``valid_until`` (or longer) covers them.
    ``verification_code`` is the code the guarantee must print in ``verification.code`` (the platform
    chose it; the public verification page answers it once issued), ``verification_url`` where.
    """

    application_no: str
    status: ApplicationStatus
    kind: GuaranteeKind
    product: str
    applicant: Party
    beneficiary: Party
    project_code: str
    lot_code: str
    lot_name: str
    amount: Decimal
    currency: str
    valid_from: date
    valid_until: date
    fee: Decimal
    applied_at: datetime
    paid_at: datetime | None
    refusal_reason: str | None
    verification_code: str
    verification_url: str
    guarantee_no: str | None


class DecisionInput(msgspec.Struct, forbid_unknown_fields=True):
    decision: Literal["approve", "refuse"]
    reason: str = ""
    """Required to refuse (shown to the bidder)."""
    payer_account_no: str | None = None
    """Approving: the account the fee was paid from (8–32 digits), with ``payer_bank`` (issue 19)."""
    payer_bank: str | None = None


class GuaranteeUpload(msgspec.Struct, forbid_unknown_fields=True):
    """The issued guarantee, each file base64 (standard alphabet, padded)."""

    guarantee_no: str
    json: str
    """The canonical JSON (`ggzy-guarantee/1`) exactly as signed."""
    cades: str
    """Its detached CAdES signature (DER)."""
    pdf: str
    """The Chinese PDF, PAdES-signed with the seal, embedding the same JSON."""


class GuaranteeRecorded(msgspec.Struct):
    guarantee_no: str
    application_no: str
    status: str
    verification_code: str
    json_sha256: str


class ClaimRead(msgspec.Struct):
    claim_id: uuid.UUID
    guarantee_no: str
    trigger: str
    amount: Decimal
    statement: str
    status: ClaimStatus
    filed_at: datetime
    answer: str | None
    answered_at: datetime | None


class ClaimAnswer(msgspec.Struct, forbid_unknown_fields=True):
    pay: bool
    answer: str


class ReleaseRead(msgspec.Struct):
    guarantee_no: str
    reason: str
    requested_at: datetime
    acknowledged_at: datetime | None
    attempts: int


EXAMPLE_DETAIL = {
    "application_no": "GA202612060001",
    "status": "paid",
    "kind": "bid",
    "product": "投标保函",
    "applicant": {"name": "江苏某建设工程有限公司", "uscc": "91320100MA1XXXXXX0"},
    "beneficiary": {"name": "南京市某区建设局", "uscc": "11320100MB1XXXXXX0"},
    "project_code": "G320100-2026-0001",
    "lot_code": "001",
    "lot_name": "第一标段",
    "amount": "80000.00",
    "currency": "CNY",
    "valid_from": "2026-12-01",
    "valid_until": "2027-03-31",
    "fee": "400.00",
    "applied_at": "2026-12-06T09:00:00+08:00",
    "paid_at": "2026-12-06T09:30:00+08:00",
    "refusal_reason": None,
    "verification_code": "7K2M-9QXD-4HRT-0WPA",
    "verification_url": "https://ggzy.example.cn/guarantees/verify/7K2M-9QXD-4HRT-0WPA",
    "guarantee_no": None,
}
