r"""Summary screens over the 3- and 4-bid subsets of a lot (Wallimann, Imhof & Huber 2022).

For every subset of 3 and of 4 valid bids, the screens ``cv``, ``spd``, ``diffp``, ``rd``,
``rdnor`` and ``skew`` are computed (with the same formulas as ``prices``), and pooled over all
subsets of both sizes into their mean, median, min and max: ``subset_<screen>_<stat>``. A subset
where a screen is undefined (``rd`` when its losing bids are equal …) is left out of that screen's
pool only.

Up to ``exhaustive_up_to`` subsets (C(n, 3) + C(n, 4) ≤ 20,000 by default, n ≤ 26) every subset is
enumerated. Above it (a 300-bid lot has about 330 million), ``sample_size`` subsets are drawn:
the 3- and 4-subsets in proportion to their counts (so the pool looks like the exhaustive one),
each subset ``size`` distinct bid positions drawn uniformly (rows with a repeated position are
drawn again). The generator is NumPy's PCG64 seeded with the first 8 bytes of
SHA-256("<ocid>\x1f<lot or ''>"): the same lot always gets the same sample, on every machine and
run. Sampled mean and median are estimates; sampled min and max are bounds (the true min is ≤,
the true max ≥ the sampled one).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

SUBSET_SCREENS = ("cv", "spd", "diffp", "rd", "rdnor", "skew")
SUBSET_STATS = ("mean", "median", "min", "max")

Matrix = npt.NDArray[np.float64]

_REDUCE: dict[str, Callable[[Matrix], np.floating[Any]]] = {
    "mean": np.mean,
    "median": np.median,
    "min": np.min,
    "max": np.max,
}


def subset_names() -> tuple[str, ...]:
    return tuple(f"subset_{screen}_{stat}" for screen in SUBSET_SCREENS for stat in SUBSET_STATS)


def sample_seed(ocid: str, lot: str | None) -> int:
    """The lot's own seed: the first 8 bytes of SHA-256 of ``ocid``, a unit separator and ``lot``."""
    digest = hashlib.sha256(f"{ocid}\x1f{lot or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def subset_positions(n: int, size: int, count: int, rng: np.random.Generator) -> npt.NDArray[np.int64]:
    """``count`` subsets of ``size`` distinct positions in 0…n−1, each row sorted."""
    rows = rng.integers(0, n, size=(count, size))
    while True:
        rows.sort(axis=1)
        repeated = np.any(rows[:, 1:] == rows[:, :-1], axis=1)
        if not repeated.any():
            return rows.astype(np.int64)
        rows[repeated] = rng.integers(0, n, size=(int(repeated.sum()), size))


def _screens(block: Matrix) -> dict[str, Matrix]:
    """Each screen for each row of ``block`` (rows sorted ascending); NaN where undefined."""
    m = block.shape[1]
    b1, b2, bn = block[:, 0], block[:, 1], block[:, -1]
    mean = block.mean(axis=1)
    dev = block - mean[:, None]
    s = np.sqrt((dev**2).sum(axis=1) / (m - 1))
    equal = bn == b1
    s = np.where(equal, 0.0, s)
    losing = block[:, 1:]
    s_l = np.sqrt(((losing - losing.mean(axis=1)[:, None]) ** 2).sum(axis=1) / (m - 2))
    s_l = np.where(bn == b2, 0.0, s_l)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = dev / s[:, None]
        return {
            "cv": s / mean,
            "spd": (bn - b1) / b1,
            "diffp": (b2 - b1) / b1,
            "rd": np.where(s_l > 0, (b2 - b1) / s_l, np.nan),
            "rdnor": np.where(equal, np.nan, (m - 1) * (b2 - b1) / (bn - b1)),
            "skew": np.where(equal, np.nan, m / ((m - 1) * (m - 2)) * (z**3).sum(axis=1)),
        }


def subset_summaries(
    sorted_amounts: Sequence[float], *, ocid: str, lot: str | None, exhaustive_up_to: int, sample_size: int
) -> tuple[dict[str, float | None], dict[str, str], dict[str, object]]:
    """The summary screens of a lot with n ≥ 4 sorted bids: (values, undefined reasons, how drawn)."""
    amounts = np.asarray(sorted_amounts, dtype=np.float64)
    n = amounts.size
    counts = {3: math.comb(n, 3), 4: math.comb(n, 4)}
    total = counts[3] + counts[4]
    pools: dict[str, list[Matrix]] = {screen: [] for screen in SUBSET_SCREENS}
    if total <= exhaustive_up_to:
        method: dict[str, object] = {"method": "exhaustive", "subsets": total}
        for size in (3, 4):
            positions = np.array(list(itertools.combinations(range(n), size)), dtype=np.int64)
            for screen, column in _screens(amounts[positions]).items():
                pools[screen].append(column)
    else:
        seed = sample_seed(ocid, lot)
        rng = np.random.default_rng(seed)
        threes = max(1, round(sample_size * counts[3] / total))
        method = {"method": "sample", "subsets": sample_size, "population": total, "seed": seed}
        for size, count in ((3, threes), (4, max(1, sample_size - threes))):
            positions = subset_positions(n, size, count, rng)
            for screen, column in _screens(amounts[positions]).items():
                pools[screen].append(column)
    values: dict[str, float | None] = {}
    undefined: dict[str, str] = {}
    for screen, parts in pools.items():
        pool = np.concatenate(parts)
        pool = pool[np.isfinite(pool)]
        for stat in SUBSET_STATS:
            name = f"subset_{screen}_{stat}"
            if pool.size == 0:
                values[name] = None
                undefined[name] = "undefined-in-every-subset"
                continue
            values[name] = float(_REDUCE[stat](pool))
    return values, undefined, method
