"""The committee draw (专家抽取): members and ordered reserves per specialty group, by the seeded
draw of ``trading.kernel.draws`` over the canonical candidate list; replacement of decliners.

The scheme, restated for outside verifiers in ``scripts/committee_scheme.md`` and by
``scripts/recompute_committee.py`` (standard library only):

1. Before the draw the platform publishes ``seed_sha256 = SHA-256(server_seed)``
   (``draws.commitment``) and the spec (groups, counts, reserves). Witnesses present at the draw
   (the supervisor, the tenderee's representative) may commit contributions the same way.
2. The candidate list is the pool after avoidance, restricted to the experts fitting at least
   one group (step 4), in canonical order (``expert_id`` sorted as strings), one line per expert
   ``expert_id SP code_1,code_2,…`` (its specialty codes sorted)::

       candidate_list_sha256 = SHA-256("ggzy-committee-candidates-v1" LF line_1 LF … line_n)

3. After the reveal, ``draw_seed = draws.draw_seed(server_seed, candidate_list_sha256, revealed)``.
4. Groups are drawn in the order of their keys (code points). A group's eligible experts are the
   candidates with a specialty code that starts with one of the group's codes (hierarchical codes:
   a child's code extends its parent's; a group without codes takes every candidate), less those
   already drawn for an earlier group, in
   canonical order. ``draws.draw_many(draw_seed, "committee:" + key, eligible, k)`` with
   ``k = count + min(reserves, eligible − count)`` gives the members (the first ``count``) and the
   ordered reserves (the rest). Fewer eligible experts than ``count`` is a shortfall: no draw.
5. A member who declines (or lets the time limit pass) is replaced by the first reserve of their
   group not yet called; a reserve called and declining is replaced the same way (`seat`).

The result is a function of (``server_seed``, the candidate list, the spec, the contributions)
only: the same inputs give the same committee, a different list a different one.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bidding.evaluation.draw.avoidance import Excluded
from bidding.evaluation.draw.candidates import Candidate, CandidateLines, CandidateList, CheckedLines
from bidding.evaluation.methods.settings import CommitteeSpec
from trading.kernel import draws
from trading.kernel.errors import ValidationFailed

CANDIDATES_DOMAIN: Final = "ggzy-committee-candidates-v1"
SCHEME: Final = "ggzy-committee-v1"
PURPOSE_PREFIX: Final = "committee:"
MAX_GROUPS: Final = 20
MAX_GROUP_SIZE: Final = 99


class DrawRefused(ValidationFailed):
    """The draw cannot run (bad spec, shortfall, wrong seed, no reserve left): field and rule named."""


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """One specialty group of the committee: who may fill it, how many, how many reserves."""

    key: str
    """The group's name in the spec (no spaces or line breaks); groups are drawn by key order."""
    specialties: frozenset[str]
    """Classification codes; an expert fits when one of their codes starts with one of these.
    None given (a committee not split by specialty): every candidate fits."""
    count: int
    reserves: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "specialties": sorted(self.specialties),
            "count": self.count,
            "reserves": self.reserves,
        }


@dataclass(frozen=True, slots=True)
class DrawSpec:
    """What the draw needs of the committee spec (the methods' validator judges the whole spec:
    size, the GP ≥ 7 conditions, experts ≥ 2/3).
    """

    groups: tuple[GroupSpec, ...]

    def ordered(self) -> list[GroupSpec]:
        return sorted(self.groups, key=lambda group: group.key)

    def as_json(self) -> dict[str, Any]:
        return {"groups": [group.as_json() for group in self.ordered()]}


def check_spec(spec: DrawSpec) -> None:
    """Refuse a spec the draw cannot run, naming the field and rule."""
    if not spec.groups or len(spec.groups) > MAX_GROUPS:
        raise DrawRefused(f"a draw has 1 to {MAX_GROUPS} groups", field="groups", rule="group_count")
    keys = [group.key for group in spec.groups]
    for index, group in enumerate(spec.groups):
        where = f"groups[{index}]"
        if not group.key or any(ch.isspace() or ch in ",:" for ch in group.key) or not group.key.isprintable():
            raise DrawRefused("a group key without spaces, commas or colons", field=f"{where}.key", rule="group_key")
        if keys.count(group.key) > 1:
            raise DrawRefused(f"group {group.key} is named twice", field=f"{where}.key", rule="group_key_unique")
        if any(_bad_code(code) for code in group.specialties):
            raise DrawRefused(
                "specialty codes have no spaces or commas", field=f"{where}.specialties", rule="specialties"
            )
        if not 1 <= group.count <= MAX_GROUP_SIZE:
            raise DrawRefused(f"1 to {MAX_GROUP_SIZE} members", field=f"{where}.count", rule="group_size")
        if not 0 <= group.reserves <= MAX_GROUP_SIZE:
            raise DrawRefused(f"0 to {MAX_GROUP_SIZE} reserves", field=f"{where}.reserves", rule="reserves")


