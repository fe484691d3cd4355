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
    APPLY = "guarantees:guarantee:apply"  # a bidder applies, follows, withdraws, downloads its own (pages, API)
    ISSUE = "guarantees:guarantee:issue"  # a guarantor's staff work its queue on the platform's console
    CLAIM = "guarantees:guarantee:claim"  # a tenderee (or its agency) reads its securities and claims
    SUPERVISE = "guarantees:guarantee:supervise"  # 监督: overdue releases and late cash-bond refunds


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.ADMIN: frozenset({GuaranteesPermission.GUARANTOR_MANAGE}),
    Role.BIDDER: frozenset({GuaranteesPermission.APPLY}),
    Role.GUARANTOR: frozenset({GuaranteesPermission.ISSUE}),
    Role.TENDEREE: frozenset({GuaranteesPermission.CLAIM}),
    Role.AGENCY: frozenset({GuaranteesPermission.CLAIM}),
    Role.SUPERVISOR: frozenset({GuaranteesPermission.SUPERVISE}),
}
