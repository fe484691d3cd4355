r"""Method settings and committee specs, and the validators that refuse the ones breaking a rule.

``check_settings`` and ``check_committee`` return every broken rule at once as ``Violation``\\ s
(field path, rule code, message with the numbers); ``require_settings`` / ``require_committee``
raise ``EvaluationRefused`` (422, first rule as ``field``/``rule``, all in ``errors``). Pure: no
database. The thresholds are ``defaults.toml``'s.

Rules (code → source):

- ``method_sector``: the method belongs to the sector (domain-rules §4.1).
- ``gp_price_weight_goods`` / ``gp_price_weight_services``: GP price weight ≥ 30 % goods, ≥ 10 %
  services (87号令 Art. 55; reference §4.3.2, §8.4 #28).
- ``gp_no_price_drop``: a GP setting never drops the highest or the lowest price (87号令 Art. 55
  "不得去掉报价中的最高报价和最低报价"; reference §4.3.5, §8.4 #27).
- ``gp_price_base_lowest``: the GP base price is the lowest valid price (低价优先法, 87号令 Art. 55).
- ``gp_expert_scores_mean``: GP aggregates the experts' scores by the plain mean (reference §4.4:
  "the arithmetic mean is standard practice (to verify)"); trimming is an engineering option.
- ``gp_no_price_adjustment``: GP 最低评标价法 adjusts nothing but arithmetic corrections and policy
  deductions (87号令 Art. 54; reference §4.1).
- ``price_drop_preset_decides``: in engineering the preset alone decides which prices are dropped.
- ``price_base_preset``: 综合评估法 names a preset F1-F4 (reference §4.5); ``given_base_f3_only``;
  ``price_base_unused``: the engineering price methods compute no base price.
- ``weights_sum_to_one``: ΣAᵢ = 1 (87号令 Art. 55); ``weight_positive``.
- ``price_criterion_count``: a scoring method has exactly one price criterion;
  ``scored_criterion_required``: and at least one criterion the experts score.
- ``range_inverted``, ``range_bounds`` (0 ≤ low, high ≤ 100), ``price_range_full`` (GP price score is
  0-100), ``price_range_preset`` (engineering price range is 0-the preset's full marks).
- ``criterion_code_required``, ``criterion_code_unique``.
- ``coefficient_unknown``, ``coefficient_range`` (a drawn value must lie on its declared grid).
- ``candidates_count``: 1-3 ranked candidates (12号令 Art. 45); ``recommend_count`` for 评定分离.
- Committee (reference §3.1; 12号令 Art. 9, 实施条例 Art. 46, 87号令 Art. 47-48):
  ``committee_size_min`` (≥ 5), ``committee_size_odd``, ``committee_size_max`` (sanity bound),
  ``committee_size_gp_large`` (GP ≥ 7 when the budget ≥ 10 million yuan or the project is complex or
  of high social impact), ``committee_experts_two_thirds`` (experts, i.e. members other than the
  tenderee's representatives, ≥ 2/3), ``representatives_range``, ``specialty_count_positive``,
  ``specialties_sum`` (the specialty counts add up to the number of experts), ``reserves_range``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bidding.evaluation.methods.base_price import Preset, constants
from bidding.evaluation.methods.common import (
    GP_SECTORS,
    HUNDRED,
    METHODS,
    ONE,
    ZERO,
    Criterion,
    CriterionKind,
    MethodCode,
    Sector,
    Violation,
    exact,
    refuse,
)
from bidding.evaluation.methods.defaults import DEFAULTS, CoefficientRange, Defaults

LOWEST = "lowest"
SCORING_METHODS = frozenset({MethodCode.GP_COMPREHENSIVE, MethodCode.ENG_COMPREHENSIVE})


@dataclass(frozen=True, slots=True)
class CommitteeSpec:
    """An evaluation committee's composition before the draw (reference §3.1)."""

    size: int
    representatives: int = 0
    """The tenderee's (采购人) representatives among the members; the rest are drawn experts."""
    specialties: Mapping[str, int] = field(default_factory=dict)
    """Specialty code → how many experts of it (empty: no split by specialty)."""
    reserves: int = 0
    budget_yuan: Decimal | None = None
    complex_project: bool = False
    """GP: technically complex (87号令: ≥ 7 members)."""
    high_impact: bool = False
    """GP: high social impact (87号令: ≥ 7 members)."""

    @property
    def experts(self) -> int:
        return self.size - self.representatives


