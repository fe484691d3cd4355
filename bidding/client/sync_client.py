"""The bidder client for synchronous callers (the CLI): each call in its own event loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from bidding.client.receipts import Receipt
from bidding.client.transport import DEFAULT_CHUNK, BidClient, ProgressCallback, login
from certs.cms import SigningIdentity

T = TypeVar("T")


class SyncBidClient:
    """`BidClient` for synchronous callers: each call runs in its own event loop and HTTP client."""

    def __init__(self, base_url: str, token: str, *, max_retries: int = 5, retry_delay: float = 1.0) -> None:
        self.base_url = base_url
        self.token = token
        self.max_retries = max_retries
        self.retry_delay = retry_delay

    def _run(self, call: Callable[[BidClient], Awaitable[T]]) -> T:
        async def run() -> T:
            async with BidClient(
                self.base_url, self.token, max_retries=self.max_retries, retry_delay=self.retry_delay
            ) as client:
                return await call(client)

        return asyncio.run(run())

    def tender(self, code: str) -> dict[str, Any]:
        return self._run(lambda c: c.tender(code))

    def requirements(self, code: str) -> tuple[bytes, str]:
        return self._run(lambda c: c.requirements(code))

    def my_bids(self, tender: str | None = None) -> Any:
        return self._run(lambda c: c.my_bids(tender))

    def receipt_signer_pem(self) -> bytes:
        return self._run(lambda c: c.receipt_signer_pem())

    def download_document(self, code: str, document_id: str, out: Path) -> Path:
        return self._run(lambda c: c.download_document(code, document_id, out))

    def upload(
        self,
        tender: str,
        lot: str,
        container_path: Path,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        return self._run(
            lambda c: c.upload(tender, lot, container_path, chunk_size=chunk_size, on_progress=on_progress)
        )

    def resume(
        self,
        upload_id: str,
        container_path: Path,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        on_progress: ProgressCallback | None = None,
    ) -> Receipt:
        return self._run(lambda c: c.resume(upload_id, container_path, chunk_size=chunk_size, on_progress=on_progress))

    def withdraw(self, tender: str, lot: str, signer: SigningIdentity) -> Receipt:
        return self._run(lambda c: c.withdraw(tender, lot, signer))

    def revoke(self, tender: str, lot: str, signer: SigningIdentity) -> Receipt:
        return self._run(lambda c: c.revoke(tender, lot, signer))

    def run(self, call: Callable[[BidClient], Awaitable[T]]) -> T:
        """Any `BidClient` coroutine, in its own event loop (the opening commands use it)."""
        return self._run(call)


def login_sync(base_url: str, username: str, password: str, *, totp: str | None = None) -> str:
    return asyncio.run(login(base_url, username, password, totp=totp))


def receipt_json(receipt: Receipt) -> str:
    """The receipt as the CLI prints it: number, record, and where the exact bytes live."""
    return json.dumps({"receiptNo": receipt.receipt_no, "record": receipt.record}, ensure_ascii=False, indent=2)
