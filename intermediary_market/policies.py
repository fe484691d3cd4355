"""Who may do what in the marketplace: permissions and role grants (pure, no database)."""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role
from trading.kernel.errors import PermissionDenied


class MarketPermission(Permission):
    ITEM_MANAGE = "intermediary_market:item:manage"  # the centre keeps the service-item list
    QUALIFICATION_MANAGE = "intermediary_market:qualification:manage"  # the centre records reviewed qualifications
    QUALIFICATION_READ = "intermediary_market:qualification:read"
    ANNOUNCEMENT_MANAGE = "intermediary_market:announcement:manage"  # project owners (业主)
    REGISTRATION_CREATE = "intermediary_market:registration:create"  # intermediaries
    RATING_CREATE = "intermediary_market:rating:create"  # project owners rate the selected intermediary
    CREDIT_READ = "intermediary_market:credit:read"
    BLACKLIST_MANAGE = "intermediary_market:blacklist:manage"  # regulators
    BLACKLIST_RESPOND = "intermediary_market:blacklist:respond"  # the intermediary noticed
    DELIVERY_MANAGE = "intermediary_market:delivery:manage"  # owners file the contract, confirm completion
    DELIVERY_UPLOAD = "intermediary_market:delivery:upload"  # the selected intermediary uploads deliverables
    COMPLAINT_FILE = "intermediary_market:complaint:file"  # owners complain about their intermediary
    COMPLAINT_RESPOND = "intermediary_market:complaint:respond"  # the intermediary answers
    COMPLAINT_DECIDE = "intermediary_market:complaint:decide"  # regulators uphold or dismiss
    CREDIT_MANAGE = "intermediary_market:credit:manage"  # regulators record inputs, recompute
    REPORT_READ = "intermediary_market:report:read"  # regulators' reports


_READ = frozenset({MarketPermission.QUALIFICATION_READ, MarketPermission.CREDIT_READ})

ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.TENDEREE: _READ
    | {
        MarketPermission.ANNOUNCEMENT_MANAGE,
        MarketPermission.RATING_CREATE,
        MarketPermission.DELIVERY_MANAGE,
        MarketPermission.COMPLAINT_FILE,
    },
    Role.INTERMEDIARY: _READ
    | {
        MarketPermission.REGISTRATION_CREATE,
        MarketPermission.BLACKLIST_RESPOND,
        MarketPermission.DELIVERY_UPLOAD,
        MarketPermission.COMPLAINT_RESPOND,
    },
    Role.SUPERVISOR: _READ
    | {
        MarketPermission.BLACKLIST_MANAGE,
        MarketPermission.COMPLAINT_DECIDE,
        MarketPermission.CREDIT_MANAGE,
        MarketPermission.REPORT_READ,
    },
    Role.ADMIN: _READ | {MarketPermission.ITEM_MANAGE, MarketPermission.QUALIFICATION_MANAGE},
}


def assert_own_organisation(actor: Actor, organisation_id: object, what: str) -> None:
    if actor.organisation_id != organisation_id:
        raise PermissionDenied(f"only the organisation concerned may {what}")
