"""Electronic guarantees (电子保函) in place of cash bid bonds: guarantors and their products, applications,
issuance by the guarantor's own system through a signed API, verification, claims, releases and cash-bond
refunds. Above ``trading.parties``, ``trading.notifications`` and ``trading.credit``; below the domains, which
use it through its public service and events. The map is ``AGENTS.md`` beside this file.
"""
