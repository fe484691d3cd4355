"""Who may do what with the expert pool: permissions and role grants (pure, no database).

Centre admins keep the pool (import, suspend, remove, restore, load the specialty list);
supervisors read it; experts keep their own profile, availability and conflict declarations;
agencies (and tenderees running a tender themselves) rate experts after an evaluation. The pool's
members are confidential (807号: access control to expert information): nobody else reads it.
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class EvaluationPermission(Permission):
    EXPERT_READ = "evaluation:expert:read"  # the pool's list and each expert's record
    EXPERT_MANAGE = "evaluation:expert:manage"  # import, suspend, remove, restore, the specialty list
    PROFILE_MANAGE = "evaluation:profile:manage"  # an expert's own profile, availability and conflicts
    EXPERT_RATE = "evaluation:expert:rate"  # rate an expert after an evaluation one ran


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({EvaluationPermission.EXPERT_READ, EvaluationPermission.EXPERT_MANAGE}),
    Role.SUPERVISOR: frozenset({EvaluationPermission.EXPERT_READ}),
    Role.EXPERT: frozenset({EvaluationPermission.PROFILE_MANAGE}),
    Role.AGENCY: frozenset({EvaluationPermission.EXPERT_RATE}),
    Role.TENDEREE: frozenset({EvaluationPermission.EXPERT_RATE}),
}
