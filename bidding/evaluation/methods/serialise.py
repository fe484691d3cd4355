"""Method settings to and from JSON-ready data (how a tender stores and publishes them).

Decimals travel as strings (``"0.30"``) or integers, never as JSON floats (a binary float is
refused, rule ``decimal_string``); unknown keys are refused (``unknown_field``); every refusal
names its dotted field. Parsing checks shapes only: ``settings.check_settings`` then checks the
rules. ``settings_to_data(settings_from_data(d))`` returns ``d`` normalised.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from bidding.evaluation.methods.common import Criterion, CriterionKind, EvaluationRefused, MethodCode, Sector
from bidding.evaluation.methods.settings import CommitteeSpec, MethodSettings

E = TypeVar("E", MethodCode, Sector, CriterionKind)

_SETTINGS_KEYS = frozenset(
    {
        "method",
        "sector",
        "criteria",
        "price_base",
        "drop_highest_price",
        "drop_lowest_price",
        "trim_expert_scores",
        "coefficients",
        "given_base",
        "adjustments",
        "candidates",
        "recommend",
        "committee",
    }
)
_CRITERION_KEYS = frozenset({"code", "kind", "weight", "low", "high"})
_COMMITTEE_KEYS = frozenset(
    {"size", "representatives", "specialties", "reserves", "budget_yuan", "complex_project", "high_impact"}
)


def _bad(path: str, rule: str, message: str) -> EvaluationRefused:
    return EvaluationRefused(message, field=path, rule=rule)


def _mapping(value: Any, path: str, keys: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(path, "object", "must be an object")
    unknown = sorted(set(value) - keys)
    if unknown:
        raise _bad(f"{path}.{unknown[0]}".lstrip("."), "unknown_field", f"unknown field {unknown[0]!r}")
    return value


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _bad(path, "decimal_string", 'a decimal is written as a string such as "0.30" (no binary float)')
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _bad(path, "decimal_string", f"{value!r} is not a decimal") from None
    if not number.is_finite():
        raise _bad(path, "decimal_string", "must be finite")
    return number


def _integer(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value < 2**31:
        raise _bad(path, "integer", "must be a 32-bit integer")
    return value


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _bad(path, "boolean", "must be true or false")
    return value


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _bad(path, "string", "must be a string")
    return value


def _choice(enum: type[E], value: Any, path: str) -> E:
    try:
        return enum(_text(value, path))
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise _bad(path, "choice", f"{value!r} is not one of {allowed}") from None


def _criterion(value: Any, path: str) -> Criterion:
    data = _mapping(value, path, _CRITERION_KEYS)
    for key in ("code", "kind", "weight"):
        if key not in data:
            raise _bad(f"{path}.{key}", "required", f"{key} is required")
    return Criterion(
        code=_text(data["code"], f"{path}.code"),
        kind=_choice(CriterionKind, data["kind"], f"{path}.kind"),
        weight=_decimal(data["weight"], f"{path}.weight"),
        low=_decimal(data.get("low", 0), f"{path}.low"),
        high=_decimal(data.get("high", 100), f"{path}.high"),
    )


def _committee(value: Any) -> CommitteeSpec:
    data = _mapping(value, "committee", _COMMITTEE_KEYS)
    if "size" not in data:
        raise _bad("committee.size", "required", "size is required")
    specialties = _mapping(data.get("specialties", {}), "committee.specialties", frozenset(data.get("specialties", {})))
    budget = data.get("budget_yuan")
    return CommitteeSpec(
        size=_integer(data["size"], "committee.size"),
        representatives=_integer(data.get("representatives", 0), "committee.representatives"),
        specialties={
            _text(code, "committee.specialties"): _integer(count, f"committee.specialties.{code}")
            for code, count in specialties.items()
        },
        reserves=_integer(data.get("reserves", 0), "committee.reserves"),
        budget_yuan=None if budget is None else _decimal(budget, "committee.budget_yuan"),
        complex_project=_boolean(data.get("complex_project", False), "committee.complex_project"),
        high_impact=_boolean(data.get("high_impact", False), "committee.high_impact"),
    )


def settings_from_data(value: Any) -> MethodSettings:
    """``MethodSettings`` from JSON-ready data; ``EvaluationRefused`` names the first bad field."""
    data = _mapping(value, "", _SETTINGS_KEYS)
    for key in ("method", "sector"):
        if key not in data:
            raise _bad(key, "required", f"{key} is required")
    criteria = data.get("criteria", [])
    if not isinstance(criteria, list):
        raise _bad("criteria", "array", "must be an array")
    adjustments = data.get("adjustments", [])
    if not isinstance(adjustments, list):
        raise _bad("adjustments", "array", "must be an array")
    coefficients = _mapping(data.get("coefficients", {}), "coefficients", frozenset(data.get("coefficients", {})))
    given = data.get("given_base")
    defaults = MethodSettings(MethodCode.SEPARATION, Sector.ENGINEERING)
    return MethodSettings(
        method=_choice(MethodCode, data["method"], "method"),
        sector=_choice(Sector, data["sector"], "sector"),
        criteria=tuple(_criterion(c, f"criteria[{i}]") for i, c in enumerate(criteria)),
        price_base=_text(data.get("price_base", defaults.price_base), "price_base"),
        drop_highest_price=_boolean(data.get("drop_highest_price", False), "drop_highest_price"),
        drop_lowest_price=_boolean(data.get("drop_lowest_price", False), "drop_lowest_price"),
        trim_expert_scores=_boolean(data.get("trim_expert_scores", False), "trim_expert_scores"),
        coefficients={
            _text(name, "coefficients"): _decimal(v, f"coefficients.{name}") for name, v in coefficients.items()
        },
        given_base=None if given is None else _decimal(given, "given_base"),
        adjustments=tuple(_text(a, f"adjustments[{i}]") for i, a in enumerate(adjustments)),
        candidates=_integer(data.get("candidates", defaults.candidates), "candidates"),
        recommend=_integer(data.get("recommend", defaults.recommend), "recommend"),
        committee=None if data.get("committee") is None else _committee(data["committee"]),
    )


def settings_to_data(settings: MethodSettings) -> dict[str, Any]:
    """JSON-ready data for ``settings`` (decimals as strings)."""
    committee = settings.committee
    return {
        "method": settings.method.value,
        "sector": settings.sector.value,
        "criteria": [
            {"code": c.code, "kind": c.kind.value, "weight": str(c.weight), "low": str(c.low), "high": str(c.high)}
            for c in settings.criteria
        ],
        "price_base": settings.price_base,
        "drop_highest_price": settings.drop_highest_price,
        "drop_lowest_price": settings.drop_lowest_price,
        "trim_expert_scores": settings.trim_expert_scores,
        "coefficients": {name: str(v) for name, v in settings.coefficients.items()},
        "given_base": None if settings.given_base is None else str(settings.given_base),
        "adjustments": list(settings.adjustments),
        "candidates": settings.candidates,
        "recommend": settings.recommend,
        "committee": None
        if committee is None
        else {
            "size": committee.size,
            "representatives": committee.representatives,
            "specialties": dict(committee.specialties),
            "reserves": committee.reserves,
            "budget_yuan": None if committee.budget_yuan is None else str(committee.budget_yuan),
            "complex_project": committee.complex_project,
            "high_impact": committee.high_impact,
        },
    }
