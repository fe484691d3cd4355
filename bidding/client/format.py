"""The sealed bid container (``ggzy-bid/1``): what the bidder client writes and the server checks.

Shared by the bidder client (`bidding.client.sdk`) and the platform (`bidding.intake`), so both
sides read the same rules. Pure: only the standard library and `certs`.

A container is a ZIP archive whose entries are all STORED (no compression: sealed parts are
ciphertext and do not compress, so a compressed entry can only hide its size — the zip-bomb
shape). It holds exactly four entries:

``manifest.json``
    The public manifest, canonical JSON (sorted keys, no spaces, UTF-8)::

        {"format": "ggzy-bid/1", "tender": <统一交易标识码>, "lot": <lot code>,
         "bidder": <bidder USCC>, "deadline": <ISO time the envelopes are bound to>,
         "createdAt": <client time, informative>,
         "guarantee": {"form": "cash" | "guarantee", "reference": <guarantee no. or "">},
         "parts": {"price-summary": {"name": "price-summary.sealed", "size": n, "sha256": hex},
                   "package": {"name": "package.sealed", "size": n, "sha256": hex}},
         "contentSha256": {"price-summary": hex, "package": hex},
         "signals": {"deviceHash": hex, "deviceIdentifiers": ["cpu", "mac", …]}}  (optional)

    ``signals`` (issue 19, optional: older clients and browser-sealed bids have none) is the
    device fingerprint of the machine that sealed the bid (`bidding.client.fingerprint`): a salted
    hash and the names of the identifiers hashed, never their values.

    ``parts`` digests are over the sealed envelopes (what the server can check now);
    ``contentSha256`` are over the plaintexts (what the opening checks after decryption). The
    plaintexts carry a random salt, so their digests reveal nothing.
``manifest.p7s``
    Detached CAdES signature (DER) over the exact ``manifest.json`` bytes, by the bidder's
    signing certificate (with its chain).
``price-summary.sealed``
    A sealed envelope (`certs.envelope.sealed_bid`): since issue 12 a DER CMS AuthEnvelopedData
    (`certs.envelope.cms_env`, opened by ``openssl cms -decrypt``); containers sealed before keep
    the ``GGZYBID1`` envelope, which is still read. The envelope of the price summary (开标一览表), canonical JSON::

        {"tender", "lot", "bidder", "currency": "CNY", "totalPrice": "1234567.89",
         "durationDays": int, "items": [{"name", "price"}…], "salt": hex}

``package.sealed``
    An envelope of the inner package: a ZIP (deflated is fine inside) holding ``manifest.json``
    (``{"files": [{"name", "size", "sha256"}], "priceSummarySha256", "guarantee"}``) and the files.

Both envelopes are bound (`BidBinding`) to tender, lot, bidder, deadline and the SHA-256 of the
inner manifest, so neither can be moved to another tender, lot or bidder.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from bidding.client.fingerprint import check_signals
from certs.envelope import cms_env
from certs.envelope.sealed_bid import MAGIC, BidBinding
from certs.errors import Refused

FORMAT: Final = "ggzy-bid/1"
MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.p7s"
PRICE_SUMMARY: Final = "price-summary"
PACKAGE: Final = "package"
PART_NAMES: Final = {PRICE_SUMMARY: "price-summary.sealed", PACKAGE: "package.sealed"}
ENTRY_NAMES: Final = frozenset({MANIFEST, SIGNATURE, *PART_NAMES.values()})
# Limits of the small entries; the package part is limited by the tender (max_package_bytes).
ENTRY_LIMITS: Final = {MANIFEST: 64 * 1024, SIGNATURE: 64 * 1024, PART_NAMES[PRICE_SUMMARY]: 1024 * 1024}
CHUNK: Final = 1024 * 1024
RESPONSE_FILE: Final = "ggzy-response.json"
"""The bidder's structured response (issue 15: ``ggzy bid seal --response``) inside the package: one
of the package's files under this reserved name, listed in the inner manifest like any other, so
the container format is unchanged and every older container still opens (it has no response).
The platform reads it strictly (``bidding.evaluation.response.bid.read_response``) when the
evaluation opens the package; the client checks only what it can without that reader."""
RESPONSE_FORMATS: Final = frozenset({"ggzy-response/1"})
RESPONSE_LIMIT: Final = 64 * 1024 * 1024
_LOCAL_HEADER: Final = struct.Struct("<IHHHHHIIIHH")
_LOCAL_SIGNATURE: Final = 0x04034B50
_ENVELOPE_HEADER_LIMIT: Final = 256 * 1024


class ContainerRefused(Exception):
    """The container breaks a rule; ``field`` and ``rule`` name which (stable codes)."""

    def __init__(self, message: str, *, field: str, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.rule = rule


@dataclass(frozen=True, slots=True)
class EntryRange:
    """Where an entry's bytes lie inside the container file."""

    name: str
    offset: int
    size: int


