"""Field errors for forms re-rendered with status 422 (``_form_errors.html``).

A web handler that catches a validation failure turns it into a list of :class:`FieldError` and
re-renders the form with them::

    except ValidationFailed as exc:
        return await page(request, "parties/_register_form.html",
                          {"form": data, "errors": field_errors(exc)}, status_code=422)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.datastructures import FormMultiDict
from litestar.exceptions import ValidationException

from trading.kernel.bounds import check_text
from trading.kernel.errors import DomainError
from trading.kernel.web import i18n


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str | None
    message: str
    label: str | None = None
    """How the field is named on the form (already translated); the field name when ``None``."""


def field_errors(exc: Exception) -> list[FieldError]:
    """The errors of a domain or request-validation failure, messages in the current locale."""
    if isinstance(exc, DomainError):
        return [FieldError(exc.field, i18n.gettext(exc.message))]
    if isinstance(exc, ValidationException):
        items: Any = exc.extra if isinstance(exc.extra, list) else []
        errors = [
            FieldError(item.get("key"), i18n.gettext(str(item.get("message", ""))))
            for item in items
            if isinstance(item, dict)
        ]
        return errors or [FieldError(None, i18n.gettext(str(exc.detail)))]
    return []


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
