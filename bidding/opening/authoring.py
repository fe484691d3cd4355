"""What an opened package tells about who made it (issue 19 §1): each file's SHA-256 and authoring
metadata, read once at the opening from the decrypted package, for the integrity screens.

Read only: nothing here changes the opening's result, and a file whose metadata cannot be read is
listed with its digest and ``"error"`` — a broken PDF never fails a decryption.

- PDF: the document information dictionary (``/Author``, ``/Creator``, ``/Producer``,
  ``/CreationDate``, ``/ModDate``) and the first element of the trailer's ``/ID`` (set when the
  file is first written and kept by later saves: two files sharing it come from one original),
  with pdfminer (pdfplumber's parser), which reads the cross-reference table and the trailer only.
- Office Open XML (DOCX, and XLSX/PPTX alike): ``docProps/core.xml`` (``dc:creator`` → author,
  ``cp:lastModifiedBy``, ``dcterms:created``, ``dcterms:modified``) and ``docProps/app.xml``
  (``Application``, ``Company``) — the same values python-docx's ``core_properties`` reads, taken
  from the two small parts directly so that ``word/document.xml`` is never parsed here. The
  standard library's expat (≥ 2.4.1) refuses entity expansion bombs; external entities are never
  fetched.

Each file's entry also carries ``pages`` where the file states it, for the experts' timing screen
(EXPERT-FAST, seconds of reading per page): a PDF's page tree ``/Count`` (the structure every
reader pages by), a word-processing file's ``Pages`` in ``docProps/app.xml`` (the count its
authoring application saved: not recomputed here, since that would mean laying the text out).
Pages are not authoring metadata: the hard-evidence screens never compare them.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any, Final
from xml.etree import ElementTree as ET

INNER_MANIFEST: Final = "manifest.json"
_PROPERTIES_LIMIT: Final = 1024 * 1024  # docProps parts are a few kB; a larger one is not read
_VALUE_LIMIT: Final = 300  # characters kept of one metadata value
_PDF_FIELDS: Final = {
    "Author": "author",
    "Creator": "creator",
    "Producer": "producer",
    "CreationDate": "created",
    "ModDate": "modified",
}
_CORE: Final = {
    "{http://purl.org/dc/elements/1.1/}creator": "author",
    "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}lastModifiedBy": "last_modified_by",
    "{http://purl.org/dc/terms/}created": "created",
    "{http://purl.org/dc/terms/}modified": "modified",
}
_APP: Final = {
    "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Application": "application",
    "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Company": "company",
}
_APP_PAGES: Final = "{http://schemas.openxmlformats.org/officeDocument/2006/extended-properties}Pages"
MAX_PAGES: Final = 1_000_000
"""A stated page count above this is not believed (a bidder's file says it, nothing checks it)."""


def package_files(package: bytes) -> dict[str, Any]:
    """``{"files": [{"name", "size", "sha256", <metadata>…}]}`` for an opened inner package (a ZIP
    holding ``manifest.json`` and the files it lists), in the manifest's order.
    """
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        try:
            listed = [str(entry["name"]) for entry in json.loads(archive.read(INNER_MANIFEST))["files"]]
        except (KeyError, ValueError, TypeError):
            listed = [info.filename for info in archive.infolist() if info.filename != INNER_MANIFEST]
        files = []
        for name in listed:
            data = archive.read(name)
            entry: dict[str, Any] = {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            try:
                metadata, pages = _read(data)
            except Exception as exc:  # noqa: BLE001 - any parser failure: the file keeps its digest
                entry["error"] = f"metadata unreadable: {type(exc).__name__}"
            else:
                entry.update(metadata)
                if pages is not None:
                    entry["pages"] = pages
            files.append(entry)
    return {"files": files}


def stated_pages(listing: Mapping[str, Any] | None) -> int:
    """The pages the files of a `package_files` listing state, together (0 when none does)."""
    total = 0
    for entry in (listing or {}).get("files", []):
        pages = entry.get("pages") if isinstance(entry, Mapping) else None
        total += _pages(pages) or 0
    return total


def authoring_metadata(data: bytes) -> dict[str, str]:
    """The authoring fields of one file (PDF or Office Open XML), empty for any other kind."""
    return _read(data)[0]


def _read(data: bytes) -> tuple[dict[str, str], int | None]:
    """The authoring fields and the stated page count (None when the file states none)."""
    if data.startswith(b"%PDF-"):
        return _pdf(data)
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return {}, None


def _pages(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_PAGES:
        return None
    return value


def _clip(value: str) -> str:
    return " ".join(value.split())[:_VALUE_LIMIT]


def _pdf(data: bytes) -> tuple[dict[str, str], int | None]:
    from pdfminer.pdfdocument import PDFDocument  # noqa: PLC0415 - only when a PDF is opened
    from pdfminer.pdfparser import PDFParser  # noqa: PLC0415
    from pdfminer.pdftypes import resolve1  # noqa: PLC0415
    from pdfminer.utils import decode_text  # noqa: PLC0415

    document = PDFDocument(PDFParser(io.BytesIO(data)))
    found: dict[str, str] = {}
    for info in document.info:
        for key, field in _PDF_FIELDS.items():
            value = resolve1(info.get(key))
            if isinstance(value, bytes):
                value = decode_text(value)
            if isinstance(value, str) and value.strip() and field not in found:
                found[field] = _clip(value)
    for xref in document.xrefs:
        ids = resolve1(xref.get_trailer().get("ID"))
        if isinstance(ids, list) and ids and isinstance(first := resolve1(ids[0]), bytes) and first:
            found["document_id"] = first.hex()
            break
    tree = resolve1(document.catalog.get("Pages"))
    return found, _pages(resolve1(tree.get("Count")) if isinstance(tree, dict) else None)


def _office(data: bytes) -> tuple[dict[str, str], int | None]:
    found: dict[str, str] = {}
    pages = None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for part, fields in (("docProps/core.xml", _CORE), ("docProps/app.xml", _APP)):
            try:
                info = archive.getinfo(part)
            except KeyError:
                continue
            if info.file_size > _PROPERTIES_LIMIT:
                continue
            root = ET.fromstring(archive.read(part))  # noqa: S314 - see the module's note on expat
            found.update(_properties(root, fields))
            stated = root.findtext(_APP_PAGES) if part == "docProps/app.xml" else None
            if stated is not None and stated.strip().isdecimal():
                pages = _pages(int(stated.strip()))
    return found, pages


def _properties(root: ET.Element, fields: Mapping[str, str]) -> dict[str, str]:
    return {
        fields[child.tag]: _clip(child.text)
        for child in root
        if child.tag in fields and child.text and child.text.strip()
    }
