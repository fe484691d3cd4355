"""What the draw knows of an expert and of the tender: plain frozen records, no database.

The expert pool's database layer maps its rows onto `Candidate` (one per expert in the pool) and
`DrawContext` (one per draw); avoidance and the draw read nothing else. Identifiers are strings as
published: ``expert_id`` is the pool's expert id (a UUID's text), organisations are USCCs
(统一社会信用代码, 18 characters), tenders are the tender's id or code, dates are civil dates in
Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from operator import attrgetter
from typing import Any

MAX_EVALUATION_DAYS = 31
"""An evaluation spanning more days than this is a wrong argument, not a real evaluation."""


class ExpertStatus(StrEnum):
    """An expert's standing in the pool."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    """Suspended until ``Candidate.suspended_until`` (inclusive), or indefinitely when that is None."""
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class DeclaredConflict:
    """A conflict of interest the expert declared with an organisation.

    GP 实施条例 Art. 9, 12号令 Art. 12: employment, directorship, shareholding, a relative there,
    advisory work, a dispute and the like.
    """

    organisation_uscc: str
    relation: str
    """The relation type as the pool records it (``employment``, ``director``, ``shareholder``,
    ``relative``, ``advisory``, ``dispute``, ``other`` …); recorded as evidence, any type counts."""
    since: date | None = None
    """First day of the relation; None: unknown (treated as always)."""
    until: date | None = None
    """Last day of the relation; None: ongoing."""


@dataclass(frozen=True, slots=True)
class DraftingRole:
    """The expert took part in preparing a tender (its requirement, documents or consultation)."""

    tender_id: str
    role: str
    """What they did (``requirement``, ``documents``, ``consultation`` …), recorded as evidence."""


