"""Who may do what with the procurement libraries (pure, no database).

The procurement office (财政部门政府采购监管) works under ``supervisor``: it manages the libraries
(imports, catalogue editions). Purchasers (``tenderee``) and agencies search them; suppliers
(``bidder``) register themselves and keep their qualifications. Everyone signed in may read the
item catalogue.
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class LibraryPermission(Permission):
    CATALOGUE_READ = "procurement:catalogue:read"
    LIBRARY_READ = "procurement:library:read"
    LIBRARY_MANAGE = "procurement:library:manage"
    SUPPLIER_REGISTER = "procurement:supplier:register"


_CATALOGUE = frozenset({LibraryPermission.CATALOGUE_READ})
_READ = _CATALOGUE | {LibraryPermission.LIBRARY_READ}

ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    **dict.fromkeys(Role, _CATALOGUE),
    Role.TENDEREE: _READ,
    Role.AGENCY: _READ,
    Role.SUPERVISOR: _READ | {LibraryPermission.LIBRARY_MANAGE},
    Role.ADMIN: _READ | {LibraryPermission.LIBRARY_MANAGE},
    Role.BIDDER: _CATALOGUE | {LibraryPermission.SUPPLIER_REGISTER},
}
