"""Chinese PDFs from the kernel renderer: the text comes back out with poppler, the font subset is
built once and reused, and characters outside GB2312 still render (from the full Noto face).

The renderer's font cache lives in a directory shared between runs (``GGZY_TEST_FONT_CACHE``,
default ``$TMPDIR/ggzy-test-fonts``): building the two subsets takes ~15 s and the file names carry
a digest of the source font, so a stale file cannot be picked up. The build itself is tested on
a small character set in a fresh directory.
"""

from __future__ import annotations

import gc
import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

from trading.kernel.pdf import fonts, render

FONT_CACHE = Path(os.environ.get("GGZY_TEST_FONT_CACHE", Path(tempfile.gettempdir()) / "ggzy-test-fonts"))
OUTSIDE_GB2312 = "喆堃"  # common in names, in GBK and Noto CJK, not in GB2312


def warm_renderer() -> tuple[Path, ...]:
    """The process's renderer, on the shared test font cache (the first caller wins)."""
    return render.warm_up(FONT_CACHE)


def poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    result = subprocess.run([tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
                            capture_output=True, text=True, check=True)  # fmt: skip
    return result.stdout


def page(body: str) -> str:
    return f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'></head><body>{body}</body></html>"


def test_gb2312_set_is_complete() -> None:
    characters = fonts.gb2312_characters()
    assert sum(1 for c in characters if "\u4e00" <= c <= "\u9fff") == 6763
    document = fonts.document_characters("喆")
    assert {"开", "标", "记", "录", "，", "。", "（", "）", "￥", "·", "—", "“", "”", "〇", "①", "A", "喆"} <= document
    assert not set(OUTSIDE_GB2312) & characters


def test_chinese_page_renders_and_its_text_comes_back(tmp_path: Path) -> None:
    warm_renderer()
    pdf = render.render_pdf(
        page(
            "<h1>开标记录</h1><p class='doc-ref'>项目编号：JS-2026-0001</p>"
            "<table><thead><tr><th>序号</th><th>投标人</th><th class='number'>投标报价（元）</th></tr></thead>"
            "<tbody><tr><td>1</td><td>南京示例建设工程有限公司</td><td class='number'>12,345,678.00</td></tr>"
            "</tbody></table><p>开标时间：2026年11月26日 09:30，地点：不见面开标大厅。</p>"
        )
    )
    assert pdf.startswith(b"%PDF-")
    text = poppler("pdftotext", pdf, tmp_path)
    for expected in (
        "开标记录",
        "南京示例建设工程有限公司",
        "12,345,678.00",
        "不见面开标大厅",
        "项目编号：JS-2026-0001",
    ):
        assert expected in text
    assert "第1页共1页" in text.replace(" ", "")  # the footer of print.css
    used = poppler("pdffonts", pdf, tmp_path)
    assert "GGZY-Sans-SC-Bold" in used  # the heading and the table header use the bold subset
    assert "Noto-Sans-CJK" not in used  # everything came from the cached subsets


def test_characters_outside_the_subset_still_render(tmp_path: Path) -> None:
    warm_renderer()
    pdf = render.render_pdf(page(f"<p>投标人代表：张{OUTSIDE_GB2312[0]}、李{OUTSIDE_GB2312[1]}</p>"))
    text = poppler("pdftotext", pdf, tmp_path)
    assert f"张{OUTSIDE_GB2312[0]}、李{OUTSIDE_GB2312[1]}" in text
    used = poppler("pdffonts", pdf, tmp_path)
    assert "GGZY-Sans-SC" in used
    assert "Noto-Sans-CJK-SC" in used  # the two glyphs came from the full face


def test_the_renderer_reuses_its_cached_fonts(monkeypatch: pytest.MonkeyPatch) -> None:
    # A fresh process's renderer: another test in this worker may have warmed it first on another
    # cache (the first caller wins); the previous one comes back after the test.
    monkeypatch.setattr(render, "_renderer", None)
    files = warm_renderer()
    assert len(files) == 2
    assert all(path.is_file() and path.parent == FONT_CACHE for path in files)
    before = {path: path.stat().st_mtime_ns for path in files}
    again = fonts.document_fonts(FONT_CACHE)
    assert tuple(font.path for font in again) == files
    assert {path: path.stat().st_mtime_ns for path in files} == before
    assert render.warm_up(FONT_CACHE) == files


def test_a_subset_is_built_once_and_reused(tmp_path: Path) -> None:
    face = fonts.DOCUMENT_FACES[0]
    characters = fonts.document_characters() & set("开标记录ABC123") | frozenset("喆")
    built = fonts.subset_font(face, tmp_path, frozenset(characters))
    stamp = built.path.stat().st_mtime_ns
    with TTFont(str(built.path)) as font:
        cmap = font.getBestCmap()
        assert {ord(c) for c in characters} <= set(cmap)
        assert font["name"].getDebugName(1) == fonts.FAMILY
    again = fonts.subset_font(face, tmp_path, frozenset(characters))
    assert again == built
    assert built.path.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.glob("*.otf")] == [built.path.name]
    other = fonts.subset_font(face, tmp_path, frozenset(characters | {"堃"}))
    assert other.path != built.path  # another character set is another file


def test_a_missing_source_font_is_a_clear_error(tmp_path: Path) -> None:
    face = fonts.FontFace(tmp_path / "missing.ttc", 400)
    with pytest.raises(fonts.FontUnavailable, match="fonts-noto-cjk"):
        fonts.subset_font(face, tmp_path, frozenset("开"))


def test_documents_cannot_reach_the_network_or_other_files(tmp_path: Path) -> None:
    warm_renderer()
    secret = tmp_path / "secret.txt"
    secret.write_text("机密内容", encoding="utf-8")
    outside = Path(tempfile.mkdtemp()) / "elsewhere.pdf"
    pdf = render.render_pdf(
        page(f"<p>正文</p><a rel='attachment' href='{secret.as_uri()}'>附件</a><img src='http://127.0.0.1:9/x.png'>"),
        base_url=outside.parent.as_uri() + "/",
    )
    assert b"EmbeddedFile" not in pdf  # the file outside base_url was not read
    inside = render.render_pdf(
        page(f"<p>正文</p><a rel='attachment' href='{secret.name}'>附件</a>"), base_url=tmp_path.as_uri() + "/"
    )
    assert b"EmbeddedFile" in inside


def test_rendering_pauses_the_cyclic_collector_and_restores_it() -> None:
    warm_renderer()
    assert gc.isenabled()
    render.render_pdf(page("<p>开标记录</p>"))
    assert gc.isenabled()
    gc.disable()
    try:
        render.render_pdf(page("<p>开标记录</p>"))
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()
