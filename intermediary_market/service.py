"""The marketplace's use cases as one service.

One class per responsibility, each in its module:

- :mod:`intermediary_market.items` — the service-item list (``ItemService``, the base);
- :mod:`intermediary_market.qualifications` — qualifications and the directory;
- :mod:`intermediary_market.announcements` — selection announcements;
- :mod:`intermediary_market.registration` — registration, eligibility, panel scores;
- :mod:`intermediary_market.draw` — the close, the reveal and the draw;
- :mod:`intermediary_market.ratings` — ratings and the live credit score.

Each class works on its own (``DrawService(session)``); the API, the pages and the jobs take
``MarketService``, which has them all. Delivery, the blacklist, complaints and the credit snapshots
are services of their own (``delivery``, ``blacklist``, ``complaints``, ``credit_records``).
"""

from __future__ import annotations

from intermediary_market.audit import record
from intermediary_market.draw import DrawService
from intermediary_market.qualifications import QualificationService
from intermediary_market.ratings import RatingService

__all__ = ["MarketService", "record"]


class MarketService(QualificationService, DrawService, RatingService):
    """Every marketplace use case of the modules above, on one session."""
