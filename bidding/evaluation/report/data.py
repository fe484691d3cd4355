"""What the evaluation report (评标报告) shows, read in one go and returned as plain JSON-able data.

`report_data` gathers the committee (names, kind, venue and seat, the chair), the venues (主场 /
副场), the method with its version and settings, the review decisions, every member's scores per
bid and criterion, the findings (Art. 64 checks and the assistance) with how each was resolved,
the ranking and the candidates (`Evaluation.result`, the contract's shape), the clarifications,
the incidents and replacements, and the signatures and refusals with their dissent. The PDF
template (`render`) prints it; ``dataSha256`` (canonical JSON) goes to the ledger with the PDF.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.models import Evaluation, EventKind, Member, ReportSignature
from bidding.evaluation.report import repository
from certs.canonical import canonical_json

CHINA: Final = timezone(timedelta(hours=8))

METHOD_LABELS: Final = {
    "gp-comprehensive-scoring": "综合评分法",
    "gp-lowest-evaluated-price": "最低评标价法",
    "eng-comprehensive-evaluation": "综合评估法",
    "eng-reviewed-lowest-price": "经评审的最低投标价法",
    "eng-evaluation-separation": "评定分离",
}
KIND_LABELS: Final = {"expert": "评标专家", "representative": "招标人代表"}
ROLE_LABELS: Final = {"main": "主场", "sub": "副场"}
STAGE_LABELS: Final = {"qualification": "资格审查 / 符合性审查", "detailed": "详细评审"}
SOURCE_LABELS: Final = {"art64": "评分复核（第六十四条）", "assistance": "智能辅助评标"}
RESOLUTION_LABELS: Final = {"corrected": "已更正", "justified": "已书面说明理由", "acknowledged": "已阅知并予考虑"}
EVENT_LABELS: Final = {
    EventKind.INCIDENT.value: "异常情况",
    EventKind.REPLACEMENT.value: "更换评标委员会成员",
    EventKind.PAUSE.value: "暂停",
    EventKind.RESUME.value: "恢复",
    EventKind.EXTENSION.value: "延长评标时间",
}
CLARIFICATION_LABELS: Final = {"open": "待答复", "answered": "已答复（投标人签名）", "overdue": "逾期未答复"}
REPORT_EVENTS: Final = (
    EventKind.INCIDENT,
    EventKind.REPLACEMENT,
    EventKind.PAUSE,
    EventKind.RESUME,
    EventKind.EXTENSION,
)


def local_time(value: datetime | str | None) -> str:
    """A moment as Beijing time, ``YYYY-MM-DD HH:MM`` (empty for none)."""
    if value is None or value == "":
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def points(value: Any) -> str:
    """A score as printed: two decimals; anything else as given (empty for none)."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):.2f}"
    except InvalidOperation:
        return str(value)


def money(value: Any) -> str:
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


def signature_state(row: ReportSignature | None) -> tuple[str, str]:
    """``(code, label)`` of one member's answer to the report."""
    if row is None:
        return "pending", "待签署"
    if row.signed:
        return "signed", "已签署"
    if row.dissent.strip():
        return "dissent", "拒绝签字，书面陈述不同意见"
    return "agreed", "拒绝签字且未说明理由，视为同意评标结果"


def _member_row(member: Member, seats: Mapping[uuid.UUID, Any], venue_names: Mapping[uuid.UUID, str]) -> dict[str, Any]:
    seat = seats.get(member.seat_id) if member.seat_id else None
    return {
        "id": str(member.id),
        "name": member.name,
        "kind": member.kind.value,
        "kindLabel": KIND_LABELS.get(member.kind.value, member.kind.value),
        "group": member.group_code,
        "venue": venue_names.get(seat.venue_id, "") if seat else "",
        "seat": seat.label if seat else "",
        "status": member.status.value,
        "voided": member.voided_at is not None,
        "voidedAt": local_time(member.voided_at),
        "replaces": str(member.replaces_member_id) if member.replaces_member_id else None,
    }


def _settings_lines(settings: Mapping[str, Any]) -> list[dict[str, str]]:
    lines = []
    for key in sorted(settings):
        value = settings[key]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        lines.append({"key": key, "value": text})
    return lines


