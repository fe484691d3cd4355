"""Where the marketplace's page controllers are mounted, and the public paths (links and redirects
name their routes: ``url_for`` in templates, ``parsing.path`` in handlers).
"""

from __future__ import annotations

MARKET = "/market"
OWNER = "/market/owner"
INTERMEDIARY = "/market/intermediary"
REGULATOR = "/market/regulator"
CENTRE = "/market/centre"
PRACTICE = "/market/intermediaries/practice"
