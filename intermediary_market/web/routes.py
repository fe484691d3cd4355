"""The marketplace pages' controllers and public paths, as the composition root registers them."""

from __future__ import annotations

from intermediary_market.web.centre import CentrePages
from intermediary_market.web.intermediary import IntermediaryPages
from intermediary_market.web.owner import OwnerPages
from intermediary_market.web.paths import MARKET, PRACTICE
from intermediary_market.web.public import MarketPages
from intermediary_market.web.regulator import RegulatorPages

CONTROLLERS = (MarketPages, OwnerPages, IntermediaryPages, RegulatorPages, CentrePages)
PUBLIC_PATHS = (MARKET, f"{MARKET}/selections/{{announcement_id}}", PRACTICE)
