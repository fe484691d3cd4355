"""Who may do what with requirements (pure, no database)."""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class RequirementPermission(Permission):
    READ = "procurement:requirement:read"  # the unit's members and the procurement office read one
    WRITE = "procurement:requirement:write"  # a purchaser writes, checks, justifies and submits
    REVIEW = "procurement:requirement:review"  # another member of the purchasing unit reviews
    SUPERVISE = "procurement:requirement:supervise"  # the procurement office sees justifications


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.TENDEREE: frozenset({RequirementPermission.READ, RequirementPermission.WRITE, RequirementPermission.REVIEW}),
    Role.SUPERVISOR: frozenset({RequirementPermission.READ, RequirementPermission.SUPERVISE}),
}
