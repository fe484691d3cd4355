"""The bidding pages' forms as typed bodies (`trading.kernel.web.forms.FormBody`) and what they parse
into. Fields are strings named as on the page, so a malformed value is re-rendered with 422 next to
its field rather than refused as a bare 400.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from bidding.models import MONEY_INTEGER_DIGITS, EvaluationMethod, TenderCategory
from bidding.schemas import CoefficientCreate, Criterion, LotCreate, TenderCreate
from bidding.web.labels import BAD_COEFFICIENTS, BAD_CRITERIA, BAD_LOTS
from trading.kernel.bounds import INT64_MAX
from trading.kernel.web.forms import BAD_CHOICE, BAD_NUMBER, FieldParser, Many, lines, many

FORM_SEPARATORS: Final = re.compile(r"[\s,，、]+")
"""A lot line's accepted forms: ``cash guarantee``, ``cash,guarantee`` or ``cash、guarantee``."""


@dataclass
class DraftForm:
    """The new-tender form (``manage_new.html``)."""

    projectCode: str = ""  # noqa: N815 - the page's field names
    title: str = ""
    tendereeOrganisationId: str = ""  # noqa: N815 - the 招标人 an agency acts for (its own organisation otherwise)
    category: str = ""
    tenderType: str = ""  # noqa: N815
    estimate: str = ""
    lots: str = ""
    evaluationMethod: str = ""  # noqa: N815
    evaluationCriteria: str = ""  # noqa: N815
    coefficients: str = ""
    bidSecurityAmount: str = ""  # noqa: N815
    bidSecurityForms: Many = field(default_factory=list)  # noqa: N815
    bidSecurityRequired: str = ""  # noqa: N815 - the checkbox: every lot requires bid security
    documentsFrom: str = ""  # noqa: N815
    documentsUntil: str = ""  # noqa: N815
    deadline: str = ""
    decryptionWindowMinutes: str = ""  # noqa: N815
    bidValidityDays: str = ""  # noqa: N815
    maxPackageBytes: str = ""  # noqa: N815

    def security(self) -> list[str]:
        return many(self.bidSecurityForms)

    def shown(self) -> dict[str, str]:
        """The text fields as the page shows them again."""
        return {key: value for key, value in dataclasses.asdict(self).items() if isinstance(value, str)}


@dataclass
class ExtensionForm:
    deadline: str = ""
    reason: str = ""


@dataclass
class AnswerForm:
    answer: str = ""


@dataclass
class QuestionForm:
    text: str = ""


@dataclass
class ObjectionForm:
    objection: str = ""
    signature: str = ""


@dataclass
class WithdrawalForm:
    signature: str = ""


def _lots(parser: FieldParser, value: str, *, required: bool) -> list[LotCreate]:
    lots = []
    for cells in lines(value):
        try:
            # code | name | estimate [| bid security for this lot [| forms it accepts]]
            code, name, estimate, *security = cells
            if len(security) > 2:  # noqa: PLR2004 - amount and forms
                raise ValueError(cells)  # noqa: TRY301 - one refusal path for every bad line
            amount = Decimal(security[0]) if security and security[0] else None
            forms = FORM_SEPARATORS.split(security[1].strip()) if len(security) > 1 and security[1].strip() else None
            lots.append(
                LotCreate(
                    code=code,
                    name=name,
                    estimate=Decimal(estimate),
                    bid_security_amount=amount,
                    bid_security_required=required,
                    bid_security_forms=forms,
                )
            )
        except (ValueError, InvalidOperation):
            parser.add("lots", "format", BAD_LOTS)
            return []
    return lots


def _criteria(parser: FieldParser, value: str) -> list[Criterion]:
    criteria = []
    for cells in lines(value):
        try:
            name, weight = cells
            criteria.append(Criterion(name=name, weight=int(weight)))
        except ValueError:
            parser.add("evaluationCriteria", "format", BAD_CRITERIA)
            return []
    return criteria


def _coefficients(parser: FieldParser, value: str) -> list[CoefficientCreate]:
    """``name | low | high | step`` lines (浮动系数 drawn in the opening hall; checked at publication)."""
    found = []
    for cells in lines(value):
        if len(cells) != 4:  # noqa: PLR2004 - name, low, high, step
            parser.add("coefficients", "format", BAD_COEFFICIENTS)
            return []
        found.append(CoefficientCreate(*cells))
    return found


def tender_from_form(form: DraftForm) -> TenderCreate:
    """The draft form as a `TenderCreate`; malformed fields raise one refusal naming each one."""
    parser = FieldParser()
    money = MONEY_INTEGER_DIGITS
    category = parser.choice("category", form.category, TenderCategory) or TenderCategory.ENGINEERING
    method = parser.choice("evaluationMethod", form.evaluationMethod, EvaluationMethod)
    data = TenderCreate(
        project_code=form.projectCode.strip(),
        title=form.title.strip(),
        category=category,
        tender_type=form.tenderType.strip(),
        tenderee_organisation_id=parser.uuid("tendereeOrganisationId", form.tendereeOrganisationId, required=False),
        estimate=_number(parser, "estimate", form.estimate, money),
        evaluation_method=method or EvaluationMethod.COMPREHENSIVE,
        lots=_lots(parser, form.lots, required=bool(form.bidSecurityRequired)),
        bid_security_amount=parser.decimal(
            "bidSecurityAmount", form.bidSecurityAmount, digits=money, default=Decimal(0)
        )
        or Decimal(0),
        bid_security_forms=form.security(),
        evaluation_criteria=_criteria(parser, form.evaluationCriteria),
        coefficients=_coefficients(parser, form.coefficients),
        documents_from=parser.time("documentsFrom", form.documentsFrom),
        documents_until=parser.time("documentsUntil", form.documentsUntil),
        deadline=parser.time("deadline", form.deadline),
        decryption_window_minutes=parser.integer("decryptionWindowMinutes", form.decryptionWindowMinutes),
        bid_validity_days=parser.integer("bidValidityDays", form.bidValidityDays, default=90) or 0,
        max_package_bytes=parser.integer(
            "maxPackageBytes", form.maxPackageBytes, low=1, high=INT64_MAX
        ),  # a BigInt column
    )
    parser.done()
    return data


def _number(parser: FieldParser, name: str, value: str, digits: int) -> Decimal:
    """A required amount; left empty it is refused as not a number, as the form says next to it."""
    if not value.strip():
        parser.add(name, "format", BAD_NUMBER)
        return Decimal(0)
    return parser.decimal(name, value, digits=digits) or Decimal(0)


def answers_from(parser: FieldParser, fields: Iterable[tuple[str, Any]]) -> dict[uuid.UUID, str]:
    """The clarification's ``answer-<question id>`` fields that are filled in."""
    answers: dict[uuid.UUID, str] = {}
    for key, value in fields:
        if key.startswith("answer-") and isinstance(value, str) and value.strip():
            try:
                answers[uuid.UUID(key.removeprefix("answer-"))] = value
            except ValueError:
                parser.add("answers", "format", BAD_CHOICE)
    return answers
