"""The one JSON serialisation `certs` signs, binds and hashes.

Sorted keys, no insignificant whitespace, UTF-8 without escaping (Chinese stays readable), no
floats (amounts are strings or integers). Verifiers check the exact bytes received and never
re-serialise before verifying; this function is for producers.
"""

from __future__ import annotations

import json
from typing import Any


def _reject_float(value: str) -> Any:
    msg = f"floats are not allowed in signed records ({value!r}); use a string or an integer"
    raise ValueError(msg)


def canonical_json(value: Any) -> bytes:
    """``value`` as canonical JSON bytes; refuses floats."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    json.loads(text, parse_float=_reject_float)
    return text.encode()
