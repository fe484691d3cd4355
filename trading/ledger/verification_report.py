"""What a verification of the ledger reports: each problem (code, chain, seq, entry, checkpoint) and
the counts, in the order that names the first broken entry first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

MAX_PROBLEMS = 100
"""Problems kept in a report; the count keeps going. The first one is what matters."""


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    chain: str | None = None
    seq: int | None = None
    entry_id: uuid.UUID | None = None
    checkpoint: int | None = None

    def describe(self) -> str:
        where = []
        if self.chain is not None:
            where.append(f"chain {self.chain}")
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        if self.entry_id is not None:
            where.append(f"entry {self.entry_id}")
        if self.checkpoint is not None:
            where.append(f"checkpoint {self.checkpoint}")
        return f"{', '.join(where)}: {self.code}: {self.message}" if where else f"{self.code}: {self.message}"


@dataclass(slots=True)
class VerificationReport:
    chains: dict[str, int] = field(default_factory=dict)
    """Entries per chain (still-sealed chains withheld: see the module docstring)."""
    sealed_chains_intact: bool = True
    """Whether every chain still sealed verified; their names and sizes are not reported."""
    entries: int = 0
    bytes_hashed: int = 0
    checkpoints_checked: int = 0
    latest_checkpoint: int | None = None
    timestamped: int = 0
    """Checkpoints whose TSA token covers their digest."""
    copies_checked: list[int] = field(default_factory=list)
    """Numbers of the outsider's checkpoint copies held against the database."""
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    elapsed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def ordered_problems(self) -> list[Problem]:
        """Entry problems first, in verification order (chain, then seq); then the others."""
        position = {chain: index for index, chain in enumerate(self.chains)}

        def key(problem: Problem) -> tuple[int, int, int, int]:
            chain = position.get(problem.chain or "", len(position))
            if problem.seq is not None:
                return (0, chain, problem.seq, 0)
            return (1, chain, 0, problem.checkpoint or 0)

        return sorted(self.problems, key=key)

    @property
    def first_problem(self) -> Problem | None:
        """The first broken entry (or, if no entry is broken, the first other problem)."""
        ordered = self.ordered_problems()
        return ordered[0] if ordered else None

    def add(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def summary(self) -> str:
        if self.ok:
            against = (
                f", matching your checkpoint {', '.join(map(str, self.copies_checked))}" if self.copies_checked else ""
            )
            return (
                f"ledger OK: {self.entries} entries in {len(self.chains)} chains, "
                f"{self.checkpoints_checked} checkpoints verified{against}, {self.timestamped} TSA tokens, "
                "sealed chains intact "
                f"({self.elapsed_seconds:.2f} s)"
            )
        first = self.first_problem
        assert first is not None  # noqa: S101 - a failing report always keeps its first problem
        return f"ledger BROKEN ({self.problem_count} problems); first: {first.describe()}"

    def as_dict(self) -> dict[str, Any]:
        first = self.first_problem
        return {
            "ok": self.ok,
            "entries": self.entries,
            "chains": self.chains,
            "sealed_chains_intact": self.sealed_chains_intact,
            "bytes_hashed": self.bytes_hashed,
            "checkpoints_checked": self.checkpoints_checked,
            "latest_checkpoint": self.latest_checkpoint,
            "timestamped": self.timestamped,
            "copies_checked": self.copies_checked,
            "problem_count": self.problem_count,
            "first_problem": _problem_dict(first) if first else None,
            "problems": [_problem_dict(p) for p in self.ordered_problems()],
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }


def _problem_dict(problem: Problem) -> dict[str, Any]:
    return {
        "code": problem.code,
        "message": problem.message,
        "chain": problem.chain,
        "seq": problem.seq,
        "entry_id": str(problem.entry_id) if problem.entry_id else None,
        "checkpoint": problem.checkpoint,
    }


def with_entry_id(problem: Problem, entry_id: uuid.UUID | None) -> Problem:
    return Problem(problem.code, problem.message, problem.chain, problem.seq, entry_id, problem.checkpoint)
