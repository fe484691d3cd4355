"""Bidding pages under ``/bidding`` (see `bidding.web.routes` for the route list)."""
