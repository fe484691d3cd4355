"""Locales: Simplified Chinese by default, English on request, from gettext catalogues.

Source strings are English. ``locale/<code>/LC_MESSAGES/messages.po`` holds each catalogue; the
``.po`` files are parsed with Babel and compiled in memory at start-up, so there is no compile
step and no ``.mo`` file to forget. One Jinja environment serves every request, so the gettext
callables installed in it read the request's locale from a context variable that
:func:`locale_middleware` (and :func:`trading.kernel.web.pages.page`) set per request.

The locale of a request is, in order: the ``ggzy_locale`` cookie (set by ``/locale/{code}``), the
``?lang=`` query parameter, then ``settings.web.default_locale``. The browser's ``Accept-Language``
is deliberately not consulted: the platform is Chinese by default for everyone (many officials'
browsers run an English system locale), and the switch on every page names each language in itself.
"""

from __future__ import annotations

import gettext as _gettext
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType

if TYPE_CHECKING:
    from collections.abc import Iterator

    from jinja2 import Environment
    from litestar.types import ASGIApp, Receive, Scope, Send

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT_LOCALE = "zh_CN"
LOCALES: tuple[str, ...] = ("zh_CN", "en")
"""Supported locales, the default first. A locale is listed here only once its catalogue exists."""
LOCALE_COOKIE = "ggzy_locale"
LOCALE_QUERY = "lang"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}
"""Each language named in itself: a reader who cannot read the current page can still find theirs."""

_current_locale: ContextVar[str] = ContextVar("ggzy_locale", default=DEFAULT_LOCALE)


def normalize_locale(code: str | None) -> str | None:
    """Map what browsers and users type (``zh``, ``zh-CN``, ``zh-Hans``, ``en-GB`` …) to a supported
    locale, or ``None``. Traditional Chinese is not offered, so ``zh-TW``/``zh-Hant`` match nothing
    rather than silently showing Simplified characters as if they were asked for.
    """
    if not code:
        return None
    parts = code.strip().replace("_", "-").lower().split("-")
    language = parts[0]
    rest = set(parts[1:])
    if language == "zh":
        if rest & {"tw", "hk", "mo", "hant"}:
            return None
        return "zh_CN"
    if language == "en":
        return "en"
    return None


def negotiate_locale(*, cookie: str | None = None, query: str | None = None, default: str = DEFAULT_LOCALE) -> str:
    for choice in (normalize_locale(cookie), normalize_locale(query)):
        if choice:
            return choice
    return normalize_locale(default) or DEFAULT_LOCALE


def default_locale_of(app: Any) -> str:
    """``settings.web.default_locale`` of the running app, tolerant of an app without settings."""
    settings = getattr(getattr(app, "state", None), "settings", None) if app is not None else None
    web = getattr(settings, "web", None)
    return getattr(web, "default_locale", None) or DEFAULT_LOCALE


def locale_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The locale a request asks for. Never raises: a malformed cookie or header falls through."""
    try:
        app = connection.scope.get("litestar_app")
        return negotiate_locale(
            cookie=connection.cookies.get(LOCALE_COOKIE),
            query=connection.query_params.get(LOCALE_QUERY),
            default=default_locale_of(app),
        )
    except Exception:  # noqa: BLE001 - the locale must never be the reason a page fails
        return DEFAULT_LOCALE


# --- catalogues ---------------------------------------------------------------------------------


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compile(locale: str) -> _gettext.NullTranslations:
    path = catalogue_path(locale)
    if not path.exists():
        return _gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN, abort_invalid=True)
    buffer = BytesIO()
    # Fuzzy entries are guesses made by a merge tool, not translations: leave them out.
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


@lru_cache(maxsize=1)
def translations() -> dict[str, _gettext.NullTranslations]:
    """Every supported locale's compiled catalogue, built once per process."""
    return {locale: _compile(locale) for locale in LOCALES}


def load_catalogues() -> None:
    """Parse every catalogue now (at start-up), so a broken ``.po`` fails the boot, not a request."""
    translations()


# --- the current locale -------------------------------------------------------------------------


def get_locale() -> str:
    return _current_locale.get()


def set_locale(locale: str) -> None:
    """Make ``locale`` current for the rest of this request (or task)."""
    _current_locale.set(normalize_locale(locale) or DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Temporarily switch the locale (tests, e-mails in the recipient's language)."""
    token = _current_locale.set(normalize_locale(locale) or DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def html_lang(locale: str | None = None) -> str:
    return HTML_LANG.get(locale or get_locale(), "zh-CN")


def _active() -> _gettext.NullTranslations:
    return translations().get(get_locale()) or _gettext.NullTranslations()


def gettext(message: str) -> str:
    return _active().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _active().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return _active().pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _active().npgettext(context, singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for extraction without translating it yet (translated where it is shown)."""
    return message


def install(environment: Environment) -> None:
    """Install the gettext callables into a Jinja environment (with the ``i18n`` extension).

    ``newstyle`` gettext autoescapes and formats ``%(name)s`` placeholders from keyword arguments,
    so ``_("Hello %(name)s", name=user)`` is safe with untrusted names.
    """
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
    )
    environment.globals.update(
        current_locale=get_locale,
        html_lang=html_lang,
        supported_locales=LOCALES,
        language_names=LANGUAGE_NAMES,
    )


def locale_middleware(app: ASGIApp) -> ASGIApp:
    """Set the request's locale for everything rendered or translated while handling it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        token = _current_locale.set(locale_of(ASGIConnection(scope)))
        try:
            await app(scope, receive, send)
        finally:
            _current_locale.reset(token)

    return middleware
