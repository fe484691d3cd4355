"""Hard evidence (铁证, issue 19 §3): the statutory "视为串通" cases, matched on captured signals.

《招标投标法实施条例》第四十条 and, for government procurement, 《政府采购货物和服务招标投标管理办法》
(财政部令第87号) 第三十七条 deem bids collusive when, among others, they were prepared by the same
person, handled by the same agent, name the same project manager or contact, are mixed up with
each other or were secured from the same account. Each rule of ``catalogue/evidence.toml`` maps one
captured signal onto one of those cases; its ``basis`` cites the articles.

Kept apart from the statistical screens: every finding is ``hard=True`` with score 0, so it never
moves the lot's combined score; it stands on its own as evidence for a supervisor to check.

A value matches only another *present* value: a missing device hash, IP or account never matches
another missing one. Personal data in the evidence is masked (an IP's last part, a phone's middle
digits, an account but its last four digits, a hash to its prefix): enough to see that two bids
share it, not enough to publish it.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations

from bidding.integrity.screens.model import BidSignals, Finding, Severity
from bidding.integrity.screens.rules import RuleSet

__all__ = [
    "AUTHORING_IDENTIFYING",
    "mask_account",
    "mask_contact",
    "mask_ip",
    "mask_person",
    "normalise_contact",
    "normalise_ip",
    "screen_evidence",
]

HASH_PREFIX = 12  # hex characters of a hash shown as evidence: enough to tell two apart
_MOBILE_DIGITS = 11  # a mainland mobile number
_SHOWN_TAIL = 4  # the last characters shown of a phone, an account or an identity number
_ID_NUMBER_MIN = 15  # identity numbers have 15 (old) or 18 characters
_ID_HEAD = 6  # the region code an identity number starts with
_PAIR = 2

AUTHORING_IDENTIFYING: tuple[str, ...] = ("author", "last_modified_by", "company", "document_id", "created")
"""The authoring fields that identify who made a file. The software fields (``creator``,
``producer``, ``application``) are captured too but never matched: every office uses the same
suite, so "Microsoft Word" in two bids proves nothing."""

# Values office software writes when nobody set one; matching them would flag every pair of bids
# typed on a fresh Windows installation. Compared case-insensitively.
_DEFAULT_AUTHORS = frozenset(
    {
        "",
        "admin",
        "administrator",
        "user",
        "owner",
        "author",
        "unknown",
        "microsoft",
        "microsoft office user",
        "microsoft 用户",
        "微软用户",
        "微软中国",
        "用户",
        "sky123.org",
        "lenovo",
        "dell",
        "hp",
        "asus",
        "pc",
        "window",
        "windows",
        "windows 用户",
        "windows user",
        "python-docx",
    }
)


# --- normalising and masking ----------------------------------------------------------------------


def normalise_ip(value: str | None) -> str | None:
    """The address in its canonical form (IPv4-mapped IPv6 as IPv4), or None when not an address."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def mask_ip(value: str) -> str:
    """IPv4 without its last octet (``203.0.113.*``), IPv6 with its first four groups only."""
    address = ipaddress.ip_address(value)
    if isinstance(address, ipaddress.IPv4Address):
        return ".".join([*str(address).split(".")[:3], "*"])
    return ":".join(address.exploded.split(":")[:4]) + ":*"


