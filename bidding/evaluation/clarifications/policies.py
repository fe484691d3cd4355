"""Who may ask, read and answer clarification requests (pure, no database).

The routes let the roles through; the service decides by the evaluation (a current member asks;
members, the host and overseers read; the addressed bidder answers and reads its own).
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class ClarificationPermission(Permission):
    ASK = "evaluation:clarification:ask"  # a current committee member (experts, the tenderee's representatives)
    READ = "evaluation:clarification:read"  # the committee, the host (agency or tenderee), supervisors, admins
    ANSWER = "evaluation:clarification:answer"  # the addressed bidder, signed


_READ = frozenset({ClarificationPermission.READ})

ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.EXPERT: frozenset({ClarificationPermission.ASK}) | _READ,
    Role.TENDEREE: frozenset({ClarificationPermission.ASK}) | _READ,
    Role.AGENCY: _READ,
    Role.SUPERVISOR: _READ,
    Role.ADMIN: _READ,
    Role.BIDDER: frozenset({ClarificationPermission.ANSWER}),
}
