"""The agent's HTTP face: a JSON API on 127.0.0.1 for the platform's pages (``static/js/pki/agent.js``).

    GET  /v1/keys                    the token's certificates (no confirmation: public data)
    POST /v1/keys/<id>/sign          {"data": b64, "purpose"?: text}   → {"signature": b64, "algorithm": name}
    POST /v1/keys/<id>/derive        {"point": b64, "purpose"?: text}  → {"secret": b64}
    POST /v1/keys/<id>/decrypt-oaep  {"encryptedKey": b64, "label": b64, "purpose"?: text} → {"key": b64}

Who may ask: only a request whose ``Origin`` is on the allow-list, addressed to this agent by
``Host`` (127.0.0.1 or localhost with our port, so a DNS-rebound name cannot reach it). Others get
403 without CORS headers, so their page cannot even read the refusal. Allowed origins get CORS
headers (and Chrome's ``Access-Control-Allow-Private-Network`` on the preflight); POST bodies must
be ``application/json`` (which forces a preflight) and at most `MAX_BODY` bytes.

Every private-key operation is put to the user first (`certs.agent.confirm`), naming the origin,
the operation, the key and the page's stated purpose; a refusal is 403 ``declined``. Errors are
``application/problem+json`` with ``code`` and, for bad input, the ``field``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from certs.agent.token import TokenKey, TokenRefused

MAX_BODY = 128 * 1024
MAX_DATA = 64 * 1024
MAX_PURPOSE = 200
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_KEY_PATH = re.compile(r"^/v1/keys/([0-9a-f]{1,128})/(sign|derive|decrypt-oaep)$")

log = logging.getLogger("ggzy.agent")


class KeyStore(Protocol):
    """What the server needs of the token (`certs.agent.token.Token`)."""

    keys: dict[str, TokenKey]

    def key(self, key_id: str) -> TokenKey: ...
    def check_point(self, key: TokenKey, point: bytes) -> int: ...
    def check_encrypted_key(self, key: TokenKey, encrypted: bytes) -> None: ...
    def sign(self, key: TokenKey, data: bytes) -> tuple[bytes, str]: ...
    def derive(self, key: TokenKey, point: bytes) -> bytes: ...
    def decrypt_oaep(self, key: TokenKey, encrypted: bytes, label: bytes) -> bytes: ...


def check_origin(origin: str) -> str:
    """An allow-list entry: ``scheme://host[:port]``, nothing else (no path, no trailing slash)."""
    if not _ORIGIN.match(origin):
        msg = f"not an origin (scheme://host[:port]): {origin!r}"
        raise ValueError(msg)
    return origin.lower()


class Agent:
    """The request handling, apart from the socket plumbing (`make_server` wires it to a server)."""

    def __init__(self, token: KeyStore, ask: Callable[[str], bool], origins: frozenset[str], port: int) -> None:
        self.token = token
        self.ask = ask
        self.origins = origins
        self.port = port

    def allowed_host(self, host: str | None) -> bool:
        return host in {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}

    def operate(self, origin: str, path: str, body: dict[str, Any]) -> dict[str, str]:
        match = _KEY_PATH.match(path)
        if match is None:
            raise TokenRefused(404, "not-found", f"no such operation: {path}")
        key = self.token.key(match.group(1))
        operation = match.group(2)
        needed = "sign" if operation == "sign" else "encrypt"
        if needed not in key.usage:
            raise TokenRefused(422, "wrong-key-usage", f"this key's certificate does not allow {needed}ing", "key")
        purpose = _purpose(body)
        if operation == "sign":
            data = _b64(body, "data", max_len=MAX_DATA)
            what = f"签名 (sign) {len(data)} 字节, SHA-256 {hashlib.sha256(data).hexdigest()[:16]}…"
            self._confirm(origin, "确认签名? (sign?)", key, what, purpose)
            signature, algorithm = self.token.sign(key, data)
            return {"signature": _enc(signature), "algorithm": algorithm}
        if operation == "derive":
            point = _b64(body, "point", max_len=256)
            self.token.check_point(key, point)
            self._confirm(origin, "确认解密? (unwrap a key?)", key, "ECDH 密钥协商 (key agreement)", purpose)
            return {"secret": _enc(self.token.derive(key, point))}
        encrypted = _b64(body, "encryptedKey", max_len=1024)
        label = _b64(body, "label", max_len=MAX_DATA, empty_ok=True)
        self.token.check_encrypted_key(key, encrypted)
        self._confirm(origin, "确认解密? (decrypt a key?)", key, "RSA-OAEP 解密 (decryption)", purpose)
        return {"key": _enc(self.token.decrypt_oaep(key, encrypted, label))}

    def _confirm(self, origin: str, question: str, key: TokenKey, what: str, purpose: str | None) -> None:
        stated = f" 「{purpose}」" if purpose else ""
        text = f"{question} 来自 (from) {origin}:{stated} {what}; 证书 (key) {key.label} [{key.id}]"
        if not self.ask(_CONTROL.sub("?", text)):  # nothing in it may steer the terminal
            raise TokenRefused(403, "declined", "the user declined the operation at the agent")


