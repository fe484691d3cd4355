"""The rules intentions and projects are checked against (pure: no database, no I/O).

Sources (domain-rules §1.2, §4.3): 采购意向 published ≥ 30 days before procurement starts unless
exempt (财库〔2020〕10号; the conduct negative list); the methods of 政府采购法 Art. 26–32 and
财库〔2014〕214号 (竞争性磋商) with their grounds; 单一来源 publicity ≥ 5 working days (政府采购法实施条例
Art. 38); 综合评分法 price weight ≥ 30 % goods, ≥ 10 % services (87号令 Art. 55); bid security ≤ 2 %
of the budget (GP 实施条例 Art. 33, checked again by bidding); 小微企业价格扣除 10–20 % (财库〔2020〕46号).
Every refusal names the form field and the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from procurement.projects.models import ItemCategory, ProcurementMethod

INTENTION_DAYS: Final = 30
"""采购意向 at least this many days before the procurement starts."""
WARN_DAYS_BEFORE: Final = 7
"""The sweep warns this many days before a project's notice that lacks a 30-day-old intention."""
SINGLE_SOURCE_PUBLICITY_WORKING_DAYS: Final = 5
SME_DEDUCTION_MIN: Final = 10
SME_DEDUCTION_MAX: Final = 20
PRICE_WEIGHT_MIN: Final = {ItemCategory.GOODS: 30, ItemCategory.SERVICES: 10, ItemCategory.WORKS: 10}
PUBLIC_TENDER_THRESHOLD: Final = {
    # 公开招标数额标准 (中央预算单位政府集中采购目录及标准 2020): goods and services 200万, works 400万.
    ItemCategory.GOODS: Decimal(2_000_000),
    ItemCategory.SERVICES: Decimal(2_000_000),
    ItemCategory.WORKS: Decimal(4_000_000),
}
ITEM_PREFIX: Final = {ItemCategory.GOODS: "A", ItemCategory.WORKS: "B", ItemCategory.SERVICES: "C"}

EXEMPTIONS: Final[Mapping[str, str]] = {
    # Why an intention may be published later than 30 days ahead, or not at all.
    "small-scattered": "小额零星采购",
    "emergency": "因预算单位不可预见的原因急需开展的采购",
    "secret": "涉及国家秘密的采购",
    "disaster": "抢险救灾等紧急采购",
    "other": "其他（须说明）",
}

REASONS: Final[Mapping[ProcurementMethod, Mapping[str, str]]] = {
    ProcurementMethod.INVITATION: {  # 政府采购法 Art. 29
        "limited-suppliers": "具有特殊性，只能从有限范围的供应商处采购",
        "cost-disproportionate": "采用公开招标方式的费用占政府采购项目总价值的比例过大",
    },
    ProcurementMethod.NEGOTIATION: {  # 政府采购法 Art. 30
        "no-bids": "招标后没有供应商投标或者没有合格标的或者重新招标未能成立",
        "complex": "技术复杂或者性质特殊，不能确定详细规格或者具体要求",
        "urgent": "采用招标所需时间不能满足用户紧急需要",
        "price-unknown": "不能事先计算出价格总额",
    },
    ProcurementMethod.CONSULTATION: {  # 财库〔2014〕214号 Art. 3
        "purchased-services": "政府购买服务项目",
        "complex": "技术复杂或者性质特殊，不能确定详细规格或者具体要求",
        "price-unknown": "因艺术品采购、专利、专有技术或者服务的时间、数量事先不能确定等原因不能事先计算出价格总额",
        "research": "市场竞争不充分的科研项目以及需要扶持的科技成果转化项目",
        "non-mandatory-works": "依法必须进行招标的工程建设项目以外的工程建设项目",
    },
    ProcurementMethod.INQUIRY: {  # 政府采购法 Art. 32
        "uniform-goods": "货物规格、标准统一、现货货源充足且价格变化幅度小",
    },
    ProcurementMethod.SINGLE_SOURCE: {  # 政府采购法 Art. 31
        "sole-supplier": "只能从唯一供应商处采购",
        "emergency": "发生了不可预见的紧急情况不能从其他供应商处采购",
        "continuity": (
            "必须保证原有采购项目一致性或者服务配套的要求，需要继续从原供应商处添购，"
            "且添购资金总额不超过原合同采购金额百分之十"
        ),
    },
}

EVALUATION_METHODS: Final = ("comprehensive", "lowest-evaluated-price")
"""综合评分法 and 最低评标价法 (87号令 Art. 53), the values of `bidding.models.EvaluationMethod`."""
FIXED_EVALUATION: Final[Mapping[ProcurementMethod, str]] = {
    ProcurementMethod.CONSULTATION: "comprehensive",  # 磋商: 综合评分法 (214号 Art. 23)
    ProcurementMethod.INQUIRY: "lowest-evaluated-price",  # 询价: 最低价成交
    ProcurementMethod.NEGOTIATION: "lowest-evaluated-price",  # 谈判: 最低价成交
}
TENDERED_METHODS: Final = frozenset(set(ProcurementMethod) - {ProcurementMethod.SINGLE_SOURCE})
"""Methods with competition: they run as a tender on the bidding engine (sealed responses)."""


@dataclass
class Problems:
    """Every rule broken, each with its field, rule and message (one 422)."""

    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, field_name: str, rule: str, message: str) -> None:
        self.items.append({"field": field_name, "rule": rule, "message": message})

    def rules(self) -> set[tuple[str, str]]:
        return {(item["field"], item["rule"]) for item in self.items}


