"""Who may sign the evaluation report (pure, no database).

Experts and the tenderee's representatives (tenderee accounts) hold ``evaluation:report:sign``;
whether they are a current member of *this* committee is checked by the service (rule
``committee-member``). Centre admins and supervisors read the signing progress
(``evaluation:report:read``), not the report before the results. The published result and the
signed report are public (no permission).
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class ReportPermission(Permission):
    READ = "evaluation:report:read"  # the report page (members; admins and supervisors: the progress)
    SIGN = "evaluation:report:sign"  # sign or refuse the evaluation report as a committee member


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.EXPERT: frozenset({ReportPermission.READ, ReportPermission.SIGN}),
    Role.TENDEREE: frozenset({ReportPermission.READ, ReportPermission.SIGN}),
    Role.ADMIN: frozenset({ReportPermission.READ}),
    Role.SUPERVISOR: frozenset({ReportPermission.READ}),
}
