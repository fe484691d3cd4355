"""Text out of a requirement or tender document, and the checker run on it line by line.

- ``.txt``: UTF-8 (with or without BOM), else GB18030; every line is a clause of its own.
- ``.docx`` (python-docx): paragraphs and table cells in document order, one line each (a merged
  cell once).
- ``.pdf`` (pdfplumber): each page's text; a line that runs the page's full width without ending
  a sentence (。;:!? …) is joined with the next, so a clause wrapped across lines is read as one.
  Scanned PDFs (no text layer) give no text: ``ExtractionError``.

A finding's offsets are into its line's text as printed (``LineResult.text``), so the line number
and the offsets locate it in the extracted text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from procurement.negative_list.catalogue import default_rules
from procurement.negative_list.checker import check_text
from procurement.negative_list.model import Finding, Rule, Severity

SUFFIXES = (".txt", ".docx", ".pdf")
_SENTENCE_END = tuple("。;；:：!！?？")


class ExtractionError(ValueError):
    """The file cannot be read as a document the checker knows (suffix, encoding, no text)."""


@dataclass(frozen=True, slots=True)
class LineResult:
    line: int  # 1-based
    text: str
    findings: tuple[Finding, ...]

    def as_json(self) -> dict[str, object]:
        """One line of ``ggzy procurement check --json``."""
        return {"line": self.line, "text": self.text, "findings": [f.as_json() for f in self.findings]}


def _txt(path: Path) -> list[str]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    raise ExtractionError(f"{path.name}: 文本文件既不是 UTF-8 也不是 GB18030 编码")


def _docx(path: Path) -> list[str]:
    import docx  # noqa: PLC0415 - only for .docx
    from docx.opc.exceptions import PackageNotFoundError  # noqa: PLC0415
    from docx.table import Table  # noqa: PLC0415
    from docx.text.paragraph import Paragraph  # noqa: PLC0415

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise ExtractionError(f"{path.name}: 不是有效的 DOCX 文件（{exc}）") from exc

    def table_lines(table: Table) -> Iterator[str]:
        for row in table.rows:
            seen: set[int] = set()
            for cell in row.cells:
                element = cell._tc  # noqa: SLF001 - the only handle on a merged cell's identity
                if id(element) in seen:  # a merged cell appears once per grid column it spans
                    continue
                seen.add(id(element))
                for paragraph in cell.paragraphs:
                    yield paragraph.text
                for inner in cell.tables:
                    yield from table_lines(inner)

    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        else:
            lines.extend(table_lines(block))
    return lines


def _pdf(path: Path) -> list[str]:
    import pdfplumber  # noqa: PLC0415 - only for .pdf
    from pdfminer.pdfparser import PDFSyntaxError  # noqa: PLC0415
    from pdfplumber.utils.exceptions import PdfminerException  # noqa: PLC0415

    lines: list[str] = []
    try:
        with pdfplumber.open(str(path)) as pdf:
            for page in pdf.pages:
                raw = [line.strip() for line in (page.extract_text() or "").splitlines()]
                full = max(map(len, raw), default=0) * 0.8  # a wrapped line runs (nearly) the full width
                pending = ""
                for line in raw:
                    pending += line
                    if pending.endswith(_SENTENCE_END) or len(line) < full:
                        lines.append(pending)
                        pending = ""
                if pending:
                    lines.append(pending)
    except (PDFSyntaxError, PdfminerException) as exc:
        raise ExtractionError(f"{path.name}: 不是有效的 PDF 文件（{exc}）") from exc
    if not any(line.strip() for line in lines):
        raise ExtractionError(f"{path.name}: PDF 中没有可提取的文字（扫描件需先进行文字识别）")
    return lines


def extract_lines(path: Path) -> list[str]:
    """The document's text as lines (see the module's note per format)."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return _txt(path)
    if suffix == ".docx":
        return _docx(path)
    if suffix == ".pdf":
        return _pdf(path)
    raise ExtractionError(f"{path.name}: 只支持 {'、'.join(SUFFIXES)} 文件")


def check_document(path: Path, rules: Sequence[Rule] | None = None) -> list[LineResult]:
    """Every line of the document with the findings in it (``default_rules()`` unless given)."""
    chosen = default_rules() if rules is None else rules
    return [
        LineResult(number, text, tuple(check_text(text, chosen)))
        for number, text in enumerate(extract_lines(path), start=1)
    ]


def has_blocking(results: Sequence[LineResult]) -> bool:
    """Whether any finding blocks publication."""
    return any(f.severity is Severity.BLOCKING for result in results for f in result.findings)
