#!/usr/bin/env python3
"""Check a published intermediary-marketplace selection against what was published BEFORE it.

Standard library only, independent of the platform's code (it restates ``draw_scheme.md`` beside
it, not ``trading.kernel.draws``): anyone can check a draw from published data alone.

Keep the announcement as published, ideally after the close (it then carries the frozen list)::

    python scripts/recompute_lottery.py --server https://ggzy.example --announcement ID --save before.json

After the draw, check the result against it (or give the pieces by hand)::

    python scripts/recompute_lottery.py --server https://ggzy.example --announcement ID --before before.json
    python scripts/recompute_lottery.py result.json --before before.json
    python scripts/recompute_lottery.py result.json --commitment HEX --closed-list-sha256 HEX --method random

``result.json`` is the public result (``/api/v1/intermediary/results?announcement_id=``) or just its
``computation``. Without ``--before`` or the arguments, ``--server`` takes the commitment, the list
and the method from the announcement's own public record; a file alone is refused, since a result
checked only against itself proves nothing.

Checked: the revealed seed against the commitment published before the draw; the list frozen at
the close (its digest, no registrant removed, added or duplicated); each revealed contribution
against its commitment; the draw seed; the method; and the outcome — the lottery's winner, the
lowest price (ties drawn), the reference price, or that a failure was due under the rules. Exit
status 0 when everything holds (one JSON line on stdout), 1 on any mismatch (one ``MISMATCH:``
line each), 2 when the data needed is missing or the method is not checked here (merit, direct).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import urllib.parse
import urllib.request
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

CLOSED_LIST_DOMAIN = "ggzy-closed-list-v1"
DRAW_SEED_DOMAIN = "ggzy-draw-v1"
MIN_STATE_FUNDED = 3
API = "/api/v1/intermediary"


class Unverifiable(Exception):
    """The published data needed for a check is missing."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def index_of(seed: str, purpose: str, ordered: list[str]) -> int:
    message = "\n".join([seed, purpose, *ordered]).encode()
    return int.from_bytes(hashlib.sha256(message).digest(), "big") % len(ordered)


def pick(seed: str, purpose: str, candidates: list[str]) -> str:
    ordered = sorted(candidates)
    return ordered[index_of(seed, purpose, ordered)]


def list_digest(lines: list[dict[str, Any]]) -> str:
    rows = sorted(f"{line['organisation_id']} {line.get('contribution_sha256') or '-'}" for line in lines)
    return sha256_hex("\n".join([CLOSED_LIST_DOMAIN, *rows]))


def fetch_json(server: str, path: str, **query: str) -> Any:
    url = f"{server.rstrip('/')}{API}{path}?{urllib.parse.urlencode(query)}"
    if not url.startswith(("http://", "https://")):
        msg = f"--server must be an http(s) URL, got {server!r}"
        raise Unverifiable(msg)
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - scheme checked above
        return json.loads(response.read().decode())


