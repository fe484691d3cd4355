"""Who may use the scoring pages: the permission is only the door; membership decides.

Experts and the tenderee's representatives (users with the tenderee role) hold
``evaluation:scoring:work``; every service call then checks that the actor is a current member of
that evaluation (`access.require_member`), and records a refusal in the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class ScoringPermission(Permission):
    WORK = "evaluation:scoring:work"  # the workspace, reading bids, scoring, findings (members only)


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.EXPERT: frozenset({ScoringPermission.WORK}),
    Role.TENDEREE: frozenset({ScoringPermission.WORK}),
}
