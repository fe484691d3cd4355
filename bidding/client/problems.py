"""How the bidder client reports what goes wrong: the server's refusals (`BidRejected`, from its
problem+json) and its own (`LocalRefusal`, before anything is sent), both naming the field and the
rule; inputs that cannot make a container (`BidBuildError`); opened content that is not what was
signed or bound (`ContentMismatch`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import httpx

_PROBLEM_PREFIX: Final = "urn:ggzy:error:"
HTTP_ERROR: Final = 400


class BidRejected(Exception):
    """The server refused a request; ``field`` and ``rule`` name why (from its problem+json)."""

    def __init__(
        self,
        status: int,
        code: str,
        field: str | None,
        rule: str | None,
        detail: str,
        *,
        problem: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {detail}" + (f" ({field}: {rule})" if field or rule else ""))
        self.status = status
        self.code = code
        self.field = field
        self.rule = rule
        self.detail = detail
        self.problem = dict(problem or {})


def rejection(response: httpx.Response) -> BidRejected:
    """The `BidRejected` for an error response (problem+json, or whatever else came back)."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    problem_type = str(body.get("type", ""))
    code = problem_type.removeprefix(_PROBLEM_PREFIX) if problem_type else f"http_{response.status_code}"
    errors = body.get("errors") or [{}]
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return BidRejected(
        response.status_code,
        code,
        first.get("field"),
        first.get("rule"),
        str(body.get("detail") or response.reason_phrase or response.text[:200]),
        problem=body,
    )


class LocalRefusal(Exception):
    """The client refused before sending anything; ``field`` and ``rule`` name why, as the server's
    refusals do (e.g. the price table changed from the one the bidder reviewed).
    """

    def __init__(self, field: str, rule: str, detail: str) -> None:
        super().__init__(f"{detail} ({field}: {rule})")
        self.field = field
        self.rule = rule
        self.detail = detail


def checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= HTTP_ERROR:
        raise rejection(response)
    return response


class BidBuildError(ValueError):
    """The inputs cannot make a valid container (bad file list, amount, deadline or guarantee)."""


class ContentMismatch(Exception):
    """An opened part does not match what the signed manifest or the binding says it is."""
