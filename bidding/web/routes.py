"""Every bidding page route, and the public ones (listed in `trading.server.routing.PUBLIC_ROUTES`)."""

from __future__ import annotations

from bidding.web.bidder import BidPages
from bidding.web.common import PREFIX, TENDERS
from bidding.web.manage import ManagePages
from bidding.web.public import TenderPages, server_time

CONTROLLERS = (TenderPages, BidPages, ManagePages, server_time)
PUBLIC_PATHS = (TENDERS, f"{TENDERS}/{{code}}", f"{PREFIX}/time")
