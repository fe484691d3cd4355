"""Who may do what in bidding: permissions and role grants (pure, no database)."""

from __future__ import annotations

from collections.abc import Mapping

from trading.kernel.auth.permissions import Permission
from trading.kernel.auth.roles import Role


class BiddingPermission(Permission):
    TENDER_MANAGE = "bidding:tender:manage"  # tenderees and agencies create, publish, clarify, extend
    DOCUMENT_DOWNLOAD = "bidding:document:download"  # bidders (each download is recorded)
    QUESTION_ASK = "bidding:question:ask"  # bidders ask; the answer goes to every downloader
    BID_SUBMIT = "bidding:bid:submit"  # bidders upload, replace and withdraw their own bids
    BID_LIST = "bidding:bid:list"  # who bid and who downloaded: refused (and audited) until the deadline


ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.BIDDER: frozenset(
        {BiddingPermission.DOCUMENT_DOWNLOAD, BiddingPermission.QUESTION_ASK, BiddingPermission.BID_SUBMIT}
    ),
    Role.TENDEREE: frozenset({BiddingPermission.TENDER_MANAGE, BiddingPermission.BID_LIST}),
    Role.AGENCY: frozenset({BiddingPermission.TENDER_MANAGE, BiddingPermission.BID_LIST}),
    Role.SUPERVISOR: frozenset({BiddingPermission.BID_LIST}),
    Role.ADMIN: frozenset({BiddingPermission.BID_LIST}),
}
