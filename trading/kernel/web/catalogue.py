"""Find every translatable string in the project and keep the catalogues in step with them.

Strings come from two places:

* templates under any ``templates/`` folder below the scanned root (``_()``, ``gettext``,
  ``ngettext`` and ``{% trans %}`` blocks, through Jinja's Babel extractor), and
* Python modules that use :mod:`trading.kernel.web.i18n`: calls of ``N_``, ``_``, ``gettext``,
  ``ngettext``, ``pgettext`` and ``npgettext`` whose arguments are string literals, found with
  :mod:`ast` (a token scanner would also pick up ``gettext(LABELS["key"])``'s dictionary key).

The test suite calls :func:`missing_translations` to fail when a string has no Chinese
translation. To add new strings to the catalogues (untranslated, for a person to fill in)::

    .venv/bin/python -m trading.kernel.web.catalogue update
    .venv/bin/python -m trading.kernel.web.catalogue missing     # what still needs a translation

``update`` only adds entries; it never drops or rewrites existing translations.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po, write_po
from jinja2.ext import babel_extract

from trading.kernel.web import i18n

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SCAN_ROOTS: tuple[Path, ...] = tuple(
    PROJECT_ROOT / name for name in ("trading", "bidding", "procurement", "intermediary_market")
)
# Function name → (index of the context argument or None, indexes of the message arguments).
_PY_KEYWORDS: dict[str, tuple[int | None, tuple[int, ...]]] = {
    "N_": (None, (0,)),
    "_": (None, (0,)),
    "gettext": (None, (0,)),
    "ngettext": (None, (0, 1)),
    "pgettext": (0, (1,)),
    "npgettext": (0, (1, 2)),
}
_I18N_MARKERS = ("trading.kernel.web.i18n", "from trading.kernel.web import i18n")
_JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


@dataclass(frozen=True, slots=True)
class Message:
    msgid: str
    plural: str | None
    context: str | None
    location: str


def template_files(roots: tuple[Path, ...] = SCAN_ROOTS) -> list[Path]:
    return sorted(
        path
        for root in roots
        if root.exists()
        for path in root.rglob("*.html")
        if "templates" in path.relative_to(root).parts
    )


def python_files(roots: tuple[Path, ...] = SCAN_ROOTS) -> list[Path]:
    return sorted(
        path
        for root in roots
        if root.exists()
        for path in root.rglob("*.py")
        if "migrations" not in path.parts and any(marker in path.read_text("utf-8") for marker in _I18N_MARKERS)
    )


def _location(path: Path, lineno: int) -> str:
    return f"{path.relative_to(PROJECT_ROOT)}:{lineno}"


def _extract_template(path: Path) -> Iterator[Message]:
    with path.open("rb") as handle:
        for lineno, message, _comments, context in extract(
            babel_extract,  # type: ignore[arg-type]
            handle,
            keywords=DEFAULT_KEYWORDS,
            options=_JINJA_OPTIONS,
        ):
            if isinstance(message, tuple):
                yield Message(message[0], message[1], context, _location(path, lineno))
            elif message:
                yield Message(message, None, context, _location(path, lineno))


def _extract_python(path: Path) -> Iterator[Message]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name not in _PY_KEYWORDS:
            continue
        context_index, message_indexes = _PY_KEYWORDS[name]
        literals = [
            arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None for arg in node.args
        ]
        wanted = [*message_indexes, *(() if context_index is None else (context_index,))]
        if len(literals) <= max(wanted) or any(literals[i] is None for i in wanted):
            continue  # a computed message: translated where it is defined, not here
        msgid = str(literals[message_indexes[0]])
        plural = str(literals[message_indexes[1]]) if len(message_indexes) > 1 else None
        context = None if context_index is None else literals[context_index]
        yield Message(msgid, plural, context, _location(path, node.lineno))


def extract_messages(roots: tuple[Path, ...] = SCAN_ROOTS) -> list[Message]:
    found: list[Message] = []
    for path in template_files(roots):
        found.extend(_extract_template(path))
    for path in python_files(roots):
        found.extend(_extract_python(path))
    return [message for message in found if message.msgid]


def load_catalogue(locale: str) -> Catalog:
    path = i18n.catalogue_path(locale)
    if not path.exists():
        return Catalog(locale=locale, domain=i18n.DOMAIN, project="ggzy", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=i18n.DOMAIN, abort_invalid=True)


def missing_translations(locale: str, roots: tuple[Path, ...] = SCAN_ROOTS) -> dict[str, list[str]]:
    """``msgid → locations`` of every extracted string without a (non-fuzzy) translation."""
    catalogue = load_catalogue(locale)
    missing: dict[str, list[str]] = {}
    for message in extract_messages(roots):
        key = message.msgid if message.plural is None else (message.msgid, message.plural)
        entry = catalogue.get(message.msgid, context=message.context)
        translated = entry is not None and not entry.fuzzy and _has_text(entry.string)
        if not translated:
            missing.setdefault(str(key), []).append(message.location)
    return missing


def _has_text(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return all(bool(part) for part in value)
    return bool(value)


def update_catalogues(roots: tuple[Path, ...] = SCAN_ROOTS) -> dict[str, int]:
    """Add every extracted string missing from each catalogue (untranslated). Returns counts added."""
    messages = extract_messages(roots)
    added: dict[str, int] = {}
    for locale in i18n.LOCALES:
        catalogue = load_catalogue(locale)
        count = 0
        for message in messages:
            if catalogue.get(message.msgid, context=message.context) is None:
                msgid = message.msgid if message.plural is None else (message.msgid, message.plural)
                catalogue.add(msgid, string="" if message.plural is None else ("",), context=message.context)
                count += 1
        path = i18n.catalogue_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalogue, width=0, omit_header=False, sort_output=True, include_lineno=False)
        added[locale] = count
    return added


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "missing"
    if command == "update":
        for locale, count in update_catalogues().items():
            sys.stdout.write(f"{locale}: {count} new entries\n")
        return 0
    if command == "missing":
        missing = missing_translations("zh_CN")
        for msgid, where in sorted(missing.items()):
            sys.stdout.write(f"{msgid!r}  ({', '.join(where)})\n")
        return 1 if missing else 0
    sys.stderr.write("usage: python -m trading.kernel.web.catalogue [update|missing]\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
