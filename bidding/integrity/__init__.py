"""Integrity alerts (issue 19): screens over bids, documents, evaluations and the market.

``screens`` is pure (an import contract: nothing of the platform) so that ``ggzy alerts screen
--ocds`` runs the same screens on another platform's data; the database side (rules as stored
versions, alerts and their lifecycle, the hooks at opening and evaluation) lives beside it.
"""
