"""The catalogue the platform ships: the prohibited items of reference §8 as rules.

This is the first edition the procurement office starts from (``procurement.rule_catalogue``
stores it as version 1 and every edit as a new version); the command line uses it as it is.
"""

from __future__ import annotations

from procurement.negative_list.model import Rule, Severity

_ART20 = "《中华人民共和国政府采购法实施条例》第二十条"
_ORDER87_17 = "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第十七条"

_RULES: tuple[Rule, ...] = (
    Rule(
        id="NL-QUAL-REGION",
        name="以注册地、所在地或本地分支机构限制供应商",
        basis=_ART20 + "第(七)项",
        severity=Severity.BLOCKING,
        suggestion="删除对注册地、所在地或本地设立分支机构的要求；确需本地服务的，改为中标后的服务响应承诺。",
        patterns=(
            r"(注册地|住所地|所在地|总部)(须|必须|应|应当)?(在|位于|为)[^，。；]{0,12}(省|市|县|区|本地)",
            r"(须|必须|应|应当)在[^，。；]{0,12}(设立|设有)[^，。；]{0,6}(分支机构|分公司|办事处)",
        ),
        negations=(r"不得(以|将)?[^，。；]{0,10}(注册地|所在地|分支机构)",),
        positive_examples=("投标人注册地须在本市行政区域内。",),
        negative_examples=("不得以供应商注册地或者所在地限制其参加本项目。",),
    ),
    Rule(
        id="NL-QUAL-SIZE",
        name="以注册资本、资产、营业收入、从业人员等规模条件作为资格要求",
        basis=_ORDER87_17,
        severity=Severity.BLOCKING,
        suggestion="删除注册资本、资产总额、营业收入、从业人员、利润、纳税额等规模条件。",
        patterns=(
            r"(注册资本|注册资金|资产总额|营业收入|从业人员|利润|纳税额)[^，。；]{0,8}(不低于|不少于|以上|达到|≥|>=)",
        ),
        negations=(r"不得(以|将)?[^，。；]{0,16}(注册资本|注册资金|资产总额|营业收入|从业人员)",),
        positive_examples=("投标人注册资本不低于500万元。",),
        negative_examples=("不得将注册资本、资产总额作为资格条件。",),
    ),
    Rule(
        id="NL-PRICE-MINIMUM",
        name="设定最低限价",
        basis="《政府采购货物和服务招标投标管理办法》(财政部令第87号)第十二条",
        severity=Severity.BLOCKING,
        suggestion="删除最低限价，只可设定最高限价。",
        patterns=(r"最低限价",),
        negations=(r"(不得|不)设(定|置)?最低限价",),
        positive_examples=("本项目最低限价为80万元。",),
        negative_examples=("本项目不设最低限价，最高限价为100万元。",),
    ),
)


def default_rules() -> tuple[Rule, ...]:
    """The shipped catalogue, version 1 of every rule."""
    return _RULES
