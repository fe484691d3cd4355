"""Who may set up an evaluation, run the committee draw, answer a draw and ask for the committee.

- The tender's host (its agency, or the tenderee running it alone) sets up the evaluation and
  appoints the tenderee's representatives (``evaluation:setup:manage``, agencies and tenderees; the
  service checks the organisation runs the tender).
- The centre's draw operator (an admin) prepares and runs the draw (``evaluation:draw:operate``);
  admins and supervisors read the draws with the experts' names (``evaluation:draw:read``).
- Experts answer their draws and list their sessions (``evaluation:membership:answer``).
- Anyone signed in may *ask* for an evaluation's committee (``evaluation:committee:read``): the
  answer is decided by `bidding.evaluation.access`, which records every refusal in the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class CommitteePermission(Permission):
    SETUP_MANAGE = "evaluation:setup:manage"
    DRAW_OPERATE = "evaluation:draw:operate"
    DRAW_READ = "evaluation:draw:read"
    MEMBERSHIP_ANSWER = "evaluation:membership:answer"
    COMMITTEE_READ = "evaluation:committee:read"


_ASK = frozenset({CommitteePermission.COMMITTEE_READ})

ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({CommitteePermission.DRAW_OPERATE, CommitteePermission.DRAW_READ}) | _ASK,
    Role.SUPERVISOR: frozenset({CommitteePermission.DRAW_READ}) | _ASK,
    Role.AGENCY: frozenset({CommitteePermission.SETUP_MANAGE}) | _ASK,
    Role.TENDEREE: frozenset({CommitteePermission.SETUP_MANAGE}) | _ASK,
    Role.EXPERT: frozenset({CommitteePermission.MEMBERSHIP_ANSWER}) | _ASK,
    Role.BIDDER: _ASK,
}
