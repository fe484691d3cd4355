"""Sweep handler of the session: a state whose time limit ran out has its overrun recorded once
(`timelimit.record_if_exceeded`: lock, re-check, act once; the state never moves by itself).
"""

from __future__ import annotations

from bidding.evaluation.session.timelimit import TimeLimitDue

SWEEP_HANDLERS = (TimeLimitDue(),)
