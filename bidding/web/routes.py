"""Every bidding page route, bidding's static files (its scripts, the opening hall's among them),
and the public ones (listed in `trading.server.routing.PUBLIC_ROUTES`).
"""

from __future__ import annotations

from pathlib import Path

from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

from bidding.visibility import Exposure, exposes
from bidding.web.bidder import BidPages
from bidding.web.common import PREFIX, TENDERS
from bidding.web.manage import ManagePages
from bidding.web.platform_root import PAGE as ROOT_PAGE
from bidding.web.platform_root import PEM as ROOT_PEM
from bidding.web.platform_root import platform_root_page, platform_root_pem
from bidding.web.public import TenderPages, server_time

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
STATIC_ROUTE = "bidding.static"
"""Templates link a script with ``url_for("bidding.static", file_path="js/….js")``."""

static_files = create_static_files_router(
    path=f"{PREFIX}/static",
    directories=[STATIC_DIR],
    name=STATIC_ROUTE,
    # The URL carries no digest of the file (the kernel's static_url does): browsers revalidate
    # (ETag) so a release's script is never run from a stale cache.
    cache_control=CacheControlHeader(no_cache=True),
    opt=exposes(Exposure.NONE),
)

CONTROLLERS = (TenderPages, BidPages, ManagePages, server_time, platform_root_page, platform_root_pem, static_files)
PUBLIC_PATHS = (
    TENDERS,
    f"{TENDERS}/{{code}}",
    f"{PREFIX}/time",
    f"{PREFIX}/static/{{file_path}}",
    ROOT_PAGE,
    ROOT_PEM,
)
