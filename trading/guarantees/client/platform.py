"""The guarantor API as the client calls it: every request signed (RFC 9421, `httpsig.sign_request`) with
the guarantor's key over the exact body bytes it sends, one ``Idempotency-Key`` per operation kept across
retries (each retry is signed afresh: a new nonce, the same key and body).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography import x509

from trading.guarantees import httpsig

log = logging.getLogger("guarantor.client")
API = "/api/v1/guarantor"
RETRIES = 3
RETRY_STATUSES = frozenset({502, 503, 504})


class PlatformRefused(Exception):
    """The platform answered with a problem (4xx/5xx): its status, ``type`` and body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        rules = [str(error.get("rule")) for error in problem.get("errors") or [] if isinstance(error, dict)]
        super().__init__(f"{status} {problem.get('type', '')} {problem.get('detail', '')} {rules}".strip())


@dataclass
class Platform:
    """A signed session with the platform at ``base_url`` (e.g. ``http://127.0.0.1:8000``)."""

    base_url: str
    key: httpsig.SignerKey
    certificate: x509.Certificate
    http: httpx.AsyncClient

    async def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return await self._send("GET", path, params=params)

    async def post(self, path: str, body: dict[str, Any], *, idempotency_key: str | None = None) -> Any:
        return await self._send("POST", path, body=body, idempotency_key=idempotency_key or str(uuid.uuid4()))

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        url = httpx.URL(f"{self.base_url.rstrip('/')}{API}{path}", params=params or None)
        content = b"" if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        base: dict[str, str] = {}
        if method != "GET":
            base = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        for attempt in range(1, RETRIES + 1):
            headers = httpsig.sign_request(
                method=method, url=str(url), headers=base, body=content, key=self.key, certificate=self.certificate
            )
            try:
                response = await self.http.request(method, url, content=content, headers=headers)
            except httpx.TransportError as exc:
                if attempt == RETRIES:
                    raise
                log.warning("platform unreachable (%s), retry %d", type(exc).__name__, attempt)
                await asyncio.sleep(attempt)
                continue
            if response.status_code in RETRY_STATUSES and attempt < RETRIES:
                await asyncio.sleep(attempt)
                continue
            if response.status_code >= 400:  # noqa: PLR2004 - an HTTP error
                try:
                    problem = response.json()
                except ValueError:
                    problem = {"detail": response.text[:200]}
                raise PlatformRefused(response.status_code, problem if isinstance(problem, dict) else {})
            return response.json()
        raise AssertionError  # pragma: no cover - the loop returns or raises
