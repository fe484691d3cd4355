"""The parties a response declares (issue 19 §1): the rules of `bidding.client.parties`, the
platform's reader applying them, the client refusing before sealing, the opening's normalised record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bidding.client import parties
from bidding.client.problems import BidBuildError
from bidding.client.sdk import _check_response
from bidding.evaluation.response.bid import read_response
from bidding.evaluation.response.reading import FormatError

BID = {"tender": "GC2027-001", "lot": "1", "bidder": "91320100MA1XXXXX0X"}
VALID = {
    "projectManager": {"name": "张建国", "idNumber": "11010519491231002x", "registrationNo": "京111060800123"},
    "contacts": [
        {"name": "李四", "phone": "+86 138-0013-8000", "email": "Li@A.example.com"},
        {"name": "王五", "phone": "(021) 6428-1234"},
    ],
    "bidSecurityPayer": {"accountNo": "6222 0210 0112 3456 789", "bank": "中国工商银行北京海淀支行"},
}


def response(**fields: Any) -> dict[str, Any]:
    return {"format": "ggzy-response/1", **BID, "total": "100.00", "totalInWords": "壹佰元整", **fields}


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("11010519491231002X", None),
        ("11010519491231002x", None),  # a lower-case x is the same number
        ("110105194912310021", "id-number-checksum"),
        ("110105194913310021", "id-number-format"),  # month 13
        ("110105194902300028", "id-number-format"),  # 30 February
        ("11010519491231002", "id-number-format"),  # 17 characters
        ("110105491231002", "id-number-format"),  # the old 15-digit number has no check: not accepted
        ("0101051949123100X1", "id-number-format"),
    ],
)
def test_identity_numbers_by_shape_date_and_check_character(value: str, rule: str | None) -> None:
    assert parties.id_number_problem(value) == rule


def test_the_check_character_is_gb_11643s() -> None:
    assert parties.id_check_character("11010519491231002") == "X"
    assert parties.id_check_character("11010519800101001") == "6"


def test_a_valid_declaration_reads_and_is_recorded_normalised() -> None:
    assert parties.problems(VALID) == []
    doc = read_response(json.dumps(response(**VALID)))
    assert doc.project_manager is not None
    assert doc.project_manager.registration_no == "京111060800123"
    assert [c.name for c in doc.contacts] == ["李四", "王五"]
    assert parties.declared_parties(VALID) == {
        "projectManager": {"name": "张建国", "idNumber": "11010519491231002X", "registrationNo": "京111060800123"},
        "contacts": [
            {"name": "李四", "phone": "13800138000", "email": "li@a.example.com"},
            {"name": "王五", "phone": "02164281234", "email": None},
        ],
        "bidSecurityPayer": {"accountNo": "6222021001123456789", "bank": "中国工商银行北京海淀支行"},
    }


def test_an_older_response_without_parties_stays_valid() -> None:
    doc = read_response(json.dumps(response()))
    assert (doc.project_manager, doc.contacts, doc.bid_security_payer) == (None, [], None)
    assert parties.declared_parties(response()) is None


@pytest.mark.parametrize(
    ("fields", "path", "rule"),
    [
        ({"projectManager": {"name": "张三"}}, "$.projectManager", "project-manager-identity"),
        (
            {"projectManager": {"name": " ", "registrationNo": "京1110608"}},
            "$.projectManager.name",
            "project-manager-name",
        ),
        (
            {"projectManager": {"name": "张三", "idNumber": "110105194912310021"}},
            "$.projectManager.idNumber",
            "id-number-checksum",
        ),
        (
            {"projectManager": {"name": "张三", "registrationNo": "京 111"}},
            "$.projectManager.registrationNo",
            "registration-no-format",
        ),
        ({"contacts": [{"name": "李四"}]}, "$.contacts[0]", "contact-reachable"),
        ({"contacts": [{"name": "李四", "phone": "12345678"}]}, "$.contacts[0].phone", "phone-format"),
        ({"contacts": [{"name": "李四", "phone": "021-6428"}]}, "$.contacts[0].phone", "phone-format"),
        ({"contacts": [{"name": "李四", "phone": "23800138000"}]}, "$.contacts[0].phone", "phone-format"),
        ({"contacts": [{"name": "李四", "email": "li@localhost"}]}, "$.contacts[0].email", "email-format"),
        ({"contacts": [{"name": " ", "email": "li@a.example.com"}]}, "$.contacts[0].name", "contact-name"),
        ({"contacts": [{"name": "李四", "email": "li@a.example.com"}] * 6}, "$.contacts", "contacts-count"),
        (
            {"bidSecurityPayer": {"accountNo": "6222-12AB", "bank": "工行"}},
            "$.bidSecurityPayer.accountNo",
            "account-number-format",
        ),
        (
            {"bidSecurityPayer": {"accountNo": "1234567", "bank": "工行"}},
            "$.bidSecurityPayer.accountNo",
            "account-number-format",
        ),
        ({"bidSecurityPayer": {"accountNo": "12345678", "bank": " "}}, "$.bidSecurityPayer.bank", "bank-name"),
    ],
)
def test_each_rule_is_refused_by_path_and_name_by_the_reader_and_the_client(
    fields: dict[str, Any], path: str, rule: str, tmp_path: Path
) -> None:
    assert [(p.path, p.rule) for p in parties.problems(fields)] == [(path, rule)]
    with pytest.raises(FormatError) as refused:
        read_response(json.dumps(response(**fields)))
    assert (path, rule) in {(p.path, p.rule) for p in refused.value.problems}
    file = tmp_path / "response.json"
    file.write_text(json.dumps(response(**fields)), encoding="utf-8")
    with pytest.raises(BidBuildError, match=rule):
        _check_response(file, **BID)


def test_masking_shows_the_last_four_digits_only() -> None:
    assert parties.mask_account("6222021001123456789") == "****6789"
    assert parties.mask_account("123") == "****"