_CODE = re.compile(r"[^\s,]+")


def _bad_code(code: str) -> bool:
    return not code.isprintable() or _CODE.fullmatch(code) is None


Listing = Sequence[Candidate] | CandidateList | CandidateLines
"""The draw's input: `Candidate` records, the same experts column by column (`CandidateList`), or
as the list's lines (`CandidateLines`, as PostgreSQL builds the list); always in canonical order."""


def _columns(candidates: Listing) -> CandidateList:
    if isinstance(candidates, CandidateLines):
        return candidates.columns()
    return candidates if isinstance(candidates, CandidateList) else CandidateList.of(candidates)


def candidate_list_digest(candidates: Listing) -> str:
    """The published digest of the candidate list (``candidates`` in canonical order)."""
    if isinstance(candidates, CandidateLines):
        return _lines_digest(candidates)
    return _digest(_columns(candidates))[0]


def _digest(listing: CandidateList) -> tuple[str, str]:
    """The digest and the text it covers: ``DOMAIN LF line_1 LF … line_n``, one line per expert
    ``expert_id SP code_1,…,code_m``. The text is checked in one pass for what `Candidate` refuses
    one by one (whitespace in an id or a code), since column input skips those records.
    """
    n = len(listing)
    parts: list[str] = [CANDIDATES_DOMAIN, *itertools.repeat("", 2 * n)]
    parts[1::2] = listing.ids
    parts[2::2] = listing.codes
    text = ("%s" + "\n%s %s" * n) % tuple(parts)  # one C-level format, no string per line
    _check_text(text, n)
    return hashlib.sha256(text.encode()).hexdigest(), text


def _check_text(text: str, n: int) -> None:
    """The list's text has ``n`` lines after the domain, each with exactly one space (between the
    id and the codes), and nothing unprintable: what `Candidate` refuses one by one.
    """
    if text.count("\n") != n or text.count(" ") != n or not text.replace("\n", "").isprintable():
        raise DrawRefused(
            "expert ids and specialty codes are printable text without whitespace",
            field="candidates",
            rule="candidate_format",
        )


_ALLOWED_ASCII = bytes(range(0x20, 0x7F)) + b"\n"


def _lines_digest(listing: CandidateLines) -> str:
    """`_digest` of lines: the same text from the lines as given (no format per expert), checked
    as `_check_text` does — on the encoded bytes when the text is ASCII (the pool's ids and codes
    are), a few byte passes instead of character ones.
    """
    n = len(listing)
    if not n:
        return hashlib.sha256(CANDIDATES_DOMAIN.encode()).hexdigest()
    lines = listing.joined()
    if isinstance(listing, CheckedLines):  # checked when cached (`check_lines`): the digest only
        digest = hashlib.sha256(f"{CANDIDATES_DOMAIN}\n".encode())
        digest.update(lines.encode())
        return digest.hexdigest()
    if not lines.isascii():
        text = f"{CANDIDATES_DOMAIN}\n{lines}"
        _check_text(text, n)
        return hashlib.sha256(text.encode()).hexdigest()
    data = lines.encode()  # the domain line is ASCII without spaces: checked are the lines' bytes
    if data.count(b"\n") != n - 1 or data.count(b" ") != n or data.translate(None, _ALLOWED_ASCII):
        raise DrawRefused(
            "expert ids and specialty codes are printable text without whitespace",
            field="candidates",
            rule="candidate_format",
        )
    digest = hashlib.sha256(f"{CANDIDATES_DOMAIN}\n".encode())
    digest.update(data)
    return digest.hexdigest()


def published_candidates(candidates: Listing) -> list[dict[str, Any]]:
    """The list as published with the result: what the digest covers, nothing else."""
    if isinstance(candidates, CandidateLines):
        return candidates.columns().published()
    if isinstance(candidates, CandidateList):
        return candidates.published()
    return [{"expert_id": c.expert_id, "specialties": list(c.specialties)} for c in candidates]


