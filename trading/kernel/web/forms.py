"""The one way a page takes a form: typed body → parse → service call in a savepoint → 303 or 422.

A page handler declares its form as a typed body and hands the work to :func:`submit`::

    @dataclass
    class DraftForm:
        projectCode: str = ""
        estimate: str = ""
        bidSecurityForms: Many = field(default_factory=list)

    @post("/new", name="bidding.manage_create", opt=...)
    async def create(self, request, data: FormBody[DraftForm], db_session, tenders, actor) -> Response[Any]:
        async def work() -> Tender:
            return await tenders.create_draft(actor, draft_from(data))  # parse, then act

        return await submit(
            db_session, work, labels=LABELS,
            redirect=lambda tender: request.url_for("bidding.manage_tender", code=tender.project_code),
            refusal=lambda errors: page(request, "bidding/manage_new.html", {"form": data, "errors": errors}),
        )

Why each part is as it is:

* Form fields are ``str`` (``Many`` for repeated fields): whatever a browser's form sends decodes,
  so bad input comes back as the form with each field's error (422), not as a bare 400. (A request
  no page produces, one text field sent twice, is refused before the handler: a 400 page naming
  the field, ``trading.kernel.web.errors``.) Typed values are
  made by :class:`FieldParser`, which collects *every* malformed field before raising, so the user
  corrects them all at once.
* The work runs in a savepoint: the request's transaction commits a 422 response too
  (``trading/server/database.py``), and a refusal raised after a flush must leave nothing behind.
* One translator (:func:`field_errors`) turns any refusal, a service's ``DomainError`` (with its
  ``extra["errors"]`` list when it names several fields), Litestar's ``ValidationException`` or an
  input-bounds refusal, into field errors in the reader's language, through the domain's
  :class:`Labels` (field name → label, rule code → sentence). The rule's code is never shown as
  text (it rides along as ``FieldError.rule`` for a ``data-rule`` attribute).
* 403, 404 and server errors are not form problems: they propagate to the error pages.

Multipart forms (file uploads) read the body with :func:`read_form`, which applies the same input
bounds the middleware applies to URL-encoded bodies, and then use the same parser and ``submit``.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, Final, TypeVar

from litestar import Request, Response
from litestar.datastructures import FormMultiDict
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from trading.kernel.bounds import INT32_MAX, InputRefused, check_datetime, check_decimal, check_int, check_text
from trading.kernel.errors import DomainError, ValidationFailed
from trading.kernel.web import i18n, refusals
from trading.kernel.web.i18n import N_
from trading.kernel.web.templating import DISPLAY_TZ

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

UNPROCESSABLE = 422
SEE_OTHER: Final = 303

FormBody = Annotated[T, Body(media_type=RequestEncodingType.URL_ENCODED)]
"""A URL-encoded form decoded into the dataclass ``T`` (fields ``str``/``Many``; unknown keys such as
``_csrf_token`` are ignored)."""

Many = list[str] | str
"""A repeated field (checkboxes, multi-selects): a browser sends one value as a plain string."""

BAD_NUMBER = N_("Enter a number.")
BAD_TIME = N_("Enter a date and time.")
BAD_CHOICE = N_("Choose an option from the list.")
BAD_ID = N_("Choose an entry from the list.")
REQUIRED = N_("This field is required.")
FORM_MESSAGES = frozenset({BAD_NUMBER, BAD_TIME, BAD_CHOICE, BAD_ID, REQUIRED})
"""The parser's own sentences: shown translated as they are, whatever the domain's rule table says."""


def many(value: Many) -> list[str]:
    """A repeated field as a list, however many values the browser sent."""
    return [value] if isinstance(value, str) else list(value)


# --- errors ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str | None
    message: str
    label: str | None = None
    """How the field is named on the form (already translated); the field name when ``None``."""
    rule: str | None = None
    """The rule's code, for machines (a ``data-rule`` attribute, the help desk); never shown as text."""


@dataclass(frozen=True, slots=True)
class Labels:
    """A domain's label table: what its fields are called and what its rules mean (``N_()`` text)."""

    fields: Mapping[str, str] = field(default_factory=dict)
    rules: Mapping[str, str] = field(default_factory=dict)
    """Rule code → sentence; ``"field.rule"`` words a rule that means something else on one field
    (the ``length`` of a credit code and of an ID number) and is looked up first."""
    messages: frozenset[str] = frozenset()
    """The domain's own parsing sentences (like the kernel's :data:`FORM_MESSAGES`): shown as they
    are, never replaced by a rule's sentence, because they say more than the rule does."""

    def __post_init__(self) -> None:
        # Where this domain's refusals surface outside its own forms (an error page, another
        # domain's form), its sentences still word them.
        refusals.register_rules(self.rules)


