"""Bidding pages under ``/bidding``: the public tender list and detail, the bidder's bids and the
sealed-bid upload, and the tenderee's (or agency's) tender management.

Pages use cookie sessions and CSRF; the upload routes here mirror the bearer-only API
(`bidding.api`) for the browser and call the same `IntakeService` methods, answering JSON so the
page's script (``static/js/bidding.js``) drives the resumable protocol. A refused form is
re-rendered with status 422 naming each field and rule (inside a savepoint, so nothing a refused
call may have flushed is committed with the request); a form that succeeds redirects (303).

Times are shown in China Standard Time; the deadline countdown counts from the database clock
rendered into the page (and re-read from ``/bidding/time``), never from the visitor's clock.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import File, Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.api import MAX_CHUNK_BYTES, file_store, provide_intake
from bidding.errors import BidRefused
from bidding.intake import IntakeService, Receipt
from bidding.models import (
    BidStatus,
    DocumentKind,
    EvaluationMethod,
    Tender,
    TenderCategory,
    TenderStatus,
    VersionKind,
)
from bidding.policies import BiddingPermission
from bidding.rules import tender_types
from bidding.schemas import Criterion, LotCreate, TenderCreate
from bidding.tenders import TenderService
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import DomainError, NotFound
from trading.kernel.settings import Settings
from trading.kernel.web import i18n
from trading.kernel.web.forms import FieldError
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page
from trading.parties.models import Organisation

PREFIX = "/bidding"
TENDERS = f"{PREFIX}/tenders"
MANAGE = f"{PREFIX}/manage"
UNPROCESSABLE = 422
CHUNK_BYTES = 8 * 1024 * 1024
"""What the page's script sends per PATCH (the API accepts up to `MAX_CHUNK_BYTES`)."""
MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""A signed tender document or clarification posted through the management form."""
DISPLAY_TZ = timezone(timedelta(hours=8), "UTC+08:00")
"""Times typed into forms and shown on pages are China Standard Time; storage stays UTC."""
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
}
BAD_NUMBER = N_("Enter a number.")
BAD_TIME = N_("Enter a date and time.")
BAD_CHOICE = N_("Choose an option from the list.")
BAD_LOTS = N_("One lot per line: code | name | estimate.")
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


def _client_error(exc: DomainError) -> bool:
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


class _Problems:
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


def _decimal(form: Form, name: str, problems: _Problems, *, default: Decimal | None = None) -> Decimal:
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
    return value


def _int(form: Form, name: str, problems: _Problems, *, default: int | None = None) -> int | None:
    raw = _text(form, name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        problems.add(name, "format", BAD_NUMBER)
        return default


def _time(form: Form, name: str, problems: _Problems) -> datetime | None:
    raw = _text(form, name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        problems.add(name, "format", BAD_TIME)
        return None
    return value if value.tzinfo else value.replace(tzinfo=DISPLAY_TZ)


def _lines(raw: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")] for line in raw.splitlines() if line.strip()]


def _lots(form: Form, problems: _Problems) -> list[LotCreate]:
    lots = []
    for cells in _lines(_text(form, "lots")):
        try:
            code, name, estimate = cells
            lots.append(LotCreate(code=code, name=name, estimate=Decimal(estimate)))
        except (ValueError, InvalidOperation):
            problems.add("lots", "format", BAD_LOTS)
            return []
    return lots


def _criteria(form: Form, problems: _Problems) -> list[Criterion]:
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
    problems = _Problems()
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
        documents_from=_time(form, "documentsFrom", problems),
        documents_until=_time(form, "documentsUntil", problems),
        deadline=_time(form, "deadline", problems),
        decryption_window_minutes=_int(form, "decryptionWindowMinutes", problems),
        bid_validity_days=_int(form, "bidValidityDays", problems, default=90) or 0,
        max_package_bytes=_int(form, "maxPackageBytes", problems),
    )
    problems.raise_if_any()
    return data


async def _file(value: Any) -> tuple[str, str, bytes] | None:
    """(filename, media type, bytes) of an uploaded file field, or None when none was chosen."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    return value.filename, value.content_type or "application/octet-stream", await value.read()


