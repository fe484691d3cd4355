"""Permissions are named ``scope:resource:action`` and granted to roles.

Each package declares its permissions as a :class:`Permission` StrEnum in its ``policies.py`` and
the roles that hold them in a ``ROLE_GRANTS`` mapping; the composition root merges the mappings
into one :class:`Grants` table. A route declares the permission it needs with
``opt=requires(SomePermission.X)``; a route without one must be on the explicit public list, or
the global guard refuses it (fail closed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from trading.kernel.auth.roles import Role

_NAME = re.compile(r"^[a-z_]+:[a-z_]+:[a-z_]+$")
PERMISSION_OPT = "permission"


class Permission(StrEnum):
    """Base for every package's permission enum; values must read ``scope:resource:action``."""

    def __init__(self, value: str) -> None:
        if not _NAME.match(value):
            msg = f"permission {value!r} is not named scope:resource:action"
            raise ValueError(msg)


class Grants:
    """Which permissions each role holds, merged from every package's ``ROLE_GRANTS``."""

    def __init__(self, *tables: Mapping[Role, Iterable[str]]) -> None:
        self._by_role: dict[Role, frozenset[str]] = {}
        for table in tables:
            for role, permissions in table.items():
                self._by_role[role] = self._by_role.get(role, frozenset()) | frozenset(permissions)

    def for_roles(self, roles: Iterable[Role]) -> frozenset[str]:
        result: frozenset[str] = frozenset()
        for role in roles:
            result |= self._by_role.get(role, frozenset())
        return result

    def all_permissions(self) -> frozenset[str]:
        return frozenset().union(*self._by_role.values()) if self._by_role else frozenset()


def requires(permission: Permission) -> dict[str, Any]:
    """Route ``opt`` that declares the permission a handler needs (read by the global guard)."""
    return {PERMISSION_OPT: permission}
