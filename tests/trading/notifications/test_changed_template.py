"""A notice whose template changed after publication (renamed, or a parameter renamed): its
e-mail fails for good with the reason instead of failing at every try and sweep, and the inbox,
the notice page and the API show the template name and parameters instead of a 500."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.notifications.conftest import SmtpServer, account_with_email
from tests.trading.notifications.test_email import PARAMS, sends
from tests.trading.parties.factories import api_token, bearer
from tests.trading.parties.test_web import log_in
from trading.kernel.clock import ShiftedClock, use_clock
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.kernel.sweep import run_sweep
from trading.kernel.tasks import RecordingPublisher
from trading.notifications import jobs, messages, service
from trading.notifications.jobs import PendingEmails
from trading.notifications.models import DeliveryStatus, EmailDelivery, Notice
from trading.notifications.service import Recipient

CHANGED = "{% block subject %}{{ heading }}{% endblock %}{% block body %}{{ text }}{% endblock %}"


CHANGES = pytest.mark.parametrize("change", ["renamed", "parameter_renamed"])


@pytest.fixture
def change_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Point the template lookup at a directory where ``notifications.message`` is gone
    (``renamed``), or now wants a ``heading`` the stored notices do not have."""

    def change(how: str) -> None:
        folder = tmp_path / "notifications" / "messages"
        folder.mkdir(parents=True)
        if how == "parameter_renamed":
            for locale in messages.LOCALES:
                (folder / f"notifications.message.{locale}.txt").write_text(CHANGED, encoding="utf-8")
        environment = Environment(loader=FileSystemLoader(tmp_path), undefined=StrictUndefined, autoescape=False)  # noqa: S701
        monkeypatch.setattr(messages, "_environment", lambda: environment)

    return change


async def _published(session_maker: async_sessionmaker[AsyncSession], recipient: Recipient) -> Notice:
    async with transaction(session_maker) as session:
        return await service.publish(
            session, recipient=recipient, template="notifications.message", key=f"test:{uuid.uuid4()}", params=PARAMS
        )


@CHANGES
async def test_the_email_fails_for_good_with_the_reason(  # noqa: PLR0917 - fixtures
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    publisher: RecordingPublisher,
    smtp_server: SmtpServer,
    change_templates: Callable[[str], None],
    change: str,
) -> None:
    smtp_server.handler.refuse = 0
    account = await account_with_email(session_maker, settings, "changed@example.cn")
    await _published(session_maker, Recipient.user(account.user_id))
    [delivery_id] = sends(publisher)
    change_templates(change)

    assert await jobs.send_email(session_maker, delivery_id, settings=smtp_server.settings(settings)) == "failed"
    assert smtp_server.handler.received == []
    async with session_maker() as session:
        delivery = await session.get_one(EmailDelivery, delivery_id)
        assert (delivery.status, delivery.attempts, delivery.next_check) == (DeliveryStatus.FAILED, 1, None)
        assert delivery.last_error is not None
        assert "notifications.message" in delivery.last_error
    with use_clock(ShiftedClock(timedelta(days=1))):
        assert (await run_sweep(session_maker, [PendingEmails()])).total_changed == 0


@CHANGES
async def test_pages_and_api_show_the_template_and_parameters(
    client: httpx.AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    settings: Settings,
    change_templates: Callable[[str], None],
    change: str,
) -> None:
    account = await account_with_email(session_maker, settings, "reader@example.cn")
    notice = await _published(session_maker, Recipient.user(account.user_id))
    token = await api_token(client, account)
    assert (await log_in(client, account.username)).status_code == 303
    change_templates(change)

    inbox = await client.get("/inbox")
    assert inbox.status_code == 200, inbox.text
    assert "notifications.message" in inbox.text
    detail = await client.get(f"/inbox/{notice.id}")
    assert detail.status_code == 200, detail.text
    assert "本通知已无法按原措辞显示" in detail.text
    assert "开标时间调整为 2026 年 12 月 20 日 9:30。" in detail.text
    listed = await client.get("/api/v1/notifications", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert item["subject"] == "notifications.message"
    assert "开标时间调整" in item["body"]
