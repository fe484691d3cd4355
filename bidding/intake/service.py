"""The intake service the API and the pages depend on."""

from __future__ import annotations

from bidding.intake.listing import BidListings
from bidding.intake.revocation import Revocations
from bidding.intake.uploads import UploadSessions
from bidding.intake.whole import OneRequestBids
from bidding.intake.withdrawal import Withdrawals


class IntakeService(UploadSessions, OneRequestBids, Withdrawals, Revocations, BidListings):
    """Every intake step behind one dependency of the API and the pages; each step is its own class
    in its own module, usable alone.
    """
