"""The 87号令 Art. 64 checks on the experts' scoring sheets, as pure functions returning findings.

Art. 64 lets aggregated results change only for (1) a summation error, (2) an item scored outside
its range, (3) objective factors scored inconsistently, (4) scores judged abnormally high or low
(畸高畸低) (reference §4.4, §5.5). The platform runs these checks before the report; each finding
names the expert, the bid, the criterion and the numbers, and must be resolved or justified by the
expert. The checks never change a score (195号 (十一): advisory, explainable).

Codes:

- ``sum_error`` (Art. 64(1)): the sheet's declared total differs from Σ round(Fᵢ × Aᵢ, 0.01) over
  the expert-scored criteria (the same rounding as ``methods.aggregation``).
- ``out_of_range`` (Art. 64(2)): a score outside ``[low, high]``; ``score_missing``: a criterion the
  sheet does not score; ``criterion_unknown``: a score for no criterion of the tender.
- ``objective_inconsistent`` (Art. 64(3)): on an objective criterion of a bid, an expert differs from
  the strict majority value (87号令 Art. 61: joint matters decided by majority); with no strict
  majority every expert of that bid and criterion gets a finding (``majority`` = None).
- ``outlier_high`` / ``outlier_low`` (Art. 64(4)): on a subjective criterion of a bid with at least 3
  experts, the leave-one-out robust z (anomaly-screens.md §6.2 metric 1)

      z = (s − median₋ₑ) / max(mad_scale · MAD₋ₑ, floor_share · high)

  over the other experts' scores, with ``|z| ≥ art64.outlier_z`` (3.0, ``mad_scale`` 1.4826,
  ``floor_share`` 0.05 of the criterion's maximum score; all in ``defaults.toml``). z is reported
  rounded half up to 0.01; the comparison uses the exact value.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bidding.evaluation.methods.aggregation import scored_criteria
from bidding.evaluation.methods.common import ZERO, Criterion, CriterionKind, exact, round_score
from bidding.evaluation.methods.defaults import DEFAULTS, Defaults
from bidding.panel_deviation import leave_one_out_z, median

MIN_PANEL_FOR_OUTLIERS = 3


@dataclass(frozen=True, slots=True)
class Sheet:
    """One expert's scores for one bid (criterion code → Fᵢ), with the total the sheet declares."""

    expert: str
    bid: str
    scores: Mapping[str, Decimal]
    declared_total: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One Art. 64 finding: what, under which rule, whose, on which bid and criterion, the numbers."""

    code: str
    rule: str
    expert: str
    bid: str
    criterion: str | None
    numbers: Mapping[str, Decimal | str | list[str] | None]
    defaults_version: str

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "rule": self.rule,
            "expert": self.expert,
            "bid": self.bid,
            "criterion": self.criterion,
            "numbers": {k: str(v) if isinstance(v, Decimal) else v for k, v in self.numbers.items()},
            "defaults_version": self.defaults_version,
        }


@exact
def summation_errors(
    criteria: Sequence[Criterion], sheets: Iterable[Sheet], defaults: Defaults = DEFAULTS
) -> list[Finding]:
    """``sum_error`` for each sheet whose declared total is not the sum of its weighted scores."""
    scored = scored_criteria(criteria)
    out = []
    for sheet in sheets:
        if sheet.declared_total is None:
            continue
        computed = sum(
            (round_score(sheet.scores[c.code] * c.weight, defaults) for c in scored if c.code in sheet.scores), ZERO
        )
        if sheet.declared_total != computed:
            out.append(
                Finding(
                    "sum_error",
                    "87号令 Art. 64(1)",
                    sheet.expert,
                    sheet.bid,
                    None,
                    {
                        "declared": sheet.declared_total,
                        "computed": computed,
                        "difference": sheet.declared_total - computed,
                    },
                    defaults.version,
                )
            )
    return out


@exact
def range_errors(
    criteria: Sequence[Criterion], sheets: Iterable[Sheet], defaults: Defaults = DEFAULTS
) -> list[Finding]:
    """``out_of_range``, ``score_missing`` and ``criterion_unknown`` findings."""
    scored = {c.code: c for c in scored_criteria(criteria)}
    out = []
    for sheet in sheets:
        for code, c in scored.items():
            value = sheet.scores.get(code)
            if value is None:
                out.append(
                    Finding("score_missing", "87号令 Art. 64(2)", sheet.expert, sheet.bid, code, {}, defaults.version)
                )
            elif not value.is_finite() or not c.low <= value <= c.high:
                out.append(
                    Finding(
                        "out_of_range",
                        "87号令 Art. 64(2)",
                        sheet.expert,
                        sheet.bid,
                        code,
                        {"score": value, "low": c.low, "high": c.high},
                        defaults.version,
                    )
                )
        out.extend(
            Finding(
                "criterion_unknown",
                "87号令 Art. 64(2)",
                sheet.expert,
                sheet.bid,
                code,
                {"score": value},
                defaults.version,
            )
            for code, value in sorted(sheet.scores.items())
            if code not in scored
        )
    return out


def _panels(
    sheets: Iterable[Sheet], kind: CriterionKind, criteria: Sequence[Criterion]
) -> dict[tuple[str, str], dict[str, Decimal]]:
    """(bid, criterion) → expert → score, over the criteria of ``kind``."""
    codes = {c.code for c in criteria if c.kind is kind}
    panels: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(dict)
    for sheet in sheets:
        for code, value in sheet.scores.items():
            if code in codes and value.is_finite():
                panels[sheet.bid, code][sheet.expert] = value
    return panels


@exact
def objective_inconsistencies(
    criteria: Sequence[Criterion], sheets: Iterable[Sheet], defaults: Defaults = DEFAULTS
) -> list[Finding]:
    """``objective_inconsistent`` findings (module docstring)."""
    out = []
    for (bid, code), panel in sorted(_panels(sheets, CriterionKind.OBJECTIVE, criteria).items()):
        counts = Counter(panel.values())
        if len(counts) < 2:  # noqa: PLR2004 - everyone agrees
            continue
        value, count = counts.most_common(1)[0]
        majority = value if count * 2 > len(panel) else None
        scores = {e: str(v) for e, v in sorted(panel.items())}
        for expert, score in sorted(panel.items()):
            if majority is None or score != majority:
                out.append(
                    Finding(
                        "objective_inconsistent",
                        "87号令 Art. 64(3)",
                        expert,
                        bid,
                        code,
                        {"score": score, "majority": majority, "panel": [f"{e}={v}" for e, v in scores.items()]},
                        defaults.version,
                    )
                )
    return out


@exact
def outliers(criteria: Sequence[Criterion], sheets: Iterable[Sheet], defaults: Defaults = DEFAULTS) -> list[Finding]:
    """``outlier_high`` / ``outlier_low`` findings by the leave-one-out robust z (module docstring)."""
    highs = {c.code: c.high for c in criteria}
    out = []
    for (bid, code), panel in sorted(_panels(sheets, CriterionKind.SUBJECTIVE, criteria).items()):
        if len(panel) < MIN_PANEL_FOR_OUTLIERS:
            continue
        floor = defaults.floor_share * highs[code]
        # Exact pre-filter: any leave-one-out median lies between the median without the maximum
        # and the median without the minimum, and the scale is at least the floor; a score closer
        # than threshold × floor to both cannot reach the threshold.
        ordered = sorted(panel.values())
        lowest_median, highest_median = median(ordered[:-1]), median(ordered[1:])
        reach = defaults.outlier_z * floor
        for expert, score in sorted(panel.items()):
            if max(abs(score - lowest_median), abs(score - highest_median)) < reach:
                continue
            robust = leave_one_out_z(
                score, [v for e, v in panel.items() if e != expert], floor=floor, mad_scale=defaults.mad_scale
            )
            if robust is None:
                continue
            centre, mad, scale, z = robust
            if abs(z) >= defaults.outlier_z:
                out.append(
                    Finding(
                        "outlier_high" if z > 0 else "outlier_low",
                        "87号令 Art. 64(4)",
                        expert,
                        bid,
                        code,
                        {
                            "score": score,
                            "median_others": centre,
                            "mad_others": mad,
                            "scale": scale,
                            "z": round_score(z, defaults),
                            "threshold": defaults.outlier_z,
                        },
                        defaults.version,
                    )
                )
    return out


def run_checks(criteria: Sequence[Criterion], sheets: Sequence[Sheet], defaults: Defaults = DEFAULTS) -> list[Finding]:
    """Every Art. 64 finding, ordered by (bid, expert, criterion, code)."""
    findings = [
        *summation_errors(criteria, sheets, defaults),
        *range_errors(criteria, sheets, defaults),
        *objective_inconsistencies(criteria, sheets, defaults),
        *outliers(criteria, sheets, defaults),
    ]
    return sorted(findings, key=lambda f: (f.bid, f.expert, f.criterion or "", f.code))