@dataclass(frozen=True)
class ContainerLayout:
    entries: Mapping[str, EntryRange]

    def read_small(self, stream: BinaryIO, name: str) -> bytes:
        entry = self.entries[name]
        stream.seek(entry.offset)
        return stream.read(entry.size)


def inspect_container(path: Path, *, max_package_bytes: int) -> ContainerLayout:
    """Check the ZIP structure without reading the parts; refuse anything but the four STORED entries."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ContainerRefused(f"not a bid container (ZIP): {exc}", field="package", rule="container") from None
    with archive, path.open("rb") as stream:
        infos = archive.infolist()
        _check_names([info.filename for info in infos])
        container_size = path.stat().st_size
        entries: dict[str, EntryRange] = {}
        for info in infos:
            if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
                raise ContainerRefused(
                    f"{info.filename} is compressed; sealed parts must be STORED (compression only hides size)",
                    field="package",
                    rule="compression",
                )
            if info.flag_bits & 0x1:
                raise ContainerRefused(f"{info.filename} uses ZIP encryption", field="package", rule="container")
            limit = ENTRY_LIMITS.get(info.filename, max_package_bytes)
            if info.file_size > limit:
                raise ContainerRefused(
                    f"{info.filename} is {info.file_size} bytes; the limit is {limit}",
                    field=f"parts.{info.filename}",
                    rule="max-size",
                )
            offset = _data_offset(stream, info)
            if offset + info.file_size > container_size:
                msg = f"{info.filename} runs past the end of the file"
                raise ContainerRefused(msg, field="package", rule="truncated")
            entries[info.filename] = EntryRange(info.filename, offset, info.file_size)
        ordered = sorted(entries.values(), key=lambda e: e.offset)
        for first, second in itertools.pairwise(ordered):
            if first.offset + first.size > second.offset:
                raise ContainerRefused("container entries overlap", field="package", rule="container")
    return ContainerLayout(entries)


def _check_names(names: list[str]) -> None:
    if len(names) == len(set(names)) and set(names) == ENTRY_NAMES:
        return
    if sorted(ENTRY_NAMES - set(names)) == [SIGNATURE] and len(names) == len(ENTRY_NAMES) - 1:
        raise ContainerRefused("the manifest is not signed (manifest.p7s missing)", field="signature", rule="required")
    raise ContainerRefused(
        f"a bid container holds exactly {sorted(ENTRY_NAMES)}; found {sorted(names)}", field="package", rule="entries"
    )


def _data_offset(stream: BinaryIO, info: zipfile.ZipInfo) -> int:
    stream.seek(info.header_offset)
    header = stream.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size:
        raise ContainerRefused("truncated local header", field="package", rule="truncated")
    fields = _LOCAL_HEADER.unpack(header)
    if fields[0] != _LOCAL_SIGNATURE:
        raise ContainerRefused("bad local header", field="package", rule="container")
    name_length, extra_length = int(fields[9]), int(fields[10])
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length


def digest_parts(path: Path, layout: ContainerLayout) -> tuple[str, dict[str, str]]:
    """One sequential pass: the container's SHA-256 and each entry's, in bounded memory."""
    whole = hashlib.sha256()
    per_entry = {name: hashlib.sha256() for name in layout.entries}
    ordered = sorted(layout.entries.values(), key=lambda e: e.offset)
    position = 0
    with path.open("rb", buffering=0) as stream:
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        while True:
            count = stream.readinto(buffer)
            if not count:
                break
            chunk = view[:count]
            whole.update(chunk)
            end = position + count
            for entry in ordered:
                lo, hi = max(entry.offset, position), min(entry.offset + entry.size, end)
                if lo < hi:
                    per_entry[entry.name].update(chunk[lo - position : hi - position])
            position = end
    return whole.hexdigest(), {name: h.hexdigest() for name, h in per_entry.items()}


def envelope_header(stream: BinaryIO, entry: EntryRange) -> dict[str, Any] | None:
    """The cleartext header of a sealed envelope inside the container, or None when the part is
    not an envelope (an unencrypted bid). Reads only the header, never the ciphertext: for CMS the
    DER is walked to the encrypted content and past it (``version`` 2, `cms_env.CmsSealedBid.header`),
    for the first format the JSON header (``version`` 1).
    """
    stream.seek(entry.offset)
    prefix = stream.read(len(MAGIC) + 4)
    if cms_env.is_cms(prefix):
        try:
            return cms_env.read_header(stream, entry.offset, entry.size)
        except Refused as refusal:
            raise ContainerRefused(f"the CMS envelope: {refusal.text}", field="envelope", rule="malformed") from None
    if len(prefix) < len(MAGIC) + 4 or prefix[: len(MAGIC)] != MAGIC:
        return None
    (length,) = struct.unpack(">I", prefix[len(MAGIC) :])
    if length > min(_ENVELOPE_HEADER_LIMIT, entry.size):
        raise ContainerRefused("the envelope header is too long", field="envelope", rule="malformed")
    try:
        header = json.loads(stream.read(length))
    except ValueError:
        raise ContainerRefused("the envelope header is not JSON", field="envelope", rule="malformed") from None
    if not isinstance(header, dict):
        raise ContainerRefused("the envelope header is not an object", field="envelope", rule="malformed")
    return header


def envelope_binding(header: Mapping[str, Any]) -> BidBinding:
    try:
        return BidBinding.from_dict(header["binding"])
    except (KeyError, TypeError, ValueError):
        raise ContainerRefused("the envelope has no valid binding", field="envelope", rule="malformed") from None


def parse_manifest(data: bytes) -> dict[str, Any]:
    """The manifest as a dict; refuses non-JSON, another format or missing fields."""
    try:
        manifest = json.loads(data)
    except ValueError:
        raise ContainerRefused("manifest.json is not JSON", field="manifest", rule="malformed") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ContainerRefused(f"the manifest format must be {FORMAT}", field="manifest.format", rule="format")
    for key in ("tender", "lot", "bidder", "deadline", "parts", "contentSha256", "guarantee"):
        if key not in manifest:
            raise ContainerRefused(f"the manifest lacks {key}", field=f"manifest.{key}", rule="required")
    if "signals" in manifest and (problem := check_signals(manifest["signals"])) is not None:
        raise ContainerRefused(problem, field="manifest.signals", rule="signals")
    parts = manifest["parts"]
    if not isinstance(parts, dict) or set(parts) != set(PART_NAMES):
        raise ContainerRefused("the manifest must list price-summary and package", field="manifest.parts", rule="parts")
    for kind, name in PART_NAMES.items():
        part = parts[kind]
        if not isinstance(part, dict) or part.get("name") != name:
            msg = f"manifest part {kind} must be named {name}"
            raise ContainerRefused(msg, field=f"manifest.parts.{kind}", rule="parts")
    return manifest


# --- the opening: what bidders and key holders sign ---------------------------------------------

SHARE_RELEASE: Final = "ggzy-share-release/1"
CONFIRMATION: Final = "ggzy-opening-confirmation/1"
OBJECTION: Final = "ggzy-opening-objection/1"
DOCUMENT_OBJECTION: Final = "ggzy-document-objection/1"


def share_release_statement(tender: str, lot: str, bidder: str, shares: Mapping[str, str]) -> bytes:
    """What a key holder signs (detached CAdES) when releasing its shares of one bid at the opening:
    canonical JSON ``{"type", "tender", "lot", "bidder", "shares": {part: base64 share}}``.
    """
    return _canonical(
        {"type": SHARE_RELEASE, "tender": tender, "lot": lot, "bidder": bidder, "shares": dict(sorted(shares.items()))}
    )


def confirmation_statement(tender: str, bidder: str, price_table_sha256: str) -> bytes:
    """What a bidder signs to confirm the opening result (the price table as published, by digest)."""
    return _canonical(
        {"type": CONFIRMATION, "tender": tender, "bidder": bidder, "priceTableSha256": price_table_sha256}
    )


def objection_statement(tender: str, bidder: str, text: str) -> bytes:
    """What a bidder signs to object in the hall (异议): the text, bound to this tender and bidder so a
    signed objection cannot be replayed in another opening.
    """
    return _canonical({"type": OBJECTION, "tender": tender, "bidder": bidder, "text": text})


SIGN_IN: Final = "ggzy-opening-sign-in/1"
WITHDRAWAL: Final = "ggzy-bid-withdrawal/1"


def sign_in_statement(tender: str, bidder: str) -> bytes:
    """What a bidder signs to sign in to the hall (签到, domain-rules §2.1): bound to this tender and
    bidder and to the action, so the signature serves no other step and no other opening.
    """
    return _canonical({"type": SIGN_IN, "tender": tender, "bidder": bidder, "action": "sign-in"})


def withdrawal_statement(tender: str, lot: str, bidder: str, receipt_no: str) -> bytes:
    """What a bidder signs to withdraw its bid (撤回, a CA-bound action, domain-rules §1.6): the lot
    and the receipt of the version it withdraws, so a withdrawal cannot be replayed against a later
    submission.
    """
    return _canonical(
        {
            "type": WITHDRAWAL,
            "tender": tender,
            "lot": lot,
            "bidder": bidder,
            "withdraws": receipt_no,
            "action": "withdraw",
        }
    )


REVOCATION: Final = "ggzy-bid-revocation/1"
REVOCATION_CONSEQUENCE: Final = (
    "投标人知悉：投标截止后、投标有效期内撤销投标文件的，招标人可以不退还投标保证金"
    "（《中华人民共和国招标投标法实施条例》第三十五条；政府采购适用《政府采购货物和服务招标投标管理办法》第二十三条），"
    "以电子保函提交的投标保证金，招标人可以向出具人索赔。"
)
"""The legal consequence (法律后果) every revocation statement states, word for word."""


def revocation_statement(tender: str, lot: str, bidder: str, receipt_no: str) -> bytes:
    """What a bidder signs to revoke (撤销) its bid after the deadline, within the bid validity
    period (实施条例 Art. 35; 87号令 Art. 23): the lot, the receipt of the version revoked and the
    consequence the bidder acknowledges (`REVOCATION_CONSEQUENCE`: the bid security may be kept or
    claimed), so the act cannot be mistaken for a withdrawal (撤回) nor replayed on another bid.
    """
    return _canonical(
        {
            "type": REVOCATION,
            "tender": tender,
            "lot": lot,
            "bidder": bidder,
            "revokes": receipt_no,
            "action": "revoke",
            "consequence": REVOCATION_CONSEQUENCE,
        }
    )


AWARD_PUBLICITY: Final = "ggzy-award-publicity/1"


def award_publicity_statement(tender: str, lot_group: str, kind: str, content_sha256: str) -> bytes:
    """What the tenderee (or its agency) signs to publish the candidates' publicity (中标候选人公示,
    实施条例 Art. 54): the tender, the lot group, the kind and the SHA-256 of exactly the content
    the public page shows (`bidding.award.publicity.publicity_content`).
    """
    return _canonical(
        {
            "type": AWARD_PUBLICITY,
            "tender": tender,
            "lotGroup": lot_group,
            "kind": kind,
            "contentSha256": content_sha256,
        }
    )


AWARD_DECISION: Final = "ggzy-award-decision/1"


def award_decision_statement(
    tender: str, lot_group: str, decision: str, *, bid: str, bidder: str, reason: str
) -> bytes:
    """What the tenderee (or its agency) signs for a 定标 decision (实施条例 Art. 55): ``confirm`` the
    winner, ``pass_over`` a candidate for ``reason``, or ``fail`` (流标, no bid); the bid and its
    bidder's USCC name whom it concerns (empty for ``fail``).
    """
    return _canonical(
        {
            "type": AWARD_DECISION,
            "tender": tender,
            "lotGroup": lot_group,
            "decision": decision,
            "bid": bid,
            "bidder": bidder,
            "reason": reason,
        }
    )


AWARD_OBJECTION: Final = "ggzy-award-objection/1"
AWARD_OBJECTION_ANSWER: Final = "ggzy-award-objection-answer/1"


def award_objection_statement(tender: str, lot_group: str, bidder: str, publicity_sha256: str, text: str) -> bytes:
    """What a bidder signs to object to the candidates' publicity (异议, 实施条例 Art. 54): the text,
    bound to the tender, the lot group, the bidder and the publicity's content (its SHA-256), with its
    own type so an objection in the hall or to the documents cannot be replayed here or back.
    """
    return _canonical(
        {
            "type": AWARD_OBJECTION,
            "tender": tender,
            "lotGroup": lot_group,
            "bidder": bidder,
            "publicitySha256": publicity_sha256,
            "text": text,
        }
    )


def award_objection_answer_statement(tender: str, objection: str, objection_sha256: str, answer: str) -> bytes:
    """What the tenderee (or its agency) signs to answer an objection to the result: the objection
    (its id and the SHA-256 of its signed statement) and the answer's text.
    """
    return _canonical(
        {
            "type": AWARD_OBJECTION_ANSWER,
            "tender": tender,
            "objection": objection,
            "objectionSha256": objection_sha256,
            "answer": answer,
        }
    )


AWARD_COMPLAINT: Final = "ggzy-award-complaint/1"
AWARD_COMPLAINT_ACT: Final = "ggzy-award-complaint-act/1"


def award_complaint_statement(tender: str, lot_group: str, bidder: str, objection: str, text: str) -> bytes:
    """What a bidder signs to complain (投诉, 实施条例 Art. 60) to the supervisory department after its
    objection to the result: the text, bound to the tender, the lot group, the bidder and the
    objection it follows (its id); its own type, so it cannot be replayed as an objection.
    """
    return _canonical(
        {
            "type": AWARD_COMPLAINT,
            "tender": tender,
            "lotGroup": lot_group,
            "bidder": bidder,
            "objection": objection,
            "text": text,
        }
    )


def award_complaint_act_statement(tender: str, complaint: str, complaint_sha256: str, act: str, text: str) -> bytes:
    """What the supervisory department signs for one act on a complaint (实施条例 Art. 61): ``act``
    is ``accept``, ``reject``, ``suspend``, ``resume``, ``dismiss``, ``uphold_reevaluate`` or
    ``uphold_re_tender``; the complaint (its id and the SHA-256 of its signed statement) and the
    act's reasons.
    """
    return _canonical(
        {
            "type": AWARD_COMPLAINT_ACT,
            "tender": tender,
            "complaint": complaint,
            "complaintSha256": complaint_sha256,
            "act": act,
            "text": text,
        }
    )


def document_objection_statement(tender: str, bidder: str, text: str) -> bytes:
    """What an organisation signs to object to a tender's documents (实施条例 Art. 22); its own type,
    so an objection in the opening hall cannot be replayed as one to the documents or back.
    """
    return _canonical({"type": DOCUMENT_OBJECTION, "tender": tender, "bidder": bidder, "text": text})


CLARIFICATION_ANSWER: Final = "ggzy-evaluation-clarification-answer/1"


def clarification_answer_statement(tender: str, bidder: str, clarification: str, question: str, answer: str) -> bytes:
    """What a bidder signs to answer a clarification request of the evaluation committee (澄清): the
    request (its id and the question's SHA-256) and the answer's SHA-256, bound to the tender and the
    bidder, so an answer serves no other request. The answer itself is sent beside the signature.
    """
    return _canonical(
        {
            "type": CLARIFICATION_ANSWER,
            "tender": tender,
            "bidder": bidder,
            "clarification": clarification,
            "questionSha256": hashlib.sha256(question.encode()).hexdigest(),
            "answerSha256": hashlib.sha256(answer.encode()).hexdigest(),
        }
    )


def _canonical(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
