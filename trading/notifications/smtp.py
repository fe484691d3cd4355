"""Sending one e-mail: through SMTP (aiosmtplib) when ``GGZY_SMTP_HOST`` is set, otherwise into
the mbox file ``<var>/mail/outbox.mbox`` (the embedded default: readable with any mail client,
nothing leaves the machine).
"""

from __future__ import annotations

import asyncio
import mailbox
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from trading.kernel.settings import Settings, SmtpTls

SERVER_ERROR_MIN = 500


class SendFailed(Exception):
    """The message was not accepted. ``temporary``: try again later (4xx, network); otherwise the
    server refused it for good (5xx).
    """

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


class TemporaryFailure(SendFailed):
    """Raised by the job after its unit of work committed, so Celery retries the task."""

    def __init__(self, message: str) -> None:
        super().__init__(message, temporary=True)

    def __reduce__(self) -> tuple[type[TemporaryFailure], tuple[str]]:
        return (TemporaryFailure, (str(self),))


def outbox_path(settings: Settings) -> Path:
    return settings.var_dir / "mail" / "outbox.mbox"


async def deliver(settings: Settings, message: EmailMessage) -> None:
    if not settings.smtp.host:
        await asyncio.to_thread(_append_to_outbox, outbox_path(settings), message)
        return
    smtp = settings.smtp
    try:
        await aiosmtplib.send(
            message,
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username or None,
            password=smtp.password.get_secret_value() if smtp.password else None,
            use_tls=smtp.tls is SmtpTls.TLS,
            start_tls=True if smtp.tls is SmtpTls.STARTTLS else False,  # noqa: SIM210 - None would mean "if offered"
            timeout=smtp.timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refused.code for refused in exc.recipients]
        raise SendFailed(str(exc), temporary=all(code < SERVER_ERROR_MIN for code in codes)) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise SendFailed(f"{exc.code} {exc.message}", temporary=exc.code < SERVER_ERROR_MIN) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SendFailed(f"{type(exc).__name__}: {exc}", temporary=True) from exc


def _append_to_outbox(path: Path, message: EmailMessage) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.mbox(path)
    box.lock()
    try:
        box.add(message)
        box.flush()
    finally:
        box.unlock()
        box.close()