@dataclass(frozen=True, slots=True)
class PastDraw:
    """An earlier draw of the expert onto a committee, for the frequency rule."""

    tenderee_uscc: str
    drawn_on: date
    tender_id: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One expert of the pool as the draw sees them."""

    expert_id: str
    """Text without whitespace (the pool's UUID)."""
    specialties: tuple[str, ...]
    """Codes of the specialty classification (hierarchical: a child's code extends its parent's),
    without whitespace or commas. Any iterable is accepted and kept sorted (code points) and
    distinct, the form the published candidate list uses."""
    region: str
    """GB/T 2260 region code (六位行政区划代码)."""
    employer_uscc: str | None
    """Current employer's USCC; None when not employed by an organisation with one."""
    status: ExpertStatus = ExpertStatus.ACTIVE
    suspended_until: date | None = None
    """Last day of a suspension (status ``suspended``); None: until lifted."""
    unavailable: frozenset[date] = frozenset()
    """Days the expert declared unavailable."""
    conflicts: tuple[DeclaredConflict, ...] = ()
    drafting_roles: tuple[DraftingRole, ...] = ()
    past_draws: tuple[PastDraw, ...] = ()
    """Earlier draws (any tenderee; the rule counts those of this draw's tenderee)."""

    def __post_init__(self) -> None:
        # Printable text holds no whitespace but the space (every other whitespace character is a
        # control or separator character), so "printable, non-empty, no space" is "no whitespace"
        # without a regular expression per id and code (the draw builds thousands of records).
        if not self.expert_id or not self.expert_id.isprintable() or " " in self.expert_id:
            msg = f"an expert id is text without whitespace, got {self.expert_id!r}"
            raise ValueError(msg)
        codes = tuple(sorted(set(self.specialties)))
        for code in codes:
            if not code or not code.isprintable() or " " in code or "," in code:
                msg = f"expert {self.expert_id}: a specialty code has no whitespace or commas, got {code!r}"
                raise ValueError(msg)
        object.__setattr__(self, "specialties", codes)


@dataclass(frozen=True, slots=True)
class DrawContext:
    """The tender the committee is drawn for, as avoidance needs it.

    Bidders are known only after the bid deadline, so a context (and a draw) exists only after it.
    """

    tender_id: str
    tenderee_uscc: str
    agency_uscc: str | None
    bidder_usccs: frozenset[str]
    evaluation_date: date
    """First day of the evaluation."""
    draw_date: date
    """The day of the draw: the frequency window ends on it."""
    government_procurement: bool
    """GP (政府采购) rules apply: the 3-year conflict look-back, the 2-working-day draw window."""
    evaluation_end: date | None = None
    """Last day of a multi-day evaluation; None: one day."""
    other_parties: frozenset[str] = field(default_factory=frozenset)
    """Further organisations to avoid (e.g. the supervising department), USCCs."""

    def evaluation_days(self) -> list[date]:
        """Every day of the evaluation; 1 to `MAX_EVALUATION_DAYS` of them, else ValueError."""
        last = self.evaluation_end or self.evaluation_date
        if last < self.evaluation_date or (last - self.evaluation_date).days >= MAX_EVALUATION_DAYS:
            msg = f"an evaluation lasts 1 to {MAX_EVALUATION_DAYS} days"
            raise ValueError(msg)
        days: list[date] = []
        day = self.evaluation_date
        while day <= last:
            days.append(day)
            day = date.fromordinal(day.toordinal() + 1)
        return days


@dataclass(frozen=True, slots=True)
class CandidateList:
    """Experts as the published candidate list holds them, column by column: what the draw and the
    list's digest read, without a record per expert (a pool of 100,000 is read this way in one
    pass by the pool's query, `bidding.evaluation.pool.repository.CandidateRepository.avoided`).

    ``ids[i]`` and ``codes[i]`` are one expert: the id as in `Candidate.expert_id`, and their
    specialty codes sorted (code points), distinct and joined with commas (``""``: none), exactly
    as `Candidate.specialties` joined. The order is the caller's; the draw requires canonical
    order (ids strictly increasing) and refuses any other.
    """

    ids: Sequence[str]
    codes: Sequence[str]

    @classmethod
    def of(cls, candidates: Iterable[Candidate]) -> CandidateList:
        """The columns of `Candidate` records (their codes are already sorted and distinct)."""
        listed = candidates if isinstance(candidates, Sequence) else list(candidates)
        return cls(list(map(_EXPERT_ID, listed)), list(map(",".join, map(_SPECIALTIES, listed))))

    def __len__(self) -> int:
        return len(self.ids)

    def lines(self) -> Iterator[str]:
        """One line per expert, ``expert_id SP code_1,…,code_m``: what the digest covers."""
        return map(" ".join, zip(self.ids, self.codes, strict=True))

    def published(self) -> list[dict[str, Any]]:
        """The list as published with the result (``expert_id``, ``specialties``)."""
        return [
            {"expert_id": expert, "specialties": codes.split(",") if codes else []}
            for expert, codes in zip(self.ids, self.codes, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class CandidateLines:
    """Experts as the candidate list's text holds them: one line per expert ``expert_id SP
    code_1,…,code_m`` (the digest's lines, `CandidateList.lines`), the form PostgreSQL builds the
    list in (`bidding.evaluation.pool.repository.CandidateRepository.listed`): one text for the
    whole list, split here once, no record or column entry built per expert by a query.

    ``lines`` are in the caller's order; the draw requires canonical order (checked, as for
    columns). ``text`` is the lines joined with LF when the caller has it already (the database
    returns it so), else joined on demand.
    """

    lines: Sequence[str]
    text: str | None = None
    fits: Mapping[tuple[str, ...], bytes] = field(default_factory=dict)
    """Which lines fit a group, as the database found them: per group's codes (sorted), one byte
    per line, 1 where one of the expert's codes starts with one of the group's (the draw computes
    the others itself)."""
    ids: Sequence[str] | None = None
    """Each line's expert id (its text before the space) when the caller holds them already (the
    pool's line cache keeps them per pool version), so the draw takes its groups' eligible ids
    from them instead of splitting the lines again; checked against the lines by the draw."""

    def joined(self) -> str:
        return "\n".join(self.lines) if self.text is None else self.text

    def __len__(self) -> int:
        return len(self.lines)

    def columns(self) -> CandidateList:
        """The same experts as columns (splitting each line at its one space)."""
        split = [line.partition(" ") for line in self.lines]
        return CandidateList([expert for expert, _, _ in split], [codes for _, _, codes in split])


@dataclass(frozen=True, slots=True)
class CheckedLines(CandidateLines):
    """`CandidateLines` already held to every check the draw runs over lines — the format (one
    space per line, printable, no other whitespace), the canonical order and each line's id — by
    the pool's line cache (`bidding.evaluation.pool.linecache`), which checks every line of a pool
    version once when it caches it (`committee.check_lines`) and makes this type only from such a
    version's lines (a subset keeps the order) and lines of validated `Candidate` records placed in
    order (their neighbours compared). The draw does not re-check these per draw; it still hashes
    them (the digest is of this very list). Any other input — `CandidateLines`, columns, records —
    is checked by the draw as before. ``ids`` are required.
    """

    def __post_init__(self) -> None:
        if self.ids is None:
            msg = "checked lines carry their ids"
            raise ValueError(msg)


_EXPERT_ID = attrgetter("expert_id")
_SPECIALTIES = attrgetter("specialties")
