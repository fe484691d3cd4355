"""Who may do what with guarantees: permissions and role grants (pure, no database).

The public verification needs no permission (``PUBLIC_PATHS`` of ``trading.guarantees.public``).
The guarantor's own system authenticates with its certificate (``httpsig.py``), not with a role.
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class GuaranteesPermission(Permission):
    GUARANTOR_MANAGE = "guarantees:guarantor:manage"  # the centre onboards guarantors and their products
    APPLY = "guarantees:application:submit"  # a bidder applies for, follows and withdraws its own applications


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({GuaranteesPermission.GUARANTOR_MANAGE}),
    Role.BIDDER: frozenset({GuaranteesPermission.APPLY}),
}
