"""The tender service the API and the pages depend on."""

from __future__ import annotations

from bidding.tenders.clarifications import TenderClarifications
from bidding.tenders.drafts import TenderDrafts
from bidding.tenders.publication import TenderPublication
from bidding.tenders.reading import TenderReading


class TenderService(TenderDrafts, TenderPublication, TenderClarifications, TenderReading):
    """Every tender responsibility behind one dependency of the API and the pages; each is its own
    class in its own module, usable alone.
    """
