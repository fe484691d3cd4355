"""The bidder's structured response: ``ggzy-response/1``, whose JSON Schema the tender publishes
(`response_schema`, generated from these Structs).

Qualification claims (certificate number, issuer, grade or value, validity) answering the
requirement set's qualification codes; evidence claims for objective scoring criteria (same
shape, ``ref`` = the criterion's code); one response per ★ item (complies, or deviates with the
deviation stated); the priced bill (each line of the bill of quantities with its quantity, unit
price and line total); the total in figures and in Chinese capitals; optionally (issue 19) the
project manager, the contacts and a cash bond's payer account (`bidding.client.parties`).

Reading is strict (`read_response`): unknown fields, wrong types, malformed money, two answers to
one code and capitals that are not an amount are refused with the JSON path and the rule. Whether
the numbers agree with each other (line totals, the sum, words against figures) is not a format
question: the law says which prevails, and the assistance reports it (`bidding.evaluation.
assistance.arithmetic`). The format is versioned: a new version adds a reader to `READERS`, and
the readers of older versions stay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Literal

import msgspec

from bidding.client import parties
from bidding.evaluation.response.capitals import CapitalsError, parse_capitals
from bidding.evaluation.response.reading import MONEY_PLACES, QUANTITY_PLACES, Checks, decode, read_versioned
from bidding.evaluation.response.types import Code, Grade, Money, Name, Points, Quantity, Text, Uscc

FORMAT_V1 = "ggzy-response/1"


class _Doc(msgspec.Struct, forbid_unknown_fields=True, rename="camel"):
    pass


class Claim(_Doc):
    """A certificate claimed for a qualification requirement or a scoring criterion (``ref``)."""

    ref: Code
    certificate_no: Name
    issuer: Name
    valid_from: date
    valid_until: date | None = None
    """None: no expiry (e.g. a business licence 长期)."""
    grade: Grade | None = None
    value: Points | None = None


class StarResponse(_Doc):
    item: Code
    response: Literal["complies", "deviates"]
    statement: Text = ""
    deviation: Text | None = None
    """Required when ``response`` is ``deviates``: what differs from the ★ item."""


class PricedLine(_Doc):
    code: Code
    quantity: Quantity
    unit_price: Money
    line_total: Money


class ProjectManager(_Doc):
    """项目经理 (issue 19): the name and the 居民身份证 number or the registration number (注册编号)."""

    name: Name
    id_number: Name | None = None
    registration_no: Name | None = None


class Contact(_Doc):
    """联系人 (issue 19): a name and a phone number or an e-mail address."""

    name: Name
    phone: Name | None = None
    email: Name | None = None


class PayerAccount(_Doc):
    """The account a cash bond (投标保证金) was paid from (issue 19)."""

    account_no: Name
    bank: Name


class ResponseV1(_Doc):
    format: Literal["ggzy-response/1"]
    tender: Code
    lot: Code
    bidder: Uscc
    total: Money
    """The total in figures (小写)."""
    total_in_words: Text
    """The total in Chinese capitals (大写), e.g. 伍万零叁佰叁拾肆元肆角整."""
    qualifications: list[Claim] = msgspec.field(default_factory=list)
    evidence: list[Claim] = msgspec.field(default_factory=list)
    star_responses: list[StarResponse] = msgspec.field(default_factory=list)
    bill: list[PricedLine] = msgspec.field(default_factory=list)
    project_manager: ProjectManager | None = None
    """Issue 19: optional, as ``contacts`` and ``bid_security_payer`` (older responses have none);
    their rules are `bidding.client.parties`'."""
    contacts: list[Contact] = msgspec.field(default_factory=list)
    bid_security_payer: PayerAccount | None = None


Response = ResponseV1
"""The newest version; readers of every version stay in `READERS`."""


def _check_claims(checks: Checks, path: str, claims: list[Claim]) -> None:
    for i, claim in enumerate(claims):
        if claim.valid_until is not None and claim.valid_until < claim.valid_from:
            checks.fail(f"{path}[{i}].validUntil", "date-order", "ends before it starts")
        if claim.value is not None:
            checks.decimal(f"{path}[{i}].value", claim.value, places=MONEY_PLACES)


def _check_v1(doc: ResponseV1) -> None:
    checks = Checks()
    checks.decimal("$.total", doc.total, places=MONEY_PLACES)
    try:
        parse_capitals(doc.total_in_words)
    except CapitalsError as exc:
        checks.fail("$.totalInWords", "capitals", f"not an amount in Chinese capitals: {exc}")
    _check_claims(checks, "$.qualifications", doc.qualifications)
    _check_claims(checks, "$.evidence", doc.evidence)
    checks.unique("$.starResponses", (s.item for s in doc.star_responses), "item")
    for i, star in enumerate(doc.star_responses):
        if star.response == "deviates" and not (star.deviation or "").strip():
            checks.fail(f"$.starResponses[{i}].deviation", "required-when-deviates", "state the deviation")
    checks.unique("$.bill", (line.code for line in doc.bill), "code")
    for i, line in enumerate(doc.bill):
        checks.decimal(f"$.bill[{i}].quantity", line.quantity, places=QUANTITY_PLACES, positive=True)
        checks.decimal(f"$.bill[{i}].unitPrice", line.unit_price, places=MONEY_PLACES)
        checks.decimal(f"$.bill[{i}].lineTotal", line.line_total, places=MONEY_PLACES)
    for problem in parties.problems(msgspec.to_builtins(doc)):
        checks.fail(problem.path, problem.rule, problem.message)
    checks.raise_if_any()


def read_v1(data: bytes | str) -> ResponseV1:
    doc = decode(data, ResponseV1)
    _check_v1(doc)
    return doc


READERS: dict[str, Callable[[bytes | str], Response]] = {FORMAT_V1: read_v1}


def read_response(data: bytes | str) -> Response:
    """A bid response of any known version, checked; `FormatError` (path, rule) otherwise."""
    return read_versioned(data, READERS, "bid response")


def response_schema() -> dict[str, object]:
    """The JSON Schema of the current version, as the tender publishes it."""
    schema = msgspec.json.schema(ResponseV1)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"urn:ggzy:{FORMAT_V1}", **schema}


def encode(document: Response) -> bytes:
    """The response as JSON (decimals as strings), e.g. to write the file the bidder seals."""
    return msgspec.json.encode(document)
