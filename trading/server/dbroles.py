"""The database role the application connects as: not the owner, so it cannot undo the ledger.

Production runs two PostgreSQL roles:

* the **owner** (e.g. ``ggzy_owner``) owns the database and every table; migrations run as it
  (``GGZY_DB_URL=postgresql+asyncpg://ggzy_owner@… ggzy db upgrade``), and nothing else does;
* the **application** role (e.g. ``ggzy_app``, ``LOGIN``, ``NOSUPERUSER``) is what web, worker and
  beat connect as. It may read and write the tables, except that it can only INSERT into (and
  read) the append-only ledger tables. Only a table's owner (or a superuser) may ``ALTER TABLE …
  DISABLE TRIGGER``, so this role cannot switch the append-only triggers off either.

``ggzy db grant-app-role ggzy_app``, run as the owner after every ``ggzy db upgrade``, gives the
role exactly that (`grant_statements`); it refuses a role that is a superuser or owns a table,
because such a role could rewrite the ledger whatever the grants say.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from trading.ledger.models import LedgerCheckpoint, LedgerEntry, LedgerUnsealedChain

APPEND_ONLY_TABLES: tuple[str, ...] = (
    str(LedgerEntry.__tablename__),
    str(LedgerCheckpoint.__tablename__),
    # Not guarded by a trigger, but a chain once unsealed stays unsealed (never updated or removed).
    str(LedgerUnsealedChain.__tablename__),
)
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class RoleRefused(ValueError):
    """A role name that is malformed, missing, or would be able to rewrite the ledger."""


def grant_statements(role: str) -> list[str]:
    """The GRANT/REVOKE statements that make ``role`` the application's role (PostgreSQL)."""
    if not _ROLE.fullmatch(role):
        msg = f"role {role!r} must be a lowercase SQL identifier (letters, digits, '_')"
        raise RoleRefused(msg)
    append_only = ", ".join(APPEND_ONLY_TABLES)
    return [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # The ledger: read and append, nothing else (TRUNCATE and REFERENCES/TRIGGER never granted).
        f"REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON {append_only} FROM {role}",
        # Which migration the schema is at is the owner's business.
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",
    ]


async def grant_app_role(connection: AsyncConnection, role: str) -> list[str]:
    """Check ``role`` and grant it the application's privileges; returns the statements run.

    Run as the owner, in the caller's transaction.
    """
    statements = grant_statements(role)
    found = (
        await connection.execute(
            text("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = :r"), {"r": role}
        )
    ).one_or_none()
    if found is None:
        msg = f"role {role} does not exist: create it first (CREATE ROLE {role} LOGIN PASSWORD …)"
        raise RoleRefused(msg)
    if found.rolsuper or found.rolbypassrls:
        msg = f"role {role} is a superuser (or bypasses row security): it could disable the ledger's triggers"
        raise RoleRefused(msg)
    if found.rolcreaterole:
        msg = f"role {role} has CREATEROLE: it could grant itself the owner's role and disable the ledger's triggers"
        raise RoleRefused(msg)
    # Owning a table, or being a member of its owner (SET ROLE to it), allows ALTER TABLE … DISABLE TRIGGER.
    owned = (
        (
            await connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                    " AND pg_has_role(:r, tableowner, 'MEMBER') ORDER BY 1"
                ),
                {"r": role},
            )
        )
        .scalars()
        .all()
    )
    if owned:
        msg = (
            f"role {role} owns tables or is a member of their owner ({', '.join(owned)}):"
            " it can disable the ledger's triggers"
        )
        raise RoleRefused(msg)
    for statement in statements:
        await connection.execute(text(statement))
    return statements
