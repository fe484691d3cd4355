"""Derived obligations (22号 Art. 11) and the template schema: pure, no database."""

from __future__ import annotations

import pytest

from procurement.requirements import content
from procurement.requirements.schema import CURRENT_VERSION, Category, Kind, current_templates, template_for


@pytest.mark.parametrize(
    ("category", "budget", "plan", "survey"),
    [
        ("goods", "9999999.99", {}, False),
        ("goods", "10000000", {}, True),
        ("services", "10000000", {}, True),
        ("works", "10000000", {}, False),
        ("works", "29999999", {}, False),
        ("works", "30000000", {}, True),
        ("goods", "100", {"custom_it": "yes"}, True),
        ("goods", "100", {"imports": "yes"}, True),
        ("services", "100", {"public_interest": "yes"}, True),
        ("goods", "", {"imports": "no", "custom_it": "no"}, False),
    ],
)
def test_survey_and_focused_review_follow_budget_category_and_flags(
    category: str,
    budget: str,
    plan: dict[str, str],
    survey: bool,  # noqa: FBT001 - a parameter
) -> None:
    duties = content.obligations(category, {"overview": {"budget": budget}, "plan": plan})
    assert duties.survey_required is survey
    assert duties.focused_review is survey
    assert duties.review_level == ("focused" if survey else "general")
    assert bool(duties.reasons) is survey


def test_a_recent_survey_exempts_but_the_review_stays_focused() -> None:
    duties = content.obligations("goods", {"overview": {"budget": "20000000"}, "plan": {"surveyed_recently": "yes"}})
    assert (duties.survey_required, duties.exempt, duties.focused_review) == (False, True, True)


def test_the_survey_part_becomes_required_when_the_obligation_holds() -> None:
    template = template_for(Category.GOODS, CURRENT_VERSION)
    assert template is not None
    body = {"overview": {"budget": "12000000"}, "plan": {}, "survey": {}, "packages": [{}], "risk": {}}
    required = {p["field"] for p in content.missing_fields(template, body, content.obligations("goods", body))}
    assert "survey.market_supply" in required
    small = {**body, "overview": {"budget": "1000"}}
    assert "survey.market_supply" not in {
        p["field"] for p in content.missing_fields(template, small, content.obligations("goods", small))
    }


def test_every_category_has_parts_one_to_five_with_help_in_chinese() -> None:
    for template in current_templates():
        assert [p.number for p in template.parts] == [1, 2, 3, 4, 5]
        package = template.part("package")
        assert package is not None
        assert package.repeated
        assert {"technical", "commercial", "qualifications", "scoring", "price_weight"} <= {
            f.key for f in package.fields
        }
        assert any(f.kind is Kind.MONEY for f in template.parts[0].fields)
    goods = template_for("goods", CURRENT_VERSION)
    assert goods is not None
    assert goods.part("plan") is not None
    assert goods.part("plan").field("energy_saving") is not None  # type: ignore[union-attr]
    assert template_for("works", "1999.1") is None


def test_a_bad_field_names_the_field_and_the_rule() -> None:
    template = template_for("goods", CURRENT_VERSION)
    assert template is not None
    part = template.part("package")
    assert part is not None
    with pytest.raises(content.PartRefused) as refused:
        content.clean_part(part, {"budget": "八十万", "price_weight": "130", "scoring": "价格 30"}, 0)
    assert {(p["field"], p["rule"]) for p in refused.value.problems} == {
        ("packages[0].budget", "number"),
        ("packages[0].price_weight", "range"),
        ("packages[0].scoring", "scoring_line"),
    }
