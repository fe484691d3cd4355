"""Who may use the venue catalogue and the session's pages (pure, no database).

Routes check the role's permission; the services then check the relation to the evaluation:
a member of its committee (``committee_member``), its chair (``chair_drives``), the organisation
hosting it (``host_only``). Supervisors and centre admins watch every session live (no scores
before completion: the live view carries none).
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class SessionPermission(Permission):
    VENUE_READ = "evaluation:venue:read"  # the catalogue (admins, supervisors, hosts choosing venues)
    VENUE_MANAGE = "evaluation:venue:manage"  # create, edit, seats (centre admins)
    SESSION_ATTEND = "evaluation:session:attend"  # a member's session page (experts, tenderee representatives)
    SESSION_HOST = "evaluation:session:host"  # seats, pause/resume, incidents, replacement (agencies, tenderees)
    SESSION_WATCH = "evaluation:session:watch"  # the live view (supervisors, admins)
    SESSION_LIST = "evaluation:session:list"  # the list of sessions one takes part in, hosts or watches


_LIST = frozenset({SessionPermission.SESSION_LIST})


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(
        {SessionPermission.VENUE_READ, SessionPermission.VENUE_MANAGE, SessionPermission.SESSION_WATCH}
    )
    | _LIST,
    Role.SUPERVISOR: frozenset({SessionPermission.VENUE_READ, SessionPermission.SESSION_WATCH}) | _LIST,
    Role.AGENCY: frozenset({SessionPermission.VENUE_READ, SessionPermission.SESSION_HOST}) | _LIST,
    Role.TENDEREE: frozenset(
        {SessionPermission.VENUE_READ, SessionPermission.SESSION_HOST, SessionPermission.SESSION_ATTEND}
    )
    | _LIST,
    Role.EXPERT: frozenset({SessionPermission.SESSION_ATTEND}) | _LIST,
}
