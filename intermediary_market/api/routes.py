"""The marketplace API's controllers and public paths, as the composition root registers them."""

from __future__ import annotations

from intermediary_market.api import centre, intermediary, owner, public, regulator

CONTROLLERS = (
    public.PublicMarketApi,
    centre.CentreMarketApi,
    owner.OwnerMarketApi,
    intermediary.IntermediaryMarketApi,
    regulator.RegulatorMarketApi,
)
PUBLIC_PATHS = public.PUBLIC_PATHS
