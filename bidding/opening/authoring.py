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
                entry.update(authoring_metadata(data))
            except Exception as exc:  # noqa: BLE001 - any parser failure: the file keeps its digest
                entry["error"] = f"metadata unreadable: {type(exc).__name__}"
            files.append(entry)
    return {"files": files}


def authoring_metadata(data: bytes) -> dict[str, str]:
    """The authoring fields of one file (PDF or Office Open XML), empty for any other kind."""
    if data.startswith(b"%PDF-"):
        return _pdf(data)
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return {}


def _clip(value: str) -> str:
    return " ".join(value.split())[:_VALUE_LIMIT]


def _pdf(data: bytes) -> dict[str, str]:
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
    return found


def _office(data: bytes) -> dict[str, str]:
    found: dict[str, str] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for part, fields in (("docProps/core.xml", _CORE), ("docProps/app.xml", _APP)):
            try:
                info = archive.getinfo(part)
            except KeyError:
                continue
            if info.file_size > _PROPERTIES_LIMIT:
                continue
            found.update(_properties(archive.read(part), fields))
    return found


def _properties(xml: bytes, fields: Mapping[str, str]) -> dict[str, str]:
    root = ET.fromstring(xml)  # noqa: S314 - see the module's note on expat
    return {
        fields[child.tag]: _clip(child.text)
        for child in root
        if child.tag in fields and child.text and child.text.strip()
    }
