"""The archive builder: one ``ggzy-archive/1`` bundle of a tender, written once.

`build_archive` runs in the caller's unit of work (the CLI's, later the award stage's closing
step) and only flushes:

1. locks the tender row (two builds of one tender queue up) and refuses a tender still taking
   bids (``archive-after-deadline``);
2. signs a checkpoint (`trading.ledger.service.create_checkpoint`) so that the chain's head as
   archived is covered by a signed, timestamped checkpoint inside the archive itself;
3. assembles every published and signed document by kind: the tender documents, clarifications
   and amendments with their detached CAdES signatures; every bid version's receipt (the
   platform's CAdES-B-T) and the bidder's signed manifest or withdrawal statement; and the PDFs the
   ledger records as published (`PUBLISHED_PDFS`: the opening record, the evaluation report; the
   award stage adds its notices and contract with `register_published_pdf`), the latest revision
   per subject;
4. the tender's ledger chains (``project:`` and, once unsealed, ``sealed:``) with every entry's
   preimage, the checkpoints that sign them, the platform's public key, and the certificates that
   chain every signer to its root;
5. a manifest (every file's kind, path, size, SHA-256, signatures and the ledger entry recording
   it) signed by the platform key; the ZIP is stored content-addressed (namespace ``archives``:
   never overwritten) and the ledger records it (``bidding.tender_archived``, its SHA-256).

**Versioned, not refused**: the tender's record can still grow after an archive is written (an
archive taken at the end of the evaluation before the award stage existed; a complaint decided
later), and an immutable archive cannot be amended, so a later build writes version n + 1, which
names its predecessor's SHA-256; earlier versions stay as they were. A build that would add
nothing (the chains have not moved since the latest version's entry) is refused
(``archive-unchanged``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import structlog
from cryptography import x509
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award.archive import format as fmt
from bidding.award.archive import pdfsig
from bidding.award.archive.repository import ArchiveRepository
from bidding.award.rules import Sector, retained_until, shipped_rules
from bidding.errors import TenderStateConflict
from bidding.models import DocumentKind, Tender, TenderStatus, VersionKind
from certs import cms, keys, pem
from certs.errors import Refused
from certs.pathval import checks as pathchecks
from certs.sign.cades import SIGNATURE_TIMESTAMP
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.engine import create_engine, create_session_maker
from trading.kernel.db.uow import transaction
from trading.kernel.errors import NotFound
from trading.kernel.settings import Settings
from trading.kernel.storage import FileStore, Store, open_store
from trading.ledger import service as ledger
from trading.ledger.models import LedgerEntry
from trading.parties.certificates.trust import PlatformRefused, registry_in_force

log = structlog.get_logger(__name__)

ARCHIVES_NAMESPACE: Final = "archives"
ARCHIVED: Final = "bidding.tender_archived"
_DOCUMENT_KINDS: Final = {
    DocumentKind.TENDER_DOCUMENT: fmt.TENDER_DOCUMENT,
    DocumentKind.CLARIFICATION: fmt.CLARIFICATION,
    DocumentKind.AMENDMENT: fmt.AMENDMENT,
}
_OPEN_FOR_BIDS: Final = frozenset({TenderStatus.DRAFT, TenderStatus.PUBLISHED})
_CHAIN_LINK_LIMIT: Final = 8


@dataclass(frozen=True)
class PublishedPdf:
    """A signed PDF the ledger records as published: its kind, its file-store namespace, and the
    summary key naming its SHA-256 (the latest such entry per subject is the current revision).
    """

    kind: str
    namespace: str
    digest_key: str = "pdfSha256"


PUBLISHED_PDFS: dict[str, PublishedPdf] = {
    "bidding.opening_record_published": PublishedPdf(fmt.OPENING_RECORD, "records"),
    "bidding.opening_record_host_signed": PublishedPdf(fmt.OPENING_RECORD, "records"),
    "evaluation.report_rendered": PublishedPdf(fmt.EVALUATION_REPORT, "evaluation-reports"),
    "evaluation.report_signed": PublishedPdf(fmt.EVALUATION_REPORT, "evaluation-reports"),
}


def register_published_pdf(action: str, document: PublishedPdf) -> None:
    """Archive the PDFs ledger entries of ``action`` publish (the award's notices and contract)."""
    PUBLISHED_PDFS[action] = document


@dataclass(frozen=True)
class BuiltArchive:
    code: str
    version: int
    sha256: str
    size: int
    storage_key: str
    created_at: datetime
    retention_until: datetime
    files: int
    entries: int


@dataclass
class _Bundle:
    """The files as they are added, with their manifest rows."""

    files: dict[str, bytes] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    cms: list[bytes] = field(default_factory=list)
    """Every CMS in the archive, for the certificates that chain their signers to a root."""
    anchors: dict[str, tuple[str, int]] = field(default_factory=dict)
    """SHA-256 → the first ledger entry (chain, seq) whose summary names it."""

    def add(self, path: str, kind: str, data: bytes, **extra: Any) -> dict[str, Any]:
        if path in self.files:
            msg = f"{path} is already in the archive"
            raise ValueError(msg)
        self.files[path] = data
        row = {"path": path, "kind": kind, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), **extra}
        self.rows.append(row)
        return row

    def add_signed(self, path: str, kind: str, data: bytes, signature: bytes) -> dict[str, Any]:
        signature_path = f"{path}.p7s"
        row = self.add(path, kind, data, signatures=[{"type": fmt.CADES_DETACHED, "path": signature_path}])
        self.add(signature_path, fmt.SIGNATURE, signature, signs=path)
        self.cms.append(signature)
        return row

    def add_pdf(self, path: str, kind: str, data: bytes) -> dict[str, Any]:
        found = pdfsig.signatures(data)
        self.cms.extend(signature.contents for signature in found)
        return self.add(path, kind, data, signatures=[{"type": fmt.PADES, "count": len(found)}])