@dataclass(frozen=True, slots=True)
class MethodSettings:
    """How one tender (or lot) is evaluated; validated by ``check_settings`` before use."""

    method: MethodCode
    sector: Sector
    criteria: tuple[Criterion, ...] = ()
    price_base: str = LOWEST
    """``lowest`` (GP 低价优先法) or a preset ``F1``-``F4`` (engineering 综合评估法)."""
    drop_highest_price: bool = False
    drop_lowest_price: bool = False
    trim_expert_scores: bool = False
    """Engineering only: drop one highest and one lowest expert total when the committee has at
    least ``aggregation.trim_min_members`` members (reference §4.4, to verify)."""
    coefficients: Mapping[str, Decimal] = field(default_factory=dict)
    """Drawn coefficients once known (F1 ``float``, F4 ``K``); checked against their ranges."""
    given_base: Decimal | None = None
    """F3: the base price as the tender documents set it (else the mean of the valid prices)."""
    adjustments: tuple[str, ...] = ()
    """经评审的最低投标价法: the names of the price adjustments the documents define (12号令 Art. 31)."""
    candidates: int = DEFAULTS.candidates_default
    recommend: int = DEFAULTS.separation_default
    committee: CommitteeSpec | None = None

    @property
    def preset(self) -> Preset | None:
        return Preset(self.price_base) if self.price_base in Preset.__members__ else None

    @property
    def price_criterion(self) -> Criterion | None:
        prices = [c for c in self.criteria if c.kind is CriterionKind.PRICE]
        return prices[0] if len(prices) == 1 else None


def _criteria(settings: MethodSettings) -> list[Violation]:
    out: list[Violation] = []
    seen: set[str] = set()
    for i, c in enumerate(settings.criteria):
        path = f"criteria[{i}]"
        if not c.code.strip():
            out.append(Violation(f"{path}.code", "criterion_code_required", "a criterion needs a code"))
        elif c.code in seen:
            out.append(Violation(f"{path}.code", "criterion_code_unique", f"criterion code {c.code!r} is repeated"))
        seen.add(c.code)
        if not c.weight.is_finite() or c.weight <= 0 or c.weight > 1:
            out.append(Violation(f"{path}.weight", "weight_positive", f"weight {c.weight} must lie in (0, 1]"))
        if not (c.low.is_finite() and c.high.is_finite()):
            out.append(Violation(f"{path}.low", "range_bounds", "the range must be finite"))
            continue
        if c.low > c.high:
            out.append(Violation(f"{path}.low", "range_inverted", f"low {c.low} is above high {c.high}"))
        if c.low < 0 or c.high > HUNDRED:
            out.append(Violation(f"{path}.high", "range_bounds", f"[{c.low}, {c.high}] must lie within [0, 100]"))
    if settings.method in SCORING_METHODS and settings.criteria:
        total = sum((c.weight for c in settings.criteria if c.weight.is_finite()), ZERO)
        if total != ONE:
            out.append(Violation("criteria", "weights_sum_to_one", f"the weights add up to {total}, not 1"))
    return out


def _gp(settings: MethodSettings, defaults: Defaults) -> list[Violation]:
    out: list[Violation] = []
    if settings.drop_highest_price or settings.drop_lowest_price:
        which = "drop_highest_price" if settings.drop_highest_price else "drop_lowest_price"
        out.append(
            Violation(
                which,
                "gp_no_price_drop",
                "government procurement never drops the highest or the lowest price (87号令 Art. 55)",
            )
        )
    if settings.price_base != LOWEST:
        out.append(
            Violation(
                "price_base",
                "gp_price_base_lowest",
                f"the GP base price is the lowest valid price (低价优先法), not {settings.price_base!r}",
            )
        )
    if settings.trim_expert_scores:
        out.append(
            Violation("trim_expert_scores", "gp_expert_scores_mean", "GP takes the plain mean of the experts' scores")
        )
    if settings.method is MethodCode.GP_LOWEST_PRICE and settings.adjustments:
        out.append(
            Violation(
                "adjustments",
                "gp_no_price_adjustment",
                "最低评标价法 adjusts prices only by arithmetic corrections and policy deductions (87号令 Art. 54)",
            )
        )
    price = settings.price_criterion
    if settings.method is MethodCode.GP_COMPREHENSIVE and price is not None:
        goods = settings.sector is Sector.GOODS
        floor = defaults.gp_price_weight_min_goods if goods else defaults.gp_price_weight_min_services
        if price.weight < floor:
            out.append(
                Violation(
                    f"criteria[{settings.criteria.index(price)}].weight",
                    "gp_price_weight_goods" if goods else "gp_price_weight_services",
                    f"the price weight {price.weight} is below {floor} for {settings.sector.value} (87号令 Art. 55)",
                )
            )
        if (price.low, price.high) != (ZERO, HUNDRED):
            out.append(
                Violation(
                    f"criteria[{settings.criteria.index(price)}].high",
                    "price_range_full",
                    "the GP price score ranges over [0, 100]",
                )
            )
    return out


