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

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar.enums import ScopeType
from litestar.params import Parameter

from trading.kernel.bounds import INT32_MAX, InputRefused, check_text
from trading.kernel.errors import DomainError

if TYPE_CHECKING:
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


def _check_json(body: bytes) -> None:
    text = _utf8(body)
    if not text.strip():
        return  # no body: the handler says whether it needs one
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _depth(body) > MAX_JSON_DEPTH:
        raise MalformedRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", field="body", rule="max-depth")
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        # ValidationError: a number beyond float range (1e400); NaN/Infinity are not JSON at all.
        reason = str(exc).split(" - ", 1)[0]
        raise MalformedRequest(f"the body is not valid JSON: {reason}", field="body", rule="json") from None
    _check_strings(document, "")


_BACKSLASH, _QUOTE = ord("\\"), ord('"')
_OPEN, _CLOSE = frozenset(b"[{"), frozenset(b"]}")


def _depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects, outside strings; without recursion."""
    deepest = depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in _CLOSE:
            depth -= 1
    return deepest


def _check_strings(value: Any, path: str) -> None:
    """Every string of a decoded JSON document (keys too), named by its path."""
    if isinstance(value, str):
        check_text(path or "body", value)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_strings(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            check_text(name, str(key))
            _check_strings(item, name)


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
