"""Where the marketplace pages live."""

from __future__ import annotations

MARKET = "/market"
OWNER = "/market/owner"
INTERMEDIARY = "/market/intermediary"
REGULATOR = "/market/regulator"
PRACTICE = "/market/intermediaries/practice"