def _engineering(settings: MethodSettings, defaults: Defaults) -> list[Violation]:
    out: list[Violation] = []
    if settings.drop_highest_price or settings.drop_lowest_price:
        out.append(
            Violation(
                "drop_highest_price" if settings.drop_highest_price else "drop_lowest_price",
                "price_drop_preset_decides",
                "in engineering the base-price preset decides which prices are dropped",
            )
        )
    preset = settings.preset
    if settings.method is MethodCode.ENG_COMPREHENSIVE:
        if preset is None:
            out.append(
                Violation("price_base", "price_base_preset", f"name a preset F1-F4, not {settings.price_base!r}")
            )
        price = settings.price_criterion
        if preset is not None and price is not None:
            full = constants(preset, defaults).full
            if (price.low, price.high) != (ZERO, full):
                out.append(
                    Violation(
                        f"criteria[{settings.criteria.index(price)}].high",
                        "price_range_preset",
                        f"{preset.value} scores the price over [0, {full}]",
                    )
                )
    elif settings.price_base != LOWEST:
        out.append(Violation("price_base", "price_base_unused", "this method computes no base price"))
    if settings.given_base is not None and preset is not Preset.F3:
        out.append(Violation("given_base", "given_base_f3_only", "only F3 takes the base price from the documents"))
    elif settings.given_base is not None and (not settings.given_base.is_finite() or settings.given_base <= 0):
        out.append(Violation("given_base", "price_positive", "the given base price must be positive"))
    return out


def _coefficients(settings: MethodSettings, defaults: Defaults) -> list[Violation]:
    preset = settings.preset
    spec = constants(preset, defaults).coefficient if preset is not None else None
    out: list[Violation] = []
    for name, value in settings.coefficients.items():
        path = f"coefficients.{name}"
        if spec is None or name != spec.name:
            out.append(Violation(path, "coefficient_unknown", f"this method takes no coefficient {name!r}"))
        elif not value.is_finite() or not spec.contains(value):
            out.append(
                Violation(
                    path, "coefficient_range", f"{name} = {value} is outside [{spec.low}, {spec.high}] step {spec.step}"
                )
            )
    return out


@exact
def check_settings(settings: MethodSettings, defaults: Defaults = DEFAULTS) -> list[Violation]:
    """Every rule ``settings`` breaks (module docstring), in a stable order; empty when valid."""
    info = METHODS[settings.method]
    out: list[Violation] = []
    if settings.sector not in info.sectors:
        out.append(Violation("method", "method_sector", f"{info.name_zh} is not a method for {settings.sector.value}"))
    out += _criteria(settings)
    if settings.method in SCORING_METHODS:
        prices = [c for c in settings.criteria if c.kind is CriterionKind.PRICE]
        if len(prices) != 1:
            out.append(
                Violation("criteria", "price_criterion_count", f"one price criterion is needed, found {len(prices)}")
            )
    if info.needs_expert_scores and len(settings.criteria) == len(
        [c for c in settings.criteria if c.kind is CriterionKind.PRICE]
    ):
        out.append(
            Violation(
                "criteria",
                "scored_criterion_required",
                f"{info.name_zh} needs at least one criterion the experts score besides the price",
            )
        )
    out += _gp(settings, defaults) if settings.sector in GP_SECTORS else _engineering(settings, defaults)
    out += _coefficients(settings, defaults)
    if not defaults.candidates_min <= settings.candidates <= defaults.candidates_max:
        out.append(
            Violation(
                "candidates",
                "candidates_count",
                f"{settings.candidates} candidates: between {defaults.candidates_min} and "
                f"{defaults.candidates_max} (12号令 Art. 45)",
            )
        )
    if settings.method is MethodCode.SEPARATION and not (
        defaults.separation_min <= settings.recommend <= defaults.separation_max
    ):
        out.append(
            Violation(
                "recommend",
                "recommend_count",
                f"评定分离 recommends {defaults.separation_min}-{defaults.separation_max} candidates, "
                f"not {settings.recommend}",
            )
        )
    if settings.committee is not None:
        out += check_committee(settings.committee, settings.sector, defaults)
    return out