@dataclass(frozen=True, slots=True)
class GroupDraw:
    key: str
    members: tuple[str, ...]
    reserves: tuple[str, ...]
    """In the order they are called."""
    eligible: int

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "members": list(self.members),
            "reserves": list(self.reserves),
            "eligible": self.eligible,
        }


@dataclass(frozen=True, slots=True)
class CommitteeDraw:
    seed_sha256: str
    candidate_list_sha256: str
    draw_seed: str
    groups: tuple[GroupDraw, ...]

    def group(self, key: str) -> GroupDraw:
        for group in self.groups:
            if group.key == key:
                return group
        raise KeyError(key)

    def members(self) -> list[str]:
        return [expert for group in self.groups for expert in group.members]


def _fits(codes: Sequence[str], prefixes: Iterable[str]) -> Iterator[bool]:
    """Per joined codes (``code_1,…,code_m``), whether a code starts with one of ``prefixes``: the
    first code by ``startswith``, any later one by ``,prefix`` inside the text (codes hold no
    commas). Built-in maps only, no Python call per expert.
    """
    ordered = tuple(sorted(prefixes))
    found: Iterator[bool] = map(str.startswith, codes, itertools.repeat(ordered))
    for prefix in ordered:
        found = map(operator.or_, found, map(operator.contains, codes, itertools.repeat("," + prefix)))
    return found


def _fits_lines(lines: Sequence[str], prefixes: Iterable[str]) -> bytes:
    """`_fits` over the list's lines (``expert_id SP code_1,…,code_m``, one space each, checked),
    one byte per line (1: fits): the first code starts with a prefix where the line holds
    ``SP prefix``, a later one where it holds ``,prefix``. Exact as long as ids hold no commas (the
    pool's ids are uuid text).
    """
    found: Iterator[bool] = iter(())
    for index, marker in enumerate(marker for prefix in sorted(prefixes) for marker in (" " + prefix, "," + prefix)):
        hits = map(operator.contains, lines, itertools.repeat(marker))
        found = hits if index == 0 else map(operator.or_, found, hits)
    return bytes(found)


LineFits = dict[str, bytes | None]


def _grouped_lines(listing: CandidateLines, spec: DrawSpec) -> tuple[str, CandidateLines, LineFits]:
    """The digest of the candidate list, the list, and per group key which of its experts fit it
    (one byte per line, None: all do), from lines (the candidates, canonical order): checked as
    columns are (format, then order, since the order and the fits rely on one space per line),
    restricted to the experts fitting a group. A group's fit is the database's (`CandidateLines.
    fits`, for the group's codes) when given, else computed here.
    """
    check_spec(spec)
    digest = _lines_digest(listing)  # the format checked first (the order check relies on it)
    lines = listing.lines
    checked = isinstance(listing, CheckedLines)
    if not checked:
        _check_order_and_ids(lines, listing.ids)
    fits: LineFits = {}
    for group in spec.groups:
        if not group.specialties:
            fits[group.key] = None
            continue
        given = listing.fits.get(tuple(sorted(group.specialties)))
        if given is not None and len(given) != len(lines):
            raise DrawRefused("one fit per line", field="candidates", rule="candidate_format")
        fits[group.key] = given if given is not None else _fits_lines(lines, group.specialties)
    masks = [mask for mask in fits.values() if mask is not None]
    if len(masks) < len(fits):
        return digest, listing, fits
    keep = masks[0]
    if len(masks) > 1:  # the union of 0/1 bytes: one big-integer OR, not a step per expert
        union = functools.reduce(operator.or_, (int.from_bytes(mask, "big") for mask in masks))
        keep = union.to_bytes(len(lines), "big")
    if 0 not in keep:
        return digest, listing, fits
    ids = None if listing.ids is None else list(itertools.compress(listing.ids, keep))
    kept = list(itertools.compress(lines, keep))
    listed = CheckedLines(kept, ids=ids) if checked else CandidateLines(kept, ids=ids)  # a subset: in order
    restricted: LineFits = {
        key: bytes(itertools.compress(mask, keep)) for key, mask in fits.items() if mask is not None
    }
    return _lines_digest(listed), listed, restricted


