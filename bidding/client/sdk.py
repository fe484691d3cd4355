"""The bidder's SDK: build, seal and sign a ``ggzy-bid/1`` container, open it again, verify receipts.

This is the counterpart of the offline bid-authoring tools (Order 20 Art. 26): everything happens
on the bidder's machine, and only sealed envelopes and the signed public manifest leave it. The
container layout is `bidding.client.format`; this module only produces and reads it.

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
import io
import json
import os
import secrets
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from bidding.client import format as fmt
from certs.canonical import canonical_json
from certs.cms import SigningIdentity
from certs.envelope import cms_env, cms_recipients
from certs.envelope.keywrap import UnwrapKey
from certs.envelope.sealed_bid import (
    AES_256_GCM,
    BidBinding,
    Recipient,
    Sealed,
    open_as_bidder,
    parse,
    parse_header,
    release_share,
    seal,
    unwrap_content_key,
)
from certs.errors import Refused
from certs.sign.cades import DetachedSignature, sign_detached, verify_detached
from certs.sign.pades import sign_pdf
from certs.tsa.client import TsaTransport

_CENTS: Final = Decimal("0.01")
_WRITE_SLICE: Final = 1024 * 1024
_INNER_MANIFEST: Final = "manifest.json"

GuaranteeForm = Literal["cash", "guarantee"]


class BidBuildError(ValueError):
    """The inputs cannot make a valid container (bad file list, amount, deadline or guarantee)."""


class ContentMismatch(Exception):
    """An opened part does not match what the signed manifest or the binding says it is."""


# --- the price summary (开标一览表) -------------------------------------------------------------


def _money(value: Decimal | str | int) -> str:
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise BidBuildError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise BidBuildError(f"an amount must be a finite, non-negative number: {value!r}")
    return str(amount.quantize(_CENTS, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class PriceSummary:
    """What is read out at the opening (唱标), sealed apart from the package so it opens first.

    ``salt`` is fresh per build: the plaintext digest in the public manifest then reveals nothing
    about the price, even to someone guessing likely amounts.
    """

    tender: str
    lot: str
    bidder: str
    total_price: Decimal
    duration_days: int
    items: Sequence[tuple[str, Decimal | str]] = ()
    currency: str = "CNY"
    salt: str = field(default_factory=lambda: secrets.token_hex(16))

    def to_dict(self) -> dict[str, Any]:
        return {
            "tender": self.tender,
            "lot": self.lot,
            "bidder": self.bidder,
            "currency": self.currency,
            "totalPrice": _money(self.total_price),
            "durationDays": int(self.duration_days),
            "items": [{"name": name, "price": _money(price)} for name, price in self.items],
            "salt": self.salt,
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceSummary:
        return cls(
            tender=str(data["tender"]),
            lot=str(data["lot"]),
            bidder=str(data["bidder"]),
            currency=str(data.get("currency", "CNY")),
            total_price=Decimal(str(data["totalPrice"])),
            duration_days=int(data["durationDays"]),
            items=[(str(i["name"]), Decimal(str(i["price"]))) for i in data.get("items", [])],
            salt=str(data["salt"]),
        )


# --- building ------------------------------------------------------------------------------


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


def _inner_entries(files: Sequence[Path]) -> list[dict[str, Any]]:
    entries = []
    seen: set[str] = set()
    for path in files:
        name = path.name
        if not path.is_file():
            raise BidBuildError(f"{path} is not a file")
        if name == _INNER_MANIFEST or name in seen:
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
        archive.writestr(_INNER_MANIFEST, manifest)
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
) -> BuiltBid:
    """Build the container at ``out_path`` (replaced atomically) and return its digests.

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


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class InspectedBid:
    """A container as the server sees it before the deadline: structure, manifest, digests, signature."""

    path: Path
    layout: fmt.ContainerLayout
    manifest_bytes: bytes
    manifest: dict[str, Any]
    signature: bytes
    sha256: str
    entry_sha256: dict[str, str]

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()

    def verify_signature(self) -> DetachedSignature:
        """The manifest signature, checked for integrity (trust in the signer is the platform's call)."""
        return verify_detached(self.manifest_bytes, self.signature)

    def check_part_digests(self) -> None:
        for kind, name in fmt.PART_NAMES.items():
            declared = self.manifest["parts"][kind]
            if (
                declared.get("sha256") != self.entry_sha256[name]
                or declared.get("size") != self.layout.entries[name].size
            ):
                raise ContentMismatch(f"{name} does not match the manifest's size or digest")


