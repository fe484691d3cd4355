"""When a committee may be drawn: after the bid deadline (bidders are known only then, and avoidance
needs them) and, where the rules say so (GP, 198号), not earlier than N working days before the
evaluation, counted on the platform's working-day calendar (`trading.kernel.calendar`, given as an
argument: this module reads nothing).

"Not earlier than N working days before" means: counting from the day after the draw, the
evaluation day is at most the N-th working day (民法典 Art. 201 counting, as the calendar does).
With N = 2 and an evaluation on a Wednesday, a draw on the Monday before is allowed, one on the
Friday before is not. Days are civil dates in Asia/Shanghai.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bidding.evaluation.draw.rules import DrawRules
from trading.kernel.calendar import CHINA, CalendarError, CalendarYearMissing, WorkingCalendar


@dataclass(frozen=True, slots=True)
class TimingViolation:
    field: str
    rule: str
    message: str


def draw_timing(
    draw_at: datetime,
    evaluation_at: datetime,
    *,
    bid_deadline: datetime,
    government_procurement: bool,
    calendar: WorkingCalendar,
    rules: DrawRules,
) -> list[TimingViolation]:
    """Every rule the moment ``draw_at`` breaks (empty: the draw may run then)."""
    for name, moment in (("draw_at", draw_at), ("evaluation_at", evaluation_at), ("bid_deadline", bid_deadline)):
        if moment.tzinfo is None:
            return [TimingViolation(name, "zone", "a time with a zone")]
    found: list[TimingViolation] = []
    if draw_at < bid_deadline:
        found.append(
            TimingViolation(
                "draw_at", "after_deadline", "the committee is drawn after the bid deadline (bidders known)"
            )
        )
    if draw_at >= evaluation_at:
        found.append(TimingViolation("draw_at", "before_evaluation", "the committee is drawn before the evaluation"))
    earliest = rules.draw_earliest_working_days(government_procurement=government_procurement)
    if earliest is not None and draw_at < evaluation_at:
        draw_day, evaluation_day = draw_at.astimezone(CHINA).date(), evaluation_at.astimezone(CHINA).date()
        try:
            between = calendar.working_days_between(draw_day, evaluation_day)
        except CalendarYearMissing as missing:
            found.append(TimingViolation("draw_at", "calendar_year_loaded", str(missing)))
        except CalendarError as wrong:
            found.append(TimingViolation("draw_at", "calendar", str(wrong)))
        else:
            if between > earliest:
                found.append(
                    TimingViolation(
                        "draw_at",
                        "draw_working_days_before",
                        f"the draw is not earlier than {earliest} working days before the evaluation "
                        f"({between} working days from {draw_day} to {evaluation_day})",
                    )
                )
    return found