def check_lines(lines: Sequence[str], ids: Sequence[str] | None = None) -> None:
    """Refuse lines the draw refuses (`DrawRefused`, rules ``candidate_format`` and
    ``canonical_order``): the format (`_lines_digest`), then the order and, when given, each
    line's id. What the pool's line cache runs once over a pool version before it hands out
    `CheckedLines`; the draw runs the same over any other `CandidateLines`.
    """
    _lines_digest(CandidateLines(lines))
    _check_order_and_ids(lines, ids)


def _check_order_and_ids(lines: Sequence[str], ids: Sequence[str] | None) -> None:
    """Lines in canonical order, and ``ids`` (if any) each line's id; the format checked before."""
    # One space per line and none in an id, and a space sorts before every printable non-space
    # character: the lines are strictly increasing exactly when the ids are.
    if not all(map(operator.lt, lines, itertools.islice(lines, 1, None))):
        raise DrawRefused(
            "the candidate list is in canonical order (expert ids sorted, each once)",
            field="candidates",
            rule="canonical_order",
        )
    if ids is not None:
        _check_ids(ids, lines)
        # Lines in order do not make their ids so when one id is on two lines with different codes
        # ("e1 A" < "e1 B"); with the ids at hand that is one more C pass.
        if not all(map(operator.lt, ids, itertools.islice(ids, 1, None))):
            raise DrawRefused(
                "the candidate list is in canonical order (expert ids sorted, each once)",
                field="candidates",
                rule="canonical_order",
            )


def _remove_sorted(ids: list[str], drop: set[str]) -> None:
    """Remove ``drop`` from ``ids`` (sorted, as every eligible list is), in place: a search per
    dropped id, not a membership test per listed one.
    """
    for expert in drop:
        at = bisect.bisect_left(ids, expert)
        if at < len(ids) and ids[at] == expert:
            del ids[at]


def _check_ids(ids: Sequence[str], lines: Sequence[str]) -> None:
    """Refuse ids that are not exactly each line's text before its space (`CandidateLines.ids`):
    as many, each line starting with its id, and the id as long as the text before the line's
    first space. Three passes in C, no string built per line.
    """
    if (
        len(ids) != len(lines)
        or not all(map(str.startswith, lines, ids))
        or list(map(len, ids)) != list(map(str.find, lines, itertools.repeat(" ")))
    ):
        raise DrawRefused(
            "one id per line, the line's text before its space", field="candidates", rule="candidate_format"
        )


def _ids(lines: Iterable[str]) -> list[str]:
    """The ids of lines (the text before the one space): the lines joined with spaces and split
    again alternate id, codes, id, codes … (one space per line, checked), so two C-level passes
    replace a split per line.
    """
    joined = " ".join(lines)
    return joined.split(" ")[::2] if joined else []


def _listed(listing: CandidateList, spec: DrawSpec) -> CandidateList:
    """The candidate list: of ``listing`` (canonical order, checked), the experts fitting a group."""
    return _grouped(listing, spec)[0]


def _grouped(listing: CandidateList, spec: DrawSpec) -> tuple[CandidateList, dict[str, list[bool] | None]]:
    """`_listed`, and per group key which of the listed experts fit it (None: all do), each
    group's fit computed once over the whole listing and reused for the list itself.
    """
    check_spec(spec)
    ids = listing.ids
    if len(listing.codes) != len(ids):
        raise DrawRefused("one codes entry per expert", field="candidates", rule="candidate_format")
    if not all(map(operator.lt, ids, itertools.islice(ids, 1, None))):  # strictly increasing
        raise DrawRefused(
            "the candidate list is in canonical order (expert ids sorted, each once)",
            field="candidates",
            rule="canonical_order",
        )
    fits: dict[str, list[bool] | None] = {
        group.key: list(_fits(listing.codes, group.specialties)) if group.specialties else None for group in spec.groups
    }
    masks = [mask for mask in fits.values() if mask is not None]
    if len(masks) < len(fits):  # a group takes every candidate
        return listing, fits
    keep = functools.reduce(lambda left, right: list(map(operator.or_, left, right)), masks)
    if all(keep):
        return listing, fits
    listed = CandidateList(list(itertools.compress(ids, keep)), list(itertools.compress(listing.codes, keep)))
    return listed, {key: list(itertools.compress(mask, keep)) for key, mask in fits.items() if mask is not None}


