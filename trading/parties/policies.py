"""Who may do what with parties: permissions, role grants, and the role/organisation rules.

Pure functions and tables, no database. Services call these; routes declare the coarse
permission with ``opt=requires(...)``.
"""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role
from trading.kernel.errors import PermissionDenied, ValidationFailed
from trading.parties.models import OrganisationKind


class PartiesPermission(Permission):
    PROFILE_READ = "parties:profile:read"  # one's own profile, dashboard and organisation
    PROFILE_UPDATE = "parties:profile:update"  # one's own password and TOTP
    SESSION_REVOKE = "parties:session:revoke"  # log out, revoke one's own API token
    ORGANISATION_READ = "parties:organisation:read"
    ORGANISATION_MANAGE = "parties:organisation:manage"
    USER_READ = "parties:user:read"
    USER_MANAGE = "parties:user:manage"
    MEMBERSHIP_READ = "parties:membership:read"
    MEMBERSHIP_GRANT = "parties:membership:grant"
    MEMBERSHIP_REVOKE = "parties:membership:revoke"
    MANDATE_READ = "parties:mandate:read"  # the agency mandates (委托代理) one's organisation granted or holds
    MANDATE_MANAGE = "parties:mandate:manage"  # a tenderee grants and revokes mandates to agencies
    MANDATE_OVERSEE = "parties:mandate:oversee"  # every organisation's mandates, read-only (admins, supervisors)


class CertificatePermission(Permission):
    """Digital certificates: one's own bindings, and the trust list the platform recognises CAs by."""

    CERTIFICATE_READ = "parties:certificate:read"  # one's own certificate bindings
    CERTIFICATE_BIND = "parties:certificate:bind"  # bind a certificate one holds, or unbind it
    TRUST_LIST_READ = "parties:trust_list:read"  # the recognised CAs, their status and the list versions
    TRUST_LIST_MANAGE = "parties:trust_list:manage"  # load our list or a peer platform's list


# Held by every signed-in user, whatever their memberships: a user whose memberships have all
# expired can still see their account, change their password, log out, and bind their own
# certificate (a personal certificate names the person, not a role).
SIGNED_IN_PERMISSIONS: frozenset[str] = frozenset(
    {
        PartiesPermission.PROFILE_READ,
        PartiesPermission.PROFILE_UPDATE,
        PartiesPermission.SESSION_REVOKE,
        CertificatePermission.CERTIFICATE_READ,
        CertificatePermission.CERTIFICATE_BIND,
    }
)

_EVERY_ROLE = frozenset({*SIGNED_IN_PERMISSIONS, PartiesPermission.ORGANISATION_READ})

ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.BIDDER: _EVERY_ROLE,
    Role.TENDEREE: _EVERY_ROLE | {PartiesPermission.MANDATE_READ, PartiesPermission.MANDATE_MANAGE},
    Role.AGENCY: _EVERY_ROLE | {PartiesPermission.MANDATE_READ},
    Role.EXPERT: _EVERY_ROLE,
    Role.INTERMEDIARY: _EVERY_ROLE,
    Role.GUARANTOR: _EVERY_ROLE,
    # 行政监督部门 see everything read-only (DESIGN.md "Who uses it").
    Role.SUPERVISOR: _EVERY_ROLE
    | {
        PartiesPermission.USER_READ,
        PartiesPermission.MEMBERSHIP_READ,
        PartiesPermission.MANDATE_READ,
        PartiesPermission.MANDATE_OVERSEE,
        CertificatePermission.TRUST_LIST_READ,
    },
    # 交易中心管理员 manage the trusted CAs (DESIGN.md "Who uses it").
    Role.ADMIN: frozenset(PartiesPermission) | frozenset(CertificatePermission),
}

# Which kinds of organisation may hold each role. A bidder is a company (or a consultancy that
# also bids); a tenderee/purchaser is a public body or an enterprise owning a project; guarantees
# come from banks, insurers and guarantee companies (DESIGN.md; domain-rules "Parties" of the
# e-guarantee data standards); experts are drawn from the centre's pool.
ROLE_ORGANISATION_KINDS: Mapping[Role, frozenset[OrganisationKind]] = {
    Role.BIDDER: frozenset({OrganisationKind.ENTERPRISE, OrganisationKind.INTERMEDIARY}),
    Role.TENDEREE: frozenset({OrganisationKind.PURCHASER_UNIT, OrganisationKind.ENTERPRISE}),
    Role.AGENCY: frozenset({OrganisationKind.AGENCY}),
    Role.INTERMEDIARY: frozenset({OrganisationKind.INTERMEDIARY}),
    Role.GUARANTOR: frozenset({OrganisationKind.BANK, OrganisationKind.INSURER, OrganisationKind.GUARANTEE_COMPANY}),
    Role.EXPERT: frozenset({OrganisationKind.TRADING_CENTRE}),
    Role.SUPERVISOR: frozenset({OrganisationKind.SUPERVISORY_DEPARTMENT}),
    Role.ADMIN: frozenset({OrganisationKind.TRADING_CENTRE}),
}

# Roles anyone may sign up for. Supervisors, experts and centre admins hold public authority or
# are vetted into a pool, so only a centre admin creates them.
SELF_REGISTRATION_ROLES: frozenset[Role] = frozenset(
    {Role.BIDDER, Role.TENDEREE, Role.AGENCY, Role.INTERMEDIARY, Role.GUARANTOR}
)


def assert_role_fits_kind(role: Role, kind: OrganisationKind) -> None:
    """A role may only be held in an organisation of a fitting kind (``ROLE_ORGANISATION_KINDS``)."""
    if kind not in ROLE_ORGANISATION_KINDS[role]:
        allowed = ", ".join(sorted(ROLE_ORGANISATION_KINDS[role]))
        raise ValidationFailed(
            f"the role {role} cannot be held in an organisation of kind {kind} (allowed: {allowed})",
            field="role",
            rule="role_fits_kind",
        )


def assert_self_registrable(role: Role) -> None:
    """Self-registration is open for bidders, tenderees/purchasers, agencies, intermediaries and
    guarantors; supervisors, experts and admins are created by a centre admin.
    """
    if role not in SELF_REGISTRATION_ROLES:
        raise ValidationFailed(
            f"the role {role} cannot be chosen at registration; a centre administrator creates it",
            field="role",
            rule="self_registration",
        )


def sees_all_parties(actor: Actor) -> bool:
    """Admins and supervisors read every organisation, user and membership; others their own."""
    return bool(actor.roles & {Role.ADMIN, Role.SUPERVISOR})


def assert_can_read_organisation(actor: Actor, organisation_id: object) -> None:
    if not sees_all_parties(actor) and actor.organisation_id != organisation_id:
        raise PermissionDenied("you may only read your own organisation")
