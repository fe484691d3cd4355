"""The opening record (开标记录, Order 20 Art. 32; 87号令 Art. 42): a Chinese PDF, signed by the
platform and then by the host, timestamped, published and downloadable.

* **At close** (`bidding.opening.stages.enter_stage` to ``closed``, by the host or the sweep) the
  closing transaction enqueues `RENDER_TASK`; the task (`bidding.opening.tasks`) runs `publish_record`
  after that commit. The job reads the record's data (`record_data`), renders it with the kernel
  renderer (`render_record`, 0.1–3 s) **with no transaction open**, then in one short unit of
  work signs it with the platform's key and TSA (PAdES B-T, reason 开标记录), stores it in the file
  store (namespace ``records``), sets ``record_storage_key``/``record_sha256`` under the session
  row's lock, appends ``bidding.opening_record_published`` and publishes a ``record`` event. It is
  idempotent: a session that has its record is left alone, so a repeated or redelivered task
  changes nothing.
* **The host's signature** (`OpeningRecords.sign_as_host`): the host downloads the platform-signed
  PDF, adds an incremental PAdES signature with its own certificate (``ggzy bid sign-record``)
  and uploads it. Accepted only when the stored platform-signed file is a byte prefix of the
  upload (an incremental update, nothing rewritten), there are exactly two signatures, both intact
  and valid under the trust list (`certs.sign.pades.verify_pdf`, with timestamps), the first is the
  platform's, the second covers the whole file and its certificate maps to the host organisation's
  USCC (the trust list's identity mapping). The upload becomes the published record.
* **Publication**: ``GET …/record.pdf`` serves the current file to everyone once the platform has
  signed it (Order 20 Art. 32: the platform generates and publishes the record); the host's
  countersignature replaces the published file with the same record signed twice.

Refusals name field and rule and are recorded in the ledger (``bidding.opening_record_refused``).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import structlog
from cryptography import x509
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding import guarantees_flow
from bidding.client import format as fmt
from bidding.errors import OpeningRefused, OpeningStateConflict
from bidding.models import Bid, Tender
from bidding.opening import repository
from bidding.opening.events import publish_after_commit
from bidding.opening.models import OpeningSession, Outcome, Stage
from bidding.opening.readings import jsonable, opening_record, price_table, price_table_sha256
from bidding.opening.services.base import HallPart, audited
from bidding.opening.stages import RENDER_RECORD_TASK, add_timeline_event
from certs.canonical import canonical_json
from certs.errors import Refused
from certs.pathval.identity import party_of
from certs.sign.pades import verify_pdf
from certs.trustlist.model import Usage, fingerprint
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.uow import transaction
from trading.kernel.errors import Conflict, NotFound
from trading.kernel.settings import Settings
from trading.kernel.storage import Store
from trading.kernel.web.i18n import use_locale
from trading.kernel.web.money import amount_in_words
from trading.kernel.web.refusals import rule_sentence
from trading.ledger.service import append_entry
from trading.parties.certificates.trust import trust_context
from trading.parties.models import Organisation
from trading.parties.records import platform_identity, sign_platform_pdf

log = structlog.get_logger(__name__)

RECORDS_NAMESPACE: Final = "records"
RENDER_TASK: Final = RENDER_RECORD_TASK
REASON: Final = "开标记录"
MAX_RECORD_BYTES: Final = 32 * 1024 * 1024
TEMPLATE: Final = "bidding/opening_record_pdf.html"
PLATFORM_SIGNED: Final = "record-signed-by-platform"
HOST_SIGNED: Final = "record-signed-by-host"
CHINA: Final = timezone(timedelta(hours=8))

_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
_env = Environment(
    loader=FileSystemLoader(_TEMPLATES),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

STAGE_LABELS: Final = {
    Stage.SIGN_IN.value: "签到",
    Stage.DECRYPTION.value: "解密",
    Stage.PRICE_READING.value: "唱标",
    Stage.COEFFICIENT_DRAW.value: "抽取系数",
    Stage.CONFIRMATION.value: "确认及异议",
    Stage.CLOSED.value: "结束",
}
OUTCOME_LABELS: Final = {
    Outcome.DECRYPTED.value: "已解密",
    Outcome.ESCROW.value: "托管开启",
    Outcome.REVOKED.value: "视为撤销",
    Outcome.WITHDRAWN.value: "视为撤回",
    Outcome.ESCROW_PENDING.value: "待托管开启",
    Outcome.PENDING.value: "未解密",
}
CATEGORY_LABELS: Final = {"engineering": "工程", "goods": "货物", "services": "服务"}
GUARANTEE_LABELS: Final = {"cash": "现金（转账）", "guarantee": "保函"}


# --- what the record shows --------------------------------------------------------------------------


def local_time(value: str | None) -> str:
    """An ISO time as Beijing time, ``YYYY-MM-DD HH:MM:SS`` (empty for none)."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def money(value: Any) -> str:
    """``1180000.00`` → ``1,180,000.00``; anything that is not an amount is shown as given."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def outcome_text(bid: Mapping[str, Any], key_holders: Mapping[str, Any]) -> str:
    """The outcome's cause in Chinese, from the outcome, the host's incident and the committee."""
    outcome = bid.get("outcome")
    incident = (bid.get("incident") or {}).get("cause", "")
    if outcome == Outcome.DECRYPTED.value:
        return "投标人在解密时限内使用本单位证书解密"
    if outcome == Outcome.ESCROW.value:
        return (
            f"因投标人以外的原因（{incident}）未能由投标人解密，"
            f"依招标文件的补救方案经 {key_holders.get('k')}/{key_holders.get('n')} 名密钥托管人释放份额开启"
        )
    if outcome == Outcome.REVOKED.value:
        missing = "开标一览表" if not bid.get("priceOpenedAt") else "投标文件"
        return f"在解密时限内未提供{missing}的有效密钥，属投标人原因，视为撤销投标（《电子招标投标办法》第三十一条）"
    if outcome == Outcome.WITHDRAWN.value:
        remedy = "；密钥托管补救未完成（释放份额不足）" if "escrow" in str(bid.get("cause") or "") else ""
        return f"因投标人以外的原因（{incident}）未能解密，视为撤回投标（《电子招标投标办法》第三十一条）{remedy}"
    return str(bid.get("cause") or "")


def _timeline_text(event: Mapping[str, Any]) -> str:  # noqa: PLR0911 - one sentence per kind of event
    kind = event.get("event")
    stage = STAGE_LABELS.get(str(event.get("stage")), str(event.get("stage")))
    if kind == "created":
        return "投标截止，开标开始，进入签到"
    if kind == "stage":
        previous = STAGE_LABELS.get(str(event.get("previous")), str(event.get("previous")))
        return f"{previous}阶段结束，进入{stage}阶段"
    if kind == "paused":
        reason = event.get("reason") or ""
        return f"主持人暂停（{stage}阶段，剩余 {event.get('remainingSeconds')} 秒）：{reason}"
    if kind == "resumed":
        return f"主持人恢复（{stage}阶段，暂停 {event.get('pausedSeconds')} 秒）"
    if kind == "decryption-window-closed":
        return "解密时限届满，未解密的投标按原因确定结果"
    if kind == "close-waits-for-answers":
        return "确认时限届满，待主持人答复异议后结束"
    if kind == "failed":
        return f"流标：{event.get('reason')}"
    if kind == "coefficients-drawn":
        values = "，".join(f"{name} = {value}" for name, value in dict(event.get("values") or {}).items())
        return f"主持人公开抽取系数：{values}"
    return str(kind)


def _by(event: Mapping[str, Any]) -> str:
    by = str(event.get("by") or "")
    return "系统（数据库时钟）" if by in {"system", ""} else by


def stage_times(timeline: Sequence[Mapping[str, Any]], closed_at: str | None) -> list[dict[str, str]]:
    """Each stage with the time it started and ended (from the session's timeline)."""
    starts: list[tuple[str, str]] = []
    for event in timeline:
        if event.get("event") == "created":
            starts.append((Stage.SIGN_IN.value, str(event["at"])))
        elif event.get("event") == "stage":
            starts.append((str(event["stage"]), str(event["at"])))
    rows = []
    for index, (stage, started) in enumerate(starts):
        ended = starts[index + 1][1] if index + 1 < len(starts) else ""
        if stage == Stage.CLOSED.value:
            ended = closed_at or started
        rows.append({"stage": STAGE_LABELS.get(stage, stage), "start": local_time(started), "end": local_time(ended)})
    return rows


SECURITY_LABELS: Final = {
    "verified": "保函核验通过",
    "refused": "保函核验未通过",
    "cash": "现金保证金",
    "none": "未提交保证金",
}


async def opening_securities(
    session: AsyncSession, settings: Settings, store: Store, code: str
) -> dict[tuple[str, str], dict[str, Any]]:
    """Each bid's security judged again at the opening (issue 17: a guarantor may have been revoked
    since the upload), by (lot code, bidder USCC); a guarantee that verifies is marked verified
    (a ledger entry: the caller commits). Reasons are rule codes, worded in Chinese for the record.
    """
    opening = await _opening(session, code)
    statuses: dict[tuple[str, str], dict[str, Any]] = {}
    for bid_id, lot_code, uscc in await repository.bids_of_opening(session, opening.id):
        status = await guarantees_flow.security_status(
            session, settings, store, Actor.system(), await session.get_one(Bid, bid_id), mark=True
        )
        with use_locale("zh_CN"):
            words = [rule_sentence(reason) or reason for reason in status.reasons]
        statuses[(lot_code, uscc)] = guarantees_flow.status_json(status) | {
            "label": SECURITY_LABELS[status.state.value],
            "reasonText": "；".join(words),
        }
    return statuses


async def record_data(
    session: AsyncSession, code: str, securities: Mapping[tuple[str, str], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """`bidding.opening.readings.opening_record` plus what the PDF shows besides: each bid's
    guarantee (from the signed public manifest) and, given ``securities`` (`opening_securities`),
    its status judged at the opening, the price table's digest, Chinese labels.
    """
    data: dict[str, Any] = jsonable(await opening_record(session, code))
    opening = await _opening(session, code)
    rows = await repository.manifests_of_bids(session, opening.id)
    guarantees: dict[tuple[str, str], dict[str, Any]] = {}
    for uscc, lot, manifest, receipt_no in rows:
        guarantee = dict(fmt.parse_manifest(manifest).get("guarantee") or {}) if manifest else {}
        guarantees[(lot, uscc)] = {**guarantee, "receiptNo": receipt_no}
    key_holders = data["tender"]["keyHolders"]
    lots: dict[str, list[dict[str, Any]]] = {lot["code"]: [] for lot in data["lots"]}
    for bid in data["bids"]:
        extra = guarantees.get((bid["lot"], bid["bidder"]), {})
        bid["guarantee"] = {
            "form": GUARANTEE_LABELS.get(str(extra.get("form")), str(extra.get("form") or "")),
            "reference": extra.get("reference") or "",
        }
        if securities is not None and (bid["lot"], bid["bidder"]) in securities:
            bid["security"] = securities[(bid["lot"], bid["bidder"])]
        bid["receiptNo"] = extra.get("receiptNo")
        bid["outcomeLabel"] = OUTCOME_LABELS.get(bid["outcome"], bid["outcome"])
        bid["outcomeText"] = outcome_text(bid, key_holders)
        bid["price"] = money(bid.get("totalPrice"))
        bid["priceWords"] = amount_in_words(bid.get("totalPrice"))  # 大写, as a legal record states it
        bid["duration"] = "" if bid.get("durationDays") is None else str(bid["durationDays"])
        lots.setdefault(bid["lot"], []).append(bid)
    table = await price_table(session, opening)
    data["priceTableSha256"] = price_table_sha256(table)
    data["lotBids"] = lots
    data["stageTimes"] = stage_times(data["timeline"], data["closedAt"])
    data["events"] = [
        {"at": local_time(str(e.get("at"))), "text": _timeline_text(e), "by": _by(e)}
        for e in data["timeline"]
        if e.get("event") not in {PLATFORM_SIGNED, HOST_SIGNED}
    ]
    data["categoryLabel"] = CATEGORY_LABELS.get(data["tender"]["category"], data["tender"]["category"])
    data["dataSha256"] = hashlib.sha256(canonical_json(_without_labels(data))).hexdigest()
    return data


def _without_labels(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in {"lotBids", "stageTimes", "events", "categoryLabel"}}


async def _opening(session: AsyncSession, code: str) -> OpeningSession:
    opening = await repository.opening_by_code(session, code)
    if opening is None:
        raise NotFound(f"tender {code} has no opening", field="opening", rule="exists")
    return opening


def _confirmation_cells(confirmations: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Each bidder's "投标人确认" cell: the time it signed (the date only when they differ), or
    未确认 (accepted by silence: section 五 says so and names them).
    """
    times = {c["bidder"]: local_time(c.get("confirmedAt")) for c in confirmations if c.get("confirmed")}
    one_day = len({value[:10] for value in times.values()}) <= 1
    cells = {c["bidder"]: "未确认" for c in confirmations}
    cells.update({bidder: f"已确认 {value[11:] if one_day else value[5:]}" for bidder, value in times.items()})
    return cells


def price_tables(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The price table of each lot with bids: one row per bid (with the bidder's confirmation) and
    the causes of the outcomes as numbered notes (each distinct sentence once, in order of use).
    """
    confirmations = _confirmation_cells(data["confirmations"])
    tables = []
    for lot in data["lots"]:
        bids = data["lotBids"].get(lot["code"], [])
        if not bids:
            continue
        notes: dict[str, int] = {}
        rows = [
            {
                "index": index,
                "bid": bid,
                "note": notes.setdefault(str(bid["outcomeText"]), len(notes) + 1),
                "confirmation": confirmations.get(bid["bidder"], ""),
            }
            for index, bid in enumerate(bids, start=1)
        ]
        tables.append({"lot": lot, "rows": rows, "notes": list(notes)})
    return tables


def render_record_html(data: Mapping[str, Any], *, generated_at: datetime) -> str:
    """The record's HTML (Chinese), from `record_data`."""
    confirmations = data["confirmations"]
    return _env.get_template(TEMPLATE).render(
        record=data,
        price_tables=price_tables(data),
        confirmations={
            "total": len(confirmations),
            "confirmed": sum(1 for c in confirmations if c.get("confirmed")),
            "unconfirmed": [c["bidderName"] for c in confirmations if not c.get("confirmed")],
        },
        generated_at=generated_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
        local_time=local_time,
        money=money,
        stage_labels=STAGE_LABELS,
    )


def render_record(data: Mapping[str, Any], *, generated_at: datetime) -> bytes:
    """The unsigned PDF (blocking: call it in a thread or a worker)."""
    # Imported here: WeasyPrint is heavy, and web processes import this module for its routes.
    from trading.kernel.pdf.render import render_pdf  # noqa: PLC0415

    return render_pdf(render_record_html(data, generated_at=generated_at))


# --- the job at close ---------------------------------------------------------------------------------


def _signed_by(opening: OpeningSession, event: str) -> dict[str, Any] | None:
    for entry in reversed((opening.timeline or {}).get("events", [])):
        if entry.get("event") == event:
            return dict(entry)
    return None


async def publish_record(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: Store, code: str
) -> str | None:
    """Render, sign (platform) and store the opening record of a closed opening; idempotent.

    Returns the stored PDF's SHA-256, or None when there is nothing to do (no such opening, not
    closed, or 流标 with no opening held).
    """
    async with session_maker() as session:
        try:
            opening = await _opening(session, code)
        except NotFound:
            log.warning("bidding.opening_record_skipped", tender=code, why="no opening")
            return None
        if opening.stage is not Stage.CLOSED or opening.failed_reason is not None:
            return None
        if opening.record_storage_key is not None:
            return opening.record_sha256
    # Each bid's security judged again now, and a guarantee that verifies marked verified (its own
    # unit of work: the marks are ledger entries, kept even if rendering fails later).
    async with transaction(session_maker, lock=True) as session:
        securities = await opening_securities(session, settings, store, code)
    async with session_maker() as session:
        data = await record_data(session, code, securities)
        generated_at = await clock.now(session)
    # Rendering takes 0.1–3 s: no transaction is open while it runs.
    unsigned = await asyncio.to_thread(render_record, data, generated_at=generated_at)
    system = Actor.system()
    async with transaction(session_maker, lock=True) as session:
        tender, opening = await HallPart.load(session, code, lock=True)
        if opening.record_storage_key is not None:  # another worker finished first
            return opening.record_sha256
        now = await clock.now(session)
        signed = await sign_platform_pdf(
            unsigned, settings, session, reason=REASON, location=settings.bidding.record_location
        )
        digest = hashlib.sha256(signed).hexdigest()
        key = await asyncio.to_thread(store.put, RECORDS_NAMESPACE, digest, signed)
        opening.record_storage_key = key
        opening.record_sha256 = digest
        opening.updated_at = now
        add_timeline_event(opening, PLATFORM_SIGNED, now, system, sha256=digest)
        await session.flush()
        await append_entry(
            session,
            actor=system,
            action="bidding.opening_record_published",
            subject_type="bidding.opening",
            subject_id=str(opening.id),
            summary={"pdfSha256": digest, "signatures": ["platform"], "priceTableSha256": data["priceTableSha256"]},
            data={"unsignedSha256": hashlib.sha256(unsigned).hexdigest(), "recordDataSha256": data["dataSha256"]},
            project_code=tender.project_code,
        )
        publish_after_commit(session, code, {"type": "record", "state": Stage.CLOSED.value, "at": now, "signatures": 1})
    log.info("bidding.opening_record_published", tender=code, sha256=digest)
    return digest


# --- reading and the host's signature -----------------------------------------------------------------


class OpeningRecords(HallPart):
    """The opening record's PDF: download, and the host's incremental signature."""

    async def pdf(self, actor: Actor, code: str) -> bytes:
        """The current record, public once the platform signed it (`OpeningPolicy.may_read_record_pdf`):
        the platform-signed file, or the host-countersigned one once it came.
        """
        async with self.session_maker() as session:
            _, opening = await self.load(session, code)
            if opening.record_storage_key is None:
                raise NotFound("the opening record is not ready yet", field="record", rule="published")
            tender = await session.get_one(Tender, opening.tender_id)
            policy = self.policy_of(actor, tender, opening, await repository.bid_rows(session, opening))
            if not policy.may_read_record_pdf(platform_signed=opening.record_sha256 is not None):
                raise NotFound(
                    "the opening record is published once the platform has signed it", field="record", rule="published"
                )
            key = opening.record_storage_key
        return await self.store.read_bytes(key)

    @audited("record")
    async def sign_as_host(self, actor: Actor, code: str, pdf: bytes) -> dict[str, Any]:
        """Store the host-signed record (an incremental signature over the platform-signed one)."""
        if not pdf.startswith(b"%PDF-") or len(pdf) > MAX_RECORD_BYTES:
            raise OpeningRefused(
                f"send the signed record as a PDF of at most {MAX_RECORD_BYTES} bytes", field="pdf", rule="pdf"
            )
        async with transaction(self.session_maker, lock=True) as session:
            tender, opening = await self.load(session, code, lock=True)
            self.check_host(actor, opening)
            if opening.record_storage_key is None or opening.record_sha256 is None:
                raise OpeningStateConflict(
                    "the platform has not signed the opening record yet", field="record", rule="platform-signed-first"
                )
            if _signed_by(opening, HOST_SIGNED) is not None:
                raise Conflict("the host has already signed the opening record", field="record", rule="host-signs-once")
            current = await self.store.read_bytes(opening.record_storage_key)
            now = await clock.now(session)
            host = await session.get_one(Organisation, opening.host_organisation_id)
            signer_sha256 = await self._check_host_signed(session, current, pdf, host, now)
            digest = hashlib.sha256(pdf).hexdigest()
            key = await asyncio.to_thread(self.store.put, RECORDS_NAMESPACE, digest, pdf)
            previous = opening.record_sha256
            opening.record_storage_key = key
            opening.record_sha256 = digest
            opening.updated_at = now
            add_timeline_event(opening, HOST_SIGNED, now, actor, sha256=digest, signer=signer_sha256)
            await session.flush()
            await append_entry(
                session,
                actor=actor,
                action="bidding.opening_record_host_signed",
                subject_type="bidding.opening",
                subject_id=str(opening.id),
                summary={"pdfSha256": digest, "previousSha256": previous, "signatures": ["platform", "host"]},
                data={"signerSha256": signer_sha256, "host": host.uscc},
                project_code=tender.project_code,
            )
            publish_after_commit(
                session, code, {"type": "record", "state": Stage.CLOSED.value, "at": now, "signatures": 2}
            )
            return {"sha256": digest, "previousSha256": previous, "signerSha256": signer_sha256, "at": now.isoformat()}

    async def _check_host_signed(
        self, session: AsyncSession, current: bytes, uploaded: bytes, host: Organisation, now: datetime
    ) -> str:
        """The checks of the host-signed upload; the host signer certificate's SHA-256."""
        if len(uploaded) <= len(current) or not uploaded.startswith(current):
            raise OpeningRefused(
                "the upload must be the platform-signed record with an incremental signature appended;"
                " the platform's revision was changed",
                field="pdf",
                rule="incremental-update-only",
            )
        try:
            embedded = PdfFileReader(io.BytesIO(uploaded), strict=False).embedded_regular_signatures
        except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds for a broken file
            raise OpeningRefused(f"the PDF cannot be read: {exc}", field="pdf", rule="malformed") from None
        if len(embedded) != 2:  # noqa: PLR2004 - the platform's and the host's
            raise OpeningRefused(
                f"the record must carry exactly two signatures (platform, host), not {len(embedded)}",
                field="pdf",
                rule="two-signatures",
            )
        byte_range = [int(v) for v in embedded[1].sig_object["/ByteRange"]]
        if byte_range[2] + byte_range[3] != len(uploaded):
            raise OpeningRefused(
                "the host's signature must cover the whole file (nothing appended after it)",
                field="pdf",
                rule="signature-covers-file",
            )
        context = await trust_context(session, self.settings, now)
        reports = await verify_pdf(uploaded, context.validator, usage=Usage.SEAL)
        for index, (name, report) in enumerate(zip(("platform", "host"), reports, strict=True)):
            if not report.passed:
                rule = report.reason.value if report.reason else "indeterminate"
                raise OpeningRefused(
                    f"the {name} signature does not verify: {report.message}", field=f"signatures[{index}]", rule=rule
                )
        if reports[0].signer_certificate_sha256 != fingerprint(platform_identity(self.settings).certificate):
            raise OpeningRefused(
                "the first signature is not the platform's", field="signatures[0]", rule="not-platform-signed"
            )
        host_embedded = embedded[1]
        signer = x509.load_der_x509_certificate(host_embedded.signer_cert.dump())
        certificates = [x509.load_der_x509_certificate(c.dump()) for c in host_embedded.signed_data["certificates"]]
        try:
            path = await context.validator.validate(
                signer, certificates, at=reports[1].timestamp_time or now, usage=Usage.SEAL
            )
            party = party_of(path)
        except Refused as refusal:
            raise OpeningRefused(refusal.text, field="signatures[1]", rule=refusal.reason.value) from None
        if party.identifier != host.uscc:
            raise OpeningRefused(
                f"the record is signed by {party.name or party.identifier} ({party.identifier}),"
                f" not by the host {host.name} ({host.uscc})",
                field="signatures[1]",
                rule="signer-not-host",
            )
        return fingerprint(signer)