def read_built(path: Path) -> InspectedBid:
    """Inspect a container with the server's own rules (`format.inspect_container`, `parse_manifest`)."""
    path = Path(path)
    layout = fmt.inspect_container(path, max_package_bytes=max(path.stat().st_size, 1))
    with path.open("rb") as stream:
        manifest_bytes = layout.read_small(stream, fmt.MANIFEST)
        signature = layout.read_small(stream, fmt.SIGNATURE)
    container_sha256, entry_sha256 = fmt.digest_parts(path, layout)
    return InspectedBid(
        path=path,
        layout=layout,
        manifest_bytes=manifest_bytes,
        manifest=fmt.parse_manifest(manifest_bytes),
        signature=signature,
        sha256=container_sha256,
        entry_sha256=entry_sha256,
    )


def read_sealed(container_path: Path, kind: str) -> Sealed:
    """One sealed part (``price-summary`` or ``package``) of a container, parsed (the bytes are read once)."""
    layout = fmt.inspect_container(Path(container_path), max_package_bytes=max(Path(container_path).stat().st_size, 1))
    entry = layout.entries[fmt.PART_NAMES[kind]]
    with Path(container_path).open("rb") as stream:
        stream.seek(entry.offset)
        return parse(stream.read(entry.size))


def expected_binding(tender: str, lot: str, bidder: str, deadline: datetime, manifest_sha256: str = "") -> BidBinding:
    """The binding to open against; an empty ``manifest_sha256`` is taken from the envelope and
    then checked against the inner manifest once the package is open.
    """
    return BidBinding(tender=tender, lot=lot, bidder=bidder, deadline=deadline, manifest_sha256=manifest_sha256)


def _resolve(sealed: Sealed, expected: BidBinding) -> BidBinding:
    if expected.manifest_sha256:
        return expected
    return BidBinding(
        tender=expected.tender,
        lot=expected.lot,
        bidder=expected.bidder,
        deadline=expected.deadline,
        manifest_sha256=sealed.binding.manifest_sha256,
    )


def _manifest_content_sha(container_path: Path, kind: str) -> str:
    return str(read_built(container_path).manifest["contentSha256"][kind])


def open_price_summary(container_path: Path, key: UnwrapKey, expected: BidBinding) -> dict[str, Any]:
    """Decrypt the price summary with the bidder's encryption key; its digest must match the manifest."""
    sealed = read_sealed(container_path, fmt.PRICE_SUMMARY)
    plaintext = open_as_bidder(sealed, key, _resolve(sealed, expected))
    if hashlib.sha256(plaintext).hexdigest() != _manifest_content_sha(container_path, fmt.PRICE_SUMMARY):
        raise ContentMismatch("the price summary does not match the manifest's contentSha256")
    summary: dict[str, Any] = json.loads(plaintext)
    return summary


@dataclass(frozen=True)
class OpenedPackage:
    """The decrypted inner package: its ZIP bytes and inner manifest, checked against the binding."""

    data: bytes
    manifest: dict[str, Any]

    def names(self) -> list[str]:
        return [str(f["name"]) for f in self.manifest["files"]]

    def read(self, name: str) -> bytes:
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            return archive.read(name)

    def extract(self, directory: Path) -> list[Path]:
        """Write the listed files to ``directory``, each checked against its size and digest."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        with zipfile.ZipFile(io.BytesIO(self.data)) as archive:
            for listed in self.manifest["files"]:
                name = Path(str(listed["name"])).name  # never a path outside ``directory``
                target = directory / name
                digest = hashlib.sha256()
                with archive.open(name) as source, target.open("wb") as sink:
                    while chunk := source.read(fmt.CHUNK):
                        digest.update(chunk)
                        sink.write(chunk)
                if digest.hexdigest() != listed["sha256"] or target.stat().st_size != listed["size"]:
                    raise ContentMismatch(f"{name} does not match the inner manifest")
                written.append(target)
        return written


def check_package(plaintext: bytes, binding: BidBinding, *, content_sha256: str | None = None) -> OpenedPackage:
    """Check a decrypted package: its digest (when known) and its inner manifest against the binding."""
    if content_sha256 is not None and hashlib.sha256(plaintext).hexdigest() != content_sha256:
        raise ContentMismatch("the package does not match the manifest's contentSha256")
    with zipfile.ZipFile(io.BytesIO(plaintext)) as archive:
        inner_manifest = archive.read(_INNER_MANIFEST)
    if hashlib.sha256(inner_manifest).hexdigest() != binding.manifest_sha256:
        raise ContentMismatch("the inner manifest is not the one the envelopes are bound to")
    manifest: dict[str, Any] = json.loads(inner_manifest)
    return OpenedPackage(plaintext, manifest)


def open_package(container_path: Path, key: UnwrapKey, expected: BidBinding) -> OpenedPackage:
    """Decrypt the package with the bidder's encryption key and check it against manifest and binding."""
    sealed = read_sealed(container_path, fmt.PACKAGE)
    binding = _resolve(sealed, expected)
    plaintext = open_as_bidder(sealed, key, binding)
    return check_package(plaintext, binding, content_sha256=_manifest_content_sha(container_path, fmt.PACKAGE))


