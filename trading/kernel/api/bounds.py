"""Request-level input bounds, checked before any handler parses the request.

The field-level rules are in :mod:`trading.kernel.bounds`; this middleware enforces what no schema
can see, for every route (API and pages) in one place:

* a JSON or form body larger than :data:`MAX_TEXT_BODY_BYTES` is refused with 413;
* a body that is not UTF-8, not JSON, or JSON nested deeper than :data:`MAX_JSON_DEPTH` is refused
  with 400 (field ``body``, rule ``utf-8``, ``json`` or ``max-depth``), before a recursive decoder
  or the database sees it;
* a control character in any JSON string, form field, query parameter or path parameter is refused
  with 422 naming that field (rule ``no-control-characters``).

It raises :class:`~trading.kernel.errors.DomainError` subclasses, so each surface answers as usual:
problem+json under ``/api``, an error page or toast on the web. :data:`Offset` is the annotated
type of a list endpoint's ``offset`` (limits already carry their own ``le=``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar.enums import ScopeType
from litestar.params import Parameter

from trading.kernel.bounds import INT32_MAX, RULE_CONTROL, InputRefused, check_text
from trading.kernel.errors import DomainError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from litestar.types import ASGIApp, HTTPRequestEvent, Receive, ReceiveMessage, Scope, Send

MAX_TEXT_BODY_BYTES = 2 * 1024 * 1024
"""JSON and form bodies; files travel as multipart or raw bytes, with their own limits."""
MAX_JSON_DEPTH = 32
"""No request body of the API nests deeper than a few levels."""
MAX_OFFSET = INT32_MAX
"""A list offset beyond this is not a page anybody can reach, and overflows the database's int."""

Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET, description="items to skip")]
"""``offset`` of a list endpoint."""


class MalformedRequest(DomainError):
    status_code = 400
    code = "malformed_request"
    title = "Malformed request"


class BodyTooLarge(DomainError):
    status_code = 413
    code = "body_too_large"
    title = "Request body too large"


_JSON = (b"application/json", b"+json")
_FORM = b"application/x-www-form-urlencoded"


def _media_type(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower()
    return b""


def input_bounds_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        _check_query(scope.get("query_string", b""))
        for name, value in (scope.get("path_params") or {}).items():
            if isinstance(value, str):
                check_text(name, value, single_line=True)
        media_type = _media_type(scope)
        is_json = media_type == _JSON[0] or media_type.endswith(_JSON[1])
        if not is_json and media_type != _FORM:
            await app(scope, receive, send)
            return
        body = await _read_body(receive)
        if is_json:
            _check_json(body)
        else:
            _check_form(body)
        await app(scope, _replay(body, receive), send)

    return middleware


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_TEXT_BODY_BYTES:
            raise BodyTooLarge(f"at most {MAX_TEXT_BODY_BYTES} bytes", field="body", rule="max-size")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> ReceiveMessage:
        nonlocal sent
        if not sent:
            sent = True
            message: HTTPRequestEvent = {"type": "http.request", "body": body, "more_body": False}
            return message
        return await receive()

    return replay


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not valid UTF-8", field="body", rule="utf-8") from None


def _too_deep() -> MalformedRequest:
    return MalformedRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", field="body", rule="max-depth")


def _check_json(body: bytes) -> None:
    """Encoding, syntax, depth and control characters, each at C speed over the raw bytes.

    This runs before any guard, for anybody: a pure-Python pass over a 2 MB body (a byte loop for
    the depth, a recursive walk of every string) blocked the event loop for seconds. The strings
    are walked only when the raw bytes hold something that could decode to a control character.
    """
    text = _utf8(body)
    if not text.strip():
        return  # no body: the handler says whether it needs one
    try:
        document = msgspec.json.decode(body)
    except RecursionError:
        raise _too_deep() from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        # ValidationError: a number beyond float range (1e400); NaN/Infinity are not JSON at all.
        reason = str(exc).split(" - ", 1)[0]
        raise MalformedRequest(f"the body is not valid JSON: {reason}", field="body", rule="json") from None
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _deeper_than(body, MAX_JSON_DEPTH):
        raise _too_deep()
    if _CONTROL_IN_JSON.search(body.replace(b"\\\\", b"")):  # an escaped backslash escapes nothing
        _check_strings(document)
        raise InputRefused("body", RULE_CONTROL)  # beyond the walk's budget


# What decodes to a character check_text refuses, in a body msgspec has accepted, once escaped
# backslashes are removed: an escape of a C0 control other than tab, LF and CR, of DEL or of a C1
# control; DEL and C1 controls written raw. Raw bytes below 0x20 and lone surrogates are not valid
# JSON, so the decoder has refused them already.
_CONTROL_IN_JSON = re.compile(rb"\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])|\x7f|\xc2[\x80-\x9f]")
_WALK_BUDGET = 50_000
"""Values the walk that names the refused field visits before it names the whole body instead: no
real request body comes near it, and a hostile one is refused without a walk of every value."""
# A JSON string, escapes included; possessive, so a long string costs one linear pass.
_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
# Keeps only the brackets, objects' as arrays'.
_BRACKETS_ONLY = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _deeper_than(body: bytes, limit: int) -> bool:
    """Whether valid JSON nests deeper than ``limit``: strings removed, only brackets kept, each
    pass removes the innermost pairs (one level); anything left after ``limit`` passes is deeper.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(_BRACKETS_ONLY, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)


def _check_strings(document: Any) -> None:
    """Name the first refused string of a decoded JSON document (keys too) by its path, within
    :data:`_WALK_BUDGET` values. Depth first over iterators, so a huge array costs only what is
    visited; a path is built only for the string it refuses.
    """
    if isinstance(document, str):
        check_text("body", document)
    where: list[str | int] = []
    stack: list[Iterator[tuple[str | int, Any]]] = [_children(document)]
    for _ in range(_WALK_BUDGET):
        if not stack:
            return
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            if where:
                where.pop()
            continue
        key, value = step
        if isinstance(key, str):
            check_text(_path([*where, key]), key)
        if isinstance(value, str):
            check_text(_path([*where, key]), value)
        elif isinstance(value, list | dict):
            where.append(key)
            stack.append(_children(value))


def _children(value: Any) -> Iterator[tuple[str | int, Any]]:
    if isinstance(value, dict):
        return iter(value.items())
    if isinstance(value, list):
        return enumerate(value)
    return iter(())


def _path(where: list[str | int]) -> str:
    path = ""
    for step in where:
        path = f"{path}[{step}]" if isinstance(step, int) else (f"{path}.{step}" if path else step)
    return path or "body"


def _pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise MalformedRequest(f"the {where} is not valid UTF-8", field=where, rule="utf-8") from None


def _check_query(raw: bytes) -> None:
    for name, value in _pairs(raw, "query"):
        check_text(name, name, single_line=True)
        check_text(name, value)


def _check_form(body: bytes) -> None:
    for name, value in _pairs(body, "body"):
        check_text(name, name, single_line=True)
        check_text(name, value)


__all__ = ["BodyTooLarge", "InputRefused", "MalformedRequest", "Offset", "input_bounds_middleware"]
