"""Who may use the scoring pages: the permissions are only doors; membership decides.

Every logged-in role holds ``evaluation:workspace:enter`` (the pages that read: workspace, a bid,
its documents, the progress), so that a bidder's, the tenderee's or the agency's attempt reaches
the membership check and is recorded in the ledger (``evaluation.access_refused``) instead of
being turned away unrecorded by the permission guard. Experts and the tenderee's representatives
(users with the tenderee role) also hold ``evaluation:scoring:work`` (the forms). Every service call
checks that the actor is a current member of that evaluation (`access.require_member`).
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class ScoringPermission(Permission):
    ENTER = "evaluation:workspace:enter"  # open the workspace's pages (members only, refusals recorded)
    WORK = "evaluation:scoring:work"  # score, vote, review, submit, resolve (members only)


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    **{role: frozenset({ScoringPermission.ENTER}) for role in Role},
    Role.EXPERT: frozenset({ScoringPermission.ENTER, ScoringPermission.WORK}),
    Role.TENDEREE: frozenset({ScoringPermission.ENTER, ScoringPermission.WORK}),
}
