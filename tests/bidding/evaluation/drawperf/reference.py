"""The committee draw as it was before the draw's performance work (commit 61a88df,
``bidding/evaluation/draw/committee.py`` and ``avoidance.apply_avoidance``), kept verbatim as the
reference the faster code must agree with byte for byte (`test_same_as_before.py`).
"""

from __future__ import annotations

import hashlib
import itertools
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from bidding.evaluation.draw.candidates import Candidate
from bidding.evaluation.draw.committee import (
    CANDIDATES_DOMAIN,
    PURPOSE_PREFIX,
    CommitteeDraw,
    DrawRefused,
    DrawSpec,
    GroupDraw,
    GroupSpec,
    check_spec,
)
from trading.kernel import draws


def candidate_list_digest(candidates: Sequence[Candidate]) -> str:
    """The published digest of the candidate list (``candidates`` in canonical order)."""
    # One line per expert: ``expert_id SP code_1,…,code_m`` (`Candidate` keeps the codes sorted).
    lines = zip(map(_EXPERT_ID, candidates), map(",".join, map(_SPECIALTIES, candidates)), strict=True)
    return _digest_lines(map(" ".join, lines))


def _digest_lines(lines: Iterable[str]) -> str:
    text = "\n".join(itertools.chain((CANDIDATES_DOMAIN,), lines))
    return hashlib.sha256(text.encode()).hexdigest()


def published_candidates(candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
    """The list as published with the result: what the digest covers, nothing else."""
    return [{"expert_id": c.expert_id, "specialties": list(c.specialties)} for c in candidates]


_EXPERT_ID = attrgetter("expert_id")
_SPECIALTIES = attrgetter("specialties")


def _fitting_codes(codes: set[str], group: GroupSpec) -> frozenset[str] | None:
    """The codes present that fit ``group``; None when the group takes every candidate."""
    if not group.specialties:
        return None
    prefixes = tuple(group.specialties)
    return frozenset(code for code in codes if code.startswith(prefixes))


def candidate_list(candidates: Sequence[Candidate], spec: DrawSpec) -> list[Candidate]:
    """The candidate list the draw runs over and the result publishes: of ``candidates`` (the
    avoidance result, canonical order), those fitting at least one group. Defining it so makes the
    committee the same whether the pool's query already kept only the spec's specialties or not.
    """
    return _listed(candidates, spec).candidates


@dataclass(frozen=True, slots=True)
class _Listed:
    """The candidate list with its ids and codes fetched once (each pass then reads plain lists)."""

    candidates: list[Candidate]
    ids: list[str]
    specialties: list[tuple[str, ...]]
    fitting: dict[str, frozenset[str] | None]
    """Per group key, the specialty codes present that fit the group (None: every candidate fits)."""

    def having(self, codes: frozenset[str] | None) -> list[str]:
        """The ids of those with one of ``codes`` (all when None), in order, by built-in maps."""
        if codes is None:
            return list(self.ids)
        return list(itertools.compress(self.ids, map(operator.not_, map(codes.isdisjoint, self.specialties))))

    def lines(self) -> Iterator[str]:
        """The published list's lines: ``expert_id SP code_1,…,code_m``."""
        return map(" ".join, zip(self.ids, map(",".join, self.specialties), strict=True))


def _listed(candidates: Sequence[Candidate], spec: DrawSpec) -> _Listed:
    """`candidate_list`, its ids and codes, and per group key the codes present that fit it."""
    check_spec(spec)
    ids = list(map(_EXPERT_ID, candidates))
    if not all(map(operator.lt, ids, itertools.islice(ids, 1, None))):  # strictly increasing
        raise DrawRefused(
            "the candidate list is in canonical order (expert ids sorted, each once)",
            field="candidates",
            rule="canonical_order",
        )
    specialties = list(map(_SPECIALTIES, candidates))
    codes = set(itertools.chain.from_iterable(specialties))
    fitting = {group.key: _fitting_codes(codes, group) for group in spec.groups}
    if any(found is None for found in fitting.values()):
        return _Listed(list(candidates), ids, specialties, fitting)
    anywhere = frozenset().union(*(found for found in fitting.values() if found is not None))
    keep = list(map(operator.not_, map(anywhere.isdisjoint, specialties)))
    return _Listed(
        list(itertools.compress(candidates, keep)),
        list(itertools.compress(ids, keep)),
        list(itertools.compress(specialties, keep)),
        fitting,
    )


def draw_committee(
    server_seed: str,
    seed_sha256: str,
    candidates: Sequence[Candidate],
    spec: DrawSpec,
    contributions: Mapping[str, str | None] | None = None,
) -> CommitteeDraw:
    """Draw the committee over the `candidate_list` of ``candidates`` (the avoidance result,
    canonical order) and ``spec``.

    ``seed_sha256`` is the commitment published before the draw: a seed that does not match it is
    refused. ``contributions`` are the witnesses' revealed secrets (checked against their
    commitments by the caller, as ``trading.kernel.draws.reveal_matches``), None for one who did not
    reveal.
    """
    if not draws.is_sha256_hex(seed_sha256) or not draws.reveal_matches(server_seed, seed_sha256):
        raise DrawRefused(
            "the seed does not match the commitment published before the draw", field="seed", rule="seed_commitment"
        )
    listed = _listed(candidates, spec)
    list_sha256 = _digest_lines(listed.lines())
    seed = draws.draw_seed(server_seed, list_sha256, dict(contributions or {}))
    taken: set[str] = set()
    groups: list[GroupDraw] = []
    for group in spec.ordered():
        eligible = listed.having(listed.fitting[group.key])
        if taken:  # a handful drawn for earlier groups
            eligible = [expert for expert in eligible if expert not in taken]
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
