"""HTML to PDF (WeasyPrint) with the cached Chinese fonts and the kernel print stylesheet.

`render_pdf` turns a record's HTML into PDF bytes. Every document gets, as user stylesheets
(which the document's own styles override):

* ``@font-face`` rules for the cached GB2312 subsets of Noto Sans CJK SC (`fonts`), named
  ``GGZY Sans SC``, regular and bold;
* ``font-family: "GGZY Sans SC", "Noto Sans CJK SC", sans-serif`` on the page and the document,
  so characters outside the subset come from the full system face (`fonts` explains the cost);
* ``print.css``: A4, margins, the running header and the "第 N 页 共 M 页" footer, table styles.

The fonts and stylesheets are prepared once per process by `warm_up` (the worker calls it at
start-up, so the first record does not pay for building the subsets; otherwise the first
`render_pdf` does it). Rendering is serialised by a lock: the shared WeasyPrint
``FontConfiguration`` (a fontconfig/Pango font map) is not safe to use from several threads at
once. Parallel rendering is done with processes (Celery workers).

Resources are fetched only from ``data:`` URLs and files under the document's ``base_url``
directory, the font cache and this package: no network, and nothing else on the disk, whatever
a record's HTML names (WeasyPrint would otherwise fetch any URL, and embed files linked with
``rel=attachment``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import weasyprint
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from trading.kernel.pdf import fonts
from trading.kernel.settings import get_settings

PRINT_CSS: Final = Path(__file__).with_name("print.css")
FONT_FAMILY_CSS: Final = f'"{fonts.FAMILY}", "{fonts.SOURCE_FAMILY}", sans-serif'


@dataclass(frozen=True)
class _Renderer:
    font_config: Any  # weasyprint.text.fonts.FontConfiguration
    stylesheets: tuple[Any, ...]  # weasyprint.CSS
    font_files: tuple[Path, ...]
    roots: tuple[Path, ...]


_init_lock = threading.Lock()
_render_lock = threading.Lock()
_renderer: _Renderer | None = None


def default_cache_dir() -> Path:
    """``<var>/cache/fonts`` of the process's settings."""
    return get_settings().var_dir / "cache" / "fonts"


def warm_up(cache_dir: Path | None = None) -> tuple[Path, ...]:
    """Build (or find) the cached fonts and parse the kernel stylesheets, once per process.

    The worker calls this at start-up; `render_pdf` calls it on first use. Returns the font
    files in use. A later call with another ``cache_dir`` changes nothing: the first one wins.
    """
    global _renderer  # noqa: PLW0603 - one renderer per process, built once
    with _init_lock:
        if _renderer is None:
            _renderer = _build(cache_dir or default_cache_dir())
        return _renderer.font_files


def _build(cache_dir: Path) -> _Renderer:
    cached = fonts.document_fonts(cache_dir)
    font_config = FontConfiguration()
    base = (
        fonts.font_face_css(cached)
        + f"@page {{ font-family: {FONT_FAMILY_CSS}; }}\n"
        + f"html {{ font-family: {FONT_FAMILY_CSS}; }}\n"
    )
    roots = (cache_dir.resolve(), PRINT_CSS.parent.resolve())
    fetcher = _Fetcher(roots)
    stylesheets = (
        weasyprint.CSS(string=base, font_config=font_config, url_fetcher=fetcher),
        weasyprint.CSS(filename=str(PRINT_CSS), font_config=font_config, url_fetcher=fetcher),
    )
    return _Renderer(font_config, stylesheets, tuple(font.path for font in cached), roots)


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """The PDF of ``html`` (a whole document) with the kernel fonts and print stylesheet.

    ``base_url`` resolves relative links (images, stylesheets) and is the one directory, besides
    the kernel's, that files may be read from; only ``file:`` base URLs give access to files.
    Blocking (0.1 s to seconds): call it from a worker or through ``asyncio.to_thread``.
    """
    warm_up()
    renderer = _renderer
    assert renderer is not None  # noqa: S101 - set by warm_up
    roots = renderer.roots
    if base_url is not None and base_url.startswith("file:"):
        base = Path(unquote(urlsplit(base_url).path))
        roots = (*roots, (base if base_url.endswith("/") or base.is_dir() else base.parent).resolve())
    fetcher = _Fetcher(roots)
    with _render_lock, _no_cyclic_gc():
        document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        pdf: bytes = document.write_pdf(stylesheets=list(renderer.stylesheets), font_config=renderer.font_config)
    return pdf


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while WeasyPrint renders.

    A render allocates hundreds of thousands of small objects (boxes, styles, Pango wrappers) that
    live until it ends, so the collector's passes over them find nothing and cost a fifth of a
    long record (bench/pdf.py). Reference counting still frees what it can; the collector runs
    again as usual afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Fetcher(URLFetcher):  # type: ignore[misc]
    """A WeasyPrint URL fetcher limited to ``data:`` and files under ``roots``."""

    def __init__(self, roots: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols={"data", "file"})
        self._roots = roots

    def fetch(self, url: str, headers: Any = None) -> Any:
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            if not any(path.is_relative_to(root) for root in self._roots):
                msg = f"{url}: only files under the document's base directory may be read"
                raise ValueError(msg)
        elif parts.scheme != "data":
            msg = f"{url}: PDF rendering fetches nothing from the network"
            raise ValueError(msg)
        return super().fetch(url, headers)
