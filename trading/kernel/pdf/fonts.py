"""CJK fonts for PDF documents, subset once and cached on disk.

Debian's Noto CJK (``fonts-noto-cjk``) covers Chinese, but each face is a 16 MB CFF font with
65,000 glyphs; a PDF must embed a subset of it, and subsetting the whole font at every render is
what makes a Chinese page slow (7–8 s with fontTools, DESIGN.md). So the faces documents use
(Noto Sans CJK SC regular and bold, from the ``.ttc`` collections) are subset **once** to the
characters documents use — GB2312 (all 6,763 hanzi and its symbols), ASCII, Latin-1, general and
CJK punctuation, full-width forms, plus any extra characters asked for — renamed to
`FAMILY`, and written to ``<var>/cache/fonts/``. The file name carries a digest of the source
font (path, size, mtime), its face, the character set and `BUILD_VERSION`, so a font upgrade or a
different set builds a new file and an existing file is reused as is. Building takes ~7 s per face
(bounding boxes are not recomputed: that alone took two thirds of the time); concurrent builders
(worker processes) serialise on a lock file and the result is written atomically.

WeasyPrint then subsets the 3.5 MB pre-subset font again for each document, with HarfBuzz
(``libharfbuzz-subset0``, installed by ``scripts/bootstrap.sh``): ~0.1 s for a page. Embedding the
pre-subset font whole (``full_fonts``) was measured slower (1.0–1.5 s a page, 5.9 MB a PDF),
see BENCHMARKS.md.

Characters outside the subset still render: the kernel stylesheet lists the full system font
after `FAMILY` (``font-family: "GGZY Sans SC", "Noto Sans CJK SC", sans-serif``), so Pango takes
those glyphs from the full Noto CJK face, which WeasyPrint subsets for that document only
(HarfBuzz: a few hundredths of a second more). Deployments that print many names with
characters outside GB2312 (喆, 堃, 赟 …) can pass them as ``extra`` to get them in the cached
subset.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.ttLib import TTCollection, TTFont  # type: ignore[import-untyped]

NOTO_DIR: Final = Path("/usr/share/fonts/opentype/noto")
SOURCE_FAMILY: Final = "Noto Sans CJK SC"
FAMILY: Final = "GGZY Sans SC"
"""The family name of the cached subsets (renamed: a modified font must not pose as Noto)."""
BUILD_VERSION: Final = 1

# Ranges kept besides GB2312: what forms, tables and money amounts use.
_EXTRA_RANGES: Final = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 (·, ×, ÷, ±, °, ¥ …)
    (0x2010, 0x205E),  # general punctuation (— ‘ ’ “ ” … ‰ ※)
    (0x2100, 0x218B),  # letterlike and number forms (℃ № Ⅰ–Ⅻ)
    (0x2190, 0x21FF),  # arrows
    (0x2460, 0x24FF),  # enclosed numbers (① ⑴ ⒈)
    (0x2500, 0x25FF),  # box drawing, geometric shapes (□ ■ ○ ●)
    (0x2600, 0x2613),  # ★ ☆ ☐ ☑ ☒
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。《》【】〇)
    (0xFF01, 0xFF65),  # full-width forms
    (0xFFE0, 0xFFE6),  # full-width ￥ ￠ ￡
)


class FontUnavailable(RuntimeError):
    """The CJK source font is not installed."""


@dataclass(frozen=True)
class FontFace:
    """One face of a source font collection, and the CSS weight it stands for."""

    path: Path
    weight: int
    family: str = SOURCE_FAMILY


DOCUMENT_FACES: Final = (
    FontFace(NOTO_DIR / "NotoSansCJK-Regular.ttc", 400),
    FontFace(NOTO_DIR / "NotoSansCJK-Bold.ttc", 700),
)


@dataclass(frozen=True)
class CachedFont:
    """A subset written to the cache: the file and the CSS weight it serves."""

    path: Path
    weight: int


@functools.lru_cache(maxsize=1)
def gb2312_characters() -> frozenset[str]:
    """Every character of GB2312 (decoding every valid two-byte code; 7,445 of them)."""
    characters = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                characters.add(bytes((high, low)).decode("gb2312"))
    return frozenset(characters)


def document_characters(extra: Iterable[str] = ()) -> frozenset[str]:
    """GB2312, the extra ranges documents use and the characters in ``extra``."""
    characters = set(gb2312_characters())
    for low, high in _EXTRA_RANGES:
        characters.update(chr(code) for code in range(low, high + 1))
    for text in extra:
        characters.update(text)
    characters.discard("\n")
    return frozenset(characters)


def face_index(path: Path, family: str) -> int:
    """The index of ``family`` in the collection at ``path`` (0 for a single font)."""
    return _face_index(path, path.stat().st_mtime_ns, family)


@functools.lru_cache(maxsize=16)
def _face_index(path: Path, mtime_ns: int, family: str) -> int:
    del mtime_ns  # part of the cache key only
    if path.suffix.lower() not in {".ttc", ".otc"}:
        return 0
    collection = TTCollection(str(path), lazy=True)
    try:
        for index, font in enumerate(collection.fonts):
            names = font["name"]
            if family in {names.getDebugName(16), names.getDebugName(1)}:
                return index
    finally:
        collection.close()
    msg = f"{path} has no face named {family!r}"
    raise FontUnavailable(msg)


def cache_key(face: FontFace, characters: frozenset[str]) -> str:
    """A digest of what the subset is made from: same key, same file."""
    stat = face.path.stat()
    material = {
        "version": BUILD_VERSION,
        "source": str(face.path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "family": face.family,
        "weight": face.weight,
        "characters": "".join(sorted(characters)),
    }
    return hashlib.sha256(json.dumps(material, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def subset_font(face: FontFace, cache_dir: Path, characters: frozenset[str]) -> CachedFont:
    """The cached subset of ``face`` to ``characters``, built (once) if it is not there yet."""
    if not face.path.is_file():
        msg = f"{face.path} is missing: install Debian's fonts-noto-cjk (scripts/bootstrap.sh does)"
        raise FontUnavailable(msg)
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"ggzy-sans-sc-{face.weight}-{cache_key(face, characters)[:24]}.otf"
    if target.is_file():
        return CachedFont(target, face.weight)
    with _locked(cache_dir / f"{target.stem}.lock"):
        if not target.is_file():  # another process may have built it while we waited
            _build(face, characters, target)
    return CachedFont(target, face.weight)


def document_fonts(cache_dir: Path, extra: Iterable[str] = ()) -> tuple[CachedFont, ...]:
    """The regular and bold subsets for documents (built once per cache directory)."""
    characters = document_characters(extra)
    return tuple(subset_font(face, cache_dir, characters) for face in DOCUMENT_FACES)


def font_face_css(fonts: Iterable[CachedFont]) -> str:
    """``@font-face`` rules declaring the cached subsets as `FAMILY`."""
    return "".join(
        f'@font-face {{ font-family: "{FAMILY}"; src: url("{font.path.as_uri()}"); '
        f"font-weight: {font.weight}; font-style: normal; }}\n"
        for font in fonts
    )


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(face: FontFace, characters: frozenset[str], target: Path) -> None:
    index = face_index(face.path, face.family)
    options = subset.Options()
    options.font_number = index
    options.layout_features = ["*"]  # keep every feature: Pango shapes with the subset
    options.name_IDs = ["*"]
    options.name_languages = [0x0409]
    options.notdef_outline = True
    options.recalc_bounds = False
    # Recomputing hhea/vhea/CFF bounding boxes over 7,500 CFF glyphs is two thirds of the build;
    # the source font's boxes still enclose every glyph kept.
    font = TTFont(str(face.path), fontNumber=index, lazy=True, recalcBBoxes=False)
    try:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(characters)))
        subsetter.subset(font)
        _rename(font, face.weight)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".building-", suffix=".otf")
        os.close(handle)
        try:
            font.save(temporary)
            Path(temporary).chmod(0o644)
            Path(temporary).replace(target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    finally:
        font.close()


def _rename(font: Any, weight: int) -> None:
    """Name the subset `FAMILY` (family, full and PostScript names; copyright and licence stay)."""
    style = "Bold" if weight >= 600 else "Regular"  # noqa: PLR2004 - CSS weight of bold faces
    names = font["name"]
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    for name_id in (16, 17):
        names.removeNames(nameID=name_id)
    names.setName(FAMILY, 1, 3, 1, 0x409)
    names.setName(style, 2, 3, 1, 0x409)
    names.setName(f"{FAMILY} {style}; subset of {SOURCE_FAMILY}", 3, 3, 1, 0x409)
    names.setName(f"{FAMILY} {style}", 4, 3, 1, 0x409)
    names.setName(postscript, 6, 3, 1, 0x409)
