"""Form handling of the marketplace pages: the savepoint every form runs in, refusals as field
errors, and the form field parsers.

Every form handler runs the service call in a savepoint (:func:`in_savepoint`): the request's
transaction commits a 422 response too, so a refusal raised after a flush must leave nothing
half-written. Form times are UTC+08:00.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.models import MONEY_INTEGER_DIGITS
from intermediary_market.web.labels import BAD_CHOICE, BAD_NUMBER, BAD_TIME, FIELD_LABELS, REFUSAL_MESSAGES
from trading.kernel.bounds import check_datetime, check_decimal, check_int, check_text
from trading.kernel.errors import DomainError, ValidationFailed
from trading.kernel.web import i18n
from trading.kernel.web.forms import FieldError
from trading.kernel.web.i18n import N_
from trading.kernel.web.templating import DISPLAY_TZ

T = TypeVar("T")
Form = dict[str, str]
UNPROCESSABLE = 422


async def in_savepoint(session: AsyncSession, work: Awaitable[T]) -> T:
    """Await ``work`` in a savepoint: if it raises, whatever it flushed is undone."""
    async with session.begin_nested():
        return await work


# --- refusals ----------------------------------------------------------------------------------------


def client_error(exc: DomainError) -> bool:
    """Errors that belong on the form; 403/404 and server errors go to the error pages."""
    return exc.status_code < 500 and exc.status_code not in {403, 404}  # noqa: PLR2004


def refusal_text(exc: DomainError) -> str:
    """The refusal in the page's language: the rule's message, else the service's own text."""
    message = REFUSAL_MESSAGES.get(exc.rule or "")
    return i18n.gettext(message) if message is not None else i18n.gettext(exc.message)


def errors_of(exc: DomainError) -> list[FieldError]:
    """The refusal as a field error: the translated message with the rule's code after it."""
    label = i18n.gettext(FIELD_LABELS[exc.field]) if exc.field in FIELD_LABELS else None
    text = refusal_text(exc)
    if exc.rule and exc.rule != "format":
        text = f"{text} ({exc.rule})"
    return [FieldError(exc.field, text, label)]


def field_error(name: str, message: str, rule: str = "format") -> ValidationFailed:
    return ValidationFailed(message, field=name, rule=rule)


# --- form fields -------------------------------------------------------------------------------------


def form_decimal(form: Form, name: str, *, required: bool = True) -> Decimal | None:
    raw = form.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise field_error(name, BAD_NUMBER) from None
    if not value.is_finite():
        raise field_error(name, BAD_NUMBER)
    return check_decimal(name, value, integer_digits=MONEY_INTEGER_DIGITS)


def form_int(form: Form, name: str) -> int:
    try:
        value = int(form.get(name, "").strip())
    except ValueError:
        raise field_error(name, BAD_NUMBER) from None
    return check_int(name, value)


def form_time(form: Form, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(form.get(name, "").strip())
    except ValueError:
        raise field_error(name, BAD_TIME) from None
    # A datetime-local field has no zone: the pages say their times are UTC+08:00.
    return check_datetime(name, value if value.tzinfo else value.replace(tzinfo=DISPLAY_TZ))


def form_uuid(form: Form, name: str, *, required: bool = True) -> uuid.UUID | None:
    raw = form.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise field_error(name, BAD_CHOICE) from None


def form_text(form: Form, name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise ValidationFailed(N_("This field is required."), field=name, rule="required")
    return check_text(name, value)


def clean(data: Form) -> Form:
    """The submitted fields without the CSRF token (kept to re-fill a refused form)."""
    return {key: value for key, value in data.items() if key != "_csrf_token"}
