"""The requirement templates (采购需求) as a versioned schema: data, no database.

Reference §9.2: Part 1 项目总体情况, Part 2 需求调查情况, Part 3 采购实施计划, Part 4 采购包、合同与
履约验收 (repeated per package), Part 5 风险控制. One template per item category (goods, works,
services); each names its version, and a requirement records the version it was written on, so a
later edition never reinterprets an old requirement. A new edition is a new entry in ``TEMPLATES``
(the old ones stay).

Every text field (``text``/``textarea``/``lines``/``scoring``) is read by the negative-list checker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Category(StrEnum):
    GOODS = "goods"  # 货物
    WORKS = "works"  # 工程
    SERVICES = "services"  # 服务


CATEGORY_NAMES = {Category.GOODS: "货物", Category.WORKS: "工程", Category.SERVICES: "服务"}


class Kind(StrEnum):
    TEXT = "text"  # one line
    TEXTAREA = "textarea"  # free text, several sentences
    LINES = "lines"  # one item per line (parameters, conditions); a line starting with ★ is substantive
    SCORING = "scoring"  # one scoring item per line: 名称 | 分值 | 类型 | 评分标准
    MONEY = "money"  # yuan, two decimals
    INTEGER = "integer"
    PERCENT = "percent"  # 0–100
    BOOL = "bool"  # 是 / 否
    CHOICE = "choice"
    DATE = "date"  # YYYY-MM-DD


TEXT_KINDS = frozenset({Kind.TEXT, Kind.TEXTAREA, Kind.LINES, Kind.SCORING})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    key: str
    label: str  # Chinese, as the form and the documents show it
    label_en: str
    kind: Kind
    required: bool = False
    help: str = ""  # Chinese help text shown under the field
    choices: tuple[tuple[str, str], ...] = ()  # (value, Chinese label)
    max_length: int = 200
    required_when_survey: bool = False  # required when the needs survey is obligatory (Art. 11)

    @property
    def checked(self) -> bool:
        """Whether the negative-list checker reads this field."""
        return self.kind in TEXT_KINDS


@dataclass(frozen=True, slots=True)
class PartSpec:
    key: str  # overview | survey | plan | package | risk
    number: int
    title: str
    title_en: str
    fields: tuple[FieldSpec, ...]
    repeated: bool = False  # Part 4: one per package

    def field(self, key: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.key == key), None)


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    category: Category
    version: str
    title: str
    parts: tuple[PartSpec, ...] = field(default=())

    @property
    def key(self) -> str:
        return f"{self.category.value}@{self.version}"

    def part(self, key: str) -> PartSpec | None:
        return next((p for p in self.parts if p.key == key), None)


CURRENT_VERSION = "2026.1"

_YES_NO = (("yes", "是"), ("no", "否"))
_LONG = 4000

_METHODS = (
    ("public_tender", "公开招标"),
    ("invitation", "邀请招标"),
    ("competitive_negotiation", "竞争性谈判"),
    ("competitive_consultation", "竞争性磋商"),
    ("inquiry", "询价"),
    ("single_source", "单一来源"),
)
_EVALUATION = (("comprehensive", "综合评分法"), ("lowest_price", "最低评标价法"))


def _overview(category: Category) -> PartSpec:
    return PartSpec(
        "overview",
        1,
        "项目总体情况",
        "Project overview",
        (
            FieldSpec("project_name", "项目名称", "Project name", Kind.TEXT, required=True),
            FieldSpec("requesting_department", "需求部门", "Requesting department", Kind.TEXT, required=True),
            FieldSpec("managing_department", "归口管理部门", "Managing department", Kind.TEXT),
            FieldSpec("year", "预算年度", "Budget year", Kind.INTEGER, required=True, help="如 2027"),
            FieldSpec("compiled_on", "编制日期", "Compiled on", Kind.DATE, required=True, help="格式：YYYY-MM-DD"),
            FieldSpec(
                "item_code",
                "采购品目",
                "Procurement item",
                Kind.TEXT,
                required=True,
                help="细化到《政府采购品目分类目录》最末级品目，如 A02010104（台式计算机）",
                max_length=40,
            ),
            FieldSpec(
                "budget",
                "预算金额（元）",
                "Budget (yuan)",
                Kind.MONEY,
                required=True,
                help=(
                    "货物、服务项目达到 1000 万元、工程项目达到 3000 万元的，须开展需求调查并进行重点审查"
                    if category is not Category.WORKS
                    else "工程项目达到 3000 万元的，须开展需求调查并进行重点审查"
                ),
            ),
            FieldSpec(
                "summary",
                "项目概况",
                "Overview",
                Kind.TEXTAREA,
                required=True,
                help="说明采购标的需实现的功能或者目标，以及为落实政府采购政策需满足的要求",
                max_length=_LONG,
            ),
            FieldSpec(
                "prior_services",
                "是否有供应商为本项目提供整体设计、规范编制或者项目管理、监理、检测等服务",
                "Did a supplier provide design, specification, management, supervision or testing services",
                Kind.BOOL,
                required=True,
                choices=_YES_NO,
                help="提供过上述服务的供应商不得再参加该项目的其他采购活动（《政府采购法实施条例》第十八条）",
            ),
        ),
    )


def _survey() -> PartSpec:
    def area(key: str, label: str, label_en: str, help_text: str) -> FieldSpec:
        return FieldSpec(
            key, label, label_en, Kind.TEXTAREA, help=help_text, max_length=_LONG, required_when_survey=True
        )

    return PartSpec(
        "survey",
        2,
        "需求调查情况",
        "Needs survey",
        (
            FieldSpec(
                "method",
                "调查方式",
                "Survey method",
                Kind.CHOICE,
                choices=(("consultation", "咨询"), ("demonstration", "论证"), ("questionnaire", "问卷调查")),
                required_when_survey=True,
                help="调查对象一般不少于 3 个，并具有代表性",
            ),
            area("industry", "相关产业发展", "Industry development", "产业发展状况、技术发展趋势"),
            area("market_supply", "市场供给", "Market supply", "潜在供应商数量、产品或服务供给情况"),
            area("history", "同类采购项目历史成交信息", "Historical deals", "同类项目的成交价格、履约情况"),
            area(
                "follow_up",
                "可能涉及的运行维护、升级更新、备品备件、耗材等后续采购",
                "Follow-up purchases",
                "后续采购的内容和估算",
            ),
            FieldSpec("other", "其他相关情况", "Other", Kind.TEXTAREA, max_length=_LONG),
        ),
    )


def _plan(category: Category) -> PartSpec:
    flags = (
        FieldSpec("multi_year", "是否跨年度合同", "Multi-year contract", Kind.BOOL, choices=_YES_NO),
        FieldSpec(
            "sme_reserved",
            "是否专门面向中小企业采购",
            "Reserved for SMEs",
            Kind.BOOL,
            required=True,
            choices=_YES_NO,
            help="不专门面向中小企业的，须说明理由并执行价格扣除",
        ),
        FieldSpec("imports", "是否采购进口产品", "Imported products", Kind.BOOL, required=True, choices=_YES_NO),
        FieldSpec(
            "custom_it",
            "是否含定制开发的信息系统",
            "Custom-developed IT system",
            Kind.BOOL,
            required=True,
            choices=_YES_NO,
            help="定制开发信息系统、进口产品等技术复杂项目须开展需求调查",
        ),
        FieldSpec(
            "public_interest",
            "是否涉及公共利益、社会关注度较高",
            "Public interest or high attention",
            Kind.BOOL,
            choices=_YES_NO,
        ),
        FieldSpec(
            "surveyed_recently",
            "是否在一年内已就相关采购标的开展过需求调查",
            "Surveyed within the past year",
            Kind.BOOL,
            choices=_YES_NO,
            help="一年内已开展过需求调查的，可不再重复开展（第十一条）",
        ),
    )
    goods_flags = (
        FieldSpec("energy_saving", "是否含节能产品", "Energy-saving products", Kind.BOOL, choices=_YES_NO),
        FieldSpec("eco_label", "是否含环境标志产品", "Eco-label products", Kind.BOOL, choices=_YES_NO),
    )
    return PartSpec(
        "plan",
        3,
        "采购实施计划",
        "Implementation plan",
        (
            FieldSpec(
                "organisation_form",
                "组织形式",
                "Organisation form",
                Kind.CHOICE,
                required=True,
                choices=(("centralised", "集中采购"), ("decentralised", "分散采购")),
            ),
            FieldSpec("method", "采购方式", "Procurement method", Kind.CHOICE, required=True, choices=_METHODS),
            FieldSpec(
                "self_organised",
                "是否自行组织采购",
                "Self-organised",
                Kind.BOOL,
                choices=_YES_NO,
                help="否：委托采购代理机构",
            ),
            FieldSpec(
                "package_split",
                "采购包划分与合同分包说明",
                "Package split",
                Kind.TEXTAREA,
                required=True,
                max_length=_LONG,
            ),
            FieldSpec("timetable", "采购时间安排", "Timetable", Kind.TEXTAREA, max_length=_LONG),
            *flags,
            *(goods_flags if category is Category.GOODS else ()),
        ),
    )


def _package(category: Category) -> PartSpec:
    delivery = {
        Category.GOODS: ("交货时间和地点", "Delivery time and place"),
        Category.SERVICES: ("服务期限和地点", "Service term and place"),
        Category.WORKS: ("工期和施工地点", "Construction period and site"),
    }[category]
    return PartSpec(
        "package",
        4,
        "采购包、合同与履约验收",
        "Packages, contract and acceptance",
        (
            FieldSpec("name", "采购包名称", "Package name", Kind.TEXT, required=True),
            FieldSpec("budget", "采购包预算（元）", "Package budget (yuan)", Kind.MONEY, required=True),
            FieldSpec("max_price", "最高限价（元）", "Maximum price (yuan)", Kind.MONEY, help="只可设定最高限价"),
            FieldSpec(
                "evaluation_method", "评审方法", "Evaluation method", Kind.CHOICE, required=True, choices=_EVALUATION
            ),
            FieldSpec(
                "price_weight",
                "价格分权重（%）",
                "Price weight (%)",
                Kind.PERCENT,
                help="综合评分法中货物项目不得低于 30%，服务项目不得低于 10%",
            ),
            FieldSpec(
                "drops_extreme_prices",
                "计算价格分时是否去掉最高报价和最低报价",
                "Drop highest and lowest prices",
                Kind.BOOL,
                choices=_YES_NO,
                help="不得去掉报价中的最高报价和最低报价",
            ),
            FieldSpec("consortium", "是否接受联合体", "Consortium allowed", Kind.BOOL, choices=_YES_NO),
            FieldSpec("subcontracting", "是否允许分包", "Subcontracting allowed", Kind.BOOL, choices=_YES_NO),
            FieldSpec(
                "technical",
                "技术要求",
                "Technical requirements",
                Kind.LINES,
                required=True,
                max_length=_LONG,
                help="每行一项；以 ★ 开头的为实质性要求（不满足即无效）。要求应客观、可量化或可验证",
            ),
            FieldSpec(
                "commercial",
                "商务要求",
                "Commercial requirements",
                Kind.LINES,
                required=True,
                max_length=_LONG,
                help="付款、交付、质保、售后等，每行一项",
            ),
            FieldSpec(
                "qualifications",
                "供应商资格条件",
                "Qualification conditions",
                Kind.LINES,
                required=True,
                max_length=_LONG,
                help="每行一项；不得以规模条件、所在地、成立年限等限制供应商",
            ),
            FieldSpec(
                "scoring",
                "评分项",
                "Scoring items",
                Kind.SCORING,
                max_length=_LONG,
                help="每行一项：名称 | 分值 | 类型（价格/技术/商务/服务） | 评分标准",
            ),
            FieldSpec(
                "contract_type",
                "合同类型",
                "Contract type",
                Kind.CHOICE,
                choices=(("fixed_price", "固定总价"), ("fixed_unit_price", "固定单价"), ("cost_plus", "成本补偿")),
            ),
            FieldSpec("delivery", delivery[0], delivery[1], Kind.TEXTAREA, required=True, max_length=_LONG),
            FieldSpec("payment", "付款方式", "Payment terms", Kind.TEXTAREA, required=True, max_length=_LONG),
            FieldSpec(
                "acceptance",
                "履约验收方案",
                "Acceptance",
                Kind.TEXTAREA,
                required=True,
                max_length=_LONG,
                help="验收组织、程序、时间及技术和商务验收内容与标准",
            ),
            FieldSpec("warranty", "质量保证与售后", "Warranty and after-sales", Kind.TEXTAREA, max_length=_LONG),
            FieldSpec("ip_ownership", "知识产权归属", "IP ownership", Kind.TEXTAREA, max_length=_LONG),
            FieldSpec("breach", "违约责任与争议解决", "Breach and disputes", Kind.TEXTAREA, max_length=_LONG),
        ),
        repeated=True,
    )


def _risk() -> PartSpec:
    return PartSpec(
        "risk",
        5,
        "风险控制",
        "Risk control",
        (
            FieldSpec("needed", "是否需要风险判断与处置", "Risk handling needed", Kind.BOOL, choices=_YES_NO),
            FieldSpec("judgement", "风险判断", "Risk judgement", Kind.TEXTAREA, max_length=_LONG),
            FieldSpec("measures", "处置措施和替代方案", "Measures and alternatives", Kind.TEXTAREA, max_length=_LONG),
        ),
    )


def _template(category: Category, version: str) -> TemplateSpec:
    return TemplateSpec(
        category,
        version,
        f"政府采购需求（{CATEGORY_NAMES[category]}类）",
        (_overview(category), _survey(), _plan(category), _package(category), _risk()),
    )


TEMPLATES: dict[tuple[Category, str], TemplateSpec] = {
    (category, CURRENT_VERSION): _template(category, CURRENT_VERSION) for category in Category
}
"""Every edition ever shipped, by (category, version). Add editions; never change a shipped one."""


def template_for(category: Category | str, version: str) -> TemplateSpec | None:
    try:
        return TEMPLATES.get((Category(category), version))
    except ValueError:
        return None


def current_templates() -> list[TemplateSpec]:
    return [TEMPLATES[(category, CURRENT_VERSION)] for category in Category]
