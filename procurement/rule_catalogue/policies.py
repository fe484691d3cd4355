"""Who may read and edit the rule catalogue (pure, no database).

The procurement office (财政部门政府采购监管) works under the ``supervisor`` role and edits; the
catalogue is read by purchasers (``tenderee``), agencies, suppliers and the centre, so everyone who
writes or answers a procurement document knows the rules it is checked against.
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class RulePermission(Permission):
    READ = "procurement:rule:read"
    MANAGE = "procurement:rule:manage"  # write a rule's next version, retire or reinstate it


_READ = frozenset({RulePermission.READ})

ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.SUPERVISOR: _READ | {RulePermission.MANAGE},
    Role.TENDEREE: _READ,
    Role.AGENCY: _READ,
    Role.BIDDER: _READ,
    Role.ADMIN: _READ,
}