def check(result: dict[str, Any], published: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:  # noqa: C901, PLR0912, PLR0915
    """Mismatches between ``result`` and what was ``published`` before the draw, and the summary."""
    computation = result.get("computation", result)
    if not isinstance(computation, dict) or "seed" not in computation:
        msg = "the result carries no computation with a revealed seed (not decided yet?)"
        raise Unverifiable(msg)
    problems: list[str] = []
    commitment = published.get("seed_sha256")
    if not commitment:
        msg = "the seed commitment published before the draw is needed (--commitment, --before or --server)"
        raise Unverifiable(msg)
    seed = str(computation["seed"])
    if sha256_hex(seed) != commitment:
        problems.append(
            f"the revealed seed does not match the commitment published before the draw ({commitment}); "
            "the seed was replaced"
        )
    if computation.get("seed_sha256") != commitment:
        problems.append(
            f"the result shows the commitment {computation.get('seed_sha256')}, "
            f"but {commitment} was published before the draw"
        )
    method = published.get("method")
    if not method:
        msg = "the method published with the announcement is needed (--method, --before or --server)"
        raise Unverifiable(msg)
    if computation.get("method") != method:
        problems.append(
            f"the announcement published the method {method!r}, the result applies {computation.get('method')!r}"
        )

    lines = computation.get("closed_list")
    if not isinstance(lines, list):
        msg = "the result carries no list frozen at the close (closed_list)"
        raise Unverifiable(msg)
    keys = [str(line["organisation_id"]) for line in lines]
    problems.extend(
        f"registrant {key} appears {keys.count(key)} times in the list"
        for key in sorted({k for k in keys if keys.count(k) > 1})
    )
    digest = list_digest(lines)
    if digest != computation.get("closed_list_sha256"):
        problems.append(f"the list's digest is {digest}, the result claims {computation.get('closed_list_sha256')}")
    published_digest = published.get("closed_list_sha256")
    if published_digest and digest != published_digest:
        problems.append(f"the list differs from the one published at the close (digest {published_digest})")
    published_lines = published.get("closed_list")
    if isinstance(published_lines, list):
        before = {str(line["organisation_id"]) for line in published_lines}
        problems.extend(
            f"registrant {key} was on the list at the close but is missing" for key in sorted(before - set(keys))
        )
        problems.extend(f"registrant {key} was not on the list at the close" for key in sorted(set(keys) - before))
    if not published_digest and not isinstance(published_lines, list):
        msg = "the list published at the close is needed (--closed-list-sha256, --before or --server)"
        raise Unverifiable(msg)

    contributions = computation.get("contributions") or {}
    revealed: dict[str, str] = {}
    for line in lines:
        key, committed = str(line["organisation_id"]), line.get("contribution_sha256")
        value = contributions.get(key)
        if value is not None and (committed is None or sha256_hex(str(value)) != committed):
            problems.append(f"registrant {key}'s revealed contribution does not match its commitment")
        revealed[key] = str(value) if value is not None and committed is not None else ""
    draw_seed = sha256_hex("\n".join([DRAW_SEED_DOMAIN, seed, digest, *(revealed[k] for k in sorted(revealed))]))
    if computation.get("draw_seed") != draw_seed:
        problems.append(f"the draw seed is {draw_seed}, the result used {computation.get('draw_seed')}")

    ordered = sorted(set(keys))
    funding = computation.get("funding") or published.get("funding")
    failed = "failure" in computation or result.get("status") == "failed"
    winner = computation.get("winner")
    recomputed: str | None = None
    if failed:
        due = _failure_due(method, funding, ordered, computation)
        if due is None:
            problems.append(
                f"the selection was declared failed ({computation.get('failure_rule') or result.get('failure_rule')}), "
                f"but {len(ordered)} eligible registrants allow a {method} selection"
            )
        if winner is not None or result.get("winner_organisation_id") is not None:
            problems.append("a failed selection names a winner")
    elif method == "random":
        if computation.get("registrants") != ordered:
            problems.append("the lottery's candidates are not the list frozen at the close")
        if funding == "state" and len(ordered) < MIN_STATE_FUNDED:
            problems.append(f"a state-funded lottery needs {MIN_STATE_FUNDED} registrants, the list has {len(ordered)}")
        recomputed = ordered[index_of(draw_seed, "lottery", ordered)] if ordered else None
    elif method in {"lowest_price", "reference_price"}:
        bids = {str(line["registrant"]): Decimal(str(line["price"])) for line in computation.get("bids", [])}
        if sorted(bids) != ordered:
            problems.append("the bids are not those of the list frozen at the close")
        if bids and method == "lowest_price":
            low = min(bids.values())
            recomputed = pick(draw_seed, "tie", [k for k, price in bids.items() if price == low])
        elif bids:
            recomputed = reference_price_winner(draw_seed, bids, computation, problems)
    else:
        msg = f"the method {method!r} is not checked by this script (random, lowest_price, reference_price are)"
        raise Unverifiable(msg)
    if not failed and recomputed != winner:
        problems.append(f"published winner {winner}, recomputed {recomputed}")
    if not failed and result.get("winner_organisation_id") not in {None, winner}:
        problems.append(f"the result names {result.get('winner_organisation_id')}, its computation {winner}")
    summary = {"method": method, "registrants": len(ordered), "winner": recomputed, "failed": failed}
    return problems, summary


def reference_price_winner(
    draw_seed: str, bids: dict[str, Decimal], computation: dict[str, Any], problems: list[str]
) -> str:
    """最优价中选: drop one lowest and one highest bid (equal extremes drawn), M = mean of the rest,
    r drawn from 95–98 %, R = M × r rounded half up to cents; the bid closest to R wins (ties drawn).
    """
    if len(bids) == 1:
        return next(iter(bids))
    low, high = min(bids.values()), max(bids.values())
    dropped_low = pick(draw_seed, "drop_lowest", [k for k, price in bids.items() if price == low])
    dropped_high = pick(draw_seed, "drop_highest", [k for k, p in bids.items() if p == high and k != dropped_low])
    kept = {k: price for k, price in bids.items() if k not in {dropped_low, dropped_high}}
    if not kept:
        problems.append("the reference price needs at least three bids")
        return ""
    mean = sum(kept.values(), Decimal(0)) / len(kept)
    coefficient = (95, 96, 97, 98)[index_of(draw_seed, "coefficient", ["95", "96", "97", "98"])]
    reference = (mean * Decimal(coefficient) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if str(reference) != computation.get("reference_price"):
        problems.append(f"the reference price is {reference}, the result shows {computation.get('reference_price')}")
    distance = {k: abs(price - reference) for k, price in kept.items()}
    closest = min(distance.values())
    return pick(draw_seed, "tie", [k for k, d in distance.items() if d == closest])


def _failure_due(method: str, funding: object, ordered: list[str], computation: dict[str, Any]) -> str | None:
    """The rule under which a selection with these registrants fails, or None when it may not fail."""
    if not ordered:
        return "no_registrants"
    if funding == "state" and method != "direct" and len(ordered) < MIN_STATE_FUNDED:
        return "state_funded_min_registrants"
    if method == "reference_price" and funding != "state" and 1 < len(ordered) < MIN_STATE_FUNDED:
        return "reference_price_min_bids"
    if method in {"merit", "direct"} and computation.get("failure_rule") in {
        "merit_scores_missing",
        "direct_not_registered",
    }:
        return str(computation["failure_rule"])  # depends on data this script does not see
    return None


def _published(args: argparse.Namespace, announcement: dict[str, Any] | None) -> dict[str, Any]:
    """What was published before the draw: from --before, the arguments, else the server's record."""
    source: dict[str, Any] = {}
    if announcement is not None:
        source = {
            "seed_sha256": announcement.get("seed_sha256"),
            "method": announcement.get("method"),
            "funding": announcement.get("funding"),
            **_closed(announcement),
        }
    if args.before:
        before = json.loads(Path(args.before).read_text(encoding="utf-8"))
        source = {
            "seed_sha256": before.get("seed_sha256"),
            "method": before.get("method"),
            "funding": before.get("funding"),
            **_closed(before),
        }
    for name in ("commitment", "method", "closed_list_sha256"):
        value = getattr(args, name)
        if value:
            source["seed_sha256" if name == "commitment" else name] = value
    return source


def _closed(announcement: dict[str, Any]) -> dict[str, Any]:
    closed = announcement.get("closed_list")
    if not isinstance(closed, dict):
        return {}
    return {"closed_list": closed.get("registrants"), "closed_list_sha256": closed.get("closed_list_sha256")}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("result", nargs="?", help="the published result JSON (else fetched with --server)")
    parser.add_argument("--server", help="the platform's base URL: reads its public result pages' JSON API")
    parser.add_argument("--announcement", help="the announcement id (with --server)")
    parser.add_argument("--save", help="with --server: store the announcement as published now, for --before")
    parser.add_argument("--before", help="the announcement as stored before the draw (by --save)")
    parser.add_argument("--commitment", help="the seed's SHA-256 as published with the announcement")
    parser.add_argument("--closed-list-sha256", help="the digest of the list as published at the close")
    parser.add_argument("--method", help="the selection method as published with the announcement")
    args = parser.parse_args(argv[1:])
    try:
        announcement = None
        if args.server:
            if not args.announcement:
                parser.error("--server needs --announcement")
            announcement = fetch_json(args.server, "/results", announcement_id=args.announcement)
            if args.save:
                Path(args.save).write_text(json.dumps(announcement, ensure_ascii=False, indent=2), encoding="utf-8")
                print(json.dumps({"saved": args.save, "status": announcement.get("status")}))
                return 0
        if args.result:
            result = json.loads(Path(args.result).read_text(encoding="utf-8"))
        elif announcement is not None:
            result = announcement
        else:
            parser.error("give a result file or --server and --announcement")
        problems, summary = check(result, _published(args, announcement))
    except Unverifiable as missing:
        print(f"CANNOT VERIFY: {missing}")
        return 2
    if problems:
        for problem in problems:
            print(f"MISMATCH: {problem}")
        return 1
    print(json.dumps({"verified": True, **summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
