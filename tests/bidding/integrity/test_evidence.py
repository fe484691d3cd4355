"""Hard evidence (铁证): each rule fires on its planted case, names the bidders and the masked value,
cites its basis, and stays quiet on honest bids (distinct values; missing values never match)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bidding.integrity.screens.evidence import (
    mask_account,
    mask_contact,
    mask_ip,
    mask_person,
    normalise_contact,
    normalise_ip,
    screen_evidence,
)
from bidding.integrity.screens.model import BidSignals, Severity
from bidding.integrity.screens.rules import load_catalogue

RULES = load_catalogue()
DEVICE_A = "a1" * 32
DEVICE_B = "b2" * 32
FILE_A = "c3" * 32
FILE_B = "d4" * 32


def honest() -> list[BidSignals]:
    """Three bidders with every signal present and every value distinct."""
    return [
        BidSignals(
            bidder="X1",
            bidder_name="甲建设工程有限公司",
            device_hash=DEVICE_A,
            file_digests=(FILE_A,),
            authoring=({"name": "a.docx", "author": "张三", "company": "甲建设", "created": "2026-01-01T08:00:00"},),
            submit_ip="203.0.113.10",
            decrypt_ip="198.51.100.7",
            guarantee_payer_account="6222 0000 1111 2222",
            contacts=("13800001111", "a@jia.cn"),
            project_manager="110101199001011234",
            texts=("甲建设工程有限公司 投标函",),
        ),
        BidSignals(
            bidder="X2",
            bidder_name="乙路桥集团有限公司",
            device_hash=DEVICE_B,
            file_digests=(FILE_B,),
            authoring=({"name": "b.pdf", "author": "李四", "company": "乙路桥", "created": "2026-02-02T09:00:00"},),
            submit_ip="203.0.113.11",
            decrypt_ip="198.51.100.8",
            guarantee_payer_account="6222000033334444",
            contacts=("13900002222",),
            project_manager="110101199202025678",
            texts=("乙路桥集团有限公司 投标函",),
        ),
        BidSignals(bidder="X3", bidder_name="丙公司"),  # nothing captured: an old bid or browser-sealed
    ]


def planted(rule: str) -> tuple[list[BidSignals], dict[str, Any]]:
    """The honest lot with the one signal of ``rule`` made equal for X1 and X2; the masked value."""
    x1, x2, x3 = honest()
    changes: dict[str, tuple[dict[str, Any], Any]] = {
        "EVID-DEVICE": ({"device_hash": DEVICE_A.upper()}, "a1a1a1a1a1a1…"),
        "EVID-FILE-DIGEST": ({"file_digests": (FILE_B, FILE_A)}, "c3c3c3c3c3c3…"),
        "EVID-GUARANTEE-PAYER": ({"guarantee_payer_account": "6222000011112222"}, "****2222"),
        "EVID-PROJECT-MANAGER": ({"project_manager": "110101 199001011234"}, "110101********1234"),
        "EVID-CONTACT": ({"contacts": ("+86 138-0000-1111",)}, "138****1111"),
        "EVID-SUBMIT-IP": ({"submit_ip": "::ffff:203.0.113.10"}, "203.0.113.*"),
        "EVID-DECRYPT-IP": ({"decrypt_ip": "198.51.100.7"}, "198.51.100.*"),
    }
    change, masked = changes[rule]
    return [x1, dataclasses.replace(x2, **change), x3], masked


@pytest.mark.parametrize(
    "rule",
    [
        "EVID-DEVICE",
        "EVID-FILE-DIGEST",
        "EVID-GUARANTEE-PAYER",
        "EVID-PROJECT-MANAGER",
        "EVID-CONTACT",
        "EVID-SUBMIT-IP",
        "EVID-DECRYPT-IP",
    ],
)
def test_each_shared_value_rule_fires_on_its_case_only(rule: str) -> None:
    lot, masked = planted(rule)
    findings = screen_evidence("T-1", "L1", lot, RULES)
    assert [f.rule for f in findings] == [rule]
    (finding,) = findings
    assert finding.hard is True
    assert finding.score == 0
    assert finding.severity is Severity.RED
    assert finding.subjects == ("X1", "X2")
    assert finding.evidence["value"] == masked
    assert finding.evidence["bidders"] == [
        {"id": "X1", "name": "甲建设工程有限公司"},
        {"id": "X2", "name": "乙路桥集团有限公司"},
    ]
    assert "第四十条" in str(finding.evidence["basis"])
    assert "第三十七条" in str(finding.evidence["basis"])
    assert (finding.evidence["ocid"], finding.evidence["lot"]) == ("T-1", "L1")


def test_honest_bids_raise_nothing() -> None:
    assert screen_evidence("T-1", None, honest(), RULES) == []


def test_missing_values_never_match_each_other() -> None:
    empty = [BidSignals(bidder=f"B{i}", submit_ip="", device_hash=None, contacts=("", " ")) for i in range(4)]
    assert screen_evidence("T-1", None, empty, RULES) == []


def test_one_group_of_three_is_one_finding() -> None:
    lot = [BidSignals(bidder=b, device_hash=DEVICE_A) for b in ("C", "A", "B")] + [
        BidSignals("D", device_hash=DEVICE_B)
    ]
    (finding,) = screen_evidence("T-1", None, lot, RULES)
    assert finding.subjects == ("A", "B", "C")
    assert finding.summary.startswith("3 家投标人的设备指纹相同")


def test_the_same_bidder_twice_is_not_a_pair() -> None:
    """Two rows of one bidder (e.g. two lots read together) do not make evidence against it."""
    lot = [BidSignals("A", device_hash=DEVICE_A), BidSignals("A", device_hash=DEVICE_A)]
    assert screen_evidence("T-1", None, lot, RULES) == []


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        # one identifying field shared: AMBER
        ({"author": "王五"}, {"author": "王五"}, (Severity.AMBER, {"author": "王*"})),
        # two fields (fields_for_red = 2): RED
        (
            {"author": "王五", "document_id": "abc123"},
            {"author": "王五", "document_id": "abc123"},
            (Severity.RED, {"author": "王*", "document_id": "abc123"}),
        ),
        # software names never count, nor default author names
        ({"creator": "Microsoft Word", "producer": "Word"}, {"creator": "Microsoft Word", "producer": "Word"}, None),
        ({"author": "Administrator"}, {"author": "administrator"}, None),
        ({"author": "微软用户", "company": "User"}, {"author": "微软用户", "company": "User"}, None),
        # present against missing: no match
        ({"author": "王五"}, {"author": ""}, None),
        ({"created": "2026-03-03T10:00:00"}, {"created": "2026-03-03T10:00:01"}, None),
    ],
)
def test_authoring_metadata(first: dict[str, str], second: dict[str, str], expected: Any) -> None:
    lot = [
        BidSignals("A", authoring=({"name": "a.docx", **first},)),
        BidSignals("B", authoring=({"name": "b.docx", **second}, {"name": "c.pdf", "author": "赵六"})),
    ]
    findings = screen_evidence("T-1", None, lot, RULES)
    if expected is None:
        assert findings == []
        return
    (finding,) = findings
    severity, fields = expected
    assert finding.rule == "EVID-AUTHORING"
    assert finding.severity is severity
    assert finding.hard is True
    assert finding.score == 0
    assert finding.evidence["fields"] == fields
    assert finding.evidence["files"] == {"A": "a.docx", "B": "b.docx"}


@pytest.mark.parametrize(
    ("texts_of_b", "fires"),
    [
        (("本公司乙路桥集团有限公司郑重承诺",), False),  # its own name
        (("投标人：甲建设工程\n有限公司（盖章）",), True),  # the other's name, broken across a line
        (("甲建设 的报价",), False),  # a part of the name is not the name
        ((), False),  # no text extracted
    ],
)
def test_name_of_another_bidder_inside_a_bid(texts_of_b: tuple[str, ...], *, fires: bool) -> None:
    lot = [
        BidSignals("A", bidder_name="甲建设工程有限公司", texts=("甲建设工程有限公司",)),
        BidSignals("B", bidder_name="乙路桥集团有限公司", texts=texts_of_b),
    ]
    findings = screen_evidence("T-1", None, lot, RULES)
    if not fires:
        assert findings == []
        return
    (finding,) = findings
    assert finding.rule == "EVID-NAME-INSIDE"
    assert finding.evidence["in_bid_of"] == {"id": "B", "name": "乙路桥集团有限公司"}
    assert finding.evidence["name_of"] == {"id": "A", "name": "甲建设工程有限公司"}
    assert finding.evidence["files"] == [0]
    assert finding.subjects == ("A", "B")


def test_short_names_are_not_searched() -> None:
    lot = [BidSignals("A", bidder_name="甲公司"), BidSignals("B", bidder_name="乙建设有限公司", texts=("甲公司",))]
    assert screen_evidence("T-1", None, lot, RULES) == []


def test_a_rule_left_out_of_the_catalogue_is_not_run() -> None:
    from bidding.integrity.screens.rules import RuleSet

    lot, _ = planted("EVID-DEVICE")
    without = RuleSet(rule for rule in RULES if rule.id != "EVID-DEVICE")
    assert screen_evidence("T-1", None, lot, without) == []


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        (mask_ip, "203.0.113.10", "203.0.113.*"),
        (mask_ip, "2001:db8::1", "2001:0db8:0000:0000:*"),
        (mask_contact, "13800001111", "138****1111"),
        (mask_contact, "01088886666", "010****6666"),
        (mask_contact, "zhang@example.com", "z***@example.com"),
        (mask_account, "6222000011112222", "****2222"),
        (mask_person, "110101199001011234", "110101********1234"),
        (mask_person, "王五", "王*"),
        (normalise_ip, "::ffff:10.0.0.1", "10.0.0.1"),
        (normalise_ip, "not an address", None),
        (normalise_contact, "+86 138 0000 1111", "13800001111"),
        (normalise_contact, " Zhang@Example.COM ", "zhang@example.com"),
    ],
)
def test_masking_and_normalising(function: Any, value: str, expected: str | None) -> None:
    assert function(value) == expected


def test_every_evidence_rule_is_hard_and_cites_both_bases() -> None:
    evidence = [rule for rule in RULES if rule.id.startswith("EVID-")]
    assert len(evidence) == 9
    for rule in evidence:
        assert rule.hard, rule.id
        for cited in ("第四十条", "财政部令第87号", "第三十七条"):
            assert cited in rule.basis, rule.id
