"""Avoidance (回避), run before the draw: who may not sit on this tender's committee, and why.

Each filter is a pure function of one `Candidate` and the `DrawContext` that returns the reasons it
finds (empty: none); `apply_avoidance` runs them all over the pool and returns the candidates left,
in the canonical order the draw uses, with every excluded expert, each reason code and the evidence
that triggered it. All reasons are recorded, not only the first, so the record says everything
that kept an expert out.

Reason codes (stable; the pages translate them):

==========================  =============================================================
``employer_tenderee``       employed by the tenderee (招标人/采购人)
``employer_agency``         employed by the agency running the tender (代理机构; GP: agency staff)
``employer_bidder``         employed by a bidder
``employer_other_party``    employed by another party to avoid (e.g. the supervising department)
``conflict_tenderee`` …     a declared conflict with that party whose period reaches into the
                            look-back window (GP 实施条例 Art. 9: 3 years; engineering: in force)
``drafting_role``           took part in drafting this tender's requirement or documents
``suspended``               suspended on an evaluation day (or indefinitely)
``removed``                 removed from the pool
``unavailable``             declared unavailable on an evaluation day
``frequency``               already drawn N times for this tenderee within M months
==========================  =============================================================

The canonical order of the candidates left is by ``expert_id`` as a string, code-point order
(``trading.kernel.draws.canonical``), whatever order the pool gave them in.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from operator import attrgetter

from bidding.evaluation.draw.candidates import (
    Candidate,
    CandidateLines,
    CandidateList,
    DeclaredConflict,
    DrawContext,
    ExpertStatus,
)
from bidding.evaluation.draw.rules import DrawRules


class Avoidance(StrEnum):
    EMPLOYER_TENDEREE = "employer_tenderee"
    EMPLOYER_AGENCY = "employer_agency"
    EMPLOYER_BIDDER = "employer_bidder"
    EMPLOYER_OTHER_PARTY = "employer_other_party"
    CONFLICT_TENDEREE = "conflict_tenderee"
    CONFLICT_AGENCY = "conflict_agency"
    CONFLICT_BIDDER = "conflict_bidder"
    CONFLICT_OTHER_PARTY = "conflict_other_party"
    DRAFTING_ROLE = "drafting_role"
    SUSPENDED = "suspended"
    REMOVED = "removed"
    UNAVAILABLE = "unavailable"
    FREQUENCY = "frequency"
    ALREADY_DRAWN = "already_drawn"
    """A supplementary draw (补抽) only, not a filter of `FILTERS`: drawn already (member or
    reserve) by an earlier draw of the same evaluation (`committee.supplement`)."""


_EMPLOYER = {
    "tenderee": Avoidance.EMPLOYER_TENDEREE,
    "agency": Avoidance.EMPLOYER_AGENCY,
    "bidder": Avoidance.EMPLOYER_BIDDER,
    "other_party": Avoidance.EMPLOYER_OTHER_PARTY,
}
_CONFLICT = {
    "tenderee": Avoidance.CONFLICT_TENDEREE,
    "agency": Avoidance.CONFLICT_AGENCY,
    "bidder": Avoidance.CONFLICT_BIDDER,
    "other_party": Avoidance.CONFLICT_OTHER_PARTY,
}


@dataclass(frozen=True, slots=True)
class Reason:
    """One ground for excluding an expert, with the facts that triggered it (JSON-ready strings)."""

    code: Avoidance
    evidence: Mapping[str, str]

    def as_json(self) -> dict[str, object]:
        return {"reason": self.code.value, "evidence": dict(self.evidence)}


@dataclass(frozen=True, slots=True)
class Excluded:
    expert_id: str
    reasons: tuple[Reason, ...]

    def as_json(self) -> dict[str, object]:
        return {"expert_id": self.expert_id, "reasons": [reason.as_json() for reason in self.reasons]}


@dataclass(frozen=True, slots=True)
class AvoidanceResult:
    candidates: tuple[Candidate, ...]
    """The candidates left, in canonical order (by ``expert_id``, code points)."""
    excluded: tuple[Excluded, ...]
    """Every excluded expert, by ``expert_id``, with all their reasons."""
    rules_version: str

    def exclusion_record(self) -> list[dict[str, object]]:
        return [item.as_json() for item in self.excluded]


@dataclass(frozen=True, slots=True)
class Window:
    """What the filters compare against, computed once per draw."""

    parties: Mapping[str, str]
    """USCC → the party it is (``tenderee``, ``agency``, ``bidder``, ``other_party``)."""
    days: frozenset[date]
    first_day: date
    last_day: date
    conflict_from: date
    """A declared conflict counts when its period reaches on or after this day."""
    frequency_after: date
    """Earlier draws for the tenderee counted when strictly after this day (up to the draw day)."""


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError  # pragma: no cover - every month has a 28th


def window(context: DrawContext, rules: DrawRules) -> Window:
    days = context.evaluation_days()
    last = days[-1]
    parties: dict[str, str] = {}
    for uscc in sorted(context.other_parties):
        parties[uscc] = "other_party"
    for uscc in sorted(context.bidder_usccs):
        parties[uscc] = "bidder"
    if context.agency_uscc:
        parties[context.agency_uscc] = "agency"
    parties[context.tenderee_uscc] = "tenderee"  # the strongest name wins when one organisation is two parties
    lookback = rules.conflict_lookback_years(government_procurement=context.government_procurement)
    return Window(
        parties=parties,
        days=frozenset(days),
        first_day=context.evaluation_date,
        last_day=last,
        conflict_from=years_before(context.evaluation_date, lookback),
        frequency_after=months_before(context.draw_date, rules.frequency_months),
    )


Filter = Callable[[Candidate, DrawContext, Window, DrawRules], list[Reason]]


def employer(candidate: Candidate, _context: DrawContext, window: Window, _rules: DrawRules) -> list[Reason]:
    party = window.parties.get(candidate.employer_uscc or "")
    if party is None or candidate.employer_uscc is None:
        return []
    return [Reason(_EMPLOYER[party], {"employer_uscc": candidate.employer_uscc, "party": party})]


def declared_conflicts(candidate: Candidate, context: DrawContext, window: Window, _rules: DrawRules) -> list[Reason]:
    found = []
    for conflict in candidate.conflicts:
        party = window.parties.get(conflict.organisation_uscc)
        if party is None:
            continue
        if conflict.since is not None and conflict.since > window.last_day:
            continue  # begins after the evaluation
        if conflict.until is not None and conflict.until < window.conflict_from:
            continue  # ended before the look-back window
        evidence = {
            "organisation_uscc": conflict.organisation_uscc,
            "party": party,
            "relation": conflict.relation,
            "since": conflict.since.isoformat() if conflict.since else "",
            "until": conflict.until.isoformat() if conflict.until else "",
            "counted_from": window.conflict_from.isoformat(),
            "government_procurement": str(context.government_procurement).lower(),
        }
        found.append(Reason(_CONFLICT[party], evidence))
    return found


def drafting(candidate: Candidate, context: DrawContext, _window: Window, _rules: DrawRules) -> list[Reason]:
    return [
        Reason(Avoidance.DRAFTING_ROLE, {"tender_id": role.tender_id, "role": role.role})
        for role in candidate.drafting_roles
        if role.tender_id == context.tender_id
    ]


def standing(candidate: Candidate, _context: DrawContext, window: Window, _rules: DrawRules) -> list[Reason]:
    return _standing(candidate.status, candidate.suspended_until, window.first_day)


def _standing(status: ExpertStatus, suspended_until: date | None, first_day: date) -> list[Reason]:
    if status is ExpertStatus.REMOVED:
        return [Reason(Avoidance.REMOVED, {"status": status.value})]
    if status is ExpertStatus.SUSPENDED and (suspended_until is None or suspended_until >= first_day):
        until = suspended_until.isoformat() if suspended_until else ""
        return [Reason(Avoidance.SUSPENDED, {"status": status.value, "suspended_until": until})]
    return []


def standing_reasons(status: str, suspended_until: date | None, window: Window) -> tuple[Reason, ...]:
    """What the `standing` filter records for an expert of ``status`` (the pool's text) and
    ``suspended_until`` (the last day of a suspension, read for status ``suspended`` only, as the
    records path reads it), without their record: for the pool's experts whose **only** input for
    any filter is their standing — status not active; employer none of the parties, no conflict
    declared with a party, no drafting role, no unavailable day within the evaluation, fewer than N
    counted draws for the tenderee (the pool's judged query knows this,
    `CandidateRepository.listed`) — whose exclusion is then this one reason. Empty when it records
    nothing so (a status it does not name, a suspension over before the evaluation: the expert
    is kept): the caller then judges a record, as before. A function of its arguments only, so
    callers may reuse one result for every expert with the same status and day.
    """
    if status == ExpertStatus.REMOVED.value:
        return tuple(_standing(ExpertStatus.REMOVED, None, window.first_day))
    if status == ExpertStatus.SUSPENDED.value:
        return tuple(_standing(ExpertStatus.SUSPENDED, suspended_until, window.first_day))
    return ()


def availability(candidate: Candidate, _context: DrawContext, window: Window, _rules: DrawRules) -> list[Reason]:
    return _availability(candidate.unavailable & window.days)


def _availability(clash: AbstractSet[date]) -> list[Reason]:
    if not clash:
        return []
    return [Reason(Avoidance.UNAVAILABLE, {"dates": ",".join(day.isoformat() for day in sorted(clash))})]


def availability_reasons(days: Iterable[date], window: Window) -> tuple[Reason, ...]:
    """What the `availability` filter records for an expert unavailable on ``days``, without their
    record: for the pool's experts whose **only** filter input is unavailability within the
    evaluation (active, employer none of the parties, no conflict with a party, no drafting role,
    fewer than N counted draws: `CandidateRepository.listed`'s judged query knows it). Empty when
    no day is an evaluation day (the caller then judges a record). A function of its arguments.
    """
    return tuple(_availability(frozenset(days) & window.days))


def frequency(candidate: Candidate, context: DrawContext, window: Window, rules: DrawRules) -> list[Reason]:
    dates = sorted(
        draw.drawn_on
        for draw in candidate.past_draws
        if draw.tenderee_uscc == context.tenderee_uscc and window.frequency_after < draw.drawn_on <= context.draw_date
    )
    if len(dates) < rules.max_draws_per_tenderee:
        return []
    evidence = {
        "tenderee_uscc": context.tenderee_uscc,
        "draws": str(len(dates)),
        "dates": ",".join(day.isoformat() for day in dates),
        "max_draws": str(rules.max_draws_per_tenderee),
        "months": str(rules.frequency_months),
    }
    return [Reason(Avoidance.FREQUENCY, evidence)]


FILTERS: tuple[Filter, ...] = (employer, declared_conflicts, drafting, standing, availability, frequency)
"""Run in this order (`reasons_for`); an excluded expert's reasons are listed in it."""


def reasons_for(candidate: Candidate, context: DrawContext, window: Window, rules: DrawRules) -> list[Reason]:
    """Every filter's reasons, in `FILTERS` order. A filter whose input is empty finds nothing, so
    it is not called: most experts have no conflicts, roles, suspension, absences or past draws,
    and skipping the calls keeps a 100,000-expert pool near the cost of sorting it.
    """
    found: list[Reason] = []
    if candidate.employer_uscc in window.parties:
        found += employer(candidate, context, window, rules)
    if candidate.conflicts:
        found += declared_conflicts(candidate, context, window, rules)
    if candidate.drafting_roles:
        found += drafting(candidate, context, window, rules)
    if candidate.status is not ExpertStatus.ACTIVE:
        found += standing(candidate, context, window, rules)
    if candidate.unavailable:
        found += availability(candidate, context, window, rules)
    if candidate.past_draws:
        found += frequency(candidate, context, window, rules)
    return found


def canonical_candidates(candidates: Iterable[Candidate]) -> list[Candidate]:
    """By ``expert_id`` as a string (code points); an expert listed twice is refused."""
    ordered = sorted(candidates, key=attrgetter("expert_id"))
    ids = list(map(attrgetter("expert_id"), ordered))
    if not all(map(operator.lt, ids, itertools.islice(ids, 1, None))):  # sorted, so: a repeated id
        for before, after in itertools.pairwise(ids):
            if before == after:
                msg = f"expert {before} is listed twice"
                raise ValueError(msg)
    return ordered


def _none_with(conflicts: tuple[DeclaredConflict, ...], parties: Mapping[str, str]) -> bool:
    """No declared conflict is with a party (then `declared_conflicts` finds nothing)."""
    return all(conflict.organisation_uscc not in parties for conflict in conflicts)


def apply_avoidance(candidates: Iterable[Candidate], context: DrawContext, rules: DrawRules) -> AvoidanceResult:
    """The candidates left after every filter, canonical order, and the exclusion record.

    Most experts trip no filter: the loop settles them with a few attribute and set tests (the
    conditions under which each filter finds nothing) and calls `reasons_for` only for the rest,
    whose reasons it records.
    """
    bounds = window(context, rules)
    kept: list[Candidate] = []
    excluded: list[Excluded] = []
    keep = kept.append
    parties, active, days, tenderee = bounds.parties, ExpertStatus.ACTIVE, bounds.days, context.tenderee_uscc
    any_draw_counts = rules.max_draws_per_tenderee < 1  # (the rules refuse it; kept exact all the same)
    for candidate in canonical_candidates(candidates):
        if not (
            candidate.employer_uscc in parties
            or candidate.status is not active
            or candidate.drafting_roles
            or (candidate.conflicts and not _none_with(candidate.conflicts, parties))
        ):
            unavailable = candidate.unavailable
            if not unavailable or unavailable.isdisjoint(days):
                past = candidate.past_draws
                if not past:
                    keep(candidate)  # nothing any filter could find (`reasons_for` would call none)
                    continue
                if not any_draw_counts:
                    for draw in past:
                        if draw.tenderee_uscc == tenderee:
                            break
                    else:  # no draw for this tenderee: the frequency rule counts none
                        keep(candidate)
                        continue
        found = reasons_for(candidate, context, bounds, rules)
        if found:
            excluded.append(Excluded(candidate.expert_id, tuple(found)))
        else:
            keep(candidate)
    return AvoidanceResult(tuple(kept), tuple(excluded), rules.version)


@dataclass(frozen=True, slots=True)
class AvoidedList:
    """`AvoidanceResult` with the candidates left as columns (`CandidateList`)."""

    candidates: CandidateList | CandidateLines
    """The candidates left, in canonical order (lines: as PostgreSQL builds the list)."""
    excluded: tuple[Excluded, ...]
    """Every excluded expert, by ``expert_id``, with all their reasons."""
    rules_version: str

    def exclusion_record(self) -> list[dict[str, object]]:
        return [item.as_json() for item in self.excluded]

    def columns(self) -> CandidateList:
        """The candidates left as columns, whichever form they came in."""
        return self.candidates.columns() if isinstance(self.candidates, CandidateLines) else self.candidates


def apply_avoidance_settled(
    settled: CandidateList, others: Iterable[Candidate], context: DrawContext, rules: DrawRules
) -> AvoidedList:
    """`apply_avoidance` over a pool split in two by its query: ``settled`` (canonical order), the
    experts no filter has anything to look at — status active, employer none of the parties, no
    conflict declared with a party, no unavailable day within the evaluation, no draw for the
    tenderee in the frequency window, no drafting role — and ``others``, every other expert, as
    `Candidate` records the filters judge one by one. The result is `apply_avoidance`'s over both:
    the settled experts pass every filter (each filter finds nothing without its input), so they
    are left as they are and the candidates kept from ``others`` are merged into them by id.
    An expert in both parts is refused like one listed twice.
    """
    judged = apply_avoidance(others, context, rules)
    if not judged.candidates:
        return AvoidedList(settled, judged.excluded, judged.rules_version)
    ids, codes = settled.ids, settled.codes
    merged_ids: list[str] = []
    merged_codes: list[str] = []
    start = 0
    for candidate in judged.candidates:  # few: an expert with a filter's input rarely passes it
        at = bisect.bisect_left(ids, candidate.expert_id, lo=start)
        if at < len(ids) and ids[at] == candidate.expert_id:
            msg = f"expert {candidate.expert_id} is listed twice"
            raise ValueError(msg)
        merged_ids += ids[start:at]
        merged_codes += codes[start:at]
        merged_ids.append(candidate.expert_id)
        merged_codes.append(",".join(candidate.specialties))
        start = at
    merged_ids += ids[start:]
    merged_codes += codes[start:]
    return AvoidedList(CandidateList(merged_ids, merged_codes), judged.excluded, judged.rules_version)