def required_coefficients(settings: MethodSettings, defaults: Defaults = DEFAULTS) -> tuple[CoefficientRange, ...]:
    """The random coefficients the opening hall must draw for ``settings`` (F1 浮动系数, F4 K), each
    with its allowed values (``CoefficientRange.values()``); empty when the method needs none.
    """
    preset = settings.preset
    if settings.method is not MethodCode.ENG_COMPREHENSIVE or preset is None:
        return ()
    spec = constants(preset, defaults).coefficient
    return () if spec is None else (spec,)


def require_settings(settings: MethodSettings, defaults: Defaults = DEFAULTS) -> None:
    """``EvaluationRefused`` naming every broken rule, or nothing."""
    refuse(check_settings(settings, defaults))


def _gp_large(spec: CommitteeSpec, sector: Sector, defaults: Defaults) -> list[Violation]:
    """GP: at least 7 members from 10 million yuan, or for a complex or high-impact project."""
    if sector not in GP_SECTORS or spec.size >= defaults.gp_large_size_min:
        return []
    large_budget = spec.budget_yuan is not None and spec.budget_yuan >= defaults.gp_large_budget_yuan
    if large_budget:
        reason = f"a budget of {spec.budget_yuan} yuan (≥ {defaults.gp_large_budget_yuan})"
    elif spec.complex_project:
        reason = "a complex project"
    elif spec.high_impact:
        reason = "a project of high social impact"
    else:
        return []
    return [
        Violation(
            "committee.size",
            "committee_size_gp_large",
            f"{spec.size} members: {reason} needs at least {defaults.gp_large_size_min} (87号令 Art. 47)",
        )
    ]


@exact
def check_committee(spec: CommitteeSpec, sector: Sector, defaults: Defaults = DEFAULTS) -> list[Violation]:
    """Every rule the committee spec breaks (module docstring, reference §3.1); fields ``committee.*``."""
    out: list[Violation] = []
    size = spec.size
    if size < defaults.committee_size_min:
        out.append(
            Violation(
                "committee.size",
                "committee_size_min",
                f"{size} members: at least {defaults.committee_size_min} (12号令 Art. 9; 87号令 Art. 47)",
            )
        )
    if size % 2 == 0:
        out.append(Violation("committee.size", "committee_size_odd", f"{size} members: the number must be odd"))
    if size > defaults.committee_size_max:
        out.append(
            Violation("committee.size", "committee_size_max", f"{size} members: at most {defaults.committee_size_max}")
        )
    out += _gp_large(spec, sector, defaults)
    if not 0 <= spec.representatives <= size:
        out.append(
            Violation(
                "committee.representatives",
                "representatives_range",
                f"{spec.representatives} representatives in a committee of {size}",
            )
        )
    elif spec.experts * defaults.experts_share_min.denominator < size * defaults.experts_share_min.numerator:
        out.append(
            Violation(
                "committee.representatives",
                "committee_experts_two_thirds",
                f"{spec.experts} experts of {size} members: experts must be at least "
                f"{defaults.experts_share_min} (12号令 Art. 9; 87号令 Art. 47)",
            )
        )
    for code, count in spec.specialties.items():
        if count < 1:
            out.append(
                Violation(f"committee.specialties.{code}", "specialty_count_positive", f"{count} experts of {code}")
            )
    if spec.specialties and sum(spec.specialties.values()) != spec.experts:
        out.append(
            Violation(
                "committee.specialties",
                "specialties_sum",
                f"the specialty counts add up to {sum(spec.specialties.values())}, the committee has "
                f"{spec.experts} experts",
            )
        )
    if not 0 <= spec.reserves <= defaults.committee_size_max:
        out.append(Violation("committee.reserves", "reserves_range", f"{spec.reserves} reserves"))
    return out


def require_committee(spec: CommitteeSpec, sector: Sector, defaults: Defaults = DEFAULTS) -> None:
    """``EvaluationRefused`` naming every broken committee rule, or nothing (for the draw)."""
    refuse(check_committee(spec, sector, defaults))