def _enc(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64(body: dict[str, Any], name: str, *, max_len: int, empty_ok: bool = False) -> bytes:
    value = body.get(name)
    if not isinstance(value, str):
        raise TokenRefused(422, "bad-field", "required, a base64 string", name)
    if len(value) > (max_len + 2) // 3 * 4:
        raise TokenRefused(413, "too-large", f"at most {max_len} bytes", name)
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TokenRefused(422, "bad-field", "not valid base64", name) from None
    if not decoded and not empty_ok:
        raise TokenRefused(422, "bad-field", "must not be empty", name)
    return decoded


def _purpose(body: dict[str, Any]) -> str | None:
    value = body.get("purpose")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_PURPOSE or _CONTROL.search(value):
        raise TokenRefused(
            422, "bad-field", f"a line of text, at most {MAX_PURPOSE} characters, no control characters", "purpose"
        )
    return value


class _Handler(BaseHTTPRequestHandler):
    agent: Agent
    server_version = "ggzy-agent"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 30  # a client that stalls mid-request is dropped

    # -- plumbing ---------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        del format, args  # each request is logged once, by `_answer`, without bodies

    def _origin(self) -> str | None:
        origin = self.headers.get("Origin")
        if (
            origin is None
            or origin.lower() not in self.agent.origins
            or not self.agent.allowed_host(self.headers.get("Host"))
        ):
            return None
        return origin.lower()

    def _answer(self, status: int, payload: dict[str, Any] | None, origin: str | None, **extra: str) -> None:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        if payload is not None:
            problem = status >= HTTPStatus.BAD_REQUEST
            self.send_header("Content-Type", "application/problem+json" if problem else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Vary", "Origin")
        if origin is not None:
            self.send_header("Access-Control-Allow-Origin", origin)
        for name, value in extra.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)
        code = payload.get("code", "") if payload and status >= HTTPStatus.BAD_REQUEST else ""
        said = f"{self.command} {self.path} from {origin or self.headers.get('Origin')}"
        log.info("%s: %d %s", _CONTROL.sub("?", said), status, code)  # what a caller sent cannot steer the log

    def _problem(self, refusal: TokenRefused, origin: str | None) -> None:
        problem: dict[str, Any] = {
            "type": "about:blank",
            "title": HTTPStatus(refusal.status).phrase,
            "status": refusal.status,
            "code": refusal.code,
            "detail": refusal.detail,
        }
        if refusal.field:
            problem["field"] = refusal.field
        self._answer(refusal.status, problem, origin)

    def _refuse_origin(self) -> None:
        self.close_connection = True
        self._answer(
            403, {"status": 403, "code": "origin-not-allowed", "detail": "this origin may not use the agent"}, None
        )

    # -- methods ----------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:
        origin = self._origin()
        if origin is None:
            self._refuse_origin()
            return
        extra = {
            "Access_Control_Allow_Methods": "GET, POST",
            "Access_Control_Allow_Headers": "Content-Type",
            "Access_Control_Max_Age": "600",
        }
        if self.headers.get("Access-Control-Request-Private-Network") == "true":
            extra["Access_Control_Allow_Private_Network"] = "true"
        self._answer(204, None, origin, **extra)

    def do_GET(self) -> None:
        origin = self._origin()
        if origin is None:
            self._refuse_origin()
            return
        if self.path != "/v1/keys":
            self._problem(TokenRefused(404, "not-found", f"no such resource: {self.path}"), origin)
            return
        self._answer(200, {"keys": [key.to_dict() for key in self.agent.token.keys.values()]}, origin)

    def do_POST(self) -> None:
        origin = self._origin()
        if origin is None:
            self._refuse_origin()
            return
        try:
            body = self._body()
            result = self.agent.operate(origin, self.path, body)
        except TokenRefused as refusal:
            self._problem(refusal, origin)
            return
        self._answer(200, result, origin)

    def _body(self) -> dict[str, Any]:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            self.close_connection = True
            raise TokenRefused(415, "bad-content-type", "the body must be application/json", "Content-Type")
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.isdigit():
            self.close_connection = True
            raise TokenRefused(411, "length-required", "a Content-Length is required", "Content-Length")
        length = int(length_header)
        if length > MAX_BODY:
            self.close_connection = True
            raise TokenRefused(413, "too-large", f"the body may be at most {MAX_BODY} bytes", "body")
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: nested too deep
            raise TokenRefused(400, "bad-json", "the body is not JSON", "body") from None
        if not isinstance(body, dict):
            raise TokenRefused(422, "bad-field", "the body must be a JSON object", "body")
        return body

    def _not_allowed(self) -> None:
        origin = self._origin()
        if origin is None:
            self._refuse_origin()
            return
        self._problem(TokenRefused(405, "method-not-allowed", f"{self.command} is not used here"), origin)

    do_PUT = do_DELETE = do_PATCH = _not_allowed  # noqa: N815


def make_server(agent: Agent, port: int) -> ThreadingHTTPServer:
    """The HTTP server on 127.0.0.1:``port`` (0: any free port; the agent learns it before serving)."""
    handler = type("AgentHandler", (_Handler,), {"agent": agent})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    agent.port = server.server_address[1]
    return server
