"""The bidding tests' fixtures (development PKI, settings, file store, recorded tasks), because a
procurement project becomes a tender on the bidding engine and takes sealed bids."""

from __future__ import annotations

from tests.bidding.conftest import _record_tasks, settings, store
from tests.trading.parties.certificates.conftest import dev_ca, dev_lists, dev_pki, dev_tsa

__all__ = ["_record_tasks", "dev_ca", "dev_lists", "dev_pki", "dev_tsa", "settings", "store"]
