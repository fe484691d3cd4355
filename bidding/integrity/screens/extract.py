"""The text of one opened file, for the document-similarity screen (issue 19 §4).

PDF through pdfplumber (its text layer; a scanned PDF has none and gives ``""``), DOCX through
python-docx (paragraphs and tables in document order, one table row a line with its cells
tab-separated), plain text as UTF-8 with a GB18030 fallback (Chinese offices still save GBK). The
kind is decided by the file's name and checked against its first bytes, so a renamed file is
refused rather than read as garbage. Anything else, or a file the library cannot open, raises
`DocumentUnreadable` naming the file and the reason.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

import docx
import pdfplumber
from docx.table import Table

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ".csv"})


class DocumentUnreadable(ValueError):
    """A file whose text cannot be extracted: an unsupported kind, a damaged file, a wrong name."""

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        super().__init__(f"{filename!r}: {reason}")


def extract_text(filename: str, data: bytes) -> str:
    """The text of ``data`` read as the kind its ``filename`` names (.pdf, .docx or plain text)."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if suffix == ".pdf":
        return _pdf(filename, data)
    if suffix == ".docx":
        return _docx(filename, data)
    if suffix in TEXT_SUFFIXES:
        return _plain(filename, data)
    known = ", ".join(sorted({".pdf", ".docx", *TEXT_SUFFIXES}))
    raise DocumentUnreadable(filename, f"unsupported file type {suffix or '(none)'!r}; readable: {known}")


def _pdf(filename: str, data: bytes) -> str:
    if not data.lstrip(b"\r\n\t ").startswith(b"%PDF-"):
        raise DocumentUnreadable(filename, "named .pdf but is not a PDF (no %PDF- header)")
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [page.extract_text() or "" for page in pdf.pages]
    except Exception as error:  # pdfminer raises many unrelated types for a damaged file
        raise DocumentUnreadable(filename, f"damaged PDF ({type(error).__name__}: {error})") from error
    return "\n".join(pages)


def _docx(filename: str, data: bytes) -> str:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DocumentUnreadable(filename, "named .docx but is not a DOCX (not a ZIP package)")
    try:
        document = docx.Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_table_rows(block))
            else:
                lines.append(block.text)
    except Exception as error:  # python-docx/lxml raise KeyError, ValueError … on a broken package
        raise DocumentUnreadable(filename, f"damaged DOCX ({type(error).__name__}: {error})") from error
    return "\n".join(lines)


def _table_rows(table: Table) -> list[str]:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.strip()
            # a merged cell is returned once per grid column it spans: keep it once
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        rows.append("\t".join(cells))
    return rows


def _plain(filename: str, data: bytes) -> str:
    if b"\x00" in data:
        raise DocumentUnreadable(filename, "binary content (NUL bytes) in a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as error:
        raise DocumentUnreadable(filename, f"text is neither UTF-8 nor GB18030 (byte {error.start})") from error