PLAIN = Labels()
"""For forms without a label table (sign-in, registration): the message alone."""


def rule_text(
    labels: Labels, field_name: str | None, rule: str | None, message: str, *, code: str | None = None
) -> str:
    """A refusal's sentence in the reader's language: a parser's own sentence as it is, else the
    label table's wording of the rule (per field first), else the service's message (English, with
    values filled in) when the catalogue translates it or the reader reads English, else any
    table's wording of the rule (`trading.kernel.web.refusals`), so no English reaches a Chinese page.
    """
    if message in FORM_MESSAGES or message in labels.messages:
        return i18n.gettext(message)
    if rule:
        for key in (f"{field_name}.{rule}", rule):
            if key in labels.rules:
                return i18n.gettext(labels.rules[key])
    return refusals.explain(message, rule, field_name, code)


def _items(exc: Exception) -> list[dict[str, Any]]:
    if isinstance(exc, DomainError):
        listed = exc.extra.get("errors")
        if isinstance(listed, list) and listed:
            return [item for item in listed if isinstance(item, dict)]
        return [{"field": exc.field, "rule": exc.rule, "message": exc.message}]
    if isinstance(exc, ValidationException):
        extra: Any = exc.extra if isinstance(exc.extra, list) else []
        items = [
            {"field": item.get("key"), "rule": None, "message": str(item.get("message", ""))}
            for item in extra
            if isinstance(item, dict)
        ]
        return items or [{"field": None, "rule": None, "message": str(exc.detail)}]
    return []


def field_errors(exc: Exception, labels: Labels = PLAIN) -> list[FieldError]:
    """Every field and rule a refusal names, each message in the reader's language."""
    errors = []
    for item in _items(exc):
        name = item.get("field")
        rule = item.get("rule")
        code = exc.code if isinstance(exc, DomainError) else None
        text = rule_text(labels, name, rule, str(item.get("message", "")), code=code)
        label = i18n.gettext(labels.fields[name]) if isinstance(name, str) and name in labels.fields else None
        errors.append(FieldError(name, text, label, rule if isinstance(rule, str) else None))
    return errors


def is_client_error(exc: DomainError) -> bool:
    """Errors that belong on the form; 403/404 and server errors go to the error pages."""
    return exc.status_code < 500 and exc.status_code not in {403, 404}  # noqa: PLR2004


# --- parsing -----------------------------------------------------------------------------------------


class FieldParser:
    """Typed values from form strings, collecting every problem; :meth:`done` raises them together.

    Each method returns a harmless placeholder (``None``, ``0``, the default) for a bad field so
    parsing goes on; nothing parsed is used unless :meth:`done` returns.
    """

    def __init__(self) -> None:
        self.problems: list[dict[str, str]] = []

    def add(self, name: str, rule: str, message: str) -> None:
        self.problems.append({"field": name, "rule": rule, "message": message})

    def _refused(self, exc: InputRefused) -> None:
        self.add(exc.field or "", exc.rule or "", exc.message)

    def done(self) -> None:
        """Raise one ``ValidationFailed`` naming every bad field (``extra["errors"]``), if any."""
        if self.problems:
            first = self.problems[0]
            raise ValidationFailed(
                first["message"], field=first["field"], rule=first["rule"], extra={"errors": list(self.problems)}
            )

    def text(self, name: str, value: str, *, max_length: int | None = None, single_line: bool = False) -> str:
        """The trimmed text ('' when empty)."""
        try:
            return check_text(name, value.strip(), single_line=single_line, max_length=max_length)
        except InputRefused as exc:
            self._refused(exc)
            return ""

    def required(self, name: str, value: str, *, max_length: int | None = None, single_line: bool = True) -> str:
        """Non-empty trimmed text."""
        text = self.text(name, value, max_length=max_length, single_line=single_line)
        if not text and not any(p["field"] == name for p in self.problems):
            self.add(name, "required", REQUIRED)
        return text

    def decimal(
        self, name: str, value: str, *, digits: int | None = None, default: Decimal | None = None, required: bool = True
    ) -> Decimal | None:
        """A finite decimal with at most ``digits`` before the point; ``default`` when left empty."""
        raw = value.strip()
        if not raw:
            if default is None and required:
                self.add(name, "required", REQUIRED)
            return default
        try:
            number = Decimal(raw)
        except InvalidOperation:
            self.add(name, "format", BAD_NUMBER)
            return None
        if not number.is_finite():
            self.add(name, "format", BAD_NUMBER)
            return None
        try:
            return check_decimal(name, number, integer_digits=digits)
        except InputRefused as exc:
            self._refused(exc)
            return None

    def integer(
        self,
        name: str,
        value: str,
        *,
        default: int | None = None,
        required: bool = False,
        low: int = -INT32_MAX - 1,
        high: int = INT32_MAX,
    ) -> int | None:
        """A whole number within ``low``..``high`` (a 32-bit column's range unless the field is a
        64-bit one, such as a size in bytes); ``default`` when left empty.
        """
        raw = value.strip()
        if not raw:
            if required and default is None:
                self.add(name, "required", REQUIRED)
            return default
        try:
            return check_int(name, int(raw), low=low, high=high)
        except ValueError:
            self.add(name, "format", BAD_NUMBER)
        except InputRefused as exc:
            self._refused(exc)
        return default

    def time(self, name: str, value: str, *, required: bool = False) -> datetime | None:
        """A ``datetime-local`` value; a time without a zone is in China Standard Time, as the page says."""
        raw = value.strip()
        if not raw:
            if required:
                self.add(name, "required", REQUIRED)
            return None
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            self.add(name, "format", BAD_TIME)
            return None
        try:
            return check_datetime(name, parsed if parsed.tzinfo else parsed.replace(tzinfo=DISPLAY_TZ))
        except InputRefused as exc:
            self._refused(exc)
            return None

    def uuid(self, name: str, value: str, *, required: bool = True) -> uuid.UUID | None:
        raw = value.strip()
        if not raw:
            if required:
                self.add(name, "required", REQUIRED)
            return None
        try:
            return uuid.UUID(raw)
        except ValueError:
            self.add(name, "format", BAD_ID)
            return None

    def choice(self, name: str, value: str, kind: type[E], *, default: E | None = None) -> E | None:
        """A member of ``kind`` by value; ``default`` when left empty and a default is given."""
        raw = value.strip()
        if not raw and default is not None:
            return default
        try:
            return kind(raw)
        except ValueError:
            self.add(name, "known", BAD_CHOICE)
            return default

    def choices(self, name: str, values: Many, allowed: Iterable[str]) -> list[str]:
        """Repeated values each from ``allowed``."""
        known = set(allowed)
        chosen = many(values)
        if any(value not in known for value in chosen):
            self.add(name, "known", BAD_CHOICE)
        return [value for value in chosen if value in known]


