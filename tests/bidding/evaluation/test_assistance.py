"""Assistance: the priced bill under 12号令 Art. 19, abnormally low prices, ★ responses, qualification
claims, credit facts and proposed objective scores; the strict reading of the documents."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

import pytest

from bidding.evaluation.assistance.arithmetic import decimal_shift
from bidding.evaluation.assistance.assess import assess
from bidding.evaluation.assistance.checks import CreditFact
from bidding.evaluation.assistance.labels import FINDING_TEXT, describe
from bidding.evaluation.assistance.thresholds import Thresholds, defaults
from bidding.evaluation.response.bid import read_response, response_schema
from bidding.evaluation.response.capitals import CapitalsError, parse_capitals, to_capitals
from bidding.evaluation.response.reading import FormatError
from bidding.evaluation.response.requirements import read_requirements
from trading.kernel.web import i18n

BIDDER_A = "91110000100000000A"
BIDDER_B = "91110000100000001B"
BIDDER_C = "91110000100000002C"
BIDDER_D = "91110000100000003D"


def requirements(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": "ggzy-requirements/1",
        "tender": "GC2027-001",
        "lot": "1",
        "sector": "engineering",
        "deadline": "2027-03-15T09:30:00+08:00",
        "qualifications": [
            {
                "code": "Q1",
                "kind": "enterprise-qualification",
                "name": "建筑工程施工总承包",
                "minimumGrade": 2,
            },
            {"code": "Q2", "kind": "safety-licence", "name": "安全生产许可证"},
        ],
        "starItems": [{"code": "S1", "text": "工期不超过 180 日历天"}, {"code": "S2", "text": "质量合格"}],
        "criteria": [
            {
                "code": "C1",
                "name": "质量管理体系",
                "minimum": "0",
                "maximum": "2",
                "objective": True,
                "rule": {"rule": "present", "points": "2"},
            },
            {
                "code": "C2",
                "name": "类似工程业绩",
                "minimum": "0",
                "maximum": "6",
                "objective": True,
                "rule": {"rule": "per-claim", "points": "2"},
            },
            {"code": "C3", "name": "施工组织设计", "minimum": "0", "maximum": "30", "objective": False},
        ],
        "bill": [
            {"code": "010101001001", "description": "挖一般土方", "unit": "m³", "quantity": "120.5"},
            {"code": "010103001001", "description": "回填方", "unit": "m³", "quantity": "80"},
            {"code": "010501001001", "description": "垫层", "unit": "m³", "quantity": "40"},
        ],
    }
    doc.update(changes)
    return doc


def claim(ref: str, **changes: Any) -> dict[str, Any]:
    return {
        "ref": ref,
        "certificateNo": f"D{ref}-0001",
        "issuer": "住房和城乡建设厅",
        "validFrom": "2024-01-01",
    } | changes


def response(bidder: str = BIDDER_A, **changes: Any) -> dict[str, Any]:
    # A correct bill: 120.5 × 356.80 = 42,994.40; 80 × 25.50 = 2,040.00; 40 × 123.50 = 4,940.00;
    # sum 49,974.40 = 肆万玖仟玖佰柒拾肆元肆角整.
    doc: dict[str, Any] = {
        "format": "ggzy-response/1",
        "tender": "GC2027-001",
        "lot": "1",
        "bidder": bidder,
        "qualifications": [
            claim("Q1", grade=1, validUntil="2028-12-31"),
            claim("Q2", validUntil="2027-06-30"),
        ],
        "evidence": [claim("C1"), claim("C2"), claim("C2", certificateNo="HT-2")],
        "starResponses": [
            {"item": "S1", "response": "complies", "statement": "150 日历天"},
            {"item": "S2", "response": "complies"},
        ],
        "bill": [
            {"code": "010101001001", "quantity": "120.5", "unitPrice": "356.80", "lineTotal": "42994.40"},
            {"code": "010103001001", "quantity": "80", "unitPrice": "25.50", "lineTotal": "2040.00"},
            {"code": "010501001001", "quantity": "40", "unitPrice": "123.50", "lineTotal": "4940.00"},
        ],
        "total": "49974.40",
        "totalInWords": "肆万玖仟玖佰柒拾肆元肆角整",
    }
    doc.update(changes)
    return doc


def read(doc: dict[str, Any]) -> Any:
    return read_response(json.dumps(doc, ensure_ascii=False).encode())


def codes(findings: Any) -> list[str]:
    return [f.code for f in findings]


def test_a_correct_bid_has_only_proposed_scores() -> None:
    result = assess(read_requirements(json.dumps(requirements())), [read(response())])
    assert codes(result.findings) == ["objective-score-proposed", "objective-score-proposed"]
    assert result.corrected_prices == {BIDDER_A: Decimal("49974.40")}
    c1, c2 = result.findings
    assert (c1.params["criterion"], c1.params["points"]) == ("C1", "2")
    assert (c2.params["criterion"], c2.params["points"], c2.params["claims"]) == ("C2", "4", "2")  # 2 × 2 points


def test_unit_price_error_sum_error_and_capitals_mismatch_are_corrected_in_the_laws_order() -> None:
    bill = [
        # 120.5 × 356.80 = 42,994.40: right.
        {"code": "010101001001", "quantity": "120.5", "unitPrice": "356.80", "lineTotal": "42994.40"},
        # 80 × 25.50 = 2,040.00, stated 2,400.00: the unit price prevails, corrected line total 2,040.00.
        {"code": "010103001001", "quantity": "80", "unitPrice": "25.50", "lineTotal": "2400.00"},
        # 40 × 1,235.00 = 49,400.00, stated 4,940.00 = 40 × 123.50: an obvious decimal-point error in
        # the unit price; the line total stands and the unit price is corrected to 123.50.
        {"code": "010501001001", "quantity": "40", "unitPrice": "1235.00", "lineTotal": "4940.00"},
    ]
    # Stated lines sum to 42,994.40 + 2,400.00 + 4,940.00 = 50,334.40. The words say 50,334.40
    # (伍万零叁佰叁拾肆元肆角整) but the figures 50,343.40 (digits swapped): the words prevail (Art. 19),
    # so the total is 50,334.40, which agrees with the stated lines — no addition error by itself.
    doc = response(bill=bill, total="50343.40", totalInWords="伍万零叁佰叁拾肆元肆角整")
    result = assess(read_requirements(json.dumps(requirements())), [read(doc)])
    found = {f.code: f for f in result.findings}
    assert codes(result.findings)[:4] == [
        "line-total-mismatch",
        "unit-price-decimal-error",
        "words-figures-mismatch",
        "corrected-price",
    ]
    line = found["line-total-mismatch"]
    assert (line.path, line.line, line.corrected) == ("$.bill[1].lineTotal", "010103001001", Decimal("2040.00"))
    assert line.params["line_total"] == "2,400.00"
    decimal = found["unit-price-decimal-error"]
    assert (decimal.path, decimal.corrected) == ("$.bill[2].unitPrice", Decimal("123.50"))
    words = found["words-figures-mismatch"]
    assert (words.path, words.corrected) == ("$.totalInWords", Decimal("50334.40"))
    assert words.params["figures"] == "50,343.40"
    # The lines prevail over the total: corrected lines 42,994.40 + 2,040.00 + 4,940.00 = 49,974.40.
    price = found["corrected-price"]
    assert price.corrected == Decimal("49974.40") == result.corrected_prices[BIDDER_A]
    assert price.params["corrected_words"] == "肆万玖仟玖佰柒拾肆元肆角整"

    # A sum error on its own: lines right (49,974.40) but the total says 49,794.40 in words and figures.
    doc = response(total="49794.40", totalInWords="肆万玖仟柒佰玖拾肆元肆角整")
    result = assess(read_requirements(json.dumps(requirements())), [read(doc)])
    sum_error = next(f for f in result.findings if f.code == "total-sum-mismatch")
    assert (sum_error.path, sum_error.corrected) == ("$.total", Decimal("49974.40"))
    assert sum_error.params == {"total": "49,794.40", "sum": "49,974.40", "corrected": "49,974.40"}
    assert result.corrected_prices[BIDDER_A] == Decimal("49974.40")
    assert "words-figures-mismatch" not in codes(result.findings)


def test_what_is_and_is_not_an_obvious_decimal_error() -> None:
    assert decimal_shift(Decimal(40), Decimal("1235.00"), Decimal("4940.00")) == -1
    assert decimal_shift(Decimal(40), Decimal("12.35"), Decimal("4940.00")) == 1
    # 2,400 is not 80 × 25.50 with any point moved (204, 20,400, …): the unit price prevails.
    assert decimal_shift(Decimal(80), Decimal("25.50"), Decimal("2400.00")) is None
    # The shifted price would need a third decimal (1.235): not a shift a price can have.
    assert decimal_shift(Decimal(400), Decimal("12.35"), Decimal("494.00")) is None
    assert decimal_shift(Decimal(40), Decimal("12.35"), Decimal(0)) is None


def test_the_bill_of_quantities_is_priced_as_published() -> None:
    bill = response()["bill"]
    bill = [bill[0], {**bill[1], "quantity": "70", "lineTotal": "1785.00"}, {**bill[2], "code": "010501001999"}]
    result = assess(read_requirements(json.dumps(requirements())), [read(response(bill=bill))])
    found = {f.code: f for f in result.findings}
    assert found["bill-quantity-changed"].params == {"line": "010103001001", "quantity": "70", "required": "80"}
    assert found["bill-line-missing"].line == "010501001001"
    assert found["bill-line-unknown"].path == "$.bill[2].code"


def test_abnormally_low_price_prompts_an_explanation() -> None:
    # Valid prices 49,974.40, 52,000.00, 51,000.00 and 20,000.00: mean 43,243.60; 50 % of it is
    # 21,621.80, and 20,000.00 is below it. The mean counts every valid price, the low one too.
    def priced(bidder: str, total: str, words: str) -> Any:
        return read(response(bidder, bill=[], total=total, totalInWords=words))

    bids = [
        read(response(BIDDER_A)),
        priced(BIDDER_B, "52000.00", "伍万贰仟元整"),
        priced(BIDDER_C, "51000.00", "伍万壹仟元整"),
        priced(BIDDER_D, "20000.00", "贰万元整"),
    ]
    reqs = read_requirements(json.dumps(requirements(bill=[])))
    result = assess(reqs, bids)
    low = [f for f in result.findings if f.code == "abnormally-low-price"]
    assert [f.bid for f in low] == [BIDDER_D]
    assert low[0].params == {
        "price": "20,000.00",
        "mean": "43,243.60",
        "share": "50",
        "limit": "21,621.80",
        "bids": "4",
    }
    assert low[0].basis == "12号令 Art. 21; 87号令 Art. 60"
    assert defaults().abnormally_low_share == Decimal("0.50")
    # A tender's own share (a versioned default overridden): 90 % of the mean is 38,919.24; still only D.
    stricter = Thresholds("test", Decimal("0.95"), 3)
    assert [f.bid for f in assess(reqs, bids, thresholds=stricter).findings if f.code == "abnormally-low-price"] == [
        BIDDER_D
    ]
    # Only the valid bids make the mean: with C and D alone (fewer than 3) there is no prompt.
    assert not [f for f in assess(reqs, bids, valid={BIDDER_C, BIDDER_D}).findings if f.code == "abnormally-low-price"]


def test_missing_and_deviating_star_responses_are_serious() -> None:
    stars = [
        {"item": "S2", "response": "deviates", "deviation": "质量标准按优良"},
        {"item": "S9", "response": "complies"},
    ]
    result = assess(read_requirements(json.dumps(requirements())), [read(response(starResponses=stars))])
    found = {f.code: f for f in result.findings}
    assert found["star-missing"].params["item"] == "S1"
    assert found["star-missing"].severity == "serious"
    assert (found["star-deviates"].path, found["star-deviates"].params["deviation"]) == (
        "$.starResponses[0]",
        "质量标准按优良",
    )
    assert found["star-unknown"].severity == "info"


def test_expired_missing_and_low_grade_qualifications() -> None:
    # The deadline is 2027-03-15 (+08:00): a licence valid until 2027-03-14 has expired by then.
    quals = [claim("Q1", grade=3, validUntil="2029-01-01"), claim("Q2", validUntil="2027-03-14")]
    result = assess(read_requirements(json.dumps(requirements())), [read(response(qualifications=quals))])
    found = {f.code: f for f in result.findings}
    assert found["qualification-expired"].path == "$.qualifications[1].validUntil"
    assert found["qualification-expired"].params["valid_until"] == "2027-03-14"
    assert found["qualification-grade-too-low"].params.items() >= {"grade": "3", "required": "2"}.items()
    # Valid through the deadline's day counts; a missing claim is named.
    quals = [claim("Q2", validUntil="2027-03-15")]
    result = assess(read_requirements(json.dumps(requirements())), [read(response(qualifications=quals))])
    assert [f.params["requirement"] for f in result.findings if f.code.startswith("qualification")] == ["Q1"]
    assert codes(result.findings)[0] == "qualification-missing"


def test_credit_facts_in_force_at_the_deadline_for_the_sector() -> None:
    deadline = datetime(2027, 3, 15, 1, 30, tzinfo=UTC)

    def fact(kind: str, scope: tuple[str, ...], **changes: Any) -> CreditFact:
        base = {
            "kind": kind,
            "scope": scope,
            "reason": "串通投标",
            "valid_from": datetime(2026, 1, 1, tzinfo=UTC),
            "valid_until": datetime(2028, 1, 1, tzinfo=UTC),
            "issuing_body": "某市住房和城乡建设局",
            "decision_no": "建罚〔2026〕1号",
        }
        return CreditFact(**(base | changes))

    facts = [
        fact("blacklist", ("bidding",)),
        fact("serious_violation", ("all",)),
        fact("administrative_penalty", ("government_procurement",)),  # another activity
        fact("performance_evaluation", ("all",)),  # informs, never blocks
        fact("blacklist", ("all",), valid_until=deadline),  # ended at the deadline
        fact("blacklist", ("all",), withdrawn=True),  # repaired
    ]
    result = assess(read_requirements(json.dumps(requirements())), [read(response())], credit={BIDDER_A: facts})
    credit = [f for f in result.findings if f.code.startswith("credit")]
    assert codes(credit) == ["credit-blacklisted", "credit-serious-violation"]
    assert credit[0].params["decision_no"] == "建罚〔2026〕1号"
    # A bid with a serious finding does not make the mean of valid prices.
    assert all(f.severity == "serious" for f in credit)


def test_objective_score_rules() -> None:
    reqs = requirements(
        criteria=[
            {
                "code": "G",
                "name": "资质等级",
                "minimum": "0",
                "maximum": "5",
                "objective": True,
                "rule": {
                    "rule": "grade-bands",
                    "bands": [{"gradeAtMost": 1, "points": "5"}, {"gradeAtMost": 2, "points": "3"}],
                },
            },
            {
                "code": "V",
                "name": "质保期（年）",
                "minimum": "1",
                "maximum": "4",
                "objective": True,
                "rule": {
                    "rule": "value-bands",
                    "bands": [{"atLeast": "3", "points": "4"}, {"atLeast": "2", "points": "2"}],
                },
            },
            {
                "code": "P",
                "name": "业绩",
                "minimum": "0",
                "maximum": "3",
                "objective": True,
                "rule": {"rule": "per-claim", "points": "2"},
            },
        ]
    )
    evidence = [
        claim("G", grade=2),
        claim("V", value="2.5"),
        claim("P"),
        claim("P", certificateNo="B"),
        claim("P", certificateNo="C", validUntil="2027-01-01"),  # expired before the deadline: not counted
    ]
    result = assess(read_requirements(json.dumps(reqs)), [read(response(evidence=evidence))])
    points = {
        f.params["criterion"]: f.params["points"] for f in result.findings if f.code == "objective-score-proposed"
    }
    assert points == {"G": "3", "V": "2", "P": "3"}  # P: 2 × 2 = 4, capped at the maximum 3


def test_requirement_set_rules() -> None:
    bad = requirements()
    bad["criteria"][2]["rule"] = {"rule": "present", "points": "40"}
    with pytest.raises(FormatError) as refused:
        read_requirements(json.dumps(bad))
    assert {(p.path, p.rule) for p in refused.value.problems} == {
        ("$.criteria[2].rule", "objective-only"),
        ("$.criteria[2].rule.points", "within-range"),
    }
    with pytest.raises(FormatError) as refused:
        read_requirements(json.dumps(requirements(deadline="2027-03-15T09:30:00")))
    assert (refused.value.path, refused.value.rule) == ("$.deadline", "timezone")


@pytest.mark.parametrize(
    ("change", "path", "rule"),
    [
        ({"bill": [{"code": "1", "quantity": "1", "unitPrice": "x", "lineTotal": "1"}]}, "$.bill[0].unitPrice", "type"),
        (
            {"bill": [{"code": "1", "quantity": "1", "unitPrice": "1.001", "lineTotal": "1"}]},
            "$.bill[0].unitPrice",
            "decimal-places",
        ),
        (
            {"bill": [{"code": "1", "quantity": "0", "unitPrice": "1", "lineTotal": "0"}]},
            "$.bill[0].quantity",
            "positive",
        ),
        ({"bill": [{"code": "1", "quantity": "1", "unitPrice": "1"}]}, "$.bill[0].lineTotal", "required"),
        ({"starResponses": [{"item": "S1", "response": "maybe"}]}, "$.starResponses[0].response", "enum"),
        (
            {"starResponses": [{"item": "S1", "response": "deviates"}]},
            "$.starResponses[0].deviation",
            "required-when-deviates",
        ),
        ({"qualifications": [claim("Q1", validFrom="2027-13-01")]}, "$.qualifications[0].validFrom", "format"),
        ({"qualifications": [claim("Q1", validUntil="2020-01-01")]}, "$.qualifications[0].validUntil", "date-order"),
        ({"qualifications": [claim("Q1", grade=12)]}, "$.qualifications[0].grade", "range"),
        ({"totalInWords": "伍万伍"}, "$.totalInWords", "capitals"),
        ({"total": "-5"}, "$.total", "non-negative"),
        ({"bidder": "not-a-code"}, "$.bidder", "pattern"),
        ({"extra": 1}, "$.extra", "unknown-field"),
        ({"format": "ggzy-response/9"}, "$.format", "format-version"),
        (
            {"starResponses": [{"item": "S1", "response": "complies", "statement": "x\u0000"}]},
            "$.starResponses[0].statement",
            "pattern",
        ),
    ],
)
def test_the_reader_refuses_with_the_json_path_and_rule(change: dict[str, Any], path: str, rule: str) -> None:
    with pytest.raises(FormatError) as refused:
        read(response(**change))
    assert (refused.value.path, refused.value.rule) == (path, rule)


def test_malformed_json_and_duplicates() -> None:
    with pytest.raises(FormatError) as refused:
        read_response(b'{"format": "ggzy-response/1", ')
    assert refused.value.rule == "json"
    doc = response()
    doc["bill"].append(doc["bill"][0])
    doc["starResponses"].append({"item": "S1", "response": "complies"})
    with pytest.raises(FormatError) as refused:
        read(doc)
    assert [(p.path, p.rule) for p in refused.value.problems] == [
        ("$.starResponses[2].item", "unique"),
        ("$.bill[3].code", "unique"),
    ]


def test_schema_is_published_from_the_same_definitions() -> None:
    schema = response_schema()
    assert schema["$id"] == "urn:ggzy:ggzy-response/1"
    defs: Any = schema["$defs"]
    assert defs["ResponseV1"]["additionalProperties"] is False
    assert set(defs["PricedLine"]["required"]) == {"code", "quantity", "unitPrice", "lineTotal"}
    assert defs["PricedLine"]["properties"]["unitPrice"]["pattern"].startswith("^(0|[1-9]")


def test_capitals_both_ways() -> None:
    assert parse_capitals("人民币伍万零叁佰叁拾肆元肆角整") == Decimal("50334.40")
    assert parse_capitals("壹亿零伍万元整") == Decimal(100050000)
    assert parse_capitals("壹仟零伍元零伍分") == Decimal("1005.05")
    assert parse_capitals("拾元") == Decimal(10)
    assert parse_capitals("伍角") == Decimal("0.5")
    assert to_capitals(Decimal("99999999999999.99")).startswith("玖拾玖万玖仟玖佰玖拾玖亿")
    rng = random.Random(15)  # noqa: S311 - amounts to try, not secrets
    for _ in range(2000):
        amount = Decimal(rng.randrange(10 ** rng.randrange(1, 17))) / 100
        assert parse_capitals(to_capitals(amount)) == amount
    for bad in ["壹仟伍元", "壹佰贰仟元", "壹贰元", "伍万", "元整", "壹元伍分整", "伍元叁", "壹万万元"]:
        with pytest.raises(CapitalsError):
            parse_capitals(bad)


def test_every_finding_has_a_sentence_in_both_languages() -> None:
    reqs = read_requirements(json.dumps(requirements()))
    stars = [{"item": "S2", "response": "deviates", "deviation": "x"}]
    bill = response()["bill"]
    bill = [{**bill[0], "lineTotal": "1.00"}, {**bill[1], "quantity": "70"}, {**bill[2], "unitPrice": "1235.00"}]
    docs = [
        read(response(BIDDER_A, starResponses=stars, qualifications=[claim("Q1", grade=5, value="1")], bill=bill)),
        read(response(BIDDER_B, bill=[], total="1.00", totalInWords="壹元整")),
        read(response(BIDDER_C)),
        read(response(BIDDER_D)),
    ]
    result = assess(
        reqs,
        docs,
        credit={BIDDER_A: [CreditFact("blacklist", ("all",), "r", datetime(2020, 1, 1, tzinfo=UTC), None, "b", "n")]},
    )
    seen = set()
    for finding in result.findings:
        seen.add(finding.code)
        with i18n.use_locale("en"):
            english = describe(finding)
        with i18n.use_locale("zh_CN"):
            chinese = describe(finding)
        assert english != chinese
        assert "%(" not in english + chinese
    assert seen <= set(FINDING_TEXT)
    assert len(seen) >= 13


def test_findings_travel_as_json_and_the_schemas_are_published() -> None:
    from bidding.evaluation.assistance.labels import SEVERITY_LABELS
    from bidding.evaluation.response.requirements import requirements_schema

    doc = response(total="49974.41", totalInWords="肆万玖仟玖佰柒拾肆元肆角壹分")
    result = assess(read_requirements(json.dumps(requirements())), [read(doc)])
    first = result.of(BIDDER_A)[0].as_dict()
    assert first["code"] == "total-sum-mismatch"
    assert (first["severity"], first["corrected"], first["path"]) == ("warning", "49974.40", "$.total")
    assert set(SEVERITY_LABELS) == {"info", "warning", "serious"}
    assert requirements_schema()["$id"] == "urn:ggzy:ggzy-requirements/1"
    with pytest.raises(FormatError) as refused:
        read(response(total="1.001"))
    assert refused.value.problems[0].as_dict() == {
        "field": "$.total",
        "rule": "decimal-places",
        "message": "at most 2 decimal places",
    }


def test_extreme_numbers_are_refused_or_computed_exactly_never_a_crash() -> None:
    with pytest.raises(FormatError) as refused:
        read(response(total="123456789012345678901234567.123"))
    assert (refused.value.path, refused.value.rule) == ("$.total", "digits")
    # The largest line the format allows: 14-digit quantity × 14-digit unit price, far beyond 14
    # digits; computed exactly (not rounded by the default 28-digit context) and reported.
    big = "99999999999999.99"
    line = {"code": "010101001001", "quantity": "99999999999999.9999", "unitPrice": big, "lineTotal": big}
    doc = read(response(bill=[line], total=big, totalInWords=to_capitals(Decimal(big))))
    result = assess(read_requirements(json.dumps(requirements(bill=[]))), [doc])
    mismatch = next(f for f in result.findings if f.code == "line-total-mismatch")
    with localcontext(prec=64):
        exact = (Decimal("99999999999999.9999") * Decimal(big)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert mismatch.corrected == exact
    assert len(str(exact)) == 31  # 28 digits, the point, 2 decimals: 30 significant, beyond the default 28
    assert next(f for f in result.findings if f.code == "corrected-price").params["corrected_words"] == "-"
    # An unknown credit kind in the input bars nothing.
    fact = CreditFact("unknown_kind", ("all",), "r", datetime(2020, 1, 1, tzinfo=UTC), None, "b", "n")
    assert not [
        f
        for f in assess(
            read_requirements(json.dumps(requirements())), [read(response())], credit={BIDDER_A: [fact]}
        ).findings
        if f.code.startswith("credit")
    ]


def test_each_version_keeps_its_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """A second version adds a reader; documents of the first still read with theirs."""
    from bidding.evaluation.response import bid

    seen: list[bytes | str] = []

    def read_v2(data: bytes | str) -> Any:
        seen.append(data)
        return "v2"

    monkeypatch.setitem(bid.READERS, "ggzy-response/2", read_v2)
    v2 = json.dumps(response(format="ggzy-response/2", somethingNew=True))
    assert read_response(v2) == "v2"
    assert seen == [v2]
    assert read(response()).format == "ggzy-response/1"
