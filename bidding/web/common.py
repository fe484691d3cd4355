"""What the bidding pages share: paths, form parsing, error rendering (field and rule), display
helpers. Pages use cookie sessions and CSRF; a refused form is re-rendered with status 422 naming
each field and rule; times are shown in China Standard Time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Response
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.api import file_store
from bidding.models import (
    MONEY_INTEGER_DIGITS,
    BidStatus,
    DocumentKind,
    EvaluationMethod,
    TenderCategory,
    TenderStatus,
    VersionKind,
)
from bidding.schemas import Criterion, LotCreate, TenderCreate
from bidding.tenders import TenderService
from trading.kernel.bounds import INT64_MAX, InputRefused, check_datetime, check_decimal, check_int
from trading.kernel.errors import DomainError
from trading.kernel.settings import Settings
from trading.kernel.web import i18n
from trading.kernel.web.forms import FieldError
from trading.kernel.web.i18n import N_
from trading.kernel.web.templating import DISPLAY_TZ, local_time

PREFIX = "/bidding"
TENDERS = f"{PREFIX}/tenders"
MANAGE = f"{PREFIX}/manage"
UNPROCESSABLE = 422
CHUNK_BYTES = 8 * 1024 * 1024
"""What the page's script sends per PATCH (the API accepts up to `MAX_CHUNK_BYTES`)."""
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""A signed tender document or clarification posted through the management form."""
PUBLIC_LIST_STATUSES = (TenderStatus.PUBLISHED, TenderStatus.CLOSED)

CATEGORY_LABELS: dict[TenderCategory, str] = {
    TenderCategory.ENGINEERING: N_("Engineering"),
    TenderCategory.GOODS: N_("Goods"),
    TenderCategory.SERVICES: N_("Services"),
}
STATUS_LABELS: dict[TenderStatus, str] = {
    TenderStatus.DRAFT: N_("Draft"),
    TenderStatus.PUBLISHED: N_("Open for bids"),
    TenderStatus.CLOSED: N_("Bidding closed"),
    TenderStatus.OPENING: N_("Opening"),
    TenderStatus.FAILED: N_("Failed (re-tender)"),
    TenderStatus.CANCELLED: N_("Cancelled"),
}
METHOD_LABELS: dict[EvaluationMethod, str] = {
    EvaluationMethod.COMPREHENSIVE: N_("Comprehensive evaluation"),
    EvaluationMethod.LOWEST_EVALUATED_PRICE: N_("Lowest evaluated price"),
    EvaluationMethod.REASONABLE_LOW_PRICE: N_("Reasonable low price"),
}
DOCUMENT_LABELS: dict[DocumentKind, str] = {
    DocumentKind.TENDER_DOCUMENT: N_("Tender document"),
    DocumentKind.CLARIFICATION: N_("Clarification"),
    DocumentKind.AMENDMENT: N_("Amendment"),
}
BID_STATUS_LABELS: dict[BidStatus, str] = {
    BidStatus.SUBMITTED: N_("Submitted"),
    BidStatus.WITHDRAWN: N_("Withdrawn"),
}
VERSION_LABELS: dict[VersionKind, str] = {
    VersionKind.SUBMISSION: N_("Submission"),
    VersionKind.WITHDRAWAL: N_("Withdrawal"),
}
TENDER_TYPE_LABELS: dict[str, str] = {
    "engineering-mandatory": N_("Engineering (tendering required by law)"),
    "engineering": N_("Engineering (other)"),
    "goods": N_("Government procurement: goods"),
    "services": N_("Government procurement: services"),
}
SECURITY_FORM_LABELS: dict[str, str] = {"cash": N_("Cash"), "guarantee": N_("Guarantee")}
FIELD_LABELS: dict[str, str] = {
    "projectCode": N_("Project code"),
    "title": N_("Title"),
    "category": N_("Category"),
    "tenderType": N_("Tender type"),
    "tendereeOrganisationId": N_("Tenderee"),
    "estimate": N_("Estimate (yuan)"),
    "lots": N_("Lots"),
    "evaluationMethod": N_("Evaluation method"),
    "evaluationCriteria": N_("Evaluation criteria"),
    "bidSecurityAmount": N_("Bid security (yuan)"),
    "bidSecurityForms": N_("Bid security forms"),
    "documentsFrom": N_("Documents available from"),
    "documentsUntil": N_("Documents available until"),
    "deadline": N_("Bid deadline"),
    "decryptionWindowMinutes": N_("Decryption window (minutes)"),
    "bidValidityDays": N_("Bid validity (days)"),
    "maxPackageBytes": N_("Maximum package size (bytes)"),
    "keyHolders": N_("Key holders"),
    "keyThreshold": N_("Key threshold"),
    "documents": N_("Documents"),
    "file": N_("File"),
    "signature": N_("Signature (.p7s)"),
    "answers": N_("Answers"),
    "reason": N_("Reason"),
    "text": N_("Question"),
    "status": N_("Status"),
    "code": N_("Tender"),
}
RULE_TEXT: dict[str, str] = {
    # What a rule means, in words the page can translate (services word their messages in English
    # with values filled in; those are shown only when no translation of the rule exists).
    "required": N_("This field is required."),
    "format": N_("The value has the wrong format."),
    "positive": N_("The value must be positive."),
    "known": N_("Choose an option from the list."),
    "unique": N_("Another tender already uses this value."),
    "project_code": N_("1–64 letters, digits, '.', '_' or '-', starting with a letter or digit."),
    "min_one": N_("A tender has at least one lot."),
    "unique_codes": N_("Lot codes must be unique within the tender."),
    "lot_code": N_("A lot code has 1–40 letters, digits, '.', '_' or '-'."),
    "lot_name": N_("Every lot needs a name."),
    "lot_estimate": N_("A lot's estimate cannot be negative."),
    "signed_tender_document": N_("Upload a signed tender document before publishing."),
    "bid_security_max_ratio": N_("The bid security exceeds the share of the estimate the rules allow."),
    "allowed_forms": N_("Bid security is given as cash or a guarantee."),
    "non_cash_accepted": N_("Government procurement must accept guarantees."),
    "weights_sum_100": N_("The comprehensive method needs named criteria whose weights sum to 100."),
    "method_allowed": N_("This evaluation method is not allowed for this tender type."),
    "category_matches_type": N_("The category does not match the tender type."),
    "publication_to_deadline_days": N_("The deadline is too close to the publication of the documents."),
    "document_days": N_("The documents are not available for long enough."),
    "after_documents_from": N_("Document availability must end after it starts."),
    "before_deadline": N_("This must be before the bid deadline."),
    "decryption_window_min": N_("The decryption window is too short."),
    "max_package_bytes": N_("The package is larger than this tender accepts."),
    "later_deadline": N_("The deadline can only move later."),
    "clarification_days_before_deadline": N_("A clarification this late moves the deadline further."),
    "signer-not-tenderee": N_("The document is not signed by the tenderee or its agency."),
    "draft_only": N_("Only a draft can be changed this way."),
    "published_only": N_("The tender is not open."),
    "tender_document_downloaded": N_("Download the tender document before asking a question."),
    "length": N_("The text is empty or too long."),
    "tender-open": N_("The tender is not open for bids."),
    "before-deadline": N_("The bid deadline has passed."),
    "max-package-bytes": N_("The package is larger than this tender accepts."),
    "matches-server-offset": N_("The upload resumed at another offset."),
    "declared-size": N_("More bytes were sent than announced."),
    "incomplete": N_("The upload is incomplete."),
    "matches-upload": N_("The package was sealed for another tender, lot or bidder."),
    "binding-mismatch": N_("The package was sealed for another tender, lot, bidder or deadline: seal it again."),
    "digest-mismatch": N_("The package does not match its signed manifest."),
    "not-sealed": N_("The package is not sealed: unencrypted bids are refused."),
    "key-holders": N_("The package is not sealed for this tender's key holders."),
    "signer-not-bidder": N_("The package is not signed by your organisation."),
    "submitted": N_("There is no submitted bid to withdraw."),
    "receiving": N_("This upload is finished; start a new one."),
    "one-writer": N_("The upload is being written by another request."),
    "exists": N_("Not found."),
    "bidder": N_("Only a bidder's user submits bids."),
    # trading.credit refusals: the message after the text names each record, its reason and period.
    "credit-blacklisted": N_("Your organisation is on a blacklist in force that bars it from bidding."),
    "credit-serious-violation": N_("Your organisation is listed for a serious violation that bars it from bidding."),
    "credit-penalty-bar": N_("An administrative penalty in force bars your organisation from bidding."),
}
BAD_NUMBER = N_("Enter a number.")
BAD_TIME = N_("Enter a date and time.")
BAD_CHOICE = N_("Choose an option from the list.")
BAD_LOTS = N_("One lot per line: code | name | estimate, optionally | bid security for that lot.")
BAD_CRITERIA = N_("One criterion per line: name | weight.")
REQUIRED = N_("This field is required.")
FORM_MESSAGES = frozenset({BAD_NUMBER, BAD_TIME, BAD_CHOICE, BAD_LOTS, BAD_CRITERIA, REQUIRED})
LABELS = {
    "categories": CATEGORY_LABELS,
    "statuses": STATUS_LABELS,
    "methods": METHOD_LABELS,
    "document_kinds": DOCUMENT_LABELS,
    "bid_statuses": BID_STATUS_LABELS,
    "version_kinds": VERSION_LABELS,
    "tender_type_labels": TENDER_TYPE_LABELS,
    "security_forms": SECURITY_FORM_LABELS,
    "labels": FIELD_LABELS,
    "display_tz": DISPLAY_TZ,
}

Form = Mapping[str, Any]


class FormProblems(DomainError):
    """Malformed form input (before any service call), one item per field."""

    status_code = UNPROCESSABLE
    code = "validation_failed"
    title = "Validation failed"


# --- dependencies --------------------------------------------------------------------------------


async def provide_tenders(db_session: NamedDependency[AsyncSession], state: State) -> TenderService:
    settings: Settings = state.settings
    return TenderService(db_session, settings, file_store(settings))


# --- errors --------------------------------------------------------------------------------------


def rule_text(rule: str | None, message: str) -> str:
    """The message in the reader's language: this module's own form messages as they are, the
    services' (English, with values filled in) through the rule they name, else as written.
    """
    if message in FORM_MESSAGES:
        return i18n.gettext(message)
    if rule and rule in RULE_TEXT:
        return i18n.gettext(RULE_TEXT[rule])
    return i18n.gettext(message)


def field_errors(exc: DomainError) -> list[FieldError]:
    """Every field and rule an error names (``extra["errors"]`` when the service collected several),
    each message in the reader's language followed by the rule's code.
    """
    items = exc.extra.get("errors") if isinstance(exc.extra.get("errors"), list) else None
    raw = items or [{"field": exc.field, "rule": exc.rule, "message": exc.message}]
    errors = []
    for item in raw:
        name = item.get("field")
        rule = item.get("rule")
        label = i18n.gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else None
        text = rule_text(rule, str(item.get("message", "")))
        errors.append(FieldError(name, f"{text} ({rule})" if rule else text, label))
    return errors


def is_client_error(exc: DomainError) -> bool:
    """Errors that belong on the form; 403/404 and server errors go to the error pages."""
    return exc.status_code < 500 and exc.status_code not in {403, 404}  # noqa: PLR2004


def problem_json(exc: DomainError) -> Response[Any]:
    """A refusal for the page's script: field, rule, the service's message and a translated text."""
    body = {
        "field": exc.field,
        "rule": exc.rule,
        "message": exc.message,
        "text": rule_text(exc.rule, exc.message),
        **{key: value for key, value in exc.extra.items() if key == "offset"},
    }
    return Response(body, status_code=exc.status_code, media_type="application/json")


# --- form parsing --------------------------------------------------------------------------------


class FormProblemList:
    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, name: str, rule: str, message: str) -> None:
        self.items.append({"field": name, "rule": rule, "message": message})

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise FormProblems(first["message"], field=first["field"], rule=first["rule"], extra={"errors": self.items})


def _text(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _decimal(form: Form, name: str, problems: FormProblemList, *, default: Decimal | None = None) -> Decimal:
    raw = _text(form, name)
    if not raw and default is not None:
        return default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        problems.add(name, "format", BAD_NUMBER)
        return Decimal(0)
    if not value.is_finite():
        problems.add(name, "format", BAD_NUMBER)
        return Decimal(0)
    try:
        return check_decimal(name, value, integer_digits=MONEY_INTEGER_DIGITS)
    except InputRefused as exc:
        problems.add(name, exc.rule or "", exc.message)
        return Decimal(0)


def _int(form: Form, name: str, problems: FormProblemList, *, default: int | None = None) -> int | None:
    raw = _text(form, name)
    if not raw:
        return default
    try:
        return check_int(name, int(raw), low=-INT64_MAX - 1, high=INT64_MAX)
    except ValueError:
        problems.add(name, "format", BAD_NUMBER)
        return default
    except InputRefused as exc:
        problems.add(name, exc.rule or "", exc.message)
        return default


def parse_time(form: Form, name: str, problems: FormProblemList) -> datetime | None:
    raw = _text(form, name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        problems.add(name, "format", BAD_TIME)
        return None
    try:
        # A datetime-local field has no zone: the page says its times are UTC+08:00.
        return check_datetime(name, value if value.tzinfo else value.replace(tzinfo=DISPLAY_TZ))
    except InputRefused as exc:
        problems.add(name, exc.rule or "", exc.message)
        return None


def _lines(raw: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")] for line in raw.splitlines() if line.strip()]


def _lots(form: Form, problems: FormProblemList) -> list[LotCreate]:
    lots = []
    for cells in _lines(_text(form, "lots")):
        try:
            # code | name | estimate [| bid security for this lot]
            code, name, estimate, *security = cells
            if len(security) > 1:
                raise ValueError(cells)  # noqa: TRY301 - one refusal path for every bad line
            amount = Decimal(security[0]) if security and security[0] else None
            lots.append(LotCreate(code=code, name=name, estimate=Decimal(estimate), bid_security_amount=amount))
        except (ValueError, InvalidOperation):
            problems.add("lots", "format", BAD_LOTS)
            return []
    return lots


def _criteria(form: Form, problems: FormProblemList) -> list[Criterion]:
    criteria = []
    for cells in _lines(_text(form, "evaluationCriteria")):
        try:
            name, weight = cells
            criteria.append(Criterion(name=name, weight=int(weight)))
        except ValueError:
            problems.add("evaluationCriteria", "format", BAD_CRITERIA)
            return []
    return criteria


def tender_from_form(form: Form, security_forms: list[str]) -> TenderCreate:
    """The draft form as a `TenderCreate`; malformed fields raise `FormProblems` naming each one."""
    problems = FormProblemList()
    try:
        category = TenderCategory(_text(form, "category"))
    except ValueError:
        problems.add("category", "known", BAD_CHOICE)
        category = TenderCategory.ENGINEERING
    try:
        method = EvaluationMethod(_text(form, "evaluationMethod"))
    except ValueError:
        problems.add("evaluationMethod", "known", BAD_CHOICE)
        method = EvaluationMethod.COMPREHENSIVE
    data = TenderCreate(
        project_code=_text(form, "projectCode"),
        title=_text(form, "title"),
        category=category,
        tender_type=_text(form, "tenderType"),
        estimate=_decimal(form, "estimate", problems),
        evaluation_method=method,
        lots=_lots(form, problems),
        bid_security_amount=_decimal(form, "bidSecurityAmount", problems, default=Decimal(0)),
        bid_security_forms=security_forms,
        evaluation_criteria=_criteria(form, problems),
        documents_from=parse_time(form, "documentsFrom", problems),
        documents_until=parse_time(form, "documentsUntil", problems),
        deadline=parse_time(form, "deadline", problems),
        decryption_window_minutes=_int(form, "decryptionWindowMinutes", problems),
        bid_validity_days=_int(form, "bidValidityDays", problems, default=90) or 0,
        max_package_bytes=_int(form, "maxPackageBytes", problems),
    )
    problems.raise_if_any()
    return data


async def read_upload(value: Any) -> tuple[str, str, bytes] | None:
    """(filename, media type, bytes) of an uploaded file field, or None when none was chosen."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    return value.filename, value.content_type or "application/octet-stream", await value.read()


def display_time(value: datetime | None) -> str:
    """A stored time for a datetime-local field (UTC+08:00); never raises on extreme values."""
    return local_time(value, "%Y-%m-%dT%H:%M") if value else ""


def attachment(data: bytes, filename: str, media_type: str) -> Response[bytes]:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(filename)}"},
    )


def _quote(filename: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415 - only attachments need it

    return quote(filename, safe="")
