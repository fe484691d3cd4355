"""What a notice says: a subject and a plain-text body, per notice template and language.

Each notice template is a pair of Jinja files in ``templates/notifications/messages/``:
``<template>.zh_CN.txt`` (Simplified Chinese, the default) and ``<template>.en.txt``, each with a
``subject`` and a ``body`` block. The inbox shows a notice in the reader's language; an e-mail is
written in the language of the user whose address it goes to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

import structlog
from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateError, TemplateNotFound, UndefinedError

from trading.kernel.web.templating import local_time

log = structlog.get_logger(__name__)

DEFAULT_LOCALE: Final = "zh_CN"
LOCALES: Final = ("zh_CN", "en")
RENDER_ERRORS: Final = (TemplateError, KeyError)
"""What `render` raises for a template that no longer renders with a stored notice's parameters
(renamed, a parameter renamed, a block missing: ``KeyError``) after the notice was published."""


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str
    fallback: bool = False
    """The template no longer renders: ``subject`` is its name and ``body`` its parameters."""


class UnknownTemplate(LookupError):
    """A domain published a notice template that has no files (a programming error)."""


@lru_cache(maxsize=1)
def _environment() -> Environment:
    # Plain text, not HTML: nothing is escaped, and a missing parameter fails loudly.
    environment = Environment(
        loader=PackageLoader("trading.notifications", "templates"),
        autoescape=False,  # noqa: S701 - text/plain e-mail and inbox text, shown escaped by the page
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["local_time"] = _local_time
    return environment


def _local_time(value: object) -> str:
    """Parameters are JSON, so times arrive as ISO 8601 text; shown in UTC+08:00."""
    if not isinstance(value, str):
        return local_time(value)
    try:
        return local_time(datetime.fromisoformat(value))
    except ValueError:
        return value


def variant(locale: str | None) -> str:
    """The template language for a user's locale: English for ``en*``, otherwise Chinese."""
    return "en" if (locale or "").lower().startswith("en") else DEFAULT_LOCALE


def _path(template: str, locale: str) -> str:
    return f"notifications/messages/{template}.{locale}.txt"


def check_template(template: str, params: Mapping[str, Any]) -> None:
    """Raise `UnknownTemplate` unless both language variants of ``template`` render with
    ``params``: a mistake fails the publishing domain's tests, not a send long after.
    """
    for locale in LOCALES:
        try:
            render(template, params, locale)
        except TemplateNotFound:
            msg = f"notice template {template!r} has no {locale} variant ({_path(template, locale)})"
            raise UnknownTemplate(msg) from None
        except UndefinedError as exc:
            msg = f"notice template {template!r} ({locale}): {exc.message}"
            raise UnknownTemplate(msg) from None


def render(template: str, params: Mapping[str, Any], locale: str | None) -> Rendered:
    compiled = _environment().get_template(_path(template, variant(locale)))
    context = compiled.new_context(dict(params))
    subject = "".join(compiled.blocks["subject"](context)).strip()
    body = "".join(compiled.blocks["body"](context)).strip() + "\n"
    # A header line never carries a line break (header injection through a parameter).
    return Rendered(subject=" ".join(subject.split()), body=body)


def render_or_fallback(template: str, params: Mapping[str, Any], locale: str | None) -> Rendered:
    """For showing a stored notice: a template changed since publication must not make the inbox
    fail, so the reader gets the template's name and the raw parameters instead.
    """
    try:
        return render(template, params, locale)
    except RENDER_ERRORS as exc:
        log.warning("notifications.template_unrenderable", template=template, error=repr(exc))
        body = json.dumps(dict(params), ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"
        return Rendered(subject=template, body=body, fallback=True)


def message_id(event_key: str, recipient: str, address: str, sender: str) -> str:
    """``<digest@domain>``: the same event to the same address always has the same Message-ID."""
    digest = hashlib.sha256(f"{event_key}\x00{recipient}\x00{address.lower()}".encode()).hexdigest()[:40]
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "ggzy.localhost"
    return f"<{digest}.notice@{domain}>"