def normalise_contact(value: str | None) -> str | None:
    """An e-mail address in lower case; a phone number as its digits (mainland +86/0086 dropped)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if "@" in text:
        return text.lower()
    digits = re.sub(r"\D", "", text)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == _MOBILE_DIGITS:
            digits = digits[len(prefix) :]
    return digits or None


def mask_contact(value: str) -> str:
    """``a***@example.com``; a phone with its middle digits hidden (``138****5678``)."""
    if "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(value) <= _SHOWN_TAIL:
        return "*" * len(value)
    keep = 3 if len(value) >= _MOBILE_DIGITS else 2
    return value[:keep] + "*" * (len(value) - keep - _SHOWN_TAIL) + value[-_SHOWN_TAIL:]


def mask_account(value: str) -> str:
    """A bank account number but its last four characters."""
    tail = value[-_SHOWN_TAIL:] if len(value) > _SHOWN_TAIL else ""
    return "****" + tail


def mask_person(value: str) -> str:
    """An identity number as its first 6 and last 4 characters; a name as its first character."""
    if len(value) >= _ID_NUMBER_MIN and any(ch.isdigit() for ch in value):
        return value[:_ID_HEAD] + "*" * (len(value) - _ID_HEAD - _SHOWN_TAIL) + value[-_SHOWN_TAIL:]
    return value[:1] + "*" * max(len(value) - 1, 1)


def _mask_hash(value: str) -> str:
    return value[:HASH_PREFIX] + "…"


# --- the screen -----------------------------------------------------------------------------------


def screen_evidence(ocid: str, lot: str | None, signals: Sequence[BidSignals], rules: RuleSet) -> list[Finding]:
    """Every hard-evidence finding of one lot, in the catalogue's order and then by the bidders.

    ``ocid`` and ``lot`` only name the lot in the summaries' evidence; a rule missing from ``rules``
    is not run (a catalogue without it has switched it off).
    """
    names = {s.bidder: s.bidder_name for s in signals}
    context = {"ocid": ocid, "lot": lot}
    findings: list[Finding] = []

    def shared(
        rule_id: str,
        values: Callable[[BidSignals], Iterable[str]],
        mask: Callable[[str], str],
        what: str,
        legal_item: str,
    ) -> None:
        if rule_id not in rules:
            return
        rule = rules[rule_id]
        for value, bidders in _groups(signals, values):
            masked = mask(value)
            findings.append(
                Finding(
                    rule=rule.id,
                    rule_version=rule.version,
                    severity=rule.severity,
                    summary=f"{len(bidders)} 家投标人的{what}相同（{masked}），属{legal_item}",
                    evidence={
                        **context,
                        "signal": what,
                        "value": masked,
                        "bidders": _named(bidders, names),
                        "basis": rule.basis,
                    },
                    subjects=bidders,
                    hard=True,
                )
            )

    shared(
        "EVID-DEVICE",
        lambda s: _present(s.device_hash.lower() if s.device_hash else None),
        _mask_hash,
        "设备指纹",
        "“由同一单位或者个人编制”的情形",
    )
    shared(
        "EVID-FILE-DIGEST",
        lambda s: {d.lower() for d in s.file_digests if d},
        _mask_hash,
        "文件（SHA-256）",
        "投标文件“异常一致”的情形",
    )
    findings.extend(_authoring(signals, rules, names, context))
    findings.extend(_names_inside(signals, rules, names, context))
    shared(
        "EVID-GUARANTEE-PAYER",
        lambda s: _present(_strip_spaces(s.guarantee_payer_account)),
        mask_account,
        "投标保证金付款账户",
        "“投标保证金从同一单位或者个人的账户转出”的情形",
    )
    shared(
        "EVID-PROJECT-MANAGER",
        lambda s: _present(_strip_spaces(s.project_manager)),
        mask_person,
        "项目负责人",
        "“项目管理成员为同一人”的情形",
    )
    shared(
        "EVID-CONTACT",
        lambda s: {c for c in (normalise_contact(x) for x in s.contacts) if c},
        mask_contact,
        "联系方式",
        "“联系人员为同一人”的情形",
    )
    shared(
        "EVID-SUBMIT-IP",
        lambda s: _present(normalise_ip(s.submit_ip)),
        mask_ip,
        "递交投标文件的IP地址",
        "“委托同一单位或者个人办理投标事宜”的迹象（同一网络出口亦可致此，须核实）",
    )
    shared(
        "EVID-DECRYPT-IP",
        lambda s: _present(normalise_ip(s.decrypt_ip)),
        mask_ip,
        "开标解密的IP地址",
        "“委托同一单位或者个人办理投标事宜”的迹象（同一网络出口亦可致此，须核实）",
    )
    return findings


def _present(value: str | None) -> set[str]:
    return {value} if value else set()


def _strip_spaces(value: str | None) -> str | None:
    return re.sub(r"\s+", "", value).upper() if value else None


def _groups(
    signals: Sequence[BidSignals], values: Callable[[BidSignals], Iterable[str]]
) -> list[tuple[str, tuple[str, ...]]]:
    """Each value held by two or more distinct bidders, with those bidders (sorted), by value."""
    holders: dict[str, set[str]] = defaultdict(set)
    for signal in signals:
        for value in values(signal):
            holders[value].add(signal.bidder)
    return [(value, tuple(sorted(who))) for value, who in sorted(holders.items()) if len(who) >= _PAIR]


def _named(bidders: Iterable[str], names: Mapping[str, str | None]) -> list[dict[str, str | None]]:
    return [{"id": bidder, "name": names.get(bidder)} for bidder in bidders]


def _identifying(file: Mapping[str, str]) -> dict[str, str]:
    """The identifying authoring fields of one file that carry a real value (defaults dropped)."""
    kept: dict[str, str] = {}
    for key in AUTHORING_IDENTIFYING:
        value = str(file.get(key) or "").strip()
        if not value:
            continue
        if key in {"author", "last_modified_by", "company"} and value.lower() in _DEFAULT_AUTHORS:
            continue
        kept[key] = value
    return kept


def _authoring(
    signals: Sequence[BidSignals], rules: RuleSet, names: Mapping[str, str | None], context: Mapping[str, object]
) -> list[Finding]:
    """One finding per pair of bidders whose files share identifying authoring fields: the pair of
    files sharing the most fields decides the severity (RED from ``fields_for_red``, else AMBER).
    """
    if "EVID-AUTHORING" not in rules:
        return []
    rule = rules["EVID-AUTHORING"]
    for_red = rules.threshold("EVID-AUTHORING", "fields_for_red")
    per_bidder: dict[str, list[tuple[str, dict[str, str]]]] = defaultdict(list)
    for signal in signals:
        for file in signal.authoring:
            fields = _identifying(file)
            if fields:
                per_bidder[signal.bidder].append((str(file.get("name") or ""), fields))
    findings: list[Finding] = []
    for first, second in combinations(sorted(per_bidder), 2):
        best: tuple[int, str, str, dict[str, str]] | None = None
        for name_a, fields_a in per_bidder[first]:
            for name_b, fields_b in per_bidder[second]:
                same = {key: value for key, value in fields_a.items() if fields_b.get(key) == value}
                if same and (best is None or len(same) > best[0]):
                    best = (len(same), name_a, name_b, same)
        if best is None:
            continue
        count, name_a, name_b, same = best
        severity = rule.severity if count >= for_red else Severity.AMBER
        shown = {
            key: (value if key in {"document_id", "created"} else mask_person(value)) for key, value in same.items()
        }
        findings.append(
            Finding(
                rule=rule.id,
                rule_version=rule.version,
                severity=severity,
                summary=f"两家投标人的文件编制信息有 {count} 项相同（{'、'.join(sorted(same))}），疑为同一人编制",
                evidence={
                    **context,
                    "signal": "authoring",
                    "fields": shown,
                    "files": {first: name_a, second: name_b},
                    "bidders": _named((first, second), names),
                    "basis": rule.basis,
                },
                subjects=(first, second),
                hard=True,
            )
        )
    return findings


def _names_inside(
    signals: Sequence[BidSignals], rules: RuleSet, names: Mapping[str, str | None], context: Mapping[str, object]
) -> list[Finding]:
    """One finding per (bid, other bidder's name found in its texts). Whitespace is ignored on both
    sides: extracted PDF text often breaks a name across lines or spaces its characters.
    """
    if "EVID-NAME-INSIDE" not in rules:
        return []
    rule = rules["EVID-NAME-INSIDE"]
    shortest = rules.threshold("EVID-NAME-INSIDE", "min_name_chars")
    searchable = {
        s.bidder: re.sub(r"\s+", "", s.bidder_name)
        for s in signals
        if s.bidder_name and len(re.sub(r"\s+", "", s.bidder_name)) >= shortest
    }
    findings: list[Finding] = []
    for signal in sorted(signals, key=lambda s: s.bidder):
        if not signal.texts:
            continue
        own = searchable.get(signal.bidder)
        texts = [re.sub(r"\s+", "", text) for text in signal.texts]
        for other, name in sorted(searchable.items()):
            # a bidder's own name, or another name that contains it, is not another's name
            if other == signal.bidder or (own is not None and (name == own or name in own)):
                continue
            hits = [index for index, text in enumerate(texts) if name in text]
            if not hits:
                continue
            findings.append(
                Finding(
                    rule=rule.id,
                    rule_version=rule.version,
                    severity=rule.severity,
                    summary=(
                        f"投标人 {names.get(signal.bidder) or signal.bidder} 的投标文件中出现另一投标人 {name} 的名称"
                    ),
                    evidence={
                        **context,
                        "signal": "name-inside",
                        "found": name,
                        "in_bid_of": {"id": signal.bidder, "name": names.get(signal.bidder)},
                        "name_of": {"id": other, "name": names.get(other)},
                        "files": hits,
                        "basis": rule.basis,
                    },
                    subjects=tuple(sorted((signal.bidder, other))),
                    hard=True,
                )
            )
    return findings
