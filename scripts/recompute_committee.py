#!/usr/bin/env python3
"""Check a published evaluation-committee draw (专家抽取) against what was published BEFORE it.

Standard library only, independent of the platform's code: it restates ``committee_scheme.md``
beside it, not ``bidding.evaluation.draw`` or ``trading.kernel.draws``.

Keep what the platform publishes before the draw (the seed commitment and the committee spec with
the draw's schedule, the candidate list's digest when the list is frozen, any witness commitments)
in one file, then check the published result against it::

    python scripts/recompute_committee.py result.json --before before.json
    python scripts/recompute_committee.py result.json --commitment HEX --candidate-list-sha256 HEX --spec spec.json

``before.json`` holds ``seed_sha256``, ``spec``, ``candidate_list_sha256`` (or the whole
``candidate_list``) and, when witnesses contributed, ``contribution_commitments``; the arguments
override it. A result checked only against itself proves nothing, so a missing commitment, spec or
list digest is refused (exit 2), never taken from the result.

A supplementary draw (补抽, filling places left open when a group's reserves ran out) is checked
the same way; add ``--first first.json`` (the first draw's published document) to check that no
expert drawn before is on its list::

    python scripts/recompute_committee.py supplement.json --before supplement.json --first first.json

Checked: the revealed seed against the commitment; the spec; the candidate list (canonical order,
no expert twice, each fitting a group, no excluded expert in it) and its digest against the one the result claims and
the one published before; each witness's revealed contribution; the draw seed; every group's
members and ordered reserves; the seated committee after the recorded declines and the seats left
open (``vacated``: only when the group had no reserve left); for a supplementary draw, that none of
``already_drawn`` is on the list. Exit status
0 when everything holds (one JSON line on stdout), 1 on any mismatch (one ``MISMATCH:`` line
each), 2 when the data needed is missing or malformed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

CANDIDATES_DOMAIN = "ggzy-committee-candidates-v1"
DRAW_SEED_DOMAIN = "ggzy-draw-v1"
DRAW_LIST_DOMAIN = "ggzy-draw-list-v1"
PURPOSE_PREFIX = "committee:"


class Unverifiable(Exception):
    """The published data needed for a check is missing or malformed."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def draw_without_replacement(draw_seed: str, purpose: str, ordered: list[str], count: int) -> list[str]:
    """committee_scheme.md, step 5: the i-th pick is the index_i-th of those not drawn yet."""
    list_sha256 = sha256_hex("\n".join([DRAW_LIST_DOMAIN, *ordered]))
    remaining = list(ordered)
    drawn = []
    for i in range(count):
        digest = hashlib.sha256("\n".join([draw_seed, purpose, list_sha256, str(i)]).encode()).digest()
        drawn.append(remaining.pop(int.from_bytes(digest, "big") % len(remaining)))
    return drawn


def fits(codes: list[str], group_codes: list[str]) -> bool:
    """committee_scheme.md, step 4: a code starting with one of the group's; no group codes: any."""
    return not group_codes or any(code.startswith(prefix) for code in codes for prefix in group_codes)


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        msg = f"{what} is missing or not text"
        raise Unverifiable(msg)
    return value


def _spec_groups(spec: Any) -> list[dict[str, Any]]:
    """The spec's groups, normalised: key, sorted distinct codes, count, reserves; by key."""
    if not isinstance(spec, dict) or not isinstance(spec.get("groups"), list) or not spec["groups"]:
        msg = "the spec has no groups"
        raise Unverifiable(msg)
    groups = []
    for index, group in enumerate(spec["groups"]):
        try:
            key, codes = str(group["key"]), sorted({str(code) for code in group["specialties"]})
            count, reserves = group["count"], group.get("reserves", 0)
        except (KeyError, TypeError) as exc:
            msg = f"spec group {index} is malformed ({exc})"
            raise Unverifiable(msg) from exc
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (count, reserves)):
            msg = f"spec group {key}: count and reserves are whole numbers"
            raise Unverifiable(msg)
        groups.append({"key": key, "specialties": codes, "count": count, "reserves": reserves})
    return sorted(groups, key=lambda group: group["key"])


