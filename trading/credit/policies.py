"""Who may do what with credit records: permissions and role grants (pure, no database)."""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class CreditPermission(Permission):
    RECORD_READ = "credit:record:read"  # every signed-in participant may look a party up
    RECORD_MANAGE = "credit:record:manage"  # centre staff and regulators import records


_READ = frozenset({CreditPermission.RECORD_READ})

ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    **dict.fromkeys(Role, _READ),
    Role.SUPERVISOR: _READ | {CreditPermission.RECORD_MANAGE},
    Role.ADMIN: _READ | {CreditPermission.RECORD_MANAGE},
}