def candidate_list(candidates: Sequence[Candidate], spec: DrawSpec) -> list[Candidate]:
    """The candidate list the draw runs over and the result publishes: of ``candidates`` (the
    avoidance result, canonical order), those fitting at least one group. Defining it so makes the
    committee the same whether the pool's query already kept only the spec's specialties or not;
    `candidate_columns` gives the same for column input.
    """
    listing = CandidateList.of(candidates)
    listed = _listed(listing, spec)
    if listed is listing:
        return list(candidates)
    keep = set(listed.ids)
    return [candidate for candidate in candidates if candidate.expert_id in keep]


def candidate_columns(candidates: Listing, spec: DrawSpec) -> CandidateList:
    """`candidate_list` of any input, as columns."""
    if isinstance(candidates, CandidateLines):
        return _grouped_lines(candidates, spec)[1].columns()
    return _listed(_columns(candidates), spec)


def draw_committee(
    server_seed: str,
    seed_sha256: str,
    candidates: Listing,
    spec: DrawSpec,
    contributions: Mapping[str, str | None] | None = None,
) -> CommitteeDraw:
    """Draw the committee over the `candidate_list` of ``candidates`` (the avoidance result,
    canonical order; `Candidate` records, a `CandidateList` or `CandidateLines`) and ``spec``.

    ``seed_sha256`` is the commitment published before the draw: a seed that does not match it is
    refused. ``contributions`` are the witnesses' revealed secrets (checked against their
    commitments by the caller, as ``trading.kernel.draws.reveal_matches``), None for one who did not
    reveal.
    """
    if not draws.is_sha256_hex(seed_sha256) or not draws.reveal_matches(server_seed, seed_sha256):
        raise DrawRefused(
            "the seed does not match the commitment published before the draw", field="seed", rule="seed_commitment"
        )
    eligible_of: Callable[[GroupSpec], list[str]]
    if isinstance(candidates, CandidateLines):
        list_sha256, lines, line_fits = _grouped_lines(candidates, spec)
        given_ids = lines.ids  # checked against the lines by `_grouped_lines`
        all_ids = functools.cache(lambda: _ids(lines.lines) if given_ids is None else list(given_ids))

        def eligible_of(group: GroupSpec) -> list[str]:
            fit = line_fits[group.key]
            if fit is None:
                return list(all_ids())  # a copy: the draw removes earlier groups' members from it
            if given_ids is not None:  # the ids the caller holds: no string built per expert
                return list(itertools.compress(given_ids, fit))
            return _ids(itertools.compress(lines.lines, fit))

    else:
        listed, fits = _grouped(_columns(candidates), spec)
        list_sha256, _ = _digest(listed)

        def eligible_of(group: GroupSpec) -> list[str]:
            fit = fits[group.key]
            return list(listed.ids) if fit is None else list(itertools.compress(listed.ids, fit))

    seed = draws.draw_seed(server_seed, list_sha256, dict(contributions or {}))
    taken: set[str] = set()
    groups: list[GroupDraw] = []
    for group in spec.ordered():
        eligible = eligible_of(group)
        _remove_sorted(eligible, taken)  # a handful drawn for earlier groups
        if len(eligible) < group.count:
            raise DrawRefused(
                f"group {group.key} needs {group.count} experts, {len(eligible)} are eligible after avoidance",
                field=f"groups.{group.key}.count",
                rule="shortfall",
                extra={"group": group.key, "needed": group.count, "eligible": len(eligible)},
            )
        reserves = min(group.reserves, len(eligible) - group.count)
        drawn = draws.draw_many(seed, PURPOSE_PREFIX + group.key, eligible, group.count + reserves)
        taken.update(drawn)
        groups.append(GroupDraw(group.key, tuple(drawn[: group.count]), tuple(drawn[group.count :]), len(eligible)))
    return CommitteeDraw(seed_sha256, list_sha256, seed, tuple(groups))


@dataclass(frozen=True, slots=True)
class Replacement:
    group: str
    declined: str
    replacement: str


@dataclass(frozen=True, slots=True)
class Seating:
    """The committee after the declines so far: members per group (a replacement takes the seat of
    the one it replaces) and the replacements in order.
    """

    members: Mapping[str, tuple[str, ...]]
    replacements: tuple[Replacement, ...]
    remaining_reserves: Mapping[str, tuple[str, ...]]

    def committee(self) -> list[str]:
        return [expert for key in sorted(self.members) for expert in self.members[key]]