async def build_archive(
    session: AsyncSession, settings: Settings, store: Store, code: str, *, actor: Actor
) -> BuiltArchive:
    """Build, store and record the tender's next archive version (see the module docstring)."""
    repository = ArchiveRepository(session)
    tender = await repository.tender_for_update(code)
    if tender is None:
        raise NotFound(f"no tender {code}", field="code", rule="exists")
    if tender.status in _OPEN_FOR_BIDS:
        raise TenderStateConflict(
            "a tender is archived once its bid deadline has passed", field="code", rule="archive-after-deadline"
        )
    private_key = ledger.platform_private_key(settings)
    project_chain, sealed_chain = ledger.chain_for(code), ledger.chain_for(code, sealed=True)
    previous = [entry for entry in await repository.entries(project_chain) if entry.action == ARCHIVED]
    if previous and await _unchanged_since(repository, previous[-1], project_chain, sealed_chain):
        raise TenderStateConflict(
            "nothing was recorded for the tender since its latest archive", field="code", rule="archive-unchanged"
        )
    # The archive's chains end where this checkpoint signs them: nothing of them is unwitnessed.
    await ledger.create_checkpoint(session, private_key=private_key)
    now = await clock.now(session)
    award_rules, sector = shipped_rules(), Sector.of_category(tender.category.value)
    retention_years = award_rules.archive_retention_years[sector]
    retention_until = retained_until(now, sector, award_rules)

    bundle = _Bundle()
    await _add_documents(bundle, repository, store, tender)
    chains = [project_chain, *([sealed_chain] if await repository.unsealed(sealed_chain) else [])]
    chain_rows = await _add_ledger(bundle, repository, store, chains)
    bundle.add(fmt.PLATFORM_KEY, fmt.PLATFORM_PUBLIC_KEY, keys.public_key_pem(private_key))
    for certificate in await _certificates(session, settings, now, bundle.cms):
        bundle.add(f"certificates/{pem.fingerprint(certificate)}.pem", fmt.CERTIFICATE, pem.to_pem(certificate))
    for row in bundle.rows:
        if row["kind"] not in fmt.NOT_DOCUMENTS and row["sha256"] in bundle.anchors:
            chain, seq = bundle.anchors[row["sha256"]]
            row["recorded_by"] = {"chain": chain, "seq": seq}

    version = len(previous) + 1
    manifest = {
        "format": fmt.FORMAT,
        "tender": {
            "code": code,
            "id": str(tender.id),
            "title": tender.title,
            "status": tender.status.value,
            "tenderee": await repository.organisation_name(tender.tenderee_organisation_id),
            "agency": await repository.organisation_name(tender.agency_organisation_id),
        },
        "version": version,
        "supersedes": json.loads(previous[-1].summary_json).get("archiveSha256") if previous else None,
        "created_at": now.isoformat(),
        "retention_years": retention_years,
        "retention_until": retention_until.isoformat(),
        "platform_key_id": keys.key_id(private_key.public_key()),
        "ledger": {"chains": chain_rows, "checkpoints": fmt.CHECKPOINTS},
        "files": bundle.rows,
    }
    manifest_bytes = json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True).encode()
    archive = _zip(manifest_bytes, _signature(private_key, manifest_bytes), bundle.files)
    digest = hashlib.sha256(archive).hexdigest()
    key = FileStore.key_for(ARCHIVES_NAMESPACE, digest)
    if store.exists(key):  # content-addressed and written once: never overwrite
        raise TenderStateConflict("this archive is already stored", field="code", rule="archive-unchanged")
    store.put(ARCHIVES_NAMESPACE, digest, archive)
    entries = sum(row["entries"] for row in chain_rows)
    await ledger.append_entry(
        session,
        actor=actor,
        action=ARCHIVED,
        subject_type="bidding.tender",
        subject_id=str(tender.id),
        summary={
            "archiveSha256": digest,
            "version": version,
            "files": len(bundle.rows),
            "entries": entries,
            "retentionUntil": retention_until.isoformat(),
        },
        data={"manifestSha256": hashlib.sha256(manifest_bytes).hexdigest(), "storageKey": key},
        project_code=code,
    )
    log.info("bidding.tender_archived", tender=code, version=version, sha256=digest, size=len(archive))
    return BuiltArchive(code, version, digest, len(archive), key, now, retention_until, len(bundle.rows), entries)


