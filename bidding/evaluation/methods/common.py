"""What the evaluation methods share: their identities and versions, inputs, rounding, results.

Every method is a pure function (no database, no clock, no randomness) over ``Decimal``; random
coefficients are inputs. A method's ``MethodId`` (code + version) and the defaults' version are
recorded with every result, so a stored result says exactly which arithmetic produced it; a change
to a method's arithmetic bumps its version.

Rounding (stated once, used everywhere): money (base prices, evaluated prices) and scores are
rounded ``ROUND_HALF_UP`` to ``DEFAULTS.money_places`` / ``DEFAULTS.score_places`` (2) decimals,
at the steps each function's docstring names; everything between those steps is ``Decimal``
arithmetic in the ``ARITHMETIC`` context (28 significant digits, half even), which every public
function enters itself (``@exact``): a caller's decimal context never changes a result.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from typing import Any, Final, ParamSpec, TypeVar

from bidding.evaluation.methods.defaults import DEFAULTS, Defaults
from trading.kernel.errors import ValidationFailed

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
HUNDRED: Final = Decimal(100)
ARITHMETIC: Final = Context(prec=28, rounding=ROUND_HALF_EVEN)
"""The context every method computes in (``decimal.localcontext(ARITHMETIC)``), whatever the caller's."""

P = ParamSpec("P")
R = TypeVar("R")


