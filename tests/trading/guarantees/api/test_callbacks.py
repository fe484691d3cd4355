"""Callbacks to a guarantor's URL: the job records each event once, signs the push with the platform's key
(verified here by a small HTTP receiver with `httpsig.verify_callback`, as a guarantor's system would), and
retries a failed push with backoff.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.guarantees.api.conftest import Bank, Parties, apply
from trading.guarantees import callbacks, httpsig
from trading.guarantees.callbacks import GuarantorCallback
from trading.guarantees.models import Guarantor
from trading.kernel.settings import Settings
from trading.parties.records import platform_identity


class Receiver:
    """An HTTP endpoint that answers ``status`` and keeps what it received."""

    def __init__(self) -> None:
        self.received: list[tuple[list[tuple[str, str]], bytes]] = []
        self.status = 204
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append((list(self.headers.items()), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                del args

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ggzy/callback"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    thread = threading.Thread(target=made.server.serve_forever, daemon=True)
    thread.start()
    yield made
    made.server.shutdown()
    made.server.server_close()


async def test_events_are_pushed_signed_once_and_retried(
    bank: Bank,
    parties: Parties,
    receiver: Receiver,
    settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_maker() as session, session.begin():
        await session.execute(
            update(Guarantor).where(Guarantor.id == bank.guarantor.id).values(callback_url=receiver.url)
        )
    application = await apply(session_maker, bank, parties)
    receiver.status = 503
    first = await callbacks.push_callbacks(session_maker, settings)
    assert first == {"recorded": 1, "delivered": 0, "failed": 1}
    async with session_maker() as session:
        row = (await session.execute(select(GuarantorCallback))).scalar_one()
        assert (row.attempts, row.last_error) == (1, "HTTP 503")
        assert row.next_attempt_at is not None
        assert row.next_attempt_at - row.created_at == timedelta(minutes=1)
    assert await callbacks.push_callbacks(session_maker, settings) == {"recorded": 0, "delivered": 0, "failed": 0}

    receiver.status = 204
    async with session_maker() as session, session.begin():
        await session.execute(update(GuarantorCallback).values(next_attempt_at=GuarantorCallback.created_at))
    assert await callbacks.push_callbacks(session_maker, settings) == {"recorded": 0, "delivered": 1, "failed": 0}
    headers, body = receiver.received[-1]
    first_headers, first_body = receiver.received[0]
    assert body == first_body
    idempotency = {k.lower(): v for k, v in headers}["idempotency-key"]
    assert idempotency == {k.lower(): v for k, v in first_headers}["idempotency-key"]  # same delivery id
    verified = httpsig.verify_callback(
        url=receiver.url,
        headers=headers,
        body=body,
        platform_certificate=platform_identity(settings).certificate,
        now=datetime.now(UTC),
    )
    assert verified.idempotency_key == idempotency
    event = json.loads(body)
    assert (event["event"], event["application_no"]) == ("application.applied", application.application_no)
    with pytest.raises(httpsig.SignatureRefused):
        httpsig.verify_callback(
            url=receiver.url,
            headers=headers,
            body=body.replace(b"applied", b"refused"),
            platform_certificate=platform_identity(settings).certificate,
            now=datetime.now(UTC),
        )
    assert callbacks.backoff(4) == timedelta(minutes=8)
    assert callbacks.backoff(30) == timedelta(hours=6)


def test_the_push_is_a_named_task_on_the_beat_schedule() -> None:
    from trading.server.celery_app import celery

    assert "guarantees.push_callbacks" in celery.tasks
    assert celery.conf.beat_schedule["guarantees.push_callbacks"]["task"] == "guarantees.push_callbacks"


def test_the_embedded_run_starts_the_demo_guarantors_client(settings: Settings) -> None:
    """``ggzy run`` starts the real client program with the dev PKI's guarantor key (and nothing without one)."""
    from trading.server import cli

    process = cli._demo_guarantor_client(settings, {"PATH": "/usr/bin:/bin"})
    assert process is not None
    try:
        command = process.args
        assert isinstance(command, list)
        assert command[1:4] == ["-m", "trading.guarantees.client", "--platform"]
        assert command[-1] == "run"
        assert str(settings.certs.dev_ca_dir / "p12" / "guarantor.p12") in command  # type: ignore[operator]
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert (
        cli._demo_guarantor_client(
            settings.model_copy(update={"certs": settings.certs.model_copy(update={"dev_ca_dir": None})}), {}
        )
        is None
    )
