"""The committee draw's cache of the pool's candidate lines, in this process's memory.

What `CandidateRepository.listed` would otherwise ask PostgreSQL to build at every draw — every
expert fitting the spec, as the candidate list's lines ``expert_id SP codes`` in canonical order,
and per group's codes which lines fit — depends only on each expert's id and joined codes
(`Expert.specialty_codes`). Those are cached here per database and **pool version token**
(`pool.models.PoolVersion`, moved by triggers in the writing transaction whenever an id or the
codes can change), read in the same statement as the draw's judged experts, so the lines and the
judged experts come from one snapshot. A draw then only subtracts its judged experts from the
cached lines. An entry is never consulted for another token: a change makes a new token, and a
token is never reused (random, drawn at each change; a rolled-back change's token is never seen
by anyone else again).

The entries are bounded (a few pool versions, a few specs per version) and hold plain strings and
bytes; nothing here touches the database.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from bidding.evaluation.draw.candidates import Candidate, CandidateLines, CheckedLines
from bidding.evaluation.draw.committee import DrawRefused, check_lines

POOLS = 2
"""Pool versions kept (the current one and one more: another database in the same process, or a
draw still running over the previous version). An entry of 100,000 experts holds their lines and
ids, about 20 MB."""
SPECS = 16
"""Spec keys (the patterns and the groups' codes) kept per pool version; each holds references to
the entry's strings and one byte per line and group, about 1.5 MB for 100,000 experts."""

SpecKey = tuple[tuple[str, ...] | None, tuple[tuple[str, ...], ...]]
"""The spec's prefixes (None: every expert) and the groups' codes with a fit mask."""


class StaleLines(LookupError):
    """A judged expert is not among the cached lines of the same version: the cache does not
    hold what the database holds (a write that bypassed the version's triggers).
    """


@dataclass(frozen=True, slots=True)
class Fitting:
    """Of one pool version, the experts fitting one spec: ids, lines (canonical order), and per
    group's codes one 0/1 byte per line (as `CandidateLines.fits`).
    """

    ids: list[str]
    lines: list[str]
    fits: dict[tuple[str, ...], bytes]
    checked: bool = False
    """The pool version's lines passed the draw's checks when cached (`PoolLines.checked`)."""

    def without(self, experts: Iterable[str]) -> tuple[list[str], list[str], dict[tuple[str, ...], bytes]]:
        """The ids, lines and fits less ``experts`` (each must be among them): new lists sharing
        the entry's strings, no step per kept line in Python (measured fastest: the lists by one
        keep-mask pass, the fits' bytes by joining the slices between the dropped positions).
        """
        drop = set()
        for expert in experts:
            at = bisect.bisect_left(self.ids, expert)
            if at == len(self.ids) or self.ids[at] != expert:
                msg = f"expert {expert} judged but not among the cached lines of the same pool version"
                raise StaleLines(msg)
            drop.add(at)
        if not drop:
            return list(self.ids), list(self.lines), dict(self.fits)
        keep = bytearray(b"\x01") * len(self.ids)
        for at in drop:
            keep[at] = 0
        ordered = sorted(drop)
        starts = [0, *(at + 1 for at in ordered)]
        ends = [*ordered, len(self.ids)]
        fits = {key: b"".join(map(mask.__getitem__, map(slice, starts, ends))) for key, mask in self.fits.items()}
        return list(itertools.compress(self.ids, keep)), list(itertools.compress(self.lines, keep)), fits

    def listing(self, judged: Iterable[str], kept: Sequence[Candidate]) -> CandidateLines:
        """What the draw runs over: these lines less the ``judged`` experts (`without`), with the
        lines of ``kept`` — the judged experts avoidance kept, validated `Candidate` records —
        merged in by id. `CheckedLines` (the draw skips its per-draw format, order and id checks)
        when this version's lines were checked and every merged line sits strictly between its
        neighbours (lines and ids: a repeated id or a line out of order is left to the draw's
        checks, which refuse it as before); else plain `CandidateLines`, checked by the draw.
        """
        ids, lines, fits = self.without(judged)
        checked = self.checked
        if kept:  # few: an expert with a filter's input rarely passes it
            merged = {key: bytearray(mask) for key, mask in fits.items()}
            for candidate in kept:
                expert = candidate.expert_id
                line = f"{expert} {','.join(candidate.specialties)}"
                at = bisect.bisect_left(lines, line)
                if (at < len(lines) and not (line < lines[at] and expert < ids[at])) or (
                    at > 0 and not ids[at - 1] < expert
                ):
                    checked = False
                lines.insert(at, line)
                ids.insert(at, expert)
                for key, mask in merged.items():
                    mask.insert(at, any(code.startswith(key) for code in candidate.specialties))
            fits = {key: bytes(mask) for key, mask in merged.items()}
        return (CheckedLines if checked else CandidateLines)(lines, None, fits, ids)


@dataclass(slots=True)
class PoolLines:
    """Every expert's line of one pool version, canonical order, and the specs derived from it."""

    lines: list[str]
    ids: list[str] = field(default_factory=list)
    fitting: OrderedDict[SpecKey, Fitting] = field(default_factory=OrderedDict)
    checked: bool = False
    """Every line and id passed the draw's checks (`committee.check_lines`: format, canonical
    order, ids), once for the version; a draw over a subset then need not re-check them. A pool
    with a line the draw refuses is cached unchecked: each draw checks its list as before and
    refuses it only if that line is on it."""

    def __post_init__(self) -> None:
        self.ids = _ids(self.lines)  # once per version; the specs share these strings
        try:
            check_lines(self.lines, self.ids)
        except DrawRefused:
            self.checked = False
        else:
            self.checked = True

    def for_spec(self, key: SpecKey) -> Fitting:
        found = self.fitting.get(key)
        if found is not None:
            self.fitting.move_to_end(key)
            return found
        prefixes, fitted = key
        lines, ids = self.lines, self.ids
        if prefixes is not None:
            keep = _fit_mask(lines, prefixes)
            lines, ids = list(itertools.compress(lines, keep)), list(itertools.compress(ids, keep))
        found = Fitting(ids, lines, {codes: _fit_mask(lines, codes) for codes in fitted}, self.checked)
        self.fitting[key] = found
        while len(self.fitting) > SPECS:
            self.fitting.popitem(last=False)
        return found


class LineCache:
    """Pool lines by (database, version token), the most recently used kept."""

    def __init__(self, pools: int = POOLS) -> None:
        self.pools = pools
        self.entries: OrderedDict[tuple[str, str], PoolLines] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, database: str, token: str) -> PoolLines | None:
        found = self.entries.get((database, token))
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self.entries.move_to_end((database, token))
        return found

    def put(self, database: str, token: str, lines: list[str]) -> PoolLines:
        entry = PoolLines(lines)
        self.entries[(database, token)] = entry
        self.entries.move_to_end((database, token))
        while len(self.entries) > self.pools:
            self.entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        self.entries.clear()


CACHE = LineCache()
"""The process's cache (`CandidateRepository.listed`)."""


def _fit_mask(lines: Sequence[str], prefixes: Sequence[str]) -> bytes:
    """One byte per line (1: one of the line's codes starts with one of ``prefixes``): the first
    code where the line holds ``SP prefix``, a later one where it holds ``,prefix`` — exactly the
    database's ``starts_with(codes, p) OR strpos(codes, ',' || p) > 0`` and ``LIKE 'p%' OR LIKE
    '%,p%'``, since an id (uuid text) holds neither space nor comma. No prefix: nothing fits.
    """
    markers = [marker for prefix in sorted(prefixes) for marker in (" " + prefix, "," + prefix)]
    if not markers:
        return bytes(len(lines))
    found: Iterator[bool] = map(operator.contains, lines, itertools.repeat(markers[0]))
    for marker in markers[1:]:
        found = map(operator.or_, found, map(operator.contains, lines, itertools.repeat(marker)))
    return bytes(found)


def _ids(lines: Sequence[str]) -> list[str]:
    """The ids of lines (the text before the first space)."""
    return [line.partition(" ")[0] for line in lines]
