"""certs: the platform's cryptography, as a pure library (no database, no web, no tasks).

Today it holds the platform signing keys (`certs.keys`). Trust lists, path validation, CMS
signatures, sealed-bid envelopes and timestamps arrive with the certs issue; everything stays
usable on its own and is imported by `trading` and the domains, never the other way round.
"""
