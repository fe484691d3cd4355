"""Who may read and act on integrity alerts (pure, no database).

The administrative supervisors (``supervisor``) read alerts, review them and tune the rules; the
trading centre's staff (``admin``) read and review. Bidders, experts, tenderees and agencies are
the people the screens look at: they get none of it.
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class IntegrityPermission(Permission):
    READ = "integrity:alert:read"
    REVIEW = "integrity:alert:review"  # move an alert through open → reviewing → dismissed | confirmed
    MANAGE_RULES = "integrity:rule:manage"  # write a rule's next version


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.SUPERVISOR: frozenset(
        {IntegrityPermission.READ, IntegrityPermission.REVIEW, IntegrityPermission.MANAGE_RULES}
    ),
    Role.ADMIN: frozenset({IntegrityPermission.READ, IntegrityPermission.REVIEW}),
}
