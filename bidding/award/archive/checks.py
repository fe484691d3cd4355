"""The offline checks of a ``ggzy-archive/1`` bundle: the standard library and `certs` only.

In order, each problem naming the file, signature, ledger entry or checkpoint it is about:

1. the manifest: its format, and the platform key's signature over its exact bytes (the key is
   the one in the archive, or one the reader pins with ``--platform-key``);
2. every file the manifest lists: present, its size and SHA-256; nothing unlisted in the ZIP;
3. every document's signatures: detached CAdES (``certs.sign.cades.verify_detached``: digest,
   signature, signer binding, the signature timestamp) and the PDF's PAdES signatures and document
   timestamps (byte ranges found by `pdfsig`, the CMS checked by `certs`), as many as the manifest
   says, the last one covering the end of the file; each signer's certificate chained, link by
   link, to a root certificate in the archive (or one the reader pins with ``--trust``) and valid
   when it signed;
4. the tender's ledger chains (`chainrule.check_chain`);
5. the covering checkpoints: digest, platform signature, TSA token, and every entry hash they
   signed against the archive's entries, the chain's last entry signed by one of them;
6. each document's ledger anchor: the entry the manifest names records the document's SHA-256.

The report keeps every problem; the first one is what it names first.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bidding.award.archive import chainrule, pdfsig
from bidding.award.archive import format as fmt
from bidding.award.archive.chainrule import Problem
from certs import cms, keys, pem
from certs.errors import Refused
from certs.pathval import checks as pathchecks
from certs.sign.cades import verify_detached
from certs.tsa import client as tsa_client

_MAX_PATH = 8


@dataclass
class Report:
    """What was checked and what failed."""

    problems: list[Problem] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    files: int = 0
    bytes_checked: int = 0
    signatures: int = 0
    entries: int = 0
    chains: int = 0
    checkpoints: int = 0
    anchored: int = 0
    platform_key_id: str | None = None
    roots: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_failure(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def add(self, where: str, what: str) -> None:
        self.problems.append(Problem(where, what))

    def text(self) -> str:
        tender = self.manifest.get("tender", {})
        lines = [
            f"{self.manifest.get('format', '?')}  tender {tender.get('code', '?')} {tender.get('title', '')}".rstrip(),
            (
                f"version {self.manifest.get('version', '?')}, created {self.manifest.get('created_at', '?')}, "
                f"keep until {self.manifest.get('retention_until', '?')}"
            ),
            f"platform key {self.platform_key_id or '?'}",
            (
                f"checked {self.files} files ({self.bytes_checked} bytes), {self.signatures} signatures, "
                f"{self.entries} ledger entries in {self.chains} chains, {self.checkpoints} checkpoints, "
                f"{self.anchored} documents anchored in the ledger"
            ),
        ]
        lines.extend(f"certificate root: {root}" for root in self.roots)
        if self.ok:
            lines.append("OK: every file, signature, ledger entry and checkpoint checks out")
        else:
            lines.append(f"FAILED: {self.problems[0]}")
            if len(self.problems) > 1:
                lines.append(f"all {len(self.problems)} problems:")
                lines.extend(f"  - {problem}" for problem in self.problems)
        return "\n".join(lines)


def verify_archive(
    source: Path | str | bytes,
    *,
    platform_keys: Sequence[bytes] = (),
    trusted_roots: Sequence[bytes] = (),
) -> Report:
    """Check the archive at ``source`` (a path or the ZIP's bytes). ``platform_keys`` (PEM public
    keys) pin the platform key; ``trusted_roots`` (PEM certificates) pin the certificate roots.
    """
    report = Report()
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError) as exc:
        report.add("archive", f"not a readable ZIP file: {exc}")
        return report
    with archive:
        _Checker(archive, report, platform_keys, trusted_roots).run()
    return report


class _Checker:
    def __init__(
        self, archive: zipfile.ZipFile, report: Report, platform_keys: Sequence[bytes], trusted_roots: Sequence[bytes]
    ) -> None:
        self.archive = archive
        self.report = report
        self.pinned_keys = [keys.load_public_key(key) for key in platform_keys]
        self.pinned_roots = {pem.fingerprint(c) for raw in trusted_roots for c in pem.load_certificates(raw)}
        self.contents: dict[str, bytes] = {}
        self.key: keys.PublicKey | None = None
        self.by_subject: dict[Any, list[Any]] = {}
        self.links: dict[str, Any] = {}
        self.paths: dict[Any, tuple[tuple[Any, ...], str | None]] = {}
        self.listed: set[str] = set()
        self.roots: dict[str, Any] = {}
        self.decoded: dict[str, dict[int, chainrule.Entry]] = {}

    def run(self) -> None:
        manifest_bytes = self._read(fmt.MANIFEST)
        if manifest_bytes is None:
            return
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError as exc:
            self.report.add(fmt.MANIFEST, f"not JSON: {exc}")
            return
        if not isinstance(manifest, dict) or manifest.get("format") != fmt.FORMAT:
            self.report.add(fmt.MANIFEST, f"not a {fmt.FORMAT} manifest")
            return
        self.report.manifest = manifest
        try:
            self._check_manifest_signature(manifest_bytes)
            self._check_files(manifest["files"])
            self._load_certificates(manifest["files"])
            self._check_documents(manifest["files"])
            hashes = self._check_chains(manifest["ledger"]["chains"])
            self._check_checkpoints(hashes)
            self._check_anchors(manifest["files"])
        except (KeyError, TypeError, AttributeError) as exc:
            self.report.add(fmt.MANIFEST, f"a required field is missing or of the wrong type: {exc}")

    # --- 1. the manifest ---------------------------------------------------------------------------

    def _read(self, name: str) -> bytes | None:
        try:
            return self.archive.read(name)
        except KeyError:
            self.report.add(name, "missing from the archive")
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            self.report.add(name, f"cannot be read: {exc}")
        return None

    def _check_manifest_signature(self, manifest_bytes: bytes) -> None:
        raw_key = self._read(fmt.PLATFORM_KEY)
        raw_signature = self._read(fmt.MANIFEST_SIGNATURE)
        if raw_key is None or raw_signature is None:
            return
        try:
            self.key = keys.load_public_key(raw_key)
        except (ValueError, keys.UnusableKey) as exc:
            self.report.add(fmt.PLATFORM_KEY, f"not a platform public key: {exc}")
            return
        self.report.platform_key_id = keys.key_id(self.key)
        if self.pinned_keys and self.report.platform_key_id not in {keys.key_id(k) for k in self.pinned_keys}:
            self.report.add(fmt.PLATFORM_KEY, "the archive's platform key is not the one you pinned")
        try:
            signed = json.loads(raw_signature)
            signature = keys.Signature(signed["algorithm"], signed["key_id"], base64.b64decode(signed["value"]))
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            self.report.add(fmt.MANIFEST_SIGNATURE, f"cannot be read: {exc}")
            return
        if signature.key_id != self.report.platform_key_id or not keys.verify(self.key, signature, manifest_bytes):
            self.report.add(
                fmt.MANIFEST, "the platform's signature over the manifest does not verify (the manifest was changed)"
            )

    # --- 2. the files ------------------------------------------------------------------------------

    def _check_files(self, files: Sequence[Mapping[str, Any]]) -> None:
        listed = self.listed
        for entry in files:
            path = entry["path"]
            listed.add(path)
            data = self._read(path)
            if data is None:
                if entry["kind"] == fmt.SIGNATURE:
                    self.report.problems[-1] = Problem(
                        path, "the signature file is missing (the signature was removed)"
                    )
                continue
            self.contents[path] = data
            self.report.files += 1
            self.report.bytes_checked += len(data)
            if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
                self.report.add(path, "its SHA-256 or size differs from the manifest (the file was altered)")
        for name in self.archive.namelist():
            if name not in listed and name not in {fmt.MANIFEST, fmt.MANIFEST_SIGNATURE}:
                self.report.add(name, "in the archive but not in the manifest")

    def _load_certificates(self, files: Sequence[Mapping[str, Any]]) -> None:
        for entry in files:
            if entry["kind"] != fmt.CERTIFICATE or entry["path"] not in self.contents:
                continue
            try:
                loaded = pem.load_certificates(self.contents[entry["path"]])
            except ValueError as exc:
                self.report.add(entry["path"], f"not a PEM certificate: {exc}")
                continue
            for certificate in loaded:
                self.by_subject.setdefault(certificate.subject, []).append(certificate)
                if pathchecks.is_self_issued(certificate):
                    digest = pem.fingerprint(certificate)
                    if not self.pinned_roots or digest in self.pinned_roots:
                        self.roots[digest] = certificate
        self.report.roots = [f"{pem.subject(c)} (SHA-256 {d})" for d, c in sorted(self.roots.items())]

    # --- 3. the documents' signatures --------------------------------------------------------------

    def _check_documents(self, files: Sequence[Mapping[str, Any]]) -> None:
        for entry in files:
            if entry["kind"] in fmt.NOT_DOCUMENTS:
                continue
            path = entry["path"]
            data = self.contents.get(path)
            if data is None:
                continue
            for signature in entry["signatures"]:
                if signature["type"] == fmt.CADES_DETACHED:
                    self._check_cades(path, data, signature["path"])
                elif signature["type"] == fmt.PADES:
                    self._check_pades(path, data, signature["count"])
                else:
                    self.report.add(path, f"unknown signature type {signature['type']!r}")

    def _check_cades(self, path: str, data: bytes, signature_path: str) -> None:
        der = self.contents.get(signature_path)
        if der is None:
            if signature_path not in self.listed:  # a listed one that is missing is named already
                self.report.add(
                    path, f"its signature {signature_path} is not in the manifest (the signature was removed)"
                )
            return
        where = f"{path} (signature {signature_path})"
        try:
            verified = verify_detached(data, der)
        except Refused as refusal:
            self.report.add(where, f"the signature does not verify: {refusal.reason.value}: {refusal.text}")
            return
        self.report.signatures += 1
        self._check_path(where, verified.signer_certificate, verified.certificates, verified.best_signature_time)
        if verified.timestamp is not None:  # the token dates the signature: its TSA must chain to a root too
            stamp = verified.timestamp
            self._check_path(f"{where} timestamp", stamp.tsa_certificate, stamp.certificates, stamp.gen_time)

    def _check_pades(self, path: str, data: bytes, count: int) -> None:
        try:
            found = pdfsig.signatures(data)
        except pdfsig.PdfSignatureError as exc:
            self.report.add(path, str(exc))
            return
        if len(found) != count:
            self.report.add(
                path, f"the manifest lists {count} PDF signatures, the file has {len(found)} (a signature was removed)"
            )
        tail = pdfsig.uncovered_tail(data, found)
        if tail:
            self.report.add(path, f"{tail} bytes at the end of the PDF are covered by no signature")
        for index, signature in enumerate(found, start=1):
            where = f"{path} (PDF signature {index})"
            signed = signature.signed_bytes(data)
            try:
                if _is_timestamp(signature.contents):
                    stamp = tsa_client.verify_token(signature.contents, data=signed)
                    self.report.signatures += 1
                    self._check_path(where, stamp.tsa_certificate, stamp.certificates, stamp.gen_time)
                    continue
                verified = verify_detached(signed, signature.contents)
            except Refused as refusal:
                self.report.add(where, f"the signature does not verify: {refusal.reason.value}: {refusal.text}")
                continue
            self.report.signatures += 1
            self._check_path(where, verified.signer_certificate, verified.certificates, verified.best_signature_time)

    def _check_path(self, where: str, certificate: Any, embedded: Iterable[Any], at: datetime | None) -> None:
        """A chain from ``certificate`` to a root in the archive, every link's signature and every
        certificate's validity at ``at`` (the signature's time).
        """
        path = self.paths.get(certificate)
        if path is None:
            path = self.paths[certificate] = self._path(certificate, embedded)
        links, ending = path
        for current in links:
            if at is not None:
                try:
                    pathchecks.check_validity(current, at)
                except Refused as refusal:
                    self.report.add(where, f"{pem.subject(current)} was not valid when it signed: {refusal.text}")
                    return
        if ending is not None:
            self.report.add(where, ending)

    def _path(self, certificate: Any, embedded: Iterable[Any]) -> tuple[tuple[Any, ...], str | None]:
        """The certificates from ``certificate`` up to its root, each link's signature checked, and
        what ends the chain short of a root in the archive (None when it reaches one). Worked out
        once per signer certificate (equal by DER): only the validity at each signature's time
        differs between the signatures of one signer, and `_check_path` checks it every time.
        """
        links: list[Any] = []
        current = certificate
        for _ in range(_MAX_PATH):
            links.append(current)
            if pathchecks.is_self_issued(current):
                if pem.fingerprint(current) not in self.roots:
                    return tuple(links), f"the chain ends at {pem.subject(current)}, not a root in the archive"
                return tuple(links), None
            issuer = self._issuer(current, embedded)
            if isinstance(issuer, str):
                return tuple(links), issuer
            current = issuer
        return tuple(links), "the certificate chain is too long"

    def _issuer(self, certificate: Any, embedded: Iterable[Any]) -> Any:
        """The certificate's issuer, its link signature checked (once per certificate: thousands of
        signatures share a few signers and CAs); a string saying what failed otherwise.
        """
        key = pem.fingerprint(certificate)
        known = self.links.get(key)
        if known is not None:
            return known
        candidates = [c for c in embedded if pathchecks.could_issue(c, certificate)]
        candidates += [c for c in self.by_subject.get(certificate.issuer, []) if pathchecks.could_issue(c, certificate)]
        if not candidates:
            found: Any = f"no issuer of {pem.subject(certificate)} in the archive"
        else:
            try:
                pathchecks.check_link_signature(certificate, candidates[0])
                found = candidates[0]
            except Refused as refusal:
                found = refusal.text
        self.links[key] = found
        return found

    # --- 4. and 5. the ledger ----------------------------------------------------------------------

    def _check_chains(self, chains: Sequence[Mapping[str, Any]]) -> dict[str, dict[int, bytes]]:
        hashes: dict[str, dict[int, bytes]] = {}
        code = self.report.manifest["tender"]["code"]
        for described in chains:
            chain, path = described["chain"], described["path"]
            if chain not in {f"project:{code}", f"sealed:{code}"}:
                self.report.add(path, f"chain {chain} is not tender {code}'s")
            data = self.contents.get(path)
            if data is None:
                continue
            rows: list[tuple[int, bytes, bytes]] = []
            try:
                for line in data.splitlines():
                    row = json.loads(line)
                    rows.append((row["seq"], bytes.fromhex(row["hash"]), base64.b64decode(row["preimage"])))
            except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                self.report.add(path, f"line {len(rows) + 1} cannot be read: {exc}")
                continue
            problems, decoded = chainrule.check_chain(chain, rows)
            self.report.problems.extend(problems)
            head = (rows[-1][0], rows[-1][1].hex()) if rows else (0, "")
            if head != (described["head_seq"], described["head_hash"]):
                self.report.add(path, "the chain does not end at the head the manifest names")
            self.report.entries += len(rows)
            self.report.chains += 1
            hashes[chain] = {seq: stored for seq, stored, _ in rows}
            self.decoded[chain] = {entry.seq: entry for entry in decoded}
        return hashes

    def _check_checkpoints(self, hashes: Mapping[str, Mapping[int, bytes]]) -> None:
        data = self.contents.get(fmt.CHECKPOINTS)
        if data is None:
            return
        try:
            copies = json.loads(data)
        except ValueError as exc:
            self.report.add(fmt.CHECKPOINTS, f"not JSON: {exc}")
            return
        by_chain: dict[str, list[chainrule.Claim]] = {}
        for copy in copies:
            for chain, claim in self._check_checkpoint(copy).items():
                by_chain.setdefault(chain, []).append(claim)
        for chain, chain_hashes in hashes.items():
            self.report.problems.extend(chainrule.check_claims(chain, chain_hashes, by_chain.get(chain, [])))

    def _check_checkpoint(self, copy: Mapping[str, Any]) -> dict[str, chainrule.Claim]:
        """One checkpoint on its own terms; returns what it claims about each chain."""
        where = f"checkpoint {copy.get('number', '?')}"
        try:
            message = chainrule.checkpoint_message(copy)
            claims = chainrule.claims(copy)
            digest = bytes.fromhex(copy["digest"])
            raw = copy["signature"]
            signature = keys.Signature(raw["algorithm"], raw["key_id"], base64.b64decode(raw["value"]))
        except (chainrule.Malformed, KeyError, TypeError, ValueError, binascii.Error) as exc:
            self.report.add(where, f"cannot be read: {exc}")
            return {}
        self.report.checkpoints += 1
        if hashlib.sha256(message).digest() != digest:
            self.report.add(where, "its digest does not match its content (the checkpoint was changed)")
        if self.key is None or not keys.verify(self.key, signature, message):
            self.report.add(where, "the platform's signature does not verify")
        token = copy.get("timestamp_token")
        if token:
            try:
                tsa_client.verify_token(base64.b64decode(token), digest=digest, digest_name="sha256")
            except (Refused, ValueError, binascii.Error) as exc:
                self.report.add(where, f"its TSA token does not hold: {exc}")
        return claims

    # --- 6. the documents in the ledger ------------------------------------------------------------

    def _check_anchors(self, files: Sequence[Mapping[str, Any]]) -> None:
        for entry in files:
            anchor = entry.get("recorded_by")
            if not anchor:
                continue
            recorded = self.decoded.get(anchor["chain"], {}).get(anchor["seq"])
            if recorded is None or entry["sha256"] not in recorded.summary_json:
                self.report.add(
                    entry["path"],
                    f"ledger {anchor['chain']} seq {anchor['seq']} does not record this file's SHA-256",
                )
            else:
                self.report.anchored += 1


def _is_timestamp(der: bytes) -> bool:
    """A document timestamp (RFC 3161 token) rather than a signature."""
    try:
        info = cms.load_content_info(der)
        return bool(info["content"]["encap_content_info"]["content_type"].native == "tst_info")
    except (Refused, ValueError, KeyError, TypeError):
        return False