def _display(value: datetime | None) -> str:
    return value.astimezone(DISPLAY_TZ).strftime("%Y-%m-%dT%H:%M") if value else ""


# --- public pages --------------------------------------------------------------------------------


class TenderPages(Controller):
    """Published tenders: the list with search, and one tender with its lots and documents."""

    path = TENDERS
    include_in_schema = False
    dependencies = {"tenders": Provide(provide_tenders)}  # noqa: RUF012 - Litestar reads it

    @get("/", name="bidding.tenders")
    async def tender_list(
        self,
        *,
        request: Request[Any, Any, Any],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        q: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """Published and closed tenders, newest first, searchable by title or project code (public)."""
        chosen_category = next((c for c in TenderCategory if c.value == category), None)
        chosen_status = next((s for s in PUBLIC_LIST_STATUSES if s.value == status), None)
        try:
            found = await tenders.search(
                Actor.anonymous(), q=q, status=chosen_status, category=chosen_category, cursor=cursor or None
            )
        except DomainError:  # a stale or forged cursor: show the first page
            found = await tenders.search(Actor.anonymous(), q=q, status=chosen_status, category=chosen_category)
        # Anonymous search on purpose: a tenderee's drafts belong on the management page, not here.
        del actor
        items = [t for t in found.items if t.status in PUBLIC_LIST_STATUSES]
        return await page(
            request,
            "bidding/tender_list.html",
            {
                "tenders": items,
                "next_cursor": found.next_cursor,
                "q": q or "",
                "category": chosen_category.value if chosen_category else "",
                "status": chosen_status.value if chosen_status else "",
                "list_statuses": PUBLIC_LIST_STATUSES,
                "server_time": await clock.now(db_session),
                **LABELS,
            },
        )

    @get("/{code:str}", name="bidding.tender")
    async def tender_detail(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """One tender: lots, documents, the deadline counted down from the database clock (public);
        for a bidder also the downloads, the question form and the published answers.
        """
        return await self._detail(
            request, code, tenders=tenders, actor=actor, db_session=db_session, errors=[], form={}
        )

    @post(
        "/{code:str}/questions",
        name="bidding.ask",
        opt=requires(BiddingPermission.QUESTION_ASK),
    )
    async def ask(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """A bidder's question; the answer comes in a clarification published to every downloader."""
        form = await request.form()
        text = str(form.get("text", ""))
        try:
            async with db_session.begin_nested():
                await tenders.ask(actor, await tenders.tender(code), text)
        except DomainError as exc:
            if not _client_error(exc):
                raise
            return await self._detail(
                request,
                code,
                tenders=tenders,
                actor=actor,
                db_session=db_session,
                errors=field_errors(exc),
                form={"text": text},
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{TENDERS}/{code}?asked=1#questions", status_code=303)

    @get(
        "/{code:str}/documents/{document_id:uuid}",
        name="bidding.document",
        opt=requires(BiddingPermission.DOCUMENT_DOWNLOAD),
    )
    async def document(
        self,
        code: FromPath[str],
        document_id: FromPath[uuid.UUID],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> File:
        """The document's bytes; the download is recorded (sealed until the deadline)."""
        tender = await tenders.tender(code)
        document = await tenders.document(tender, document_id)
        _, path = await tenders.download(actor, tender, document)
        return File(path=path, filename=document.filename, media_type=document.media_type)

    @get(
        "/{code:str}/documents/{document_id:uuid}/signature",
        name="bidding.document_signature",
        opt=requires(BiddingPermission.DOCUMENT_DOWNLOAD),
    )
    async def document_signature(
        self, code: FromPath[str], document_id: FromPath[uuid.UUID], tenders: NamedDependency[TenderService]
    ) -> Response[bytes]:
        """The document's detached CAdES signature (DER), to verify it offline."""
        tender = await tenders.tender(code)
        document = await tenders.document(tender, document_id)
        return _attachment(tenders.signature_of(document), f"{document.filename}.p7s", "application/pkcs7-signature")

    @get(
        "/{code:str}/key-holders/{number:int}",
        name="bidding.key_holder",
        opt=requires(BiddingPermission.BID_SUBMIT),
    )
    async def key_holder(
        self,
        code: FromPath[str],
        number: FromPath[int],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
    ) -> Response[bytes]:
        """Key holder ``number``'s encryption certificate (PEM): ``ggzy bid seal --key-holder`` takes
        one file per holder, in the tender's order (the server checks that order).
        """
        view = await tenders.detail(code, actor)
        holders = view.tender.key_holders.get("holders", [])
        if not 1 <= number <= len(holders):
            raise NotFound("no such key holder", field="number", rule="exists")
        pem = holders[number - 1]["certificate"].strip() + "\n"
        return _attachment(pem.encode(), f"key-holder-{number}.pem", "application/x-pem-file")

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        code: str,
        *,
        tenders: TenderService,
        actor: Actor,
        db_session: AsyncSession,
        errors: list[FieldError],
        form: dict[str, str],
        status_code: int = 200,
    ) -> Response[Any]:
        view = await tenders.detail(code, actor)
        if view.tender.status is TenderStatus.DRAFT:
            # Drafts are the owner's business: they preview them on the management page.
            raise NotFound("no such tender", field="code", rule="exists")
        answered = [q for q in await tenders.repo.questions(view.tender.id) if q.answer]
        mine = await tenders.my_questions(actor, view.tender) if actor.has(BiddingPermission.QUESTION_ASK) else []
        return await page(
            request,
            "bidding/tender_detail.html",
            {
                "tender": view.tender,
                "lots": view.lots,
                "documents": view.documents,
                "answered": answered,
                "my_questions": mine,
                "server_time": await clock.now(db_session),
                "can_download": actor.has(BiddingPermission.DOCUMENT_DOWNLOAD),
                "can_ask": actor.has(BiddingPermission.QUESTION_ASK),
                "can_bid": actor.has(BiddingPermission.BID_SUBMIT),
                "errors": errors,
                "form": form,
                **LABELS,
            },
            status_code=status_code,
        )


def _attachment(data: bytes, filename: str, media_type: str) -> Response[bytes]:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(filename)}"},
    )


def _quote(filename: str) -> str:
    from urllib.parse import quote  # noqa: PLC0415 - only attachments need it

    return quote(filename, safe="")


@get(f"{PREFIX}/time", name="bidding.time", include_in_schema=False)
async def server_time(db_session: NamedDependency[AsyncSession]) -> dict[str, str]:
    """The database clock, polled by the countdown so a wrong computer clock cannot mislead a bidder."""
    return {"now": (await clock.now(db_session)).isoformat()}


# --- the bidder ----------------------------------------------------------------------------------


class BidPages(Controller):
    """The bidder's bids, the sealing-and-upload page and the browser's upload routes."""

    path = PREFIX
    include_in_schema = False
    dependencies = {  # noqa: RUF012 - Litestar reads it
        "intake": Provide(provide_intake),
        "tenders": Provide(provide_tenders),
    }

    @get("/bids", name="bidding.my_bids", opt=requires(BiddingPermission.BID_SUBMIT))
    async def my_bids(
        self,
        request: Request[Any, Any, Any],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Every bid of the bidder's organisation, each version with its receipt."""
        return await page(
            request,
            "bidding/my_bids.html",
            {
                "bids": await intake.my_bids(actor),
                "server_time": await clock.now(db_session),
                "withdrawn": request.query_params.get("withdrawn"),
                **LABELS,
            },
        )

    @get(
        "/receipts/{receipt_no:str}/receipt.json",
        name="bidding.receipt_json",
        opt=requires(BiddingPermission.BID_SUBMIT),
    )
    async def receipt_json(
        self, receipt_no: FromPath[str], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> Response[bytes]:
        """The receipt record exactly as the platform signed it (the owner's only)."""
        receipt = await intake.receipt(actor, receipt_no)
        return _attachment(receipt.receipt, f"{receipt_no}.json", "application/json")

    @get(
        "/receipts/{receipt_no:str}/receipt.p7s",
        name="bidding.receipt_signature",
        opt=requires(BiddingPermission.BID_SUBMIT),
    )
    async def receipt_signature(
        self, receipt_no: FromPath[str], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> Response[bytes]:
        """The platform's detached CAdES-B-T signature over the receipt (the owner's only)."""
        receipt = await intake.receipt(actor, receipt_no)
        return _attachment(receipt.signature, f"{receipt_no}.p7s", "application/pkcs7-signature")

    @get(
        "/tenders/{code:str}/lots/{lot:str}/bid",
        name="bidding.upload_page",
        opt=requires(BiddingPermission.BID_SUBMIT),
    )
    async def upload_page(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        lot: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """How to seal the bid for this tender and lot, and the browser upload of the sealed container."""
        view = await tenders.detail(code, actor)
        chosen = next((item for item in view.lots if item.code == lot), None)
        if chosen is None or view.tender.status is TenderStatus.DRAFT:
            raise NotFound("no such lot", field="lot", rule="exists")
        holders = view.tender.key_holders.get("holders", [])
        bidder = await db_session.get(Organisation, actor.organisation_id) if actor.organisation_id else None
        return await page(
            request,
            "bidding/upload.html",
            {
                "tender": view.tender,
                "lot": chosen,
                "holders": holders,
                "threshold": view.tender.key_holders.get("threshold"),
                "seal_command": seal_command(view.tender, chosen.code, bidder.uscc if bidder else ""),
                "server_time": await clock.now(db_session),
                "chunk_bytes": CHUNK_BYTES,
                **LABELS,
            },
        )

    @post(
        "/tenders/{code:str}/lots/{lot:str}/uploads",
        name="bidding.web_start_upload",
        opt=requires(BiddingPermission.BID_SUBMIT),
    )
    async def start_upload(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        lot: FromPath[str],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Announce the sealed container (size and SHA-256 the browser computed)."""
        try:
            body = json.loads(await request.body() or b"{}")
            size, sha256 = body.get("size"), body.get("sha256")
            if not isinstance(size, int) or isinstance(size, bool) or not isinstance(sha256, str):
                raise BidRefused("send the size and the SHA-256 of the container", field="size", rule="required")
            upload = await intake.start_upload(actor, code, lot, size=size, sha256=sha256)
        except (ValueError, AttributeError):
            return problem_json(BidRefused("the body is not a JSON object", field="body", rule="format"))
        except DomainError as exc:
            return problem_json(exc)
        return Response(
            {"id": str(upload.id), "offset": upload.received, "size": upload.declared_size},
            status_code=201,
            media_type="application/json",
        )

    @patch(
        "/uploads/{upload_id:uuid}",
        name="bidding.web_upload_chunk",
        request_max_body_size=MAX_CHUNK_BYTES,
        opt=requires(BiddingPermission.BID_SUBMIT),
    )
    async def upload_chunk(
        self,
        request: Request[Any, Any, Any],
        upload_id: FromPath[uuid.UUID],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Append the raw body at ``Upload-Offset``; the new offset comes back in ``Upload-Offset``."""
        raw = request.headers.get("upload-offset")
        if raw is None or not raw.isdigit():
            return problem_json(BidRefused("send the chunk's offset", field="Upload-Offset", rule="required"))
        try:
            offset = await intake.receive(actor, upload_id, int(raw), request.stream())
        except DomainError as exc:
            return problem_json(exc)
        return Response(None, status_code=204, headers={"Upload-Offset": str(offset)})

    @get("/uploads/{upload_id:uuid}", name="bidding.web_upload_status", opt=requires(BiddingPermission.BID_SUBMIT))
    async def upload_status(
        self, upload_id: FromPath[uuid.UUID], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        """Where the upload stands: the script resumes from ``offset`` after an interruption."""
        try:
            upload = await intake.status(actor, upload_id)
        except DomainError as exc:
            return problem_json(exc)
        return Response(
            {
                "id": str(upload.id),
                "offset": upload.received,
                "size": upload.declared_size,
                "status": upload.status.value,
                "refusal": upload.refusal,
            },
            media_type="application/json",
        )

    @post(
        "/uploads/{upload_id:uuid}/submission",
        name="bidding.web_submit",
        opt=requires(BiddingPermission.BID_SUBMIT),
    )
    async def submit(
        self, upload_id: FromPath[uuid.UUID], intake: NamedDependency[IntakeService], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        """Check the complete container; answer the signed receipt or the refusal (field and rule)."""
        try:
            receipt = await intake.submit(actor, upload_id)
        except DomainError as exc:
            return problem_json(exc)
        return Response(receipt_view(receipt), status_code=201, media_type="application/json")

    @post(
        "/tenders/{code:str}/lots/{lot:str}/withdrawal",
        name="bidding.web_withdraw",
        opt=requires(BiddingPermission.BID_SUBMIT),
    )
    async def withdraw(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        lot: FromPath[str],
        intake: NamedDependency[IntakeService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Withdraw the bid for the lot (a signed withdrawal receipt); earlier versions stay."""
        try:
            receipt = await intake.withdraw(actor, code, lot)
        except DomainError as exc:
            if not _client_error(exc):
                raise
            return await page(
                request,
                "bidding/my_bids.html",
                {
                    "bids": await intake.my_bids(actor),
                    "server_time": await clock.now(db_session),
                    "withdrawn": None,
                    "errors": field_errors(exc),
                    **LABELS,
                },
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{PREFIX}/bids?withdrawn={receipt.receipt_no}", status_code=303)


def receipt_view(receipt: Receipt) -> dict[str, Any]:
    """What the upload page shows of a receipt, with links to its exact bytes and signature."""
    record = receipt.record
    return {
        "receiptNo": receipt.receipt_no,
        "receivedAt": record.get("receivedAt"),
        "receivedAtLocal": _local(record.get("receivedAt")),
        "containerSha256": record.get("containerSha256"),
        "manifestSha256": record.get("manifestSha256"),
        "record": record,
        "json": f"{PREFIX}/receipts/{receipt.receipt_no}/receipt.json",
        "signature": f"{PREFIX}/receipts/{receipt.receipt_no}/receipt.p7s",
    }


def _local(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).astimezone(DISPLAY_TZ).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


def seal_command(tender: Tender, lot: str, bidder_uscc: str) -> str:
    """The ``ggzy bid seal`` command line for this tender, lot and bidder (`bidding.client.cli`):
    the bidder supplies its certificates, prices and files.
    """
    deadline = tender.deadline.isoformat() if tender.deadline else ""
    holders = tender.key_holders.get("holders", [])
    parts = [
        "ggzy bid seal",
        f"--tender {tender.project_code}",
        f"--lot {lot}",
        f"--bidder {bidder_uscc}",
        f"--deadline {deadline}",
        "--p12 sign.p12",
        "--encryption-cert encryption.pem",
    ]
    parts += [f"--key-holder key-holder-{number}.pem" for number in range(1, len(holders) + 1)]
    if holders:
        parts.append(f"--threshold {tender.key_holders.get('threshold')}")
    parts += ["--total-price 1234567.89 --duration-days 365", "--out bid.zip", "技术标.pdf 商务标.pdf"]
    return " \\\n  ".join(parts)


# --- the tenderee and the agency -----------------------------------------------------------------


class ManagePages(Controller):
    """The tenderee's (or agency's) tenders: drafts, signed documents, publication, clarifications,
    deadline extensions.
    """

    path = MANAGE
    include_in_schema = False
    dependencies = {"tenders": Provide(provide_tenders)}  # noqa: RUF012 - Litestar reads it

    @get("/", name="bidding.manage", opt=requires(BiddingPermission.TENDER_MANAGE))
    async def manage(
        self, request: Request[Any, Any, Any], tenders: NamedDependency[TenderService], actor: NamedDependency[Actor]
    ) -> Response[Any]:
        """The organisation's own tenders (drafts included)."""
        own: list[Tender] = []
        cursor: str | None = None
        while True:  # every own tender, a page of the search at a time
            found = await tenders.search(actor, limit=100, cursor=cursor)
            own += [t for t in found.items if tenders.owns(actor, t)]
            cursor = found.next_cursor
            if cursor is None:
                break
        return await page(request, "bidding/manage_list.html", {"tenders": own, **LABELS})

    @get("/new", name="bidding.manage_new", opt=requires(BiddingPermission.TENDER_MANAGE))
    async def new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return await self._draft_form(request, {}, ["cash", "guarantee"], [])

    @post("/new", name="bidding.manage_create", opt=requires(BiddingPermission.TENDER_MANAGE))
    async def create(
        self,
        request: Request[Any, Any, Any],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Create a draft; every malformed or rule-breaking field is shown next to it."""
        raw = await request.form()
        form = {key: value for key, value in raw.items() if isinstance(value, str) and key != "_csrf_token"}
        security = [str(value) for value in raw.getall("bidSecurityForms", [])]
        try:
            data = tender_from_form(form, security)
            async with db_session.begin_nested():
                tender = await tenders.create_draft(actor, data)
        except DomainError as exc:
            if not _client_error(exc):
                raise
            return await self._draft_form(request, form, security, field_errors(exc), status_code=UNPROCESSABLE)
        return Redirect(f"{MANAGE}/tenders/{tender.project_code}", status_code=303)

    @get("/tenders/{code:str}", name="bidding.manage_tender", opt=requires(BiddingPermission.TENDER_MANAGE))
    async def tender(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """One own tender: documents, what still blocks publication, questions, clarifications."""
        return await self._tender_page(
            request, code, tenders=tenders, actor=actor, db_session=db_session, errors=[], failed_form=""
        )

    @post(
        "/tenders/{code:str}/documents",
        name="bidding.manage_document",
        request_max_body_size=MAX_DOCUMENT_BYTES,
        opt=requires(BiddingPermission.TENDER_MANAGE),
    )
    async def add_document(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Attach a signed document (file and detached .p7s) to a draft."""
        form = await request.form()
        try:
            document, signature = await _signed_upload(form)
            kind = next((k for k in DocumentKind if k.value == form.get("kind")), DocumentKind.TENDER_DOCUMENT)
            async with db_session.begin_nested():
                tender = await tenders.tender(code)
                await tenders.add_document(
                    actor, tender, kind, str(form.get("title", "")), document[0], document[1], document[2], signature
                )
        except DomainError as exc:
            if not _client_error(exc):
                raise
            return await self._tender_page(
                request,
                code,
                tenders=tenders,
                actor=actor,
                db_session=db_session,
                errors=field_errors(exc),
                failed_form="document",
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{MANAGE}/tenders/{code}", status_code=303)

    @post("/tenders/{code:str}/publish", name="bidding.manage_publish", opt=requires(BiddingPermission.TENDER_MANAGE))
    async def publish(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Publish the draft: one refusal lists every rule it breaks."""
        try:
            async with db_session.begin_nested():
                await tenders.publish(actor, await tenders.tender(code))
        except DomainError as exc:
            if not _client_error(exc):
                raise
            return await self._tender_page(
                request,
                code,
                tenders=tenders,
                actor=actor,
                db_session=db_session,
                errors=field_errors(exc),
                failed_form="publish",
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{TENDERS}/{code}", status_code=303)

    @post(
        "/tenders/{code:str}/clarifications",
        name="bidding.manage_clarify",
        request_max_body_size=MAX_DOCUMENT_BYTES,
        opt=requires(BiddingPermission.TENDER_MANAGE),
    )
    async def clarify(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Publish a signed clarification, answering questions and possibly moving the deadline."""
        form = await request.form()
        try:
            problems = _Problems()
            new_deadline = _time(form, "deadline", problems)
            answers: dict[uuid.UUID, str] = {}
            for key, value in form.items():
                if key.startswith("answer-") and isinstance(value, str) and value.strip():
                    try:
                        answers[uuid.UUID(key.removeprefix("answer-"))] = value
                    except ValueError:
                        problems.add("answers", "format", BAD_CHOICE)
            problems.raise_if_any()
            document, signature = await _signed_upload(form)
            async with db_session.begin_nested():
                tender = await tenders.tender(code)
                await tenders.clarify(
                    actor,
                    tender,
                    str(form.get("title", "")),
                    document[0],
                    document[2],
                    signature,
                    answers=answers,
                    new_deadline=new_deadline,
                    media_type=document[1],
                )
        except DomainError as exc:
            if not _client_error(exc):
                raise
            return await self._tender_page(
                request,
                code,
                tenders=tenders,
                actor=actor,
                db_session=db_session,
                errors=field_errors(exc),
                failed_form="clarification",
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{MANAGE}/tenders/{code}", status_code=303)

    @post("/tenders/{code:str}/extension", name="bidding.manage_extend", opt=requires(BiddingPermission.TENDER_MANAGE))
    async def extend(
        self,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        tenders: NamedDependency[TenderService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[Any]:
        """Move the deadline later, with a reason."""
        form = await request.form()
        try:
            problems = _Problems()
            new_deadline = _time(form, "deadline", problems)
            if new_deadline is None and not problems.items:
                problems.add("deadline", "required", REQUIRED)
            problems.raise_if_any()
            assert new_deadline is not None  # noqa: S101 - refused above otherwise
            async with db_session.begin_nested():
                tender = await tenders.tender(code)
                await tenders.extend(actor, tender, new_deadline, str(form.get("reason", "")))
        except DomainError as exc:
            if not _client_error(exc):
                raise
            return await self._tender_page(
                request,
                code,
                tenders=tenders,
                actor=actor,
                db_session=db_session,
                errors=field_errors(exc),
                failed_form="extension",
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{MANAGE}/tenders/{code}", status_code=303)

    async def _draft_form(
        self,
        request: Request[Any, Any, Any],
        form: Mapping[str, str],
        security: list[str],
        errors: list[FieldError],
        *,
        status_code: int = 200,
    ) -> Response[Any]:
        return await page(
            request,
            "bidding/manage_new.html",
            {
                "form": form,
                "security": security,
                "errors": errors,
                "tender_types": tender_types(),
                **LABELS,
            },
            status_code=status_code,
        )

    async def _tender_page(
        self,
        request: Request[Any, Any, Any],
        code: str,
        *,
        tenders: TenderService,
        actor: Actor,
        db_session: AsyncSession,
        errors: list[FieldError],
        failed_form: str,
        status_code: int = 200,
    ) -> Response[Any]:
        view = await tenders.detail(code, actor)
        if not tenders.owns(actor, view.tender):
            raise NotFound("no such tender", field="code", rule="exists")
        now = await clock.now(db_session)
        blocking: list[FieldError] = []
        if view.tender.status is TenderStatus.DRAFT:
            pending, _ = await tenders.publication_errors(view.tender, now)
            if pending.items:
                blocking = field_errors(DomainError("", extra={"errors": pending.items}))
        return await page(
            request,
            "bidding/manage_tender.html",
            {
                "tender": view.tender,
                "lots": view.lots,
                "documents": view.documents,
                "questions": await tenders.questions_for_owner(actor, view.tender),
                "blocking": blocking,
                "errors": errors,
                "failed_form": failed_form,
                "server_time": now,
                "deadline_local": _display(view.tender.deadline),
                **LABELS,
            },
            status_code=status_code,
        )


async def _signed_upload(form: Any) -> tuple[tuple[str, str, bytes], bytes]:
    """The document and its detached signature from a multipart form, or a refusal naming the field."""
    problems = _Problems()
    document = await _file(form.get("file"))
    signature = await _file(form.get("signature"))
    if document is None:
        problems.add("file", "required", REQUIRED)
    if signature is None:
        problems.add("signature", "required", REQUIRED)
    problems.raise_if_any()
    assert document is not None  # noqa: S101 - refused above otherwise
    assert signature is not None  # noqa: S101
    return document, signature[2]


CONTROLLERS = (TenderPages, BidPages, ManagePages, server_time)
PUBLIC_PATHS = (TENDERS, f"{TENDERS}/{{code}}", f"{PREFIX}/time")