async def _add_documents(bundle: _Bundle, repository: ArchiveRepository, store: Store, tender: Tender) -> None:
    """The tender documents, clarifications and amendments; every receipt and bidder statement."""
    for document in await repository.published_documents(tender.id):
        kind = _DOCUMENT_KINDS[document.kind]
        path = f"documents/{kind}/{document.sha256[:16]}-{_safe(document.filename)}"
        bundle.add_signed(path, kind, await store.read_bytes(document.storage_key), bytes(document.signature))
    for version, lot in await repository.bid_versions(tender.id):
        receipt = f"receipts/{version.receipt_no}.json"
        bundle.add_signed(receipt, fmt.RECEIPT, bytes(version.receipt), bytes(version.receipt_signature))
        if version.manifest is not None and version.manifest_signature is not None:
            # a withdrawal or revocation keeps its signed statement where a submission keeps its manifest
            name = "manifest" if version.kind == VersionKind.SUBMISSION else version.kind.value
            path = f"bids/{_safe(lot)}/{version.receipt_no}.{name}.json"
            bundle.add_signed(path, fmt.BID_MANIFEST, bytes(version.manifest), bytes(version.manifest_signature))


async def _add_ledger(
    bundle: _Bundle, repository: ArchiveRepository, store: Store, chains: list[str]
) -> list[dict[str, Any]]:
    """The chains (every entry with its preimage), the PDFs they record as published, the
    checkpoints that sign them; returns the manifest's chain rows.
    """
    rows: list[dict[str, Any]] = []
    for chain in chains:
        entries = await repository.entries(chain)
        if not entries:
            continue
        await _add_published_pdfs(bundle, store, entries)
        for entry in entries:
            for digest in _digests_in(entry.summary_json):
                bundle.anchors.setdefault(digest, (chain, entry.seq))
        lines = b"".join(
            fmt.canonical_json(
                {"seq": e.seq, "hash": bytes(e.entry_hash).hex(), "preimage": base64.b64encode(e.preimage()).decode()}
            )
            + b"\n"
            for e in entries
        )
        path = fmt.chain_path(chain)
        bundle.add(path, fmt.LEDGER_CHAIN, lines)
        head = entries[-1]
        rows.append(
            {
                "chain": chain,
                "path": path,
                "entries": len(entries),
                "head_seq": head.seq,
                "head_hash": bytes(head.entry_hash).hex(),
            }
        )
    checkpoints = [ledger.published_checkpoint(c) for c in await repository.checkpoints_naming(chains)]
    bundle.add(fmt.CHECKPOINTS, fmt.LEDGER_CHECKPOINTS, json.dumps(checkpoints, indent=1, ensure_ascii=False).encode())
    bundle.cms.extend(base64.b64decode(c["timestamp_token"]) for c in checkpoints if c["timestamp_token"])
    return rows


def _signature(private_key: keys.PrivateKey, manifest: bytes) -> bytes:
    signature = keys.sign(private_key, manifest)
    value = base64.b64encode(signature.value).decode()
    return fmt.canonical_json({"algorithm": signature.algorithm, "key_id": signature.key_id, "value": value})


