"""Turning an application the platform sent into the signed guarantee (`document.issue`): the guarantor's
own certificate and key sign the canonical JSON (CAdES, timestamped) and the sealed Chinese PDF.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from certs.cms import SigningIdentity
from certs.tsa.client import TsaTransport
from trading.guarantees.document import Guarantee, GuaranteeKind, Issuer, IssuerType, Organisation, issue

BEIJING = timezone(timedelta(hours=8), "CST")
CLAIM_CONDITIONS = (
    "在保函有效期内，受益人以书面形式提出索赔并说明下列情形之一的，保证人在收到索赔通知后七个工作日内支付索赔金额：\n"
    "一、投标人在投标截止时间后、投标有效期内撤销投标文件的；\n"
    "二、投标人的投标文件无法解密，视为撤销投标文件的；\n"
    "三、中标人无正当理由不与招标人订立合同的；\n"
    "四、中标人未按招标文件要求提交履约担保的。"
)
_NUMBER = re.compile(r"[^A-Za-z0-9._/-]")


@dataclass(frozen=True)
class IssuerFacts:
    """Who issues, as the guarantee states it (the USCC is the certificate's: the platform compares them)."""

    name: str
    uscc: str
    type: IssuerType = IssuerType.BANK
    branch: str = ""

    @classmethod
    def of(cls, certificate: x509.Certificate, *, type_: IssuerType = IssuerType.BANK, branch: str = "") -> IssuerFacts:
        subject = certificate.subject
        serials = subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
        names = subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) or subject.get_attributes_for_oid(
            NameOID.COMMON_NAME
        )
        uscc = str(serials[0].value) if serials else ""
        return cls(
            name=str(names[0].value) if names else subject.rfc4514_string(), uscc=uscc, type=type_, branch=branch
        )


def guarantee_number(application_no: str) -> str:
    return _NUMBER.sub("", f"BH-{application_no}")[:64]


def build_guarantee(detail: dict[str, Any], issuer: IssuerFacts, *, now: datetime | None = None) -> Guarantee:
    """The guarantee stating exactly the application's facts: from 00:00 Beijing of its first day to
    24:00 Beijing of its last, with the verification code and URL the platform gave.
    """
    first = date.fromisoformat(detail["valid_from"])
    last = date.fromisoformat(detail["valid_until"])
    return Guarantee(
        guarantee_no=guarantee_number(detail["application_no"]),
        kind=GuaranteeKind(detail["kind"]),
        issuer=Issuer(issuer.name, issuer.uscc, issuer.type, issuer.branch),
        applicant=Organisation(detail["applicant"]["name"], detail["applicant"]["uscc"]),
        beneficiary=Organisation(detail["beneficiary"]["name"], detail["beneficiary"]["uscc"]),
        project_code=detail["project_code"],
        lot_code=detail["lot_code"],
        lot_name=detail["lot_name"],
        amount=Decimal(str(detail["amount"])).quantize(Decimal("0.01")),
        currency=detail["currency"],
        valid_from=datetime.combine(first, time(0), tzinfo=BEIJING),
        valid_until=datetime.combine(last + timedelta(days=1), time(0), tzinfo=BEIJING),
        claim_conditions=CLAIM_CONDITIONS,
        issued_at=(now or datetime.now(UTC)).astimezone(BEIJING).replace(microsecond=0),
        verification_url=detail["verification_url"],
        verification_code=detail["verification_code"],
    )


async def issue_upload(
    detail: dict[str, Any], issuer: IssuerFacts, identity: SigningIdentity, tsa: TsaTransport
) -> dict[str, str]:
    """The body of ``POST …/applications/{no}/guarantee``: the three signed files, base64."""
    guarantee = build_guarantee(detail, issuer)
    issued = await issue(guarantee, identity, tsa=tsa)
    return {
        "guarantee_no": guarantee.guarantee_no,
        "json": base64.b64encode(issued.json).decode(),
        "cades": base64.b64encode(issued.cades).decode(),
        "pdf": base64.b64encode(issued.pdf).decode(),
    }
