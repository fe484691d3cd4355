"""Verifiable draws that nobody can predict or steer: the pure mechanics, standard library only.

Any platform draw (the intermediary market's selections, later experts and coefficients) runs in
three public steps; ``scripts/draw_scheme.md`` states the scheme for outside verifiers and
``scripts/recompute_lottery.py`` restates it without importing the platform.

1. **Publication.** The platform generates ``server_seed`` and publishes only its commitment
   ``SHA-256(server_seed)`` (hex of the UTF-8 text).
2. **Registration.** Each participant may commit a contribution: it keeps a random ``secret`` and
   registers ``SHA-256(secret)``. At the close the list is frozen (eligibility included) and its
   digest published::

       closed_list_sha256 = SHA-256("ggzy-closed-list-v1" LF key_1 SP commitment_1 LF … key_n SP commitment_n)

   over the participants in canonical order (keys sorted as strings, code-point order), ``-`` for
   a participant without a contribution.
3. **Reveal and draw.** Participants reveal their secrets within the reveal window (a secret is
   accepted only if it hashes to the commitment); the platform then reveals ``server_seed`` and::

       draw_seed = SHA-256("ggzy-draw-v1" LF server_seed LF closed_list_sha256 LF r_1 LF … r_n)

   where ``r_i`` is participant i's revealed secret, or the empty string when it made no
   contribution or did not reveal (non-revealers stay in the draw: withholding cannot remove
   anyone). Each random choice is then::

       index = int(SHA-256(draw_seed LF purpose LF candidate_1 LF … candidate_n), big-endian) mod n

   over the candidates in canonical order. Several distinct candidates in a drawn order (an
   evaluation committee's members and reserves) come from one seeded draw without replacement
   (``draw_many``)::

       list_sha256 = SHA-256("ggzy-draw-list-v1" LF candidate_1 LF … candidate_n)
       index_i = int(SHA-256(draw_seed LF purpose LF list_sha256 LF i), big-endian) mod (n - i)

   for i = 0, 1, …: the ``index_i``-th of the candidates not drawn yet (canonical order kept) is
   the i-th drawn. The list is hashed once, so drawing k of n costs one pass over the list.

Why this holds: the platform fixed its seed before anyone registered, so it cannot pick it after
seeing the list; a participant's secret is unknown to the platform until the close, so as long as
one honest participant contributes, nobody (the platform included) can compute the outcome before
the reveal, and nobody can change a committed value afterwards. The residual lever is withholding a
reveal, which chooses between two outcomes at most and is public (the result lists non-revealers).
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import secrets
from collections.abc import Mapping, Sequence

CLOSED_LIST_DOMAIN = "ggzy-closed-list-v1"
DRAW_LIST_DOMAIN = "ggzy-draw-list-v1"
DRAW_SEED_DOMAIN = "ggzy-draw-v1"
NO_CONTRIBUTION = "-"
SHA256_HEX_LENGTH = 64
_HEX = frozenset("0123456789abcdef")


def new_secret() -> str:
    """A fresh 256-bit secret (hex): the platform's seed, or a participant's contribution."""
    return secrets.token_hex(32)


def commitment(secret: str) -> str:
    """What is published in place of a secret: its SHA-256 (hex of the UTF-8 text)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def is_sha256_hex(value: str) -> bool:
    return len(value) == SHA256_HEX_LENGTH and set(value) <= _HEX


def canonical(keys: Sequence[str]) -> list[str]:
    """The canonical order of participants and candidates: sorted as strings (code points)."""
    if all(map(operator.lt, keys, itertools.islice(keys, 1, None))):
        return list(keys)  # already strictly increasing: sorted and distinct (the usual case)
    if len(set(keys)) != len(keys):
        msg = "a draw's participants are distinct"
        raise ValueError(msg)
    return sorted(keys)


def closed_list_digest(commitments: Mapping[str, str | None]) -> str:
    """The digest of the frozen list: each participant key and its contribution commitment."""
    lines = [f"{key} {commitments[key] or NO_CONTRIBUTION}" for key in canonical(list(commitments))]
    return hashlib.sha256("\n".join([CLOSED_LIST_DOMAIN, *lines]).encode()).hexdigest()


def reveal_matches(secret: str, committed: str) -> bool:
    return secrets.compare_digest(commitment(secret), committed)


def draw_seed(server_seed: str, closed_list_sha256: str, revealed: Mapping[str, str | None]) -> str:
    """Mix the platform's seed, the frozen list and every revealed contribution (``None`` or a
    missing key counts as the empty string) into the seed every random choice uses.
    """
    contributions = [revealed.get(key) or "" for key in canonical(list(revealed))]
    message = "\n".join([DRAW_SEED_DOMAIN, server_seed, closed_list_sha256, *contributions])
    return hashlib.sha256(message.encode()).hexdigest()


def draw_index(seed: str, purpose: str, candidates: Sequence[str]) -> int:
    """The seeded draw of one of ``candidates`` (in the given order; callers pass canonical order)."""
    if not candidates:
        msg = "a draw needs at least one candidate"
        raise ValueError(msg)
    message = "\n".join([seed, purpose, *candidates]).encode()
    return int.from_bytes(hashlib.sha256(message).digest(), "big") % len(candidates)


def draw(seed: str, purpose: str, candidates: Sequence[str]) -> str:
    """One of ``candidates`` by the seeded draw, over their canonical order."""
    ordered = canonical(list(candidates))
    return ordered[draw_index(seed, purpose, ordered)]


def draw_list_digest(ordered: Sequence[str]) -> str:
    """The digest ``draw_many`` binds every pick to: the candidates, in the order given."""
    return hashlib.sha256("\n".join([DRAW_LIST_DOMAIN, *ordered]).encode()).hexdigest()


def draw_many(seed: str, purpose: str, candidates: Sequence[str], count: int) -> list[str]:
    """``count`` distinct ``candidates`` in drawn order: the seeded draw without replacement over
    their canonical order (the module's docstring states the scheme). ``count`` may not exceed the
    number of candidates.
    """
    remaining = canonical(list(candidates))
    if not 0 <= count <= len(remaining):
        msg = f"cannot draw {count} of {len(remaining)} candidates"
        raise ValueError(msg)
    list_sha256 = draw_list_digest(remaining)
    drawn: list[str] = []
    for i in range(count):
        message = "\n".join([seed, purpose, list_sha256, str(i)]).encode()
        index = int.from_bytes(hashlib.sha256(message).digest(), "big") % len(remaining)
        drawn.append(remaining.pop(index))
    return drawn
