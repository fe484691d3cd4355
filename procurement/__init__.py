"""Government procurement (政府采购): the front half, from requirement to tender.

Purchasers (采购人) write requirements from versioned templates; the negative-list checker
(负面清单, 先体检、再发布) looks at them before anything is published; intentions (采购意向) are
published ahead; the project then runs as a tender on the bidding engine through bidding's public
service. procurement imports bidding, never the reverse. The map is ``procurement/AGENTS.md``.
"""
