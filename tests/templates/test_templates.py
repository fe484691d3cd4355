"""Template sanity for every package (architecture-anchors §6.6).

* every template under any ``templates/`` folder compiles;
* a page (a file name not starting with ``_``, outside ``layouts/`` and ``emails/``) extends
  ``layouts/base.html``, directly or through another layout, and defines ``{% block title %}``;
* a partial (file name starting with ``_``) extends nothing: it is swapped into a page;
* a print document (file name ending ``_pdf.html``, e.g. the opening record) is a whole HTML
  document rendered to PDF by ``trading.kernel.pdf.render``: it extends no layout of the site.

The templates are found on disk, not through the app's loader, so a package whose templates are
not wired into the environment yet is checked too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from trading.kernel.web.catalogue import template_files
from trading.kernel.web.templating import FILTERS

BASE_LAYOUT = "layouts/base.html"
NOT_PAGES = ("layouts", "emails", "macros")


def _name(path: Path) -> str:
    """The loader name of a template: its path below the ``templates`` folder."""
    parts = path.parts
    index = len(parts) - 1 - parts[::-1].index("templates")
    return "/".join(parts[index + 1 :])


TEMPLATES = {_name(path): path for path in template_files()}
ENV = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
ENV.filters.update(FILTERS)


def _parse(name: str) -> nodes.Template:
    return ENV.parse(TEMPLATES[name].read_text("utf-8"), name=name)


def _extends(name: str) -> str | None:
    node = _parse(name).find(nodes.Extends)
    if node is None:
        return None
    assert isinstance(node.template, nodes.Const), f"{name}: extends a computed name"
    return str(node.template.value)


def _is_partial(name: str) -> bool:
    return name.rsplit("/", 1)[-1].startswith("_")


def _is_print(name: str) -> bool:
    return name.endswith("_pdf.html")


def _is_page(name: str) -> bool:
    return (
        not _is_partial(name)
        and not _is_print(name)
        and name.split("/", 1)[0] not in NOT_PAGES
        and name.endswith(".html")
    )


def test_templates_are_found() -> None:
    assert BASE_LAYOUT in TEMPLATES
    assert "errors/404.html" in TEMPLATES


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_compiles(name: str) -> None:
    ENV.compile(TEMPLATES[name].read_text("utf-8"), name=name)


@pytest.mark.parametrize("name", sorted(n for n in TEMPLATES if _is_page(n)))
def test_page_extends_the_layout_and_has_a_title(name: str) -> None:
    chain = [name]
    parent = _extends(name)
    while parent is not None and parent != BASE_LAYOUT:
        assert parent in TEMPLATES, f"{name}: extends unknown template {parent!r}"
        assert parent not in chain, f"{name}: extends loop {chain}"
        chain.append(parent)
        parent = _extends(parent)
    assert parent == BASE_LAYOUT, f"{name} does not extend {BASE_LAYOUT} (chain: {chain})"
    blocks = {block.name for block in _parse(name).find_all(nodes.Block)}
    assert "title" in blocks, f"{name} defines no {{% block title %}}"


@pytest.mark.parametrize("name", sorted(n for n in TEMPLATES if _is_partial(n)))
def test_partial_extends_nothing(name: str) -> None:
    assert _extends(name) is None, f"partial {name} extends a layout; partials are swapped into pages"


@pytest.mark.parametrize("name", sorted(n for n in TEMPLATES if _is_print(n)))
def test_print_document_is_a_whole_document(name: str) -> None:
    assert _extends(name) is None, f"print document {name} extends a site layout"
    assert "<html" in TEMPLATES[name].read_text("utf-8"), f"print document {name} is not a whole HTML document"


def test_layout_defines_the_blocks_pages_fill() -> None:
    blocks = {block.name for block in _parse(BASE_LAYOUT).find_all(nodes.Block)}
    assert {"title", "content", "head"} <= blocks


def test_template_names_are_unique_across_packages() -> None:
    """The ChoiceLoader serves the first match: two packages with one name would shadow each other."""
    seen: dict[str, list[Path]] = {}
    for path in template_files():
        seen.setdefault(_name(path), []).append(path)
    assert not {name: paths for name, paths in seen.items() if len(paths) > 1}