def month_start(expected_month: str, tz: object) -> datetime | None:
    """The first moment of ``YYYY-MM`` in ``tz`` (None when malformed)."""
    try:
        year, month = (int(part) for part in expected_month.split("-"))
        return datetime(year, month, 1, tzinfo=tz)  # type: ignore[arg-type]
    except ValueError:
        return None


def intention_early_enough(published_at: datetime, starts_at: datetime) -> bool:
    """采购意向 at least `INTENTION_DAYS` before the procurement starts."""
    return starts_at - published_at >= timedelta(days=INTENTION_DAYS)


def check_exemption(exemption: str | None, text: str | None, problems: Problems, *, needed: bool) -> None:
    """An exemption is one of `EXEMPTIONS` with its explanation; ``needed``: the 30 days are not met."""
    if not exemption:
        if needed:
            problems.add(
                "expectedMonth",
                "intention_30_days",
                f"procurement intentions are published at least {INTENTION_DAYS} days before the procurement "
                "starts; choose an exemption reason and explain it",
            )
        return
    if exemption not in EXEMPTIONS:
        problems.add("exemption", "exemption_known", "choose one of the listed exemption reasons")
    if not (text or "").strip():
        problems.add("exemptionText", "exemption_explained", "explain why the exemption applies")


def check_item(category: ItemCategory, item_code: str, problems: Problems, *, field_name: str = "itemCode") -> None:
    code = item_code.strip()
    if not code or len(code) > 32 or code[0] != ITEM_PREFIX[category] or not code[1:].replace(".", "").isalnum():  # noqa: PLR2004
        problems.add(
            field_name,
            "item_code",
            f"a 政府采购品目 code of the {category.value} catalogue starts with {ITEM_PREFIX[category]}",
        )


@dataclass(frozen=True)
class MethodFacts:
    """What a project's method conditions are checked on."""

    method: ProcurementMethod
    category: ItemCategory
    budget: Decimal
    reason: str | None
    justification: str | None
    approval_ref: str | None
    supplier_name: str | None
    evaluation_method: str
    criteria: list[dict[str, object]]
    price_weight: int | None
    sme_deduction_percent: int
    bid_security_amount: Decimal


def check_method(facts: MethodFacts, problems: Problems) -> None:  # noqa: C901, PLR0912 - one branch per condition
    """The conditions of the chosen method and its evaluation."""
    method = facts.method
    if method is not ProcurementMethod.PUBLIC_TENDER:
        grounds = REASONS[method]
        if not facts.reason:
            problems.add("methodReason", "method_reason_required", f"{method.value} needs its statutory ground")
        elif facts.reason not in grounds:
            problems.add("methodReason", "method_reason_known", f"not a ground for {method.value}")
        if not (facts.justification or "").strip():
            problems.add("justification", "justification_required", f"{method.value} needs a written justification")
        if facts.budget >= PUBLIC_TENDER_THRESHOLD[facts.category] and not (facts.approval_ref or "").strip():
            problems.add(
                "approvalRef",
                "above_threshold_needs_approval",
                "at or above the public-tender threshold another method needs the finance department's approval "
                "(政府采购法 Art. 27)",
            )
    if method is ProcurementMethod.INQUIRY and facts.category is not ItemCategory.GOODS:
        problems.add("method", "inquiry_goods_only", "询价 applies to goods only (政府采购法 Art. 32)")
    if method is ProcurementMethod.SINGLE_SOURCE and not (facts.supplier_name or "").strip():
        problems.add("supplierName", "single_source_supplier", "单一来源 names the proposed supplier")
    fixed = FIXED_EVALUATION.get(method)
    if facts.evaluation_method not in EVALUATION_METHODS:
        problems.add("evaluationMethod", "method_allowed", "综合评分法 or 最低评标价法")
    elif fixed is not None and facts.evaluation_method != fixed:
        problems.add("evaluationMethod", "method_fixed", f"{method.value} is evaluated by {fixed}")
    if facts.evaluation_method == "comprehensive" and method is not ProcurementMethod.SINGLE_SOURCE:
        weights = [item.get("weight") for item in facts.criteria]
        if not facts.criteria or sum(w for w in weights if isinstance(w, int)) != 100:  # noqa: PLR2004
            problems.add("criteria", "weights_sum_100", "scoring factors with weights summing to 100")
        minimum = PRICE_WEIGHT_MIN[facts.category]
        if facts.price_weight is None or facts.price_weight < minimum:
            problems.add(
                "criteria",
                "price_weight_min",
                f"the price weighs at least {minimum} % for {facts.category.value} (87号令 Art. 55)",
            )
    if facts.sme_deduction_percent and not SME_DEDUCTION_MIN <= facts.sme_deduction_percent <= SME_DEDUCTION_MAX:
        problems.add(
            "smeDeductionPercent",
            "sme_deduction_range",
            f"the SME price deduction is {SME_DEDUCTION_MIN}–{SME_DEDUCTION_MAX} % (财库〔2020〕46号), or 0",
        )
    cap = (facts.budget * Decimal("0.02")).quantize(Decimal("0.01"))
    if facts.bid_security_amount < 0 or facts.bid_security_amount > cap:
        problems.add(
            "bidSecurityAmount", "security_amount_over_cap", f"bid security is at most 2 % of the budget ({cap})"
        )