def _candidates(raw: Any, problems: list[str]) -> list[tuple[str, list[str]]]:
    """The published list as (expert id, sorted codes), in canonical order; order faults noted."""
    if not isinstance(raw, list):
        msg = "the result carries no candidate_list"
        raise Unverifiable(msg)
    rows = []
    for index, line in enumerate(raw):
        try:
            rows.append((str(line["expert_id"]), sorted({str(code) for code in line["specialties"]})))
        except (KeyError, TypeError) as exc:
            msg = f"candidate_list[{index}] is malformed ({exc})"
            raise Unverifiable(msg) from exc
    ids = [expert for expert, _ in rows]
    problems.extend(
        f"expert {expert} appears {ids.count(expert)} times in the candidate list"
        for expert in sorted({e for e in ids if ids.count(e) > 1})
    )
    if ids != sorted(ids):
        problems.append("the candidate list is not in canonical order (expert ids sorted as strings)")
    return sorted(rows)


def candidate_list_digest(rows: list[tuple[str, list[str]]]) -> str:
    lines = [f"{expert} {','.join(codes)}" for expert, codes in rows]
    return sha256_hex("\n".join([CANDIDATES_DOMAIN, *lines]))


def check(result: Any, published: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:  # noqa: C901, PLR0912, PLR0915
    """Mismatches between ``result`` and what was ``published`` before the draw, and the summary."""
    problems: list[str] = []
    result = result.get("computation", result) if isinstance(result, dict) else result
    if not isinstance(result, dict):
        msg = "the result is not a JSON object"
        raise Unverifiable(msg)
    commitment = published.get("seed_sha256")
    if not commitment:
        msg = "the seed commitment published before the draw is needed (--commitment or --before)"
        raise Unverifiable(msg)
    seed = _text(result.get("seed"), "the revealed seed")
    if sha256_hex(seed) != commitment:
        problems.append(
            f"the revealed seed does not match the commitment published before the draw ({commitment}); "
            "the seed was replaced"
        )
    if result.get("seed_sha256") != commitment:
        problems.append(f"the result shows the commitment {result.get('seed_sha256')}, but {commitment} was published")

    if published.get("spec") is None:
        msg = "the committee spec published before the draw is needed (--spec or --before)"
        raise Unverifiable(msg)
    groups = _spec_groups(published["spec"])
    if result.get("spec") is not None and _spec_groups(result["spec"]) != groups:
        problems.append("the result applies a spec other than the one published before the draw")

    rows = _candidates(result.get("candidate_list"), problems)
    digest = candidate_list_digest(rows)
    if digest != result.get("candidate_list_sha256"):
        problems.append(
            f"the candidate list's digest is {digest}, the result claims {result.get('candidate_list_sha256')}"
        )
    published_digest = published.get("candidate_list_sha256")
    if published.get("candidate_list") is not None:
        before_rows = _candidates(published["candidate_list"], [])
        before_digest = candidate_list_digest(before_rows)
        if published_digest and published_digest != before_digest:
            msg = "the stored candidate list and its stored digest disagree"
            raise Unverifiable(msg)
        published_digest = before_digest
        before_ids, ids = {e for e, _ in before_rows}, {e for e, _ in rows}
        problems.extend(f"expert {e} was on the frozen list but is missing" for e in sorted(before_ids - ids))
        problems.extend(f"expert {e} was not on the frozen list" for e in sorted(ids - before_ids))
    if not published_digest:
        msg = "the candidate list's digest published when it was frozen is needed (--candidate-list-sha256 or --before)"
        raise Unverifiable(msg)
    if digest != published_digest:
        problems.append(f"the candidate list differs from the one frozen before the draw (digest {published_digest})")

    problems.extend(
        f"expert {expert} fits no group of the spec: the candidate list holds only experts who fit one"
        for expert, codes in rows
        if not any(fits(codes, group["specialties"]) for group in groups)
    )
    excluded = {str(item.get("expert_id")) for item in result.get("excluded") or [] if isinstance(item, dict)}
    problems.extend(
        f"expert {e} is recorded as excluded but is on the candidate list"
        for e in sorted(excluded & {e for e, _ in rows})
    )

    commitments = published.get("contribution_commitments") or {}
    contributions = result.get("contributions") or {}
    if not isinstance(commitments, dict) or not isinstance(contributions, dict):
        msg = "contributions and their commitments are JSON objects"
        raise Unverifiable(msg)
    problems.extend(
        f"witness {key} revealed a contribution without a commitment published before the draw"
        for key in sorted(set(contributions) - set(commitments))
    )
    revealed = []
    for key in sorted(commitments):
        value = contributions.get(key)
        if value is not None and sha256_hex(str(value)) != commitments[key]:
            problems.append(f"witness {key}'s revealed contribution does not match its commitment")
        revealed.append("" if value is None else str(value))
    draw_seed = sha256_hex("\n".join([DRAW_SEED_DOMAIN, seed, digest, *revealed]))
    if result.get("draw_seed") != draw_seed:
        problems.append(f"the draw seed is {draw_seed}, the result used {result.get('draw_seed')}")

    shown = {str(g.get("key")): g for g in result.get("groups") or [] if isinstance(g, dict)}
    if sorted(shown) != [g["key"] for g in groups]:
        problems.append(f"the result shows groups {sorted(shown)}, the spec has {[g['key'] for g in groups]}")
    taken: set[str] = set()
    recomputed: dict[str, dict[str, list[str]]] = {}
    for group in groups:
        key = group["key"]
        eligible = [expert for expert, codes in rows if expert not in taken and fits(codes, group["specialties"])]
        if len(eligible) < group["count"]:
            problems.append(
                f"group {key} needs {group['count']} experts but only {len(eligible)} are eligible: no draw was due"
            )
            continue
        reserves = min(group["reserves"], len(eligible) - group["count"])
        drawn = draw_without_replacement(draw_seed, PURPOSE_PREFIX + key, eligible, group["count"] + reserves)
        taken.update(drawn)
        recomputed[key] = {"members": drawn[: group["count"]], "reserves": drawn[group["count"] :]}
        published_group = shown.get(key, {})
        problems.extend(
            f"group {key}: the result's {part} are {published_group.get(part)}, recomputed {recomputed[key][part]}"
            for part in ("members", "reserves")
            if published_group.get(part) != recomputed[key][part]
        )

    declined = result.get("declined") or []
    if not isinstance(declined, list):
        msg = "declined is a list of expert ids"
        raise Unverifiable(msg)
    committee = _seat(recomputed, declined, problems, result.get("vacated") or [])
    problems.extend(_fresh(result, rows, published.get("first")))
    if result.get("committee") is not None and result.get("committee") != committee:
        problems.append(f"the seated committee is {result.get('committee')}, recomputed {committee}")
    summary = {
        "candidates": len(rows),
        "candidate_list_sha256": digest,
        "draw_seed": draw_seed,
        "groups": recomputed,
        "committee": committee,
    }
    return problems, summary


def _fresh(result: dict[str, Any], rows: list[tuple[str, list[str]]], first: Any) -> list[str]:
    """A supplementary draw (补抽): no expert drawn before for the evaluation (``already_drawn``) is
    on its candidate list; with the first draw's published document (``--first``), every expert it
    drew (members and reserves) is among ``already_drawn`` and the draw names it as the one it
    supplements.
    """
    if result.get("already_drawn") is None and first is None:
        return []
    earlier = result.get("already_drawn") or []
    if not isinstance(earlier, list):
        msg = "already_drawn is a list of expert ids"
        raise Unverifiable(msg)
    before = {str(expert) for expert in earlier}
    problems = [
        f"expert {expert} was drawn before for this evaluation but is on the supplementary draw's list"
        for expert, _ in rows
        if expert in before
    ]
    if first is not None:
        if not isinstance(first, dict):
            msg = "--first is the first draw's published document (a JSON object)"
            raise Unverifiable(msg)
        shown = first.get("computation", first)
        drawn = {
            str(expert)
            for group in shown.get("groups") or []
            if isinstance(group, dict)
            for expert in (*(group.get("members") or []), *(group.get("reserves") or []))
        }
        problems.extend(
            f"expert {e} was drawn by the first draw but is not listed as drawn before" for e in sorted(drawn - before)
        )
        claimed = result.get("supplements") or result.get("supplements_draw_id")
        if first.get("draw_id") and claimed != first.get("draw_id"):
            problems.append(f"the draw supplements {claimed}, not the first draw {first.get('draw_id')}")
    return problems


def _seat(
    groups: dict[str, dict[str, list[str]]], declined: list[Any], problems: list[str], vacated: list[Any] = ()
) -> list[str]:
    """committee_scheme.md, step 6: each declining member's seat goes to their group's next reserve;
    a seat left open when the group had no reserve left (``vacated``) is empty until a
    supplementary draw fills it.
    """
    seats = {key: list(group["members"]) for key, group in groups.items()}
    queues = {key: list(group["reserves"]) for key, group in groups.items()}
    seen: set[str] = set()
    for raw in declined:
        expert = str(raw)
        if expert in seen:
            problems.append(f"expert {expert} declined twice")
            continue
        seen.add(expert)
        key = next((k for k, members in seats.items() if expert in members), None)
        if key is None:
            key = next((k for k, queue in queues.items() if expert in queue), None)
            if key is None:
                problems.append(f"expert {expert} declined but was not drawn")
            else:
                queues[key].remove(expert)
            continue
        if not queues[key]:
            problems.append(f"group {key} has no reserve left to replace {expert}")
            continue
        seats[key][seats[key].index(expert)] = queues[key].pop(0)
    for raw in vacated:
        expert = str(raw.get("expert") if isinstance(raw, dict) else raw)
        key = next((k for k, members in seats.items() if expert in members), None)
        if key is None:
            problems.append(f"expert {expert} left a seat open but holds none")
        elif queues[key]:
            problems.append(f"group {key} still has a reserve for the seat {expert} left open")
        else:
            seats[key].remove(expert)
    return [expert for key in sorted(seats) for expert in seats[key]]


def _load(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"{what} {path} cannot be read as JSON ({exc})"
        raise Unverifiable(msg) from exc


def _published(args: argparse.Namespace) -> dict[str, Any]:
    source: dict[str, Any] = {}
    if args.before:
        before = _load(args.before, "the file")
        if not isinstance(before, dict):
            msg = "--before is a JSON object"
            raise Unverifiable(msg)
        source = {
            key: before.get(key)
            for key in ("seed_sha256", "spec", "candidate_list_sha256", "candidate_list", "contribution_commitments")
        }
    if args.commitment:
        source["seed_sha256"] = args.commitment
    if args.candidate_list_sha256:
        source["candidate_list_sha256"] = args.candidate_list_sha256
    if args.spec:
        source["spec"] = _load(args.spec, "the spec")
    if args.first:
        source["first"] = _load(args.first, "the first draw")
    return source


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("result", help="the published committee draw result (JSON)")
    parser.add_argument("--before", help="what was published before the draw (JSON)")
    parser.add_argument("--commitment", help="the seed's SHA-256 as published before the draw")
    parser.add_argument("--candidate-list-sha256", help="the candidate list's digest as published when frozen")
    parser.add_argument("--spec", help="the committee spec as published before the draw (JSON file)")
    parser.add_argument(
        "--first", help="for a supplementary draw: the first draw's published document (JSON), drawn before"
    )
    args = parser.parse_args(argv[1:])
    try:
        result = _load(args.result, "the result")
        problems, summary = check(result, _published(args))
    except Unverifiable as missing:
        print(f"CANNOT VERIFY: {missing}")
        return 2
    if problems:
        for problem in problems:
            print(f"MISMATCH: {problem}")
        return 1
    print(json.dumps({"verified": True, **summary}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
