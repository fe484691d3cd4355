"""The bidder's SDK: build, seal and sign a ``ggzy-bid/1`` container, open it again, verify receipts.

This is the counterpart of the offline bid-authoring tools (Order 20 Art. 26): everything happens
on the bidder's machine, and only sealed envelopes and the signed public manifest leave it. The
container layout is `bidding.client.format`; this module produces it and signs what the bidder
sends at the opening. Reading a container again is `reading`, the price summary `price_summary`,
receipts `receipts`; the SDK names them all in ``__all__``.

Memory: files are hashed and zipped from disk in chunks, and the sealed package is written to the
container in slices, but `certs.envelope.sealed_bid.seal` takes the whole plaintext as bytes (one
AES-GCM call), so building holds the inner package plaintext and its ciphertext once each (about
twice the package size) for the time of sealing. That is an accepted limit of the envelope API.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Final

from cryptography import x509

from bidding.client import format as fmt
from bidding.client import parties
from bidding.client.fingerprint import DeviceFingerprint
from bidding.client.price_summary import PriceSummary
from bidding.client.problems import BidBuildError, ContentMismatch
from bidding.client.reading import (
    INNER_MANIFEST,
    InspectedBid,
    OpenedPackage,
    check_package,
    expected_binding,
    open_package,
    open_price_summary,
    read_built,
    read_sealed,
)
from bidding.client.receipts import ReceiptInvalid, chain_to_roots, load_pem_certificates, verify_receipt
from certs.canonical import canonical_json
from certs.cms import SigningIdentity
from certs.envelope import cms_env, cms_recipients
from certs.envelope.keywrap import UnwrapKey
from certs.envelope.sealed_bid import (
    AES_256_GCM,
    BidBinding,
    Recipient,
    Sealed,
    parse_header,
    release_share,
    seal,
    unwrap_content_key,
)
from certs.errors import Refused
from certs.sign.cades import sign_detached
from certs.sign.pades import SealAppearance, sign_pdf
from certs.sign.seal import render_seal_image
from certs.tsa.client import TsaTransport

__all__ = [
    "BACKUP_FILES",
    "HOST_RECORD_FIELD",
    "BidBuildError",
    "BuiltBid",
    "ContentMismatch",
    "InspectedBid",
    "OpenedPackage",
    "PriceSummary",
    "ReceiptInvalid",
    "bind_part",
    "build_container",
    "build_container_async",
    "chain_to_roots",
    "check_package",
    "content_keys",
    "expected_binding",
    "file_digest",
    "holder_shares",
    "load_pem_certificates",
    "open_package",
    "open_price_summary",
    "price_table_sha256",
    "read_built",
    "read_sealed",
    "sign_contract",
    "sign_notice",
    "sign_record",
    "sign_report",
    "sign_statement_async",
    "verify_receipt",
]

_WRITE_SLICE: Final = 1024 * 1024


@dataclass(frozen=True)
class BuiltBid:
    """A container on disk, with the digests the server's receipt will repeat."""

    path: Path
    size: int
    sha256: str
    manifest: bytes
    signature: bytes
    part_sha256: dict[str, str]
    content_sha256: dict[str, str]
    binding: BidBinding

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest).hexdigest()