def exact(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` in the ``ARITHMETIC`` context: the caller's decimal context never changes a result."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(ARITHMETIC):
            return fn(*args, **kwargs)

    return wrapper


ExpertScores = Mapping[str, Mapping[str, Mapping[str, Decimal]]]
"""expert key → bid key → criterion code → the expert's factor score Fᵢ."""


class Sector(StrEnum):
    GOODS = "goods"  # 政府采购 货物 (87号令)
    SERVICES = "services"  # 政府采购 服务 (87号令)
    ENGINEERING = "engineering"  # 工程 (招标投标法, 12号令)


GP_SECTORS: Final = frozenset({Sector.GOODS, Sector.SERVICES})


class MethodCode(StrEnum):
    GP_COMPREHENSIVE = "gp-comprehensive-scoring"  # 综合评分法 (87号令 Art. 55)
    GP_LOWEST_PRICE = "gp-lowest-evaluated-price"  # 最低评标价法 (87号令 Art. 54)
    ENG_COMPREHENSIVE = "eng-comprehensive-evaluation"  # 综合评估法 (12号令 Art. 34-37)
    ENG_LOWEST_PRICE = "eng-reviewed-lowest-price"  # 经评审的最低投标价法 (12号令 Art. 30-33)
    SEPARATION = "eng-evaluation-separation"  # 评定分离 (domain-rules §4.1, local pilots)


@dataclass(frozen=True, slots=True)
class MethodId:
    """A method's code and the version of its arithmetic."""

    code: MethodCode
    version: str


@dataclass(frozen=True, slots=True)
class MethodInfo:
    """What a method is, which sectors may use it and which random coefficients it needs."""

    id: MethodId
    name_zh: str
    sectors: frozenset[Sector]
    legal_basis: str
    needs_expert_scores: bool


METHODS: Final[Mapping[MethodCode, MethodInfo]] = {
    info.id.code: info
    for info in (
        MethodInfo(
            MethodId(MethodCode.GP_COMPREHENSIVE, "1"),
            "综合评分法",
            GP_SECTORS,
            "87号令 Art. 55, 64-65; GP 实施条例 Art. 34",
            needs_expert_scores=True,
        ),
        MethodInfo(
            MethodId(MethodCode.GP_LOWEST_PRICE, "1"),
            "最低评标价法",
            GP_SECTORS,
            "87号令 Art. 53-54; GP 实施条例 Art. 34",
            needs_expert_scores=False,
        ),
        MethodInfo(
            MethodId(MethodCode.ENG_COMPREHENSIVE, "1"),
            "综合评估法",
            frozenset({Sector.ENGINEERING}),
            "12号令 Art. 34-37; domain-rules §4.5 (F1-F4)",
            needs_expert_scores=True,
        ),
        MethodInfo(
            MethodId(MethodCode.ENG_LOWEST_PRICE, "1"),
            "经评审的最低投标价法",
            frozenset({Sector.ENGINEERING}),
            "12号令 Art. 30-33",
            needs_expert_scores=False,
        ),
        MethodInfo(
            MethodId(MethodCode.SEPARATION, "1"),
            "评定分离",
            frozenset({Sector.ENGINEERING}),
            "domain-rules §4.1 (local pilots, e.g. Huangshi 2021)",
            needs_expert_scores=False,
        ),
    )
}


class CriterionKind(StrEnum):
    PRICE = "price"  # computed by the method from the prices
    OBJECTIVE = "objective"  # 客观分: computed by the system or decided jointly; experts must agree (Art. 64)
    SUBJECTIVE = "subjective"  # 主观分: each expert alone within the range (87号令 Art. 62(4))


@dataclass(frozen=True, slots=True)
class Criterion:
    """A scoring factor: score Fᵢ in ``[low, high]`` (0-100 scale), weight Aᵢ (87号令 Art. 55)."""

    code: str
    kind: CriterionKind
    weight: Decimal
    low: Decimal = ZERO
    high: Decimal = HUNDRED


@dataclass(frozen=True, slots=True)
class Bid:
    """A bid as the methods see it, after the qualification and compliance reviews.

    ``price`` is the bid price after the arithmetic corrections (12号令 Art. 19, 87号令 Art. 59),
    which the assistance or the committee decide; ``quoted`` is the price as read at the opening.
    ``deduction_rate`` is a policy price deduction (GP, e.g. small enterprises) taken off the price
    before it is evaluated; ``adjustments`` are the named price adjustments of 经评审的最低投标价法
    (12号令 Art. 31: + raises, - lowers the evaluated price). ``valid`` is False for a bid the
    committee rejected: it is listed but neither priced into the base nor ranked.
    """

    key: str
    price: Decimal
    quoted: Decimal | None = None
    valid: bool = True
    deduction_rate: Decimal = ZERO
    adjustments: Mapping[str, Decimal] = field(default_factory=dict)


class EvaluationRefused(ValidationFailed):
    """The method's inputs or settings break a rule; ``field`` and ``rule`` name it, and
    ``extra["errors"]`` lists every broken rule when there are several.
    """

    code = "evaluation_refused"
    title = "Evaluation refused"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: the field (dotted path), the rule's code and a message naming the numbers."""

    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


def refuse(violations: list[Violation]) -> None:
    """Raise ``EvaluationRefused`` for the first violation, listing all of them; nothing if none."""
    if violations:
        first = violations[0]
        raise EvaluationRefused(
            first.message,
            field=first.field,
            rule=first.rule,
            extra={"errors": [v.as_dict() for v in violations]},
        )


def round_score(value: Decimal, defaults: Defaults = DEFAULTS) -> Decimal:
    """A score rounded half up to ``score_places`` decimals."""
    return value.quantize(defaults.score_quantum, rounding=ROUND_HALF_UP, context=ARITHMETIC)


def round_money(value: Decimal, defaults: Defaults = DEFAULTS) -> Decimal:
    """An amount rounded half up to ``money_places`` decimals (分)."""
    return value.quantize(defaults.money_quantum, rounding=ROUND_HALF_UP, context=ARITHMETIC)


@dataclass(frozen=True, slots=True)
class Flag:
    """Something the committee must see about a result (not a refusal): ``code``, the rule, numbers."""

    code: str
    rule: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RankedBid:
    """A ranked bid: ``rank`` is shared by bids tied on every ranking key (并列, 87号令 Art. 55, reference §4.3.6)."""

    key: str
    rank: int
    total: Decimal | None
    price: Decimal
    tied: bool = False


@dataclass(frozen=True, slots=True)
class Ranking:
    order: tuple[RankedBid, ...]
    candidates: tuple[str, ...]
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True, slots=True)
class BidRow:
    """One bid's line of the comparison table (综合评估比较表 / 标价比较表)."""

    key: str
    price: Decimal
    valid: bool
    evaluated_price: Decimal | None = None
    price_score: Decimal | None = None
    components: Mapping[str, Decimal] = field(default_factory=dict)
    total: Decimal | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MethodResult:
    """A method's result with everything needed to recompute it: method, versions, inputs, table."""

    method: MethodId
    defaults_version: str
    rows: tuple[BidRow, ...]
    ranking: Ranking
    base_price: Decimal | None = None
    coefficients: Mapping[str, Decimal] = field(default_factory=dict)
    computation: Mapping[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """The result as JSON-ready data (decimals as strings), for storage and the report."""
        record: dict[str, Any] = _plain(
            {
                "method": self.method.code.value,
                "method_version": self.method.version,
                "defaults_version": self.defaults_version,
                "base_price": self.base_price,
                "coefficients": dict(self.coefficients),
                "rows": [
                    {
                        "bid": row.key,
                        "price": row.price,
                        "valid": row.valid,
                        "evaluated_price": row.evaluated_price,
                        "price_score": row.price_score,
                        "components": dict(row.components),
                        "total": row.total,
                        "detail": dict(row.detail),
                    }
                    for row in self.rows
                ],
                "ranking": [
                    {"bid": r.key, "rank": r.rank, "total": r.total, "price": r.price, "tied": r.tied}
                    for r in self.ranking.order
                ],
                "candidates": list(self.ranking.candidates),
                "flags": [{"code": f.code, "rule": f.rule, "detail": dict(f.detail)} for f in self.ranking.flags],
                "computation": dict(self.computation),
            }
        )
        return record


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    return value