async def _unchanged_since(
    repository: ArchiveRepository, latest: LedgerEntry, project_chain: str, sealed_chain: str
) -> bool:
    project = await repository.entries(project_chain)
    if project[-1].seq != latest.seq:
        return False
    sealed = await repository.entries(sealed_chain)
    return not sealed or sealed[-1].occurred_at <= latest.occurred_at


async def _add_published_pdfs(bundle: _Bundle, store: Store, entries: Iterable[LedgerEntry]) -> None:
    """The latest revision per (kind, subject) of every PDF the chain records as published."""
    latest: dict[tuple[str, str], tuple[PublishedPdf, str]] = {}
    for entry in entries:
        document = PUBLISHED_PDFS.get(entry.action)
        if document is None:
            continue
        digest = json.loads(entry.summary_json).get(document.digest_key)
        if isinstance(digest, str):
            latest[(document.kind, entry.subject_id)] = (document, digest)
    for (kind, subject), (document, digest) in latest.items():
        data = await store.read_bytes(store.key_for(document.namespace, digest))
        bundle.add_pdf(f"documents/{kind}/{_safe(subject)}.pdf", kind, data)


def _digests_in(summary_json: str) -> list[str]:
    """The SHA-256 values a summary names (the documents its entry records)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):  # noqa: PLR2004
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(summary_json))
    return found


def _embedded_certificates(der: bytes) -> list[x509.Certificate]:
    """The certificates a CMS carries, and those of the timestamp tokens in its unsigned attributes."""
    try:
        info = cms.load_content_info(der)
        signed = info["content"]
        found = [cms.from_asn1(c.chosen) for c in signed["certificates"] if c.name == "certificate"]
        for signer_info in signed["signer_infos"]:
            for token in cms.unsigned_attribute(signer_info, SIGNATURE_TIMESTAMP):
                found.extend(_embedded_certificates(bytes(token.dump())))
    except (Refused, ValueError, KeyError, TypeError):
        return []
    return found


async def _certificates(
    session: AsyncSession, settings: Settings, now: datetime, signatures: Iterable[bytes]
) -> list[x509.Certificate]:
    """Every certificate on the way from each signer to its root: the embedded ones and the
    recognised CAs of the trust list in force that issue them.
    """
    embedded: dict[str, x509.Certificate] = {}
    for der in signatures:
        for certificate in _embedded_certificates(der):
            embedded.setdefault(pem.fingerprint(certificate), certificate)
    try:
        listed = (await registry_in_force(session, settings, now)).certificates()
    except (PlatformRefused, Refused):
        listed = []
    pool = [*embedded.values(), *listed]
    needed = dict(embedded)
    for certificate in list(embedded.values()):
        current = certificate
        for _ in range(_CHAIN_LINK_LIMIT):
            if pathchecks.is_self_issued(current):
                break
            issuer = next((c for c in pool if pathchecks.could_issue(c, current)), None)
            if issuer is None:
                break
            needed.setdefault(pem.fingerprint(issuer), issuer)
            current = issuer
    return [needed[key] for key in sorted(needed)]


def _zip(manifest: bytes, signature: bytes, files: Mapping[str, bytes]) -> bytes:
    """The ZIP: manifest first, then its signature, then the files in manifest order. Stored, not
    deflated: PDFs and signatures hardly compress, and the verifier then hashes without inflating.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in ((fmt.MANIFEST, manifest), (fmt.MANIFEST_SIGNATURE, signature), *files.items()):
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            archive.writestr(info, data)
    return buffer.getvalue()


_SAFE: Final[Callable[[str], bool]] = lambda c: c.isalnum() or c in "._-"  # noqa: E731


def _safe(name: str) -> str:
    """A file name for the ZIP: letters (CJK too), digits and ``._-``; anything else ``_``."""
    return "".join(c if _SAFE(c) else "_" for c in name)[:120] or "file"


async def archive_with_settings(settings: Settings, code: str) -> tuple[BuiltArchive, bytes]:
    """``ggzy tender archive CODE``: one build in its own unit of work on the configured database;
    returns the archive and its stored bytes.
    """
    engine = create_engine(settings.db.url, pool_size=1, busy_timeout_ms=settings.db.sqlite_busy_timeout_ms)
    store = open_store(settings)
    try:
        async with transaction(create_session_maker(engine), lock=True) as session:
            built = await build_archive(session, settings, store, code, actor=Actor.system())
    finally:
        await engine.dispose()
    return built, await store.read_bytes(built.storage_key)
