"""Who may administer the working-day calendar: the trading centre's administrators (交易中心管理员)."""

from __future__ import annotations

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class CalendarPermission(Permission):
    MANAGE = "calendar:schedule:manage"
    """See every year's schedule with its versions, load a new one, use the working-day calculator."""


ROLE_GRANTS: dict[Role, set[str]] = {Role.ADMIN: {CalendarPermission.MANAGE}}
