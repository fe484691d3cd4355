"""Who may read and verify the ledger.

Supervisors (行政监督部门) see every entry read-only (DESIGN.md); the centre's administrators too.
Nobody may change an entry: there is no write permission, because there is no write path.
"""

from __future__ import annotations

from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class LedgerPermission(Permission):
    ENTRY_READ = "ledger:entry:read"
    CHAIN_VERIFY = "ledger:chain:verify"


ROLE_GRANTS: dict[Role, set[str]] = {
    Role.SUPERVISOR: {LedgerPermission.ENTRY_READ, LedgerPermission.CHAIN_VERIFY},
    Role.ADMIN: {LedgerPermission.ENTRY_READ, LedgerPermission.CHAIN_VERIFY},
}


def can_read_entries(actor: Actor) -> bool:
    """The whole ledger is visible to whoever holds ``ledger:entry:read``; nobody else sees any of it."""
    return actor.has(LedgerPermission.ENTRY_READ)


def can_verify(actor: Actor) -> bool:
    return actor.has(LedgerPermission.CHAIN_VERIFY)