async def report_data(session: AsyncSession, evaluation: Evaluation) -> dict[str, Any]:
    """Everything the report prints, as JSON-able data (see the module docstring)."""
    tender = await repository.tender(session, evaluation.tender_id)
    all_members = await repository.members(session, evaluation.id)
    venue_rows = await repository.venues(session, evaluation.id)
    venue_names = {venue.id: venue.name for venue, _ in venue_rows}
    seats = await repository.seats(session, [m.seat_id for m in all_members if m.seat_id])
    members_by_id = {m.id: m for m in all_members}
    committee = [_member_row(m, seats, venue_names) for m in all_members if repository.is_current(m)]
    voided = [_member_row(m, seats, venue_names) for m in all_members if m.voided_at is not None]
    result: dict[str, Any] = dict(evaluation.result or {})
    result_bids: list[dict[str, Any]] = list(result.get("bids") or [])
    scores = await repository.scores(session, evaluation.id)
    reviews = await repository.review_decisions(session, evaluation.id)
    findings = await repository.findings(session, evaluation.id)
    clarifications = await repository.clarifications(session, evaluation.id)
    bid_ids = {s.opening_bid_id for s in scores} | {r.opening_bid_id for r in reviews}
    bid_ids |= {c.opening_bid_id for c in clarifications} | {f.opening_bid_id for f in findings if f.opening_bid_id}
    names = {str(k): v for k, v in (await repository.bidder_names(session, sorted(bid_ids, key=str))).items()}
    names.update({str(b["opening_bid_id"]): str(b.get("bidder_name", "")) for b in result_bids})

    def member_name(member_id: uuid.UUID | None) -> str:
        member = members_by_id.get(member_id) if member_id else None
        return member.name if member else ""

    # Each member's scores: one table per bid, a row per criterion, a column per member.
    sheet: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for score in scores:
        sheet[str(score.opening_bid_id)][score.criterion][str(score.member_id)] = points(score.points)
    scoring_members = [m for m in committee if any(m["id"] in row for bid in sheet.values() for row in bid.values())]
    order = [str(b["opening_bid_id"]) for b in result_bids] + sorted(
        set(sheet) - {str(b["opening_bid_id"]) for b in result_bids}
    )
    score_tables = [
        {
            "bid": bid_id,
            "bidder": names.get(bid_id, bid_id),
            "rows": [
                {"criterion": criterion, "cells": [row.get(m["id"], "") for m in scoring_members]}
                for criterion, row in sorted(sheet[bid_id].items())
            ],
        }
        for bid_id in order
        if bid_id in sheet
    ]
    signatures = {row.member_id: row for row in await repository.signatures(session, evaluation.id)}
    answers = []
    for member in all_members:
        if not repository.is_current(member):
            continue
        row = signatures.get(member.id)
        code, label = signature_state(row)
        answers.append(
            {
                "member": member.name,
                "state": code,
                "label": label,
                "dissent": row.dissent if row is not None and not row.signed else "",
                "at": local_time(row.at) if row is not None else "",
            }
        )
    events = await repository.session_events(session, evaluation.id, REPORT_EVENTS)
    data: dict[str, Any] = {
        "evaluation": {
            "id": str(evaluation.id),
            "lotGroup": evaluation.lot_group,
            "state": evaluation.state.value,
            "stateEnteredAt": local_time(evaluation.state_entered_at),
            "scheduledAt": local_time(evaluation.scheduled_at),
        },
        "tender": {"code": tender.project_code, "title": tender.title, "id": str(tender.id)},
        "method": {
            "code": evaluation.method,
            "label": METHOD_LABELS.get(evaluation.method, evaluation.method),
            "version": evaluation.method_version,
            "settings": _settings_lines(evaluation.settings or {}),
        },
        "venues": [
            {
                "name": venue.name,
                "code": venue.code,
                "role": link.role.value,
                "roleLabel": ROLE_LABELS.get(link.role.value, ""),
                "region": venue.region_code,
                "platform": venue.platform,
                "address": venue.address,
            }
            for venue, link in venue_rows
        ],
        "committee": committee,
        "chair": member_name(evaluation.chair_member_id),
        "voided": voided,
        "reviews": [
            {
                "stage": STAGE_LABELS.get(r.stage.value, r.stage.value),
                "bidder": names.get(str(r.opening_bid_id), ""),
                "item": r.item or "整体",
                "member": member_name(r.member_id),
                "passed": "通过" if r.passed else "不通过",
                "reason": r.reason,
            }
            for r in reviews
        ],
        "scoringMembers": [m["name"] for m in scoring_members],
        "scoreTables": score_tables,
        "findings": [
            {
                "source": SOURCE_LABELS.get(f.source.value, f.source.value),
                "rule": f.rule,
                "bidder": names.get(str(f.opening_bid_id), "") if f.opening_bid_id else "",
                "member": member_name(f.member_id),
                "criterion": f.criterion,
                "resolution": RESOLUTION_LABELS.get(f.resolution.value, "") if f.resolution else "未处理",
                "justification": f.justification,
                "resolvedAt": local_time(f.resolved_at),
            }
            for f in findings
        ],
        "ranking": [
            {
                "rank": b.get("rank"),
                "bidder": b.get("bidder_name", ""),
                "uscc": b.get("bidder_uscc", ""),
                "price": money(b.get("price")),
                "total": points(b.get("total")),
                "valid": bool(b.get("valid")),
                "invalidReason": b.get("invalid_reason", ""),
            }
            for b in sorted(
                result_bids, key=lambda b: (b.get("rank") is None, b.get("rank") or 0, str(b.get("bidder_name")))
            )
        ],
        "candidates": [names.get(str(c), str(c)) for c in result.get("candidates") or []],
        "recommended": [names.get(str(c), str(c)) for c in result.get("recommended") or []],
        "resultComputedAt": local_time(result.get("computed_at")),
        "clarifications": [
            {
                "bidder": names.get(str(c.opening_bid_id), ""),
                "askedBy": member_name(c.asked_by_member_id),
                "question": c.question,
                "answer": c.answer or "",
                "askedAt": local_time(c.asked_at),
                "answeredAt": local_time(c.answered_at),
                "status": CLARIFICATION_LABELS.get(c.status.value, c.status.value),
            }
            for c in clarifications
        ],
        "events": [
            {
                "at": local_time(e.at),
                "kind": EVENT_LABELS.get(e.kind.value, e.kind.value),
                "member": member_name(e.member_id),
                "note": e.note,
            }
            for e in events
        ],
        "answers": answers,
        "dissents": [a for a in answers if a["state"] == "dissent"],
    }
    data["dataSha256"] = hashlib.sha256(canonical_json(_plain(data))).hexdigest()
    return data


def _plain(data: Any) -> Any:
    """The data with everything canonical JSON takes (it refuses floats; nothing here is one)."""
    if isinstance(data, Mapping):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, Sequence) and not isinstance(data, str):
        return [_plain(v) for v in data]
    return data