_CELL = re.compile(r"\s*\|\s*")


def lines(value: str, separator: str = "|") -> list[list[str]]:
    """A textarea of ``a | b | c`` lines as trimmed cells, blank lines skipped."""
    cell = _CELL if separator == "|" else re.compile(rf"\s*{re.escape(separator)}\s*")
    return [cell.split(line.strip()) for line in value.splitlines() if line.strip()]


async def read_form(request: Request[Any, Any, Any]) -> FormMultiDict:
    """The submitted form (URL-encoded or multipart), every text field checked against the input
    bounds (:func:`trading.kernel.bounds.check_text`): a control character is refused as
    :class:`~trading.kernel.bounds.InputRefused` naming the field, before a service sees it.
    URL-encoded bodies are already checked by the request middleware; this covers multipart.
    """
    form = await request.form()
    for name, value in form.multi_items():
        check_text(name, name, single_line=True)
        if isinstance(value, str):
            check_text(name, value)
    return form


def text_fields(form: FormMultiDict) -> dict[str, str]:
    """The single-valued text fields of a multipart form (the CSRF token left out), for re-rendering."""
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "_csrf_token"}


# --- submitting ----------------------------------------------------------------------------------------


async def submit(
    db_session: AsyncSession | None,
    action: Callable[[], Awaitable[T]],
    *,
    redirect: str | Callable[[T], str],
    refusal: Callable[[list[FieldError]], Awaitable[Response[Any]]],
    labels: Labels = PLAIN,
) -> Response[Any]:
    """Run ``action`` (parse, then call the service) in a savepoint and answer the browser.

    Success: 303 to ``redirect`` (a URL, or a function of the action's result). A refusal that
    belongs on the form: whatever ``refusal(errors)`` renders, with status 422, and nothing the
    action flushed survives. Anything else (403, 404, a server error) propagates to the error pages.

    ``db_session=None`` for services that commit their own units of work (the opening hall,
    ``bidding/AGENTS.md``): nothing of the request's to undo, and on SQLite a request transaction
    would hold the write lock those units of work need.
    """
    savepoint = db_session.begin_nested() if db_session is not None else contextlib.nullcontext()
    try:
        async with savepoint:
            result = await action()
    except DomainError as exc:
        if not is_client_error(exc):
            raise
        response = await refusal(field_errors(exc, labels))
        response.status_code = UNPROCESSABLE
        return response
    url = redirect(result) if callable(redirect) else redirect
    return Redirect(url, status_code=SEE_OTHER)
