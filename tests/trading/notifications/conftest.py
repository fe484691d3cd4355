"""A real SMTP server (aiosmtpd) on a free local port, and accounts that receive notices."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.trading.parties.factories import PASSWORD, Account, create_account, new_username
from trading.kernel.auth.identity import Actor, ActorKind
from trading.kernel.auth.roles import Role
from trading.kernel.db.uow import transaction
from trading.kernel.settings import Settings
from trading.notifications import service
from trading.parties.schemas import UserCreate
from trading.parties.service import PartiesService


@dataclass
class RecordingHandler:
    """Keeps what arrives; answers ``451`` to the first ``refuse`` DATA commands (a temporary failure)."""

    refuse: int = 0
    received: list[EmailMessage] = field(default_factory=list)
    refused: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802, ARG002 - aiosmtpd's hook
        if self.refused < self.refuse:
            self.refused += 1
            return "451 4.3.0 Try again later"
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler

    def settings(self, base: Settings) -> Settings:
        return base.model_copy(update={"smtp": base.smtp.model_copy(update={"host": self.host, "port": self.port})})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = RecordingHandler(refuse=1)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(controller.hostname, controller.port, handler)
    finally:
        controller.stop()


def actor_of(account: Account) -> Actor:
    return Actor(
        kind=ActorKind.USER,
        user_id=account.user_id,
        username=account.username,
        organisation_id=account.organisation_id,
    )


async def account_with_email(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, address: str, role: Role = Role.BIDDER
) -> Account:
    account = await create_account(session_maker, settings, role)
    async with transaction(session_maker) as session:
        await service.set_email_address(session, actor_of(account), address)
    return account


async def colleague_of(
    session_maker: async_sessionmaker[AsyncSession], settings: Settings, account: Account, address: str | None = None
) -> Account:
    """A second active member of ``account``'s organisation (with an e-mail address, if given)."""
    async with transaction(session_maker) as session:
        user, membership = await PartiesService(session, settings).create_user(
            UserCreate(
                username=new_username("colleague"),
                display_name="同事",
                password=PASSWORD,
                organisation_id=account.organisation_id,
                role=Role.BIDDER,
            ),
            actor=Actor.system(),
        )
    colleague = Account(user.id, account.organisation_id, membership.id, user.username)
    if address is not None:
        async with transaction(session_maker) as session:
            await service.set_email_address(session, actor_of(colleague), address)
    return colleague
