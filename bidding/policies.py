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
    OPENING_READ = "bidding:opening:read"  # the opening's full view and record data (hosts' own checks in the service)
    OPENING_ATTEND = "bidding:opening:attend"  # bidders sign in, decrypt, object and confirm at the opening
    OPENING_HOST = "bidding:opening:host"  # tenderees and agencies host the opening of their own tenders
    OPENING_SHARE = "bidding:opening:share"  # key holders release escrow shares (checked against the tender's list)


_HOSTING = frozenset(
    {
        BiddingPermission.OPENING_READ,
        BiddingPermission.OPENING_HOST,
        BiddingPermission.OPENING_SHARE,
    }
)

ROLE_GRANTS: Mapping[Role, frozenset[str]] = {
    Role.BIDDER: frozenset(
        {
            BiddingPermission.DOCUMENT_DOWNLOAD,
            BiddingPermission.QUESTION_ASK,
            BiddingPermission.BID_SUBMIT,
            BiddingPermission.OPENING_READ,
            BiddingPermission.OPENING_ATTEND,
        }
    ),
    Role.TENDEREE: frozenset({BiddingPermission.TENDER_MANAGE, BiddingPermission.BID_LIST}) | _HOSTING,
    Role.AGENCY: frozenset({BiddingPermission.TENDER_MANAGE, BiddingPermission.BID_LIST}) | _HOSTING,
    Role.SUPERVISOR: frozenset(
        {BiddingPermission.BID_LIST, BiddingPermission.OPENING_READ, BiddingPermission.OPENING_SHARE}
    ),
    Role.ADMIN: frozenset(
        {BiddingPermission.BID_LIST, BiddingPermission.OPENING_READ, BiddingPermission.OPENING_SHARE}
    ),
    # No expert grant: evaluators may not attend the opening (87号令 Art. 40), so they hold no key
    # share either; key holders are the tender's own, supervisors or an agency acting as custodian.
}
