"""Who may do what with intentions, plans and projects (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class ProjectPermission(Permission):
    MANAGE = "procurement:project:manage"  # a purchaser's intentions, plans and projects
    OVERSEE = "procurement:project:oversee"  # the procurement office: the intentions calendar


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.TENDEREE: frozenset({ProjectPermission.MANAGE}),
    Role.SUPERVISOR: frozenset({ProjectPermission.OVERSEE}),
    Role.ADMIN: frozenset({ProjectPermission.OVERSEE}),
}