# --- the opening: keys unwrapped here, never the private key sent ------------------------------


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


def sign_statement(data: bytes, signer: SigningIdentity) -> bytes:
    """A detached CAdES signature (DER) over ``data`` (objections, confirmations, share releases)."""
    return _sign(data, signer)


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


# --- receipts ------------------------------------------------------------------------------


class ReceiptInvalid(Exception):
    """The platform's receipt does not verify; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _issuer_of(certificate: x509.Certificate, candidates: Iterable[x509.Certificate]) -> x509.Certificate | None:
    for candidate in candidates:
        if candidate.subject != certificate.issuer:
            continue
        try:
            certificate.verify_directly_issued_by(candidate)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return candidate
    return None


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def chain_to_roots(
    leaf: x509.Certificate,
    shipped: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    at: datetime,
    *,
    max_depth: int = 5,
) -> list[x509.Certificate]:
    """Walk from ``leaf`` through ``shipped`` certificates to one of ``roots``: every link's signature,
    every issuer a CA, every certificate valid at ``at``. Revocation is not checked here (a bidder
    has no CRL source offline); the receipt's timestamp fixes the time that counts.
    """
    chain = [leaf]
    current = leaf
    for _ in range(max_depth + 1):
        if not current.not_valid_before_utc <= at <= current.not_valid_after_utc:
            raise ReceiptInvalid(f"{current.subject.rfc4514_string()} was not valid at {at.isoformat()}")
        if any(current == root for root in roots):
            return chain
        issuer = _issuer_of(current, roots) or _issuer_of(current, [c for c in shipped if c not in chain])
        if issuer is None:
            raise ReceiptInvalid(f"no trusted issuer for {current.subject.rfc4514_string()}")
        if not _is_ca(issuer):
            raise ReceiptInvalid(f"{issuer.subject.rfc4514_string()} is not a CA")
        chain.append(issuer)
        current = issuer
    raise ReceiptInvalid("the certificate chain is too long")


def verify_receipt(
    receipt_bytes: bytes,
    signature_der: bytes,
    trust_roots: Sequence[x509.Certificate],
    *,
    expected: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Verify the platform's receipt: CAdES-B-T signature over the exact bytes, signer and TSA chained
    to ``trust_roots``, and (when given) each ``expected`` field equal. Returns the parsed record.
    """
    if not trust_roots:
        raise ReceiptInvalid("no trust roots given")

    def validate_tsa(certificate: x509.Certificate, shipped: tuple[x509.Certificate, ...], at: datetime) -> None:
        chain_to_roots(certificate, shipped, trust_roots, at)

    try:
        verified = verify_detached(receipt_bytes, signature_der, validate_tsa=validate_tsa, require_timestamp=True)
    except Refused as refusal:
        raise ReceiptInvalid(f"signature: {refusal.reason}: {refusal.text}") from None
    except ReceiptInvalid as invalid:
        raise ReceiptInvalid(f"timestamp authority: {invalid.reason}") from None
    at = verified.best_signature_time
    if at is None:  # pragma: no cover - require_timestamp guarantees a time
        raise ReceiptInvalid("the receipt carries no time")
    chain_to_roots(verified.signer_certificate, verified.certificates, trust_roots, at)
    try:
        record = json.loads(receipt_bytes)
    except ValueError:
        raise ReceiptInvalid("the receipt is not JSON") from None
    if not isinstance(record, dict):
        raise ReceiptInvalid("the receipt is not a JSON object")
    for key, value in (expected or {}).items():
        if record.get(key) != value:
            raise ReceiptInvalid(f"{key} is {record.get(key)!r}, expected {value!r}")
    return record


def load_pem_certificates(data: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ReceiptInvalid(f"not PEM certificates: {exc}") from None