def file_digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(fmt.CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _check_response(path: Path, *, tender: str, lot: str, bidder: str) -> None:
    """What the client can check of a structured response without the platform's reader: a JSON
    object of a known format naming this tender, lot and bidder, within the size limit, whose
    declared parties (`bidding.client.parties`) break no rule.
    """
    if not path.is_file():
        raise BidBuildError(f"{path} is not a file")
    if path.stat().st_size > fmt.RESPONSE_LIMIT:
        raise BidBuildError(f"the response is larger than {fmt.RESPONSE_LIMIT // (1024 * 1024)} MB")
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BidBuildError(f"the response is not JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") not in fmt.RESPONSE_FORMATS:
        known = ", ".join(sorted(fmt.RESPONSE_FORMATS))
        raise BidBuildError(f"the response's format must be one of: {known}")
    named = (document.get("tender"), document.get("lot"), document.get("bidder"))
    if named != (tender, lot, bidder):
        raise BidBuildError(f"the response names {'/'.join(map(str, named))}, not {tender}/{lot}/{bidder}")
    declared = parties.problems(document)  # issue 19: project manager, contacts, a cash bond's account
    if declared:
        raise BidBuildError("the response's declared parties break a rule: " + "; ".join(map(str, declared)))


@dataclass(frozen=True, slots=True)
class RequirementProblem:
    """Where a response does not answer the requirement set: the rule, the JSON path and the code
    (★ item, qualification or bill line) it is about. The browser's sealing page checks the same
    rules with the same names (``bidding/static/js/response_check.js``).
    """

    rule: str
    path: str
    code: str

    def __str__(self) -> str:
        return _PROBLEM_WORDS[self.rule].format(path=self.path, code=self.code)


_PROBLEM_WORDS: Final = {
    "tender-match": "{path}: the response is for {code}",
    "qualification-claimed": "{path}: no claim for qualification requirement {code}",
    "star-answered": "{path}: no response to ★ item {code}",
    "bill-priced": "{path}: line {code} of the bill of quantities is not priced",
    "bill-listed": "{path}: line {code} is not in the bill of quantities",
}


def requirement_problems(answer: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[RequirementProblem]:
    """The rules of `check_against_requirements` over the decoded documents, in their order:
    ``tender-match`` (the same tender and lot), ``qualification-claimed`` (a claim whose ``ref`` is
    each qualification requirement's code), ``star-answered`` (a response to every ★ item),
    ``bill-priced`` and ``bill-listed`` (the bill's line codes exactly the set's).
    """
    problems = []
    if (answer.get("tender"), answer.get("lot")) != (wanted.get("tender"), wanted.get("lot")):
        problems.append(RequirementProblem("tender-match", "$.tender", f"{answer.get('tender')}/{answer.get('lot')}"))

    def codes(items: Any, key: str) -> list[str]:
        return [str(i.get(key)) for i in (items if isinstance(items, list) else []) if isinstance(i, dict)]

    claimed = set(codes(answer.get("qualifications"), "ref"))
    required = codes(wanted.get("qualifications"), "code")
    problems += [
        RequirementProblem("qualification-claimed", "$.qualifications", c) for c in required if c not in claimed
    ]
    answered = set(codes(answer.get("starResponses"), "item"))
    stars = codes(wanted.get("starItems"), "code")
    problems += [RequirementProblem("star-answered", "$.starResponses", c) for c in stars if c not in answered]
    priced, listed = codes(answer.get("bill"), "code"), codes(wanted.get("bill"), "code")
    problems += [RequirementProblem("bill-priced", "$.bill", c) for c in listed if c not in priced]
    problems += [RequirementProblem("bill-listed", "$.bill", c) for c in priced if c not in listed]
    return problems


def check_against_requirements(response: Path, requirements: Path) -> list[str]:
    """Where a structured response does not answer the tender's published requirement set, as
    far as the client can tell without the platform's reader: the same tender and lot, a claim for
    every qualification requirement, a response to every ★ item, the bill's line codes exactly the
    set's (`requirement_problems`). Empty when nothing is found.
    """
    try:
        answer = json.loads(response.read_bytes())
        wanted = json.loads(requirements.read_bytes())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise BidBuildError(f"cannot read the response or the requirement set: {exc}") from None
    if not isinstance(answer, dict) or not isinstance(wanted, dict):
        raise BidBuildError("the response and the requirement set are JSON objects")
    return [str(problem) for problem in requirement_problems(answer, wanted)]


def _inner_entries(files: Sequence[Path]) -> list[dict[str, Any]]:
    entries = []
    seen: set[str] = set()
    for path in files:
        name = path.name
        if not path.is_file():
            raise BidBuildError(f"{path} is not a file")
        if name == INNER_MANIFEST or name in seen:
            raise BidBuildError(f"two package files would be named {name!r}; rename one")
        seen.add(name)
        size, sha256 = file_digest(path)
        entries.append({"name": name, "size": size, "sha256": sha256})
    if not entries:
        raise BidBuildError("a bid package needs at least one file")
    return entries


def _write_inner_package(target: BinaryIO, manifest: bytes, files: Sequence[Path]) -> None:
    # Deflate is fine inside: this ZIP is encrypted as a whole, its entries are never seen outside.
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(INNER_MANIFEST, manifest)
        for path in files:
            archive.write(path, arcname=path.name)


def _read_inner_package(manifest: bytes, files: Sequence[Path], work_dir: Path) -> bytes:
    """The inner ZIP's bytes, written through a temporary file so only one copy is ever in memory."""
    handle, name = tempfile.mkstemp(prefix=".ggzy-inner-", suffix=".zip", dir=work_dir)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "w+b") as stream:
            _write_inner_package(stream, manifest, files)
            stream.seek(0)
            return stream.read()
    finally:
        temporary.unlink(missing_ok=True)


def _write_envelope(archive: zipfile.ZipFile, name: str, sealed: Sealed | bytes) -> tuple[int, str]:
    """Write ``sealed`` as a STORED entry slice by slice (no joined copy, as ``to_bytes`` would make)."""
    chunks = [memoryview(c) for c in ((sealed,) if isinstance(sealed, bytes) else sealed.chunks())]
    size = sum(len(c) for c in chunks)
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size
    digest = hashlib.sha256()
    with archive.open(info, "w", force_zip64=size >= zipfile.ZIP64_LIMIT) as entry:
        for chunk in chunks:
            for start in range(0, len(chunk), _WRITE_SLICE):
                piece = chunk[start : start + _WRITE_SLICE]
                digest.update(piece)
                entry.write(piece)
    return size, digest.hexdigest()


def _write_small(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    archive.writestr(info, data)


def _sign(manifest: bytes, signer: SigningIdentity) -> bytes:
    # sign_detached is async only because a TSA may be asked; without one nothing awaits, so a
    # private loop is cheap. Callers inside a loop go through build_container_async (a thread).
    return asyncio.run(sign_detached(manifest, signer))


def _check_deadline(deadline: datetime) -> None:
    if deadline.tzinfo is None or deadline.utcoffset() is None:
        raise BidBuildError("the deadline must carry its time zone (the envelopes are bound to it)")


def _check_guarantee(guarantee: Mapping[str, str]) -> dict[str, str]:
    form = guarantee.get("form")
    if form not in {"cash", "guarantee"}:
        raise BidBuildError("the guarantee form is 'cash' or 'guarantee'")
    reference = str(guarantee.get("reference", ""))
    if form == "guarantee" and not reference:
        raise BidBuildError("a guarantee (保函) needs its reference number")
    return {"form": str(form), "reference": reference}


def build_container(
    out_path: Path,
    *,
    tender: str,
    lot: str,
    bidder_uscc: str,
    deadline: datetime,
    files: Sequence[Path],
    price_summary: PriceSummary,
    guarantee: Mapping[str, str],
    signer: SigningIdentity,
    bidder_encryption: Recipient,
    key_holders: Sequence[Recipient] = (),
    threshold: int = 0,
    content_algorithm: str = AES_256_GCM,
    now: datetime | None = None,
    backup_dir: Path | None = None,
    sealer: Callable[[bytes, BidBinding], Sealed | bytes] | None = None,
    response: Path | None = None,
    device: DeviceFingerprint | None = None,
) -> BuiltBid:
    """Build the container at ``out_path`` (replaced atomically) and return its digests.

    ``device``: this machine's fingerprint (`bidding.client.fingerprint.device_fingerprint`, issue
    19), written into the public manifest as ``signals``; ``ggzy bid seal`` passes it and prints it.
    None (the default, and every browser-sealed bid) writes no ``signals`` at all.

    ``response``: the bidder's structured response (a ``ggzy-response/…`` JSON file naming this
    tender, lot and bidder), packed as the package file `fmt.RESPONSE_FILE`.

    Synchronous (file I/O and crypto); from async code use `build_container_async`.

    With ``backup_dir``, the backup generated with the sealed file is written there too
    (`BACKUP_FILES`: each part's bytes as sealed, which the signed manifest pins by
    ``contentSha256``): the tender's remedy plan may let the bidder upload it inside the decryption
    window when its key fails (``ggzy bid``/`bidding.client.transport.BidClient.send_backup`).
    Keep it as safe as the key: it is the bid in clear.

    Order matters: the inner manifest names the price summary's digest, and both envelopes are
    bound to the inner manifest's digest, so the two parts cannot be recombined across bids.

    ``sealer`` replaces the built-in sealing: it gets each plaintext and the binding and returns
    the envelope (DER bytes), e.g. one written by ``openssl cms -encrypt -aes-256-gcm`` and then
    bound with `bind_part` — how a separately developed tool's envelopes enter a container.
    """
    options: dict[str, Any] = {
        "tender": tender,
        "lot": lot,
        "bidder_uscc": bidder_uscc,
        "deadline": deadline,
        "price_summary": price_summary,
        "guarantee": guarantee,
        "signer": signer,
        "bidder_encryption": bidder_encryption,
        "key_holders": key_holders,
        "threshold": threshold,
        "content_algorithm": content_algorithm,
        "now": now,
        "backup_dir": backup_dir,
        "sealer": sealer,
        "device": device,
    }
    if any(Path(f).name == fmt.RESPONSE_FILE for f in files):
        raise BidBuildError(f"{fmt.RESPONSE_FILE} is reserved for the structured response: pass it with --response")
    if response is None:
        return _build(Path(out_path), files=files, **options)
    _check_response(Path(response), tender=tender, lot=lot, bidder=bidder_uscc)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=Path(out_path).parent) as staging:
        named = Path(staging) / fmt.RESPONSE_FILE
        named.write_bytes(Path(response).read_bytes())
        return _build(Path(out_path), files=[*files, named], **options)


def _build(
    out_path: Path,
    *,
    tender: str,
    lot: str,
    bidder_uscc: str,
    deadline: datetime,
    files: Sequence[Path],
    price_summary: PriceSummary,
    guarantee: Mapping[str, str],
    signer: SigningIdentity,
    bidder_encryption: Recipient,
    key_holders: Sequence[Recipient],
    threshold: int,
    content_algorithm: str,
    now: datetime | None,
    backup_dir: Path | None,
    sealer: Callable[[bytes, BidBinding], Sealed | bytes] | None,
    device: DeviceFingerprint | None,
) -> BuiltBid:
    _check_deadline(deadline)
    checked_guarantee = _check_guarantee(guarantee)
    if (price_summary.tender, price_summary.lot, price_summary.bidder) != (tender, lot, bidder_uscc):
        raise BidBuildError("the price summary names another tender, lot or bidder than the container")
    if key_holders and not 1 <= threshold <= len(key_holders):
        raise BidBuildError(f"the threshold must be between 1 and {len(key_holders)} (the key holders)")
    files = [Path(f) for f in files]
    out_path = Path(out_path)
    work_dir = out_path.parent
    work_dir.mkdir(parents=True, exist_ok=True)

    price_plain = price_summary.to_bytes()
    price_sha256 = hashlib.sha256(price_plain).hexdigest()
    inner_manifest = canonical_json(
        {"files": _inner_entries(files), "priceSummarySha256": price_sha256, "guarantee": checked_guarantee}
    )
    binding = BidBinding(
        tender=tender,
        lot=lot,
        bidder=bidder_uscc,
        deadline=deadline,
        manifest_sha256=hashlib.sha256(inner_manifest).hexdigest(),
    )
    holders = list(key_holders)
    k = threshold if holders else 0

    def sealed_for(plaintext: bytes) -> Sealed | bytes:
        if sealer is not None:
            return sealer(plaintext, binding)
        return seal(
            plaintext,
            binding,
            bidder=bidder_encryption,
            holders=holders,
            threshold_k=k,
            content_algorithm=content_algorithm,
        )

    sealed_price = sealed_for(price_plain)
    package_plain = _read_inner_package(inner_manifest, files, work_dir)
    package_sha256 = hashlib.sha256(package_plain).hexdigest()
    sealed_package = sealed_for(package_plain)
    if backup_dir is not None:
        _write_backup(Path(backup_dir), {fmt.PRICE_SUMMARY: price_plain, fmt.PACKAGE: package_plain})
    del package_plain  # only the ciphertext is needed from here on

    handle, name = tempfile.mkstemp(prefix=".ggzy-bid-", suffix=".partial", dir=work_dir)
    partial = Path(name)
    try:
        with os.fdopen(handle, "w+b") as stream:
            with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
                price_size, price_part_sha = _write_envelope(archive, fmt.PART_NAMES[fmt.PRICE_SUMMARY], sealed_price)
                package_size, package_part_sha = _write_envelope(archive, fmt.PART_NAMES[fmt.PACKAGE], sealed_package)
                del sealed_package
                part_sha256 = {fmt.PRICE_SUMMARY: price_part_sha, fmt.PACKAGE: package_part_sha}
                content_sha256 = {fmt.PRICE_SUMMARY: price_sha256, fmt.PACKAGE: package_sha256}
                manifest = canonical_json(
                    {
                        "format": fmt.FORMAT,
                        "tender": tender,
                        "lot": lot,
                        "bidder": bidder_uscc,
                        "deadline": deadline.isoformat(),
                        "createdAt": (now or datetime.now(UTC)).replace(microsecond=0).isoformat(),
                        "guarantee": checked_guarantee,
                        "parts": {
                            fmt.PRICE_SUMMARY: {
                                "name": fmt.PART_NAMES[fmt.PRICE_SUMMARY],
                                "size": price_size,
                                "sha256": price_part_sha,
                            },
                            fmt.PACKAGE: {
                                "name": fmt.PART_NAMES[fmt.PACKAGE],
                                "size": package_size,
                                "sha256": package_part_sha,
                            },
                        },
                        "contentSha256": content_sha256,
                        # issue 19: the device fingerprint, public and signed with the manifest;
                        # absent when not given, so the manifest is byte for byte what it was
                        **({"signals": device.manifest_entry()} if device is not None else {}),
                    }
                )
                signature = _sign(manifest, signer)
                _write_small(archive, fmt.MANIFEST, manifest)
                _write_small(archive, fmt.SIGNATURE, signature)
            stream.flush()
            os.fsync(stream.fileno())
        partial.replace(out_path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    size, container_sha256 = file_digest(out_path)
    return BuiltBid(
        path=out_path,
        size=size,
        sha256=container_sha256,
        manifest=manifest,
        signature=signature,
        part_sha256=part_sha256,
        content_sha256=content_sha256,
        binding=binding,
    )


BACKUP_FILES: Final = {fmt.PRICE_SUMMARY: "price-summary.backup", fmt.PACKAGE: "package.backup"}
"""The backup's file names in ``backup_dir`` (`build_container`)."""


def _write_backup(directory: Path, parts: Mapping[str, bytes]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for kind, data in parts.items():
        (directory / BACKUP_FILES[kind]).write_bytes(data)


def bind_part(
    envelope: bytes,
    binding: BidBinding,
    *,
    key: cms_recipients.UnwrapKey | None = None,
    key_holders: Sequence[x509.Certificate] = (),
    threshold: int = 0,
) -> bytes:
    """The documented binding step for an envelope another tool wrote (``ggzy bid bind``):
    ``openssl cms -encrypt -aes-256-gcm -binary -outform DER -recip enc.pem`` (RSA keys add
    ``-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256``)
    makes an AuthEnvelopedData without attributes; this adds the bid's binding (and, with the
    bidder's own ``key`` to unwrap the content key here, the escrow shares for the key holders) as
    unauthenticated attributes. The container's signed manifest then fixes the part's digest,
    which is what binds it (`certs.envelope.cms_env`, "Binding an envelope another tool made").
    """
    try:
        return cms_env.bind(envelope, binding, key=key, holders=key_holders, threshold_k=threshold)
    except Refused as refusal:
        raise BidBuildError(f"the envelope cannot be bound: {refusal.text}") from None


async def build_container_async(out_path: Path, **options: Any) -> BuiltBid:
    """`build_container` in a worker thread, so an event loop is not blocked for the seconds it takes."""
    return await asyncio.to_thread(functools.partial(build_container, out_path, **options))


def _checked_binding(header: Mapping[str, Any], tender: str, lot: str, bidder: str) -> BidBinding:
    """The envelope's binding, after checking it names the tender, lot and bidder we expect."""
    binding = fmt.envelope_binding(header)
    if (binding.tender, binding.lot, binding.bidder) != (tender, lot, bidder):
        raise ContentMismatch(f"the envelope is bound to {binding.tender}/{binding.lot}/{binding.bidder}")
    return binding


def content_keys(
    envelope: Mapping[str, Any], key: UnwrapKey, *, tender: str, lot: str, bidder: str
) -> dict[str, bytes]:
    """Unwrap each part's content key from the envelope headers the platform sent
    (``GET /opening/{code}/envelopes``, one entry); the private key stays on this machine.
    """
    keys: dict[str, bytes] = {}
    for kind in (fmt.PRICE_SUMMARY, fmt.PACKAGE):
        header = envelope["parts"][kind]["header"]
        keys[kind] = unwrap_content_key(dict(header), key, _checked_binding(header, tender, lot, bidder))
    return keys


def holder_shares(
    envelope: Mapping[str, Any],
    holder: x509.Certificate,
    key: UnwrapKey,
    *,
    tender: str,
    lot: str,
    bidder: str,
) -> dict[str, str]:
    """A key holder unwraps its shares of one bid (one per part), checked against their digests;
    base64, as `format.share_release_statement` and the API take them.
    """
    shares: dict[str, str] = {}
    for kind in (fmt.PRICE_SUMMARY, fmt.PACKAGE):
        header = envelope["parts"][kind]["header"]
        sealed = parse_header(dict(header))
        share = release_share(sealed, holder, key, _checked_binding(header, tender, lot, bidder))
        shares[kind] = base64.b64encode(share.to_bytes()).decode()
    return shares


async def sign_statement_async(data: bytes, signer: SigningIdentity) -> bytes:
    return await sign_detached(data, signer)


def price_table_sha256(table: Sequence[Mapping[str, Any]]) -> str:
    """The SHA-256 of the price table (唱标) as the hall publishes it (``priceTable``): canonical JSON
    of the list of lines, the digest `fmt.confirmation_statement` names. The client recomputes it
    from the lines it shows, so a bidder never signs a digest of a table it was not shown.
    """
    return hashlib.sha256(canonical_json(list(table))).hexdigest()


HOST_RECORD_FIELD: Final = "HostSignature"


async def sign_record(
    pdf: bytes,
    signer: SigningIdentity,
    *,
    tsa: TsaTransport,
    reason: str = "开标主持人确认开标记录",
    location: str | None = None,
) -> bytes:
    """The host's signature on the platform-signed opening record: an incremental PAdES B-T
    signature (timestamped by ``tsa``) appended to ``pdf``, which stays byte for byte as it was, so
    the platform's signature stays valid and the platform can check that nothing else changed.
    """
    return await sign_pdf(
        pdf, signer, tsa=tsa, field_name=HOST_RECORD_FIELD, reason=reason, location=location, lta=False
    )


REPORT_FIELD_PREFIX: Final = "Member"
REPORT_REASON: Final = "评标委员会成员签署评标报告"


def report_field_name(signer: SigningIdentity) -> str:
    """The signature field of one member on the evaluation report: ``Member-`` and the first 16 hex
    digits of the certificate's SHA-256 (each member's own field, so seven signatures never clash).
    """
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415 - only this helper needs it

    return f"{REPORT_FIELD_PREFIX}-{signer.certificate.fingerprint(hashes.SHA256()).hex()[:16]}"


async def sign_report(
    pdf: bytes,
    signer: SigningIdentity,
    *,
    tsa: TsaTransport,
    reason: str = REPORT_REASON,
    location: str | None = None,
) -> bytes:
    """A committee member's signature on the evaluation report (评标报告): an incremental PAdES B-T
    signature (timestamped by ``tsa``) appended to the current revision, which stays byte for byte
    as it was, so the signatures before it stay valid and the platform can check that nothing else
    changed.
    """
    return await sign_pdf(
        pdf, signer, tsa=tsa, field_name=report_field_name(signer), reason=reason, location=location, lta=False
    )


CONTRACT_FIELD_PREFIX: Final = "Party"
CONTRACT_REASON: Final = "合同当事人签署合同"


def contract_field_name(signer: SigningIdentity) -> str:
    """The signature field of one party on the contract: ``Party-`` and the first 16 hex digits of
    the certificate's SHA-256 (the winner's and the tenderee's fields never clash).
    """
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415 - only this helper needs it

    return f"{CONTRACT_FIELD_PREFIX}-{signer.certificate.fingerprint(hashes.SHA256()).hex()[:16]}"


async def sign_contract(
    pdf: bytes,
    signer: SigningIdentity,
    *,
    tsa: TsaTransport,
    reason: str = CONTRACT_REASON,
    location: str | None = None,
) -> bytes:
    """A party's signature on the award's contract (合同): an incremental PAdES B-T signature
    (timestamped by ``tsa``) appended to the current revision, which stays byte for byte as it was,
    so the winner's signature stays valid under the tenderee's.
    """
    return await sign_pdf(
        pdf, signer, tsa=tsa, field_name=contract_field_name(signer), reason=reason, location=location, lta=False
    )


NOTICE_FIELD_PREFIX: Final = "Tenderee"
NOTICE_REASON: Final = "招标人签发中标（结果）通知书"


def seal_name(signer: SigningIdentity) -> str:
    """The name the e-seal reads: the certificate's organisation (O), else its common name (CN)."""
    from cryptography.x509.oid import NameOID  # noqa: PLC0415 - only this helper needs it

    subject = signer.certificate.subject
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        values = subject.get_attributes_for_oid(oid)
        if values:
            return str(values[0].value)
    return "电子签章"


async def sign_notice(
    pdf: bytes,
    signer: SigningIdentity,
    *,
    tsa: TsaTransport,
    reason: str = NOTICE_REASON,
    location: str | None = None,
) -> bytes:
    """The tenderee's signature on an award or result notice (中标通知书 / 中标结果通知书): one
    incremental PAdES B-T signature (timestamped by ``tsa``) with the e-seal of the certificate's
    organisation as its appearance on the first page, appended to the draft, which stays byte for
    byte as it was (the platform checks the upload is the draft plus this one signature).
    """
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415 - only this helper needs it

    field = f"{NOTICE_FIELD_PREFIX}-{signer.certificate.fingerprint(hashes.SHA256()).hex()[:16]}"
    seal = SealAppearance(render_seal_image(seal_name(signer)), page=0, box=(400, 60, 520, 180))
    return await sign_pdf(
        pdf, signer, tsa=tsa, field_name=field, reason=reason, location=location, seal=seal, lta=False
    )
