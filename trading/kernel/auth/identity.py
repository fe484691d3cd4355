"""The actor: whoever is behind a request or a job, resolved once and passed everywhere."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from trading.kernel.auth.roles import Role


class ActorKind(StrEnum):
    ANONYMOUS = "anonymous"
    USER = "user"
    SYSTEM = "system"  # the platform itself: sweeps, checkpoints, scheduled jobs


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    user_id: uuid.UUID | None = None
    username: str | None = None
    display_name: str | None = None
    organisation_id: uuid.UUID | None = None
    organisation_name: str | None = None
    roles: frozenset[Role] = frozenset()
    permissions: frozenset[str] = frozenset()
    client_ip: str | None = None
    session_id: uuid.UUID | None = field(default=None, compare=False)

    @property
    def is_authenticated(self) -> bool:
        return self.kind is not ActorKind.ANONYMOUS

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def label(self) -> str:
        """How the ledger names this actor."""
        if self.kind is ActorKind.SYSTEM:
            return "system"
        return self.username or "anonymous"

    @classmethod
    def anonymous(cls, client_ip: str | None = None) -> Actor:
        return cls(kind=ActorKind.ANONYMOUS, client_ip=client_ip)

    @classmethod
    def system(cls) -> Actor:
        return cls(kind=ActorKind.SYSTEM, username="system")