def seat(draw: CommitteeDraw, declined: Sequence[str]) -> Seating:
    """Apply ``declined`` (expert ids, in the order the declines or time-outs happened): each seated
    member who declines is replaced by the next reserve of their group; a reserve who declines
    before being called is skipped. Deterministic: the same declines give the same committee.
    """
    seats = {group.key: list(group.members) for group in draw.groups}
    queues = {group.key: list(group.reserves) for group in draw.groups}
    done: set[str] = set()
    replacements: list[Replacement] = []
    for expert in declined:
        if expert in done:
            raise DrawRefused(f"expert {expert} has already declined", field="declined", rule="declined_twice")
        done.add(expert)
        key = next((k for k, members in seats.items() if expert in members), None)
        if key is None:
            key = next((k for k, queue in queues.items() if expert in queue), None)
            if key is None:
                raise DrawRefused(f"expert {expert} was not drawn", field="declined", rule="not_drawn")
            queues[key].remove(expert)
            continue
        if not queues[key]:
            raise DrawRefused(
                f"group {key} has no reserve left to replace {expert}",
                field="declined",
                rule="reserves_exhausted",
                extra={"group": key},
            )
        replacement = queues[key].pop(0)
        members = seats[key]
        members[members.index(expert)] = replacement
        replacements.append(Replacement(key, expert, replacement))
    return Seating(
        {key: tuple(members) for key, members in seats.items()},
        tuple(replacements),
        {key: tuple(queue) for key, queue in queues.items()},
    )


def next_reserve(draw: CommitteeDraw, declined: Sequence[str], expert: str) -> str:
    """Who replaces ``expert`` when they decline after ``declined``: the sweep's one step."""
    before = seat(draw, declined)
    after = seat(draw, [*declined, expert])
    added = after.replacements[len(before.replacements) :]
    if not added:
        raise DrawRefused(f"expert {expert} holds no seat", field="declined", rule="not_seated")
    return added[0].replacement


def published_result(
    *,
    server_seed: str,
    draw: CommitteeDraw,
    candidates: Listing,
    spec: DrawSpec,
    contributions: Mapping[str, str | None] | None = None,
    excluded: Sequence[Excluded] = (),
    declined: Sequence[str] = (),
    rules_version: str = "",
) -> dict[str, Any]:
    """The result as published after the reveal: everything ``recompute_committee.py`` reads.

    The excluded experts appear with their reason codes only: the evidence (employers, relations,
    dates) is personal data, kept in the draw's record for the supervisor and the expert concerned.
    """
    seating = seat(draw, declined)
    return {
        "scheme": SCHEME,
        "rules_version": rules_version,
        "seed": server_seed,
        "seed_sha256": draw.seed_sha256,
        "spec": spec.as_json(),
        "candidate_list": published_candidates(candidate_columns(candidates, spec)),
        "candidate_list_sha256": draw.candidate_list_sha256,
        "contributions": dict(sorted((contributions or {}).items())),
        "draw_seed": draw.draw_seed,
        "groups": [group.as_json() for group in draw.groups],
        "excluded": [
            {"expert_id": item.expert_id, "reasons": [reason.code.value for reason in item.reasons]}
            for item in excluded
        ],
        "declined": list(declined),
        "committee": seating.committee(),
    }


ANY_SPECIALTY_GROUP: Final = "experts"
"""The one group of a committee not split by specialty."""


def draw_spec(committee: CommitteeSpec) -> DrawSpec:
    """The draw's groups for a committee spec the methods' validator accepted
    (``bidding.evaluation.methods.settings.check_committee``): one group per specialty code with its
    count (the code is the group's key), or one group ``experts`` taking every candidate when the
    spec is not split by specialty. ``reserves`` applies to every group, so a decliner is always
    replaced from their own specialty. The tenderee's representatives are appointed, not drawn.
    """
    groups: tuple[GroupSpec, ...]
    if not committee.specialties:
        groups = (GroupSpec(ANY_SPECIALTY_GROUP, frozenset(), committee.experts, committee.reserves),)
    else:
        groups = tuple(
            GroupSpec(code, frozenset({code}), count, committee.reserves)
            for code, count in sorted(committee.specialties.items())
        )
    spec = DrawSpec(groups)
    check_spec(spec)
    return spec
